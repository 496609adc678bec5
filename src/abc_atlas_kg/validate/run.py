"""Validate stage: check RDF against the SHACL shapes in `shapes/`.

Two engines, one verdict. The default compiles the shapes to SPARQL run by Oxigraph over an in-memory store
(`compile`, `execute`): each focus node is validated once, over the whole graph, at store speed, and any SHACL
construct it cannot compile is refused rather than skipped. pyshacl over an rdflib graph is the reference
(`engine="pyshacl"`), for any shapes; tests/test_validator.py requires both to report the same results. No
inference: the shapes are written against the asserted triples, which is what a SPARQL user sees.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from ..rdf.vocab import XSD
from ..resources import shapes_dir
from .compile import Plan, compile_shapes
from .constraints import NUMERIC
from .execute import Result, load, run
from .shapes import SH as SH_IRI
from .shapes import ShapesGraph, UnsupportedShape, path_name, shape_label

if TYPE_CHECKING:  # rdflib and pyshacl load only for the pyshacl engine: the export path never needs them
    import rdflib

XSD_STRING = XSD + "string"
ENGINES = ("sparql", "pyshacl")
__all__ = ["ENGINES", "Report", "UnsupportedShape", "Violation", "validate"]


@dataclass(frozen=True)
class Violation:
    """One validation result: the fields of a sh:ValidationResult, with shapes named stably across engines."""

    focus: str
    path: str | None
    message: str
    value: str | None
    severity: str
    source_shape: str = ""
    component: str = ""  # local name of the sh:*ConstraintComponent
    value_term: str | None = None  # the value in N-Triples form (value is its lexical form)
    own_message: bool = True  # the message comes from the shapes (sh:message), not from the engine

    def __str__(self) -> str:
        path = f" path {self.path}" if self.path else ""
        value = f" value {self.value}" if self.value is not None else ""
        return f"[{self.severity}] {self.focus}{path}{value}: {self.message}"

    def sort_key(self) -> tuple[str, ...]:
        return (self.focus, self.path or "", self.source_shape, self.component, self.value_term or "", self.message)

    def key(self) -> tuple[object, ...]:
        """What both engines must agree on: blank nodes only as such, messages only where the shapes write them."""
        message = self.message if self.own_message else None
        focus = "_:" if self.focus.startswith("_:") else self.focus
        value = "_:" if self.value_term and self.value_term.startswith("_:") else _canonical(self.value_term)
        return (focus, self.path, value, self.severity, self.source_shape, self.component, message)


def _canonical(term: str | None) -> str | None:
    """A numeric literal by its value: Oxigraph stores numbers as values and gives back their canonical lexical
    form ("0.0"^^xsd:double comes back as "0"), rdflib keeps the form it parsed."""
    match = re.fullmatch(r'"([^"]*)"\^\^<http://www\.w3\.org/2001/XMLSchema#(\w+)>', term or "")
    if not match or match.group(2) not in NUMERIC:
        return term
    try:
        return f"{Decimal(match.group(1).strip()).normalize()}^^{match.group(2)}"
    except InvalidOperation:
        return term


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
    import rdflib

    graph = rdflib.Graph()
    for path in sorted((folder or shapes_dir()).glob("*.ttl")):
        graph.parse(path, format="turtle")
    return graph


def to_rdflib_term(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> rdflib.term.Node:
    import rdflib

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
    import rdflib

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


def to_ox_term(term: rdflib.term.Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    import rdflib

    if isinstance(term, rdflib.URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, rdflib.BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, rdflib.Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        datatype = ox.NamedNode(str(term.datatype)) if term.datatype else None
        return ox.Literal(str(term), datatype=datatype)
    raise TypeError(f"not an RDF term: {term!r}")


def ox_shapes(shapes: rdflib.Graph) -> ShapesGraph:
    """The same shapes in a pyoxigraph store, blank node ids kept (pyshacl reports the shapes' own ids)."""
    store = ox.Store()
    store.bulk_extend(ox.Quad(to_ox_term(s), to_ox_term(p), to_ox_term(o)) for s, p, o in shapes)
    return ShapesGraph(store)


def shape_source(shapes: Path | str | rdflib.Graph | ShapesGraph | None) -> Path | rdflib.Graph | ShapesGraph:
    if shapes is None:
        return shapes_dir()
    return Path(shapes) if isinstance(shapes, str) else shapes


@cache
def _plan_for_folder(folder: Path) -> Plan:
    return compile_shapes(ShapesGraph.from_files(sorted(folder.glob("*.ttl")) if folder.is_dir() else [folder]))


def compiled(shapes: Path | str | rdflib.Graph | ShapesGraph | None = None) -> Plan:
    """The shapes compiled to SPARQL (cached per folder); raises UnsupportedShape naming what cannot compile."""
    source = shape_source(shapes)
    if isinstance(source, Path):
        return _plan_for_folder(source.resolve())
    if isinstance(source, ShapesGraph):
        return compile_shapes(source)
    return compile_shapes(ox_shapes(source))


def _rdflib_shapes(shapes: Path | str | rdflib.Graph | ShapesGraph | None) -> rdflib.Graph:
    import rdflib

    source = shape_source(shapes)
    if isinstance(source, rdflib.Graph):
        return source
    if isinstance(source, ShapesGraph):
        graph = rdflib.Graph()
        return graph.parse(
            data=source.store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph()), format="nt"
        )
    if source.is_dir():
        return shapes_graph(source.resolve())
    return rdflib.Graph().parse(source, format="turtle")


def validate(
    triples: Iterable[ox.Triple | ox.Quad] | ox.Store,
    shapes: Path | str | rdflib.Graph | ShapesGraph | None = None,
    engine: str = "sparql",
    chunk_size: int | None = None,
) -> Report:
    """Validate triples (graph names dropped) against the shapes (default: the project's shapes/ folder).

    engine="sparql" (default) compiles the shapes to SPARQL run by Oxigraph, refusing with UnsupportedShape any
    construct it cannot compile; engine="pyshacl" is the reference: plain pyshacl over an rdflib graph, for any
    shapes. Both report the same set of results (see tests/test_validator.py). `chunk_size` is accepted and
    ignored: validation is no longer chunked, each focus node is validated once over the whole graph.
    """
    del chunk_size
    if engine == "sparql":
        plan = compiled(shapes)
        return _report(_from_result(r) for r in run(plan, load(triples, plan.predicates)))
    if engine == "pyshacl":
        return validate_pyshacl(triples, _rdflib_shapes(shapes))
    raise ValueError(f"unknown validation engine {engine!r} (choose sparql or pyshacl)")


def _node_name(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> str:
    """An IRI as itself, a blank node as _:id, a literal as its lexical form."""
    return str(term) if isinstance(term, ox.BlankNode) else term.value


def _report(violations: Iterable[Violation]) -> Report:
    found = sorted(set(violations), key=Violation.sort_key)
    return Report(not any(v.severity == "Violation" for v in found), found)


def _from_result(result: Result) -> Violation:
    return Violation(
        focus=_node_name(result.focus),
        path=result.path,
        message=" / ".join(result.messages),
        value=None if result.value is None else result.value.value,
        severity=result.severity,
        source_shape=result.source_shape,
        component=result.component,
        value_term=None if result.value is None else str(result.value),
        own_message=result.shape_has_message,
    )


def validate_pyshacl(triples: Iterable[ox.Triple | ox.Quad] | ox.Store, shapes: rdflib.Graph) -> Report:
    """The reference: pyshacl on the whole graph, no inference, SHACL-AF on; warnings do not fail conformance."""
    from pyshacl import validate as shacl_validate

    if isinstance(triples, ox.Store):
        triples = triples.quads_for_pattern(None, None, None, None)
    _, results, _ = shacl_validate(
        to_rdflib(triples), shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True, inplace=True
    )
    return _report(_violations(results, ox_shapes(shapes)))


def _violations(results: rdflib.Graph, shapes: ShapesGraph) -> list[Violation]:
    import rdflib
    from rdflib.namespace import RDF, SH

    found = []
    details = set(results.objects(None, SH.detail))  # nested under a sh:node result, not results of their own
    for result in results.subjects(RDF.type, SH.ValidationResult):
        if result in details:
            continue
        value = results.value(result, SH.value)
        shape = to_ox_term(results.value(result, SH.sourceShape))
        path = results.value(result, SH.resultPath)
        if path is not None and not isinstance(path, rdflib.URIRef):
            path = path_name(shapes, shapes.value(shape, SH_IRI + "path"))
        messages = sorted({str(m) for m in results.objects(result, SH.resultMessage)})
        component = str(results.value(result, SH.sourceConstraintComponent)).rsplit("#", 1)[-1]
        own = bool(shapes.objects(shape, SH_IRI + "message")) or (
            component == "SPARQLConstraintComponent"
            and bool(shapes.objects(to_ox_term(results.value(result, SH.sourceConstraint)), SH_IRI + "message"))
        )
        found.append(
            Violation(
                focus=_node_name(to_ox_term(results.value(result, SH.focusNode))),
                path=None if path is None else str(path),
                message=" / ".join(messages) or "does not conform",
                value=None if value is None else str(value),
                severity=str(results.value(result, SH.resultSeverity) or SH.Violation).rsplit("#", 1)[-1],
                source_shape=shape_label(shapes, shape),
                component=component,
                value_term=None if value is None else str(to_ox_term(value)),
                own_message=own,
            )
        )
    return found
