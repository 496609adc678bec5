"""The JSON-LD context, generated from the ontology: `python -m abc_atlas_kg.context > ontology/context.jsonld`.

Why generated: adding a property should mean editing the ontology and the converter only. Every property the
ontology declares gets a term: an `owl:ObjectProperty` is `"@type": "@id"`, a datatype property takes its
`rdfs:range` as `@type` (none for xsd:string, so strings stay plain JSON strings). Term names are the local name,
or, for opaque OBO ids such as `obo:RO_0015003`, the camel-cased `rdfs:label`.

Established properties that exports use but the ontology does not declare are listed in `REUSED`; a declaration in
the ontology always wins over that list, so moving a property into the ontology needs no change here.
`tests/test_write.py` regenerates the file and fails when the shipped one differs.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ..resources import ontology_dir
from .prefixes import VOCABULARIES
from .vocab import OWL, RDF_TYPE, RDFS, XSD

# Established properties (term name → CURIE, kind) that exports use and the ontology does not (yet) declare.
# kind: "@id" for links, "" for plain strings, else a datatype CURIE.
REUSED: dict[str, tuple[str, str]] = {
    "annotatedProperty": ("owl:annotatedProperty", "@id"),
    "annotatedSource": ("owl:annotatedSource", "@id"),
    "annotatedTarget": ("owl:annotatedTarget", "@id"),
    "broadMatch": ("skos:broadMatch", "@id"),
    "broader": ("skos:broader", "@id"),
    "byteSize": ("dcat:byteSize", "xsd:integer"),
    "closeMatch": ("skos:closeMatch", "@id"),
    "comment": ("rdfs:comment", ""),
    "description": ("dcterms:description", ""),
    "downloadURL": ("dcat:downloadURL", "@id"),
    "exactMatch": ("skos:exactMatch", "@id"),
    "identifier": ("dcterms:identifier", ""),
    "inScheme": ("skos:inScheme", "@id"),
    "inTaxon": ("obo:RO_0002162", "@id"),
    "isPartOf": ("dcterms:isPartOf", "@id"),
    "label": ("rdfs:label", ""),
    "mappingJustification": ("sssom:mapping_justification", "@id"),
    "narrowMatch": ("skos:narrowMatch", "@id"),
    "notation": ("skos:notation", ""),
    "prefLabel": ("skos:prefLabel", ""),
    "relatedMatch": ("skos:relatedMatch", "@id"),
    "source": ("dcterms:source", "@id"),
    "subClusterOf": ("obo:RO_0015003", "@id"),
    "title": ("dcterms:title", ""),
    "topConceptOf": ("skos:topConceptOf", "@id"),
    "used": ("prov:used", "@id"),
    "version": ("dcterms:hasVersion", ""),
    "wasAssociatedWith": ("prov:wasAssociatedWith", "@id"),
    "wasDerivedFrom": ("prov:wasDerivedFrom", "@id"),
    "wasGeneratedBy": ("prov:wasGeneratedBy", "@id"),
}

_PROPERTY_KINDS = {OWL + "ObjectProperty", OWL + "DatatypeProperty", OWL + "AnnotationProperty"}
_PLAIN = {XSD + "string", RDFS + "Literal"}
_OPAQUE_LOCAL = re.compile(r"[A-Z]+_\d+")  # OBO ids: the label names the term better than the id


def _term_name(iri: str, label: str | None) -> str:
    local = re.split(r"[/#]", iri)[-1]
    if _OPAQUE_LOCAL.fullmatch(local) and label:
        words: list[str] = re.findall(r"[A-Za-z0-9]+", label)
        return words[0].lower() + "".join(w[:1].upper() + w[1:] for w in words[1:])
    return local


def _kind(types: set[str], ranges: set[str]) -> str:
    if OWL + "ObjectProperty" in types:
        return "@id"
    datatypes = {r for r in ranges if r not in _PLAIN}
    if len(datatypes) == 1:
        return VOCABULARIES.compress(datatypes.pop())
    return ""  # a string, no range, or a union we cannot coerce to: leave the value as written


def declared_terms(ontology: Path) -> dict[str, tuple[str, str]]:
    """Term name → (CURIE, kind) for every property the ontology declares."""
    types: dict[str, set[str]] = {}
    ranges: dict[str, set[str]] = {}
    labels: dict[str, str] = {}
    for quad in ox.parse(path=str(ontology), format=ox.RdfFormat.TURTLE):
        if not isinstance(quad.subject, ox.NamedNode):
            continue
        subject, predicate, obj = quad.subject.value, quad.predicate.value, quad.object
        if predicate == RDF_TYPE and obj.value in _PROPERTY_KINDS:
            types.setdefault(subject, set()).add(obj.value)
        elif predicate == RDFS + "range" and isinstance(obj, ox.NamedNode):
            ranges.setdefault(subject, set()).add(obj.value)
        elif predicate == RDFS + "label" and isinstance(obj, ox.Literal) and obj.language in (None, "", "en"):
            labels.setdefault(subject, obj.value)
    terms: dict[str, tuple[str, str]] = {}
    for iri in sorted(types):
        curie = VOCABULARIES.compress(iri)
        name = _term_name(iri, labels.get(iri))
        if name in terms and terms[name][0] != curie:
            raise ValueError(
                f"{ontology}: two properties would both be the JSON-LD term {name!r}: {terms[name][0]}, {curie}"
            )
        terms[name] = (curie, _kind(types[iri], ranges.get(iri, set())))
    return terms


def generate(ontology: Path | None = None) -> dict[str, Any]:
    """The context document: the vocabulary prefixes, then one term per property, sorted by name."""
    declared = declared_terms(ontology or ontology_dir() / "abc-atlas-kg.ttl")
    declared_curies = {curie for curie, _ in declared.values()}
    terms = {name: v for name, v in REUSED.items() if v[0] not in declared_curies and name not in declared}
    terms.update(declared)
    context: dict[str, Any] = {"@version": 1.1, **dict(VOCABULARIES.sorted())}
    for name in sorted(terms, key=lambda n: (n.lower(), n)):
        curie, kind = terms[name]
        context[name] = {"@id": curie, "@type": kind} if kind else curie
    return {"@context": context}


def render(context: dict[str, Any], indent: str = "") -> str:
    """The context as readable JSON: one prefix or term per line (json.dumps would give one line or many)."""
    lines = [f"{indent}  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}" for key, value in context.items()]
    return "{\n" + ",\n".join(lines) + f"\n{indent}}}"


def document_text(document: dict[str, Any]) -> str:
    """The whole context file, as `ontology/context.jsonld` stores it."""
    return '{\n  "@context": ' + render(document["@context"], "  ") + "\n}\n"


def main() -> None:
    sys.stdout.write(document_text(generate(Path(sys.argv[1]) if len(sys.argv) > 1 else None)))


if __name__ == "__main__":
    main()
