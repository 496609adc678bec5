"""Validate stage: check RDF against the SHACL shapes in `shapes/` with pyshacl.

pyshacl works on rdflib graphs, and is fastest on rdflib's memory store (not on a pyoxigraph store), so the
triple stream is copied term by term into one. No inference: the shapes are written against the asserted
triples, which is what a SPARQL user sees. `advanced=True` enables the SPARQL-based target in the shapes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pyoxigraph as ox
import rdflib
from pyshacl import validate as shacl_validate
from rdflib.namespace import RDF, SH

from .resources import shapes_dir
from .vocab import RDF_TYPE, XSD

XSD_STRING = XSD + "string"
CHUNK_TRIPLES = 100_000  # rdflib holds about 1.4 GB per million triples; pyshacl's time is linear in the chunks


@dataclass(frozen=True)
class Violation:
    focus: str
    path: str | None
    message: str
    value: str | None
    severity: str

    def __str__(self) -> str:
        path = f" path {self.path}" if self.path else ""
        value = f" value {self.value}" if self.value is not None else ""
        return f"[{self.severity}] {self.focus}{path}{value}: {self.message}"


@dataclass(frozen=True)
class Report:
    conforms: bool
    violations: list[Violation]

    def text(self, limit: int = 25) -> str:
        lines = [str(v) for v in self.violations[:limit]]
        if len(self.violations) > limit:
            lines.append(f"... and {len(self.violations) - limit} more")
        return "\n".join(lines)


@cache
def shapes_graph(folder: Path | None = None) -> rdflib.Graph:
    graph = rdflib.Graph()
    for path in sorted((folder or shapes_dir()).glob("*.ttl")):
        graph.parse(path, format="turtle")
    return graph


@cache
def target_predicates(shapes: rdflib.Graph) -> frozenset[str]:
    """The predicates that the SPARQL-based targets of the shapes mention, plus rdf:type."""
    prefixes = {str(shapes.value(d, SH.prefix)): str(shapes.value(d, SH.namespace)) for d in shapes.subjects(SH.prefix)}
    found = {RDF_TYPE}
    for query in shapes.objects(None, SH.select):
        for prefix, local in re.findall(r"\b([A-Za-z][\w-]*):([A-Za-z_][\w-]*)", str(query)):
            if prefix in prefixes:
                found.add(prefixes[prefix] + local)
    return frozenset(found)


@cache
def needed_predicates(shapes: rdflib.Graph) -> frozenset[str]:
    """The predicates the shapes look at: property paths and whatever the SPARQL-based targets need.

    Validation is fed only triples with these predicates; the rest (descriptions, top concepts, provenance
    details, the plain SKOS mapping triples) cannot change the outcome and would only cost time.
    """
    paths = {str(path) for path in shapes.objects(None, SH.path) if isinstance(path, rdflib.URIRef)}
    return target_predicates(shapes) | paths


def to_rdflib_term(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> rdflib.term.Node:
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    if term.datatype.value == XSD_STRING:  # RDF 1.1: a simple literal is an xsd:string; rdflib keeps them apart
        return rdflib.Literal(term.value)
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))


def to_rdflib(triples: Iterable[ox.Triple | ox.Quad]) -> rdflib.Graph:
    """Copy pyoxigraph triples (or quads, graph names dropped) into an rdflib memory graph.

    IRIs and datatypes repeat a lot (predicates, classes, parents, levels), so each is converted once; triples
    go to the store in one addN call, skipping rdflib's per-add event machinery.
    """
    graph = rdflib.Graph()
    iris: dict[ox.NamedNode, rdflib.URIRef] = {}

    def iri(term: ox.NamedNode) -> rdflib.URIRef:
        found = iris.get(term)
        if found is None:
            found = iris[term] = rdflib.URIRef(term.value)
        return found

    def convert(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> rdflib.term.Node:
        if isinstance(term, ox.NamedNode):
            return iri(term)
        if isinstance(term, ox.Literal) and not term.language and term.datatype.value != XSD_STRING:
            return rdflib.Literal(term.value, datatype=iri(term.datatype))
        return to_rdflib_term(term)

    graph.store.addN((convert(t.subject), iri(t.predicate), convert(t.object), graph) for t in triples)
    return graph


def sparql_targets(shapes: rdflib.Graph, data: ox.Store) -> tuple[rdflib.Graph, dict[rdflib.term.Node, set[ox.Term]]]:
    """Split off the SPARQL-based targets: the shapes without them, and the nodes each selects in `data`.

    The shapes stay standard SHACL-AF for any engine; here Oxigraph answers the target queries in milliseconds,
    where rdflib's SPARQL engine, which pyshacl would use, takes seconds per query on a whole-brain taxonomy.
    """
    plain = rdflib.Graph()
    for prefix, namespace in shapes.namespaces():
        plain.bind(prefix, namespace)
    plain += shapes
    selected: dict[rdflib.term.Node, set[ox.Term]] = {}
    for shape, target in list(shapes.subject_objects(SH.target)):
        if (target, RDF.type, SH.SPARQLTarget) not in shapes:
            continue
        declared = {
            str(shapes.value(d, SH.prefix)): str(shapes.value(d, SH.namespace))
            for prefixes in shapes.objects(target, SH.prefixes)
            for d in shapes.objects(prefixes, SH.declare)
        }
        header = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in sorted(declared.items()))
        plain.remove((shape, SH.target, target))
        plain.remove((target, None, None))
        nodes = selected.setdefault(shape, set())
        nodes.update(solution["this"] for solution in data.query(header + str(shapes.value(target, SH.select))))
    return plain, selected


def _chunks(triples: list[ox.Triple], size: int) -> Iterator[tuple[set[ox.Term], list[ox.Triple]]]:
    """Whole subject descriptions, about `size` triples at a time (input grouped by subject, as exports are)."""
    subjects: set[ox.Term] = set()
    chunk: list[ox.Triple] = []
    for triple in triples:
        if triple.subject not in subjects and len(chunk) >= size:
            yield subjects, chunk
            subjects, chunk = set(), []
        subjects.add(triple.subject)
        chunk.append(triple)
    if chunk:
        yield subjects, chunk


def validate(
    triples: Iterable[ox.Triple | ox.Quad], shapes: rdflib.Graph | None = None, chunk_size: int = CHUNK_TRIPLES
) -> Report:
    """Validate with pyshacl, in chunks of whole subject descriptions, fed only the triples the shapes look at.

    Every shape here judges a node by its own triples plus the rdf:type of the nodes it points to (sh:class),
    so a chunk holds its subjects' triples and the types of their objects; results about those borrowed
    objects are dropped, as each is judged in its own chunk. Memory stays flat however large the taxonomy.
    """
    shapes = shapes if shapes is not None else shapes_graph()
    needed = needed_predicates(shapes)
    kept = [t if isinstance(t, ox.Triple) else t.triple for t in triples if t.predicate.value in needed]
    kept.sort(key=lambda t: t.subject.value)  # a chunk must hold whole descriptions; exports are sorted already
    store = ox.Store()  # only what the target queries read: a few predicates of every cell set
    in_targets = target_predicates(shapes)
    store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object) for t in kept if t.predicate.value in in_targets)
    plain, targets = sparql_targets(shapes, store)
    del store
    types: dict[ox.Term, list[ox.Triple]] = {}
    for t in kept:
        if t.predicate.value == RDF_TYPE:
            types.setdefault(t.subject, []).append(t)
    conforms, violations = True, []
    for subjects, chunk in _chunks(kept, chunk_size):
        borrowed = {o for t in chunk if not isinstance(o := t.object, ox.Literal) and o not in subjects}
        context = [t for node in borrowed for t in types.get(node, ())]
        chunk_shapes = rdflib.Graph()
        chunk_shapes += plain
        for shape, nodes in targets.items():
            for node in nodes & subjects:
                chunk_shapes.add((shape, SH.targetNode, to_rdflib_term(node)))
        _, results, _ = shacl_validate(
            to_rdflib(chunk + context), shacl_graph=chunk_shapes, inference="none", inplace=True, allow_warnings=True
        )
        focus = {str(to_rdflib_term(s)) for s in subjects}
        found = [v for v in _violations(results) if v.focus in focus]
        conforms = conforms and not any(v.severity == "Violation" for v in found)
        violations.extend(found)
    return Report(conforms, sorted(violations, key=lambda v: (v.focus, v.path or "", v.message)))


def _violations(results: rdflib.Graph) -> list[Violation]:
    found = []
    for result in results.subjects(rdflib.RDF.type, SH.ValidationResult):

        def one(predicate: rdflib.URIRef, result: rdflib.term.Node = result) -> str | None:
            value = results.value(result, predicate)
            return None if value is None else str(value)

        severity = one(SH.resultSeverity) or str(SH.Violation)
        found.append(
            Violation(
                focus=one(SH.focusNode) or "",
                path=one(SH.resultPath),
                message=one(SH.resultMessage) or "does not conform",
                value=one(SH.value),
                severity=severity.rsplit("#", 1)[-1],
            )
        )
    return sorted(found, key=lambda v: (v.focus, v.path or "", v.message))
