"""Cell Ontology components (`wmbo-cl-comp.owl`, `bgo-cl-comp.owl`): CL's own links from cell sets to classes.

A component (RDF/XML) names each cell set as an OWL individual under the BICAN ontology PURL
(`https://purl.brain-bican.org/ontology/CCN…/<label>`) and links it to CL in two OWL patterns:

    CL:x ≡ cell ⊓ (RO:0015001 "has exemplar data" value <individual>)        the class it is the exemplar of
    <individual> rdf:type (RO:0015002 "exemplar data of" some CL:x)          the class its cells are

Both are blank-node structures; the file is parsed with pyoxigraph into a scratch in-memory store and the two
patterns read back by SPARQL, which is fast (22,000 triples in ~0.1 s) and exact about RDF lists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ....errors import InputError, Problem

OBO = "http://purl.obolibrary.org/obo/"
_CELL_TYPE_IRI = re.compile(re.escape(OBO) + r"(CL|PCL)_([0-9]{7})")
_PREFIXES = """
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX obo: <http://purl.obolibrary.org/obo/>
"""
EXEMPLAR_OF_CLASS = (
    _PREFIXES
    + """SELECT ?class ?individual WHERE {
  ?class owl:equivalentClass/owl:intersectionOf/rdf:rest*/rdf:first ?r .
  ?r owl:onProperty obo:RO_0015001 ; owl:hasValue ?individual .
}"""
)
TYPED_SOME = (
    _PREFIXES
    + """SELECT ?individual ?class WHERE {
  ?individual rdf:type ?r . ?r owl:onProperty obo:RO_0015002 ; owl:someValuesFrom ?class .
}"""
)
LABELS = _PREFIXES + "SELECT ?node ?label WHERE { ?node rdfs:label ?label FILTER(isIRI(?node)) }"
VERSION = _PREFIXES + "SELECT ?version WHERE { ?o a owl:Ontology ; owl:versionInfo ?version } LIMIT 1"


@dataclass(frozen=True)
class ComponentIndividual:
    iri: str  # https://purl.brain-bican.org/ontology/CCN20230722/CS20230722_CLAS_28
    label: str | None  # "<ABC name> <label>" where the component gives one
    classes: tuple[str, ...]  # CURIEs of the RO:0015002 some classes
    exemplar_of: tuple[str, ...]  # CURIEs of the classes defined by RO:0015001 value this individual

    @property
    def accession(self) -> str:
        """The cell set's label: the last path segment of its IRI."""
        return self.iri.rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class ClComponent:
    path: Path
    version: str | None  # owl:versionInfo of the component
    individuals: tuple[ComponentIndividual, ...]
    class_labels: dict[str, str]  # CURIE → rdfs:label, for the classes the links name

    def __len__(self) -> int:
        return len(self.individuals)


def curie(iri: str) -> str | None:
    """http://purl.obolibrary.org/obo/CL_0000540 → CL:0000540; None for anything but a CL/PCL class."""
    match = _CELL_TYPE_IRI.fullmatch(iri)
    return f"{match.group(1)}:{match.group(2)}" if match else None


def read(path: Path) -> ClComponent:
    import pyoxigraph as ox

    where = str(path)
    store = ox.Store()
    try:
        store.bulk_load(path=str(path), format=ox.RdfFormat.RDF_XML)
    except (SyntaxError, ValueError, OSError) as err:
        raise InputError([Problem(where, f"is not valid RDF/XML: {str(err).splitlines()[0]}")]) from None
    problems: list[Problem] = []
    classes: dict[str, list[str]] = {}
    exemplar: dict[str, list[str]] = {}
    for row in _select(store, TYPED_SOME):
        _add(classes, row["individual"], row["class"], "rdf:type RO_0015002 some", where, problems)
    for row in _select(store, EXEMPLAR_OF_CLASS):
        _add(exemplar, row["individual"], row["class"], "RO_0015001 hasValue", where, problems)
    if problems:
        raise InputError(problems)
    labels = {row["node"].value: row["label"].value for row in _select(store, LABELS)}
    versions = [row["version"].value for row in _select(store, VERSION)]
    individuals = tuple(
        ComponentIndividual(iri, labels.get(iri), tuple(classes.get(iri, ())), tuple(exemplar.get(iri, ())))
        for iri in sorted(classes.keys() | exemplar.keys())
    )
    named = {c for i in individuals for c in i.classes + i.exemplar_of}
    class_labels = {c: labels[OBO + c.replace(":", "_")] for c in sorted(named) if OBO + c.replace(":", "_") in labels}
    return ClComponent(path, versions[0] if versions else None, individuals, class_labels)


def _select(store: Any, query: str) -> Any:
    """The solutions of a SELECT (pyoxigraph types query() as any of its three result kinds)."""
    import pyoxigraph as ox

    solutions = store.query(query)
    assert isinstance(solutions, ox.QuerySolutions)
    return solutions


def _add(found: dict[str, list[str]], individual: object, cls: object, pattern: str, where: str,
         problems: list[Problem]) -> None:  # fmt: skip
    import pyoxigraph as ox

    if not isinstance(individual, ox.NamedNode) or not isinstance(cls, ox.NamedNode):
        problems.append(Problem(where, f"{pattern}: expected named individuals and classes", column=pattern,
                                value=str(cls)))  # fmt: skip
        return
    term = curie(cls.value)
    if term is None:
        problems.append(Problem(where, f"{pattern} names a class outside CL/PCL", column=individual.value,
                                value=cls.value))  # fmt: skip
        return
    bucket = found.setdefault(individual.value, [])
    if term not in bucket:
        bucket.append(term)
