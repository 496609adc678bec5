"""Validate stage: check RDF against the SHACL shapes in `shapes/` with pyshacl.

pyshacl works on rdflib graphs, and is fastest on rdflib's memory store (not on a pyoxigraph store), so the
triple stream is copied term by term into one. No inference: the shapes are written against the asserted
triples, which is what a SPARQL user sees. `advanced=True` enables the SPARQL-based target in the shapes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pyoxigraph as ox
import rdflib
from pyshacl import validate as shacl_validate
from rdflib.namespace import SH

from .resources import shapes_dir


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


def to_rdflib_term(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> rdflib.term.Node:
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))


def to_rdflib(triples: Iterable[ox.Triple | ox.Quad]) -> rdflib.Graph:
    """Copy pyoxigraph triples (or quads, graph names dropped) into an rdflib memory graph."""
    graph = rdflib.Graph()
    add = graph.add
    convert = to_rdflib_term
    for t in triples:
        add((convert(t.subject), convert(t.predicate), convert(t.object)))
    return graph


def validate(triples: Iterable[ox.Triple | ox.Quad], shapes: rdflib.Graph | None = None) -> Report:
    data = to_rdflib(triples)
    conforms, results, _ = shacl_validate(
        data,
        shacl_graph=shapes if shapes is not None else shapes_graph(),
        inference="none",
        advanced=True,
        allow_warnings=True,
    )
    return Report(bool(conforms), _violations(results))


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
