"""The shapes graph as the compiler reads it: namespaces, look-ups, property paths, and stable names for shapes."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox

SH = "http://www.w3.org/ns/shacl#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SUBCLASS_OF = RDFS + "subClassOf"

Term = ox.NamedNode | ox.BlankNode | ox.Literal


class UnsupportedShape(ValueError):
    """A shape uses a SHACL construct this compiler cannot translate faithfully."""


def nt(term: Term) -> str:
    """The N-Triples form of a term, to put into a query."""
    return str(term)


# ------------------------------------------------------------------------------------------------ shapes graph


class ShapesGraph:
    """The shapes, held in a pyoxigraph store, with the few look-ups the compiler needs."""

    def __init__(self, store: ox.Store) -> None:
        self.store = store

    @classmethod
    def from_files(cls, paths: Iterable[Path]) -> ShapesGraph:
        store = ox.Store()
        for path in paths:
            store.bulk_load(path=str(path), format=ox.RdfFormat.TURTLE)
        return cls(store)

    @classmethod
    def from_ntriples(cls, data: bytes) -> ShapesGraph:
        store = ox.Store()
        store.bulk_load(input=data, format=ox.RdfFormat.N_TRIPLES)
        return cls(store)

    def objects(self, subject: Term, predicate: str) -> list[Term]:
        if isinstance(subject, ox.Literal):
            return []
        return [q.object for q in self.store.quads_for_pattern(subject, ox.NamedNode(predicate), None, None)]

    def value(self, subject: Term, predicate: str) -> Term | None:
        found = self.objects(subject, predicate)
        return found[0] if found else None

    def subjects(self, predicate: str, obj: Term | None = None) -> list[Term]:
        return [q.subject for q in self.store.quads_for_pattern(None, ox.NamedNode(predicate), obj, None)]

    def predicates(self, subject: Term) -> set[str]:
        return {q.predicate.value for q in self.store.quads_for_pattern(subject, None, None, None)}

    def items(self, head: Term) -> list[Term]:
        """The members of an RDF list."""
        found = []
        while head != ox.NamedNode(RDF + "nil"):
            first = self.value(head, RDF + "first")
            if first is None:
                raise UnsupportedShape(f"malformed RDF list at {head}")
            found.append(first)
            head = self.value(head, RDF + "rest") or ox.NamedNode(RDF + "nil")
        return found


def is_true(term: Term | None) -> bool:
    return isinstance(term, ox.Literal) and term.value in ("true", "1")


def shape_label(graph: ShapesGraph, shape: Term, depth: int = 0) -> str:
    """A name for a shape that does not depend on blank node ids, so that two engines' results compare.

    An IRI names itself; a blank node is named by the shape that holds it and how (its path, for sh:property).
    """
    if not isinstance(shape, ox.BlankNode) or depth > 5:
        return shape.value
    for link in ("property", "node", "qualifiedValueShape"):
        for parent in graph.subjects(SH + link, shape):
            path = graph.value(shape, SH + "path")
            own = f" [{render_path(graph, path)}]" if path is not None else ""
            return f"{shape_label(graph, parent, depth + 1)} sh:{link}{own}"
    return "_:shape"


def render_path(graph: ShapesGraph, path: Term) -> str:
    """A SHACL property path as a SPARQL property path (IRIs in full)."""
    if isinstance(path, ox.NamedNode):
        return f"<{path.value}>"
    if isinstance(path, ox.Literal):
        raise UnsupportedShape(f"a literal {path} is not a property path")
    if graph.value(path, RDF + "first") is not None:
        return "(" + "/".join(render_path(graph, p) for p in graph.items(path)) + ")"
    for key, wrap in (
        ("inversePath", "^({})"),
        ("zeroOrMorePath", "({})*"),
        ("oneOrMorePath", "({})+"),
        ("zeroOrOnePath", "({})?"),
    ):
        inner = graph.value(path, SH + key)
        if inner is not None:
            return wrap.format(render_path(graph, inner))
    alternatives = graph.value(path, SH + "alternativePath")
    if alternatives is not None:
        return "(" + "|".join(render_path(graph, p) for p in graph.items(alternatives)) + ")"
    raise UnsupportedShape(f"unknown property path {path}")


def path_name(graph: ShapesGraph, path: Term | None) -> str | None:
    """How a result path is reported: the IRI of a predicate path, else the SPARQL property path."""
    if path is None:
        return None
    return path.value if isinstance(path, ox.NamedNode) else render_path(graph, path)


def declared_prefixes(graph: ShapesGraph, node: Term) -> str:
    """PREFIX lines for the sh:prefixes of a SPARQL-based target or constraint."""
    lines = {}
    for holder in graph.objects(node, SH + "prefixes"):
        for declaration in graph.objects(holder, SH + "declare"):
            prefix, namespace = graph.value(declaration, SH + "prefix"), graph.value(declaration, SH + "namespace")
            if prefix is not None and namespace is not None:
                lines[prefix.value] = f"PREFIX {prefix.value}: <{namespace.value}>\n"
    return "".join(lines[p] for p in sorted(lines))
