"""SHACL compiled to SPARQL, run by Oxigraph: pyshacl's verdicts at store speed.

pyshacl stays the reference (`validate(..., engine="pyshacl")`); this engine must give the same set of results
(focus node, path, value, severity, source shape, constraint component, and the shapes' own messages). It
compiles each shape into a few SPARQL queries over an in-memory `pyoxigraph.Store` and validates every focus node
once, over the whole graph: no chunks, no borrowed nodes. Anything it cannot compile faithfully is refused with
`UnsupportedShape`, naming the shape and the construct, rather than being skipped.

Supported: targets (sh:targetClass with rdfs:subClassOf*, implicit class targets, sh:targetNode,
sh:targetSubjectsOf, sh:targetObjectsOf, SHACL-AF sh:SPARQLTarget); property paths (IRI, sequence, inverse,
alternative, zero-or-more, one-or-more, zero-or-one); sh:minCount, sh:maxCount, sh:datatype, sh:class,
sh:nodeKind, sh:in, sh:hasValue, sh:pattern (+ sh:flags), sh:minInclusive/maxInclusive/minExclusive/maxExclusive,
sh:minLength/maxLength, sh:node, sh:property, sh:qualifiedValueShape with sh:qualifiedMinCount/MaxCount,
sh:sparql (SELECT with $this, $PATH), sh:severity, sh:message, sh:deactivated. Refused: everything else that
constrains (sh:closed, sh:equals, sh:disjoint, sh:lessThan, sh:not/and/or/xone, sh:uniqueLang, sh:languageIn,
sh:qualifiedValueShapesDisjoint true, SPARQL ASK validators, custom constraint components, $shapesGraph, ...).
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pyoxigraph as ox

SH = "http://www.w3.org/ns/shacl#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SUBCLASS_OF = RDFS + "subClassOf"
T = TypeVar("T")
R = TypeVar("R")
QUERY_THREADS = 2  # Oxigraph evaluates without the GIL: the checks share the cores
LOAD_BATCH = 20_000  # triples per N-Triples batch loaded into the store (about 3 MB of text)
FOCUS_GRAPH = ox.NamedNode("urn:abc-kg:shacl:focus")
FOCUS_OF = ox.NamedNode("urn:abc-kg:shacl:focus-of")

Term = ox.NamedNode | ox.BlankNode | ox.Literal

# sh: predicates that do not constrain (or that the compiler reads where it reads their shape's constraints)
DESCRIPTIVE = {
    "name", "description", "order", "group", "defaultValue", "message", "severity", "deactivated", "path",
    "declare", "prefixes", "flags", "qualifiedMinCount", "qualifiedMaxCount", "qualifiedValueShapesDisjoint",
    "targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf", "target", "property", "sparql",
}  # fmt: skip
VALUE_TYPE = {
    "class", "datatype", "nodeKind", "in", "pattern", "minInclusive", "maxInclusive", "minExclusive",
    "maxExclusive", "minLength", "maxLength", "node", "hasValue",
}  # fmt: skip
COUNTS = {"minCount", "maxCount", "qualifiedValueShape"}
NUMERIC = {
    "integer", "decimal", "double", "float", "int", "long", "short", "byte", "nonNegativeInteger",
    "positiveInteger", "nonPositiveInteger", "negativeInteger", "unsignedLong", "unsignedInt",
    "unsignedShort", "unsignedByte",
}  # fmt: skip
CASTABLE = {"boolean", "date", "dateTime", "time"}


class UnsupportedShape(ValueError):
    """A shape uses a SHACL construct this compiler cannot translate faithfully."""


@dataclass(frozen=True)
class Result:
    """One validation result, the same fields pyshacl reports."""

    focus: Term
    path: str | None  # the IRI for a predicate path, else the SPARQL property path
    value: Term | None
    severity: str  # local name: Violation, Warning, Info
    source_shape: str
    component: str  # local name of the sh:*ConstraintComponent
    messages: tuple[str, ...]
    shape_has_message: bool  # messages come from the shapes (comparable), not generated here


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


# ------------------------------------------------------------------------------------------------ compilation


@dataclass
class Check:
    """One SPARQL query whose solutions are results of one constraint of one shape."""

    shape: Term
    component: str
    query: str
    sparql_constraint: Term | None = None  # for sh:sparql: the constraint node (its messages, its templates)


@dataclass
class Plan:
    """The compiled shapes: queries that fill the focus graph, then the checks."""

    graph: ShapesGraph
    focus_updates: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    predicates: frozenset[str] | None = None  # the predicates the queries read; None: any


class Compiler:
    def __init__(self, graph: ShapesGraph) -> None:
        self.graph = graph
        self.plan = Plan(graph)
        self.counter = itertools.count()
        self.predicates: set[str] | None = {RDF + "type", RDFS + "subClassOf"}

    def fresh(self, stem: str = "v") -> str:
        return f"?_{stem}{next(self.counter)}"

    def refuse(self, shape: Term, construct: str) -> UnsupportedShape:
        return UnsupportedShape(
            f"shape {shape_label(self.graph, shape)}: cannot compile {construct} to SPARQL;"
            " validate with --engine pyshacl, or extend abc_atlas_kg.shacl_sparql"
        )

    # -------------------------------------------------------------- shapes and their targets

    def shapes_with_targets(self) -> list[Term]:
        g = self.graph
        found: dict[Term, None] = {}
        for key in ("targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf", "target"):
            for subject in g.subjects(SH + key):
                found[subject] = None
        classes = {ox.NamedNode(RDFS + "Class"), *g.subjects(RDFS + "subClassOf", ox.NamedNode(RDFS + "Class"))}
        for kind in ("NodeShape", "PropertyShape"):
            for shape in g.subjects(RDF + "type", ox.NamedNode(SH + kind)):
                if any(t in classes for t in g.objects(shape, RDF + "type")):
                    found[shape] = None
        return sorted(found, key=lambda s: (isinstance(s, ox.BlankNode), str(s)))

    def need(self, predicate: Term) -> None:
        if self.predicates is not None and isinstance(predicate, ox.NamedNode):
            self.predicates.add(predicate.value)

    def read_query(self, shape: Term, text: str) -> None:
        """Note the predicates a SPARQL text mentions; any variable or negated predicate means every predicate."""
        if self.predicates is None:
            return
        prefixes = dict(re.findall(r"PREFIX\s+([\w-]*):\s*<([^>]*)>", text, flags=re.IGNORECASE))
        body = re.sub(r'"""[\s\S]*?"""|"(?:[^"\\\n]|\\.)*"', '""', text)
        body = re.sub(r"PREFIX\s+[\w-]*:\s*<[^>]*>", "", body, flags=re.IGNORECASE)
        term = r"(?:[?$]\w+|<[^>]*>|[\w-]*:[\w.-]*|\[\s*\]|_:\w+)"
        if re.search(rf"(?:{term}|[;])\s+[?$]\w+\s+(?:{term}|\"|\d|\[|\()", body) or "!" in re.sub(
            r"!=|!\s*(?:BOUND|EXISTS|isIRI|isBlank|isLiteral|isNumeric|sameTerm|REGEX|CONTAINS|\()",
            "",
            body,
            flags=re.I,
        ):
            self.predicates = None
            return
        for iri in re.findall(r"<([^>]*)>", body):
            self.predicates.add(iri)
        for prefix, local in re.findall(r"(?<![\w?$])([A-Za-z][\w-]*|):([\w-]+)", body):
            if prefix in prefixes:
                self.predicates.add(prefixes[prefix] + local)
        if re.search(r"(?<![\w?$<])a(?![\w:])", body):
            self.predicates.add(RDF + "type")

    # -------------------------------------------------------------- per-shape compilation

    def compile(self) -> Plan:
        for shape in self.shapes_with_targets():
            if self.deactivated(shape):
                continue
            focus = self.fill_focus(shape)
            self.compile_shape(shape, focus, depth=0)
        self.plan.predicates = frozenset(self.predicates) if self.predicates is not None else None
        return self.plan

    def deactivated(self, shape: Term) -> bool:
        return is_true(self.graph.value(shape, SH + "deactivated"))

    def fill_focus(self, shape: Term) -> str:
        """Materialise the shape's focus nodes in the focus graph; return the pattern that reads them back."""
        g = self.graph
        key = ox.NamedNode(f"urn:abc-kg:shacl:focus/{next(self.counter)}")
        plain, sparql_targets = [], []
        for target in g.objects(shape, SH + "target"):
            sparql_targets.append(target)
        classes = list(g.objects(shape, SH + "targetClass"))
        rdfs_classes = {ox.NamedNode(RDFS + "Class"), *g.subjects(RDFS + "subClassOf", ox.NamedNode(RDFS + "Class"))}
        if any(t in rdfs_classes for t in g.objects(shape, RDF + "type")):
            classes.append(shape)
        plain.extend(f"{{ ?this a/<{RDFS}subClassOf>* {nt(c)} }}" for c in classes)
        nodes = g.objects(shape, SH + "targetNode")
        if nodes:
            plain.append("{ VALUES ?this { " + " ".join(nt(n) for n in nodes) + " } }")
        for predicate in g.objects(shape, SH + "targetSubjectsOf"):
            self.need(predicate)
            plain.append(f"{{ ?this {nt(predicate)} [] }}")
        for predicate in g.objects(shape, SH + "targetObjectsOf"):
            self.need(predicate)
            plain.append(f"{{ [] {nt(predicate)} ?this }}")
        insert = f"INSERT {{ GRAPH {nt(FOCUS_GRAPH)} {{ {nt(key)} {nt(FOCUS_OF)} ?this }} }}"
        if len(plain) == 1 and not sparql_targets:  # one cheap index look-up: inline it, nothing to materialise
            return plain[0]
        if plain:
            self.plan.focus_updates.append(f"{insert} WHERE {{ {' UNION '.join(plain)} }}")
        for target in sparql_targets:
            if ox.NamedNode(SH + "SPARQLTarget") not in g.objects(target, RDF + "type"):
                raise self.refuse(shape, "a sh:target that is not a sh:SPARQLTarget (SPARQL target types, JS targets)")
            select = g.value(target, SH + "select")
            if not isinstance(select, ox.Literal):
                raise self.refuse(shape, "a sh:SPARQLTarget without one sh:select")
            text = declared_prefixes(g, target) + select.value
            if "$" in re.sub(r'"(?:[^"\\]|\\.)*"', "", select.value):
                raise self.refuse(shape, "a sh:SPARQLTarget with pre-bound ($) variables")
            self.read_query(shape, text)
            self.plan.focus_updates.append(f"{insert} WHERE {{ {{ {self.as_subselect(text)} }} }}")
        return f"GRAPH {nt(FOCUS_GRAPH)} {{ {nt(key)} {nt(FOCUS_OF)} ?this }}"

    @staticmethod
    def as_subselect(text: str) -> str:
        """A whole SELECT query as a sub-select: PREFIX/BASE lines resolved by expanding prefixed names."""
        prefixes = dict(re.findall(r"PREFIX\s+([\w-]*):\s*<([^>]*)>", text, flags=re.IGNORECASE))
        body = re.sub(r"(?:PREFIX\s+[\w-]*:\s*<[^>]*>\s*)+", "", text, flags=re.IGNORECASE).strip()
        if re.match(r"BASE\b", body, flags=re.IGNORECASE):
            raise UnsupportedShape("BASE in a SPARQL-based target or constraint")
        pieces = re.split(r'("""[\s\S]*?"""|"(?:[^"\\\n]|\\.)*"|<[^>\s]*>)', body)
        for i in range(0, len(pieces), 2):  # outside strings and IRIs
            pieces[i] = re.sub(
                r"(?<![\w?$:<])([A-Za-z][\w-]*|):([\w-]+(?:\.[\w-]+)*)",
                lambda m: f"<{prefixes[m.group(1)]}{m.group(2)}>" if m.group(1) in prefixes else m.group(0),
                pieces[i],
            )
        return "".join(pieces)

    def compile_shape(self, shape: Term, focus: str, depth: int) -> None:
        """The checks of one shape over the focus nodes `focus` binds to ?this; then its sh:property shapes."""
        g = self.graph
        if depth > 8:
            raise self.refuse(shape, "sh:property nested more than 8 deep (recursive shapes)")
        self.check_known(shape)
        path = g.value(shape, SH + "path")
        values = f"?this {render_path(g, path)} ?value ." if path is not None else "BIND(?this AS ?value)"
        self.need_path(path)
        own = self.parameters(shape)
        for name, parameter in own:
            if name in VALUE_TYPE and not (name == "hasValue" and path is not None):
                condition = self.condition(shape, name, parameter, "?value")
                if path is None:
                    query = f"SELECT DISTINCT ?this ?value WHERE {{ {focus} {values} FILTER(!({condition})) }}"
                else:  # the values that fail first, then whether they belong to a focus node: 2x faster
                    query = (
                        f"SELECT DISTINCT ?this ?value WHERE {{ {values} FILTER(!({condition}))"
                        f" FILTER EXISTS {{ {focus} }} }}"
                    )
                self.add(shape, name, query)
        for name, parameter in own:
            if name == "hasValue" and path is not None:
                query = f"SELECT DISTINCT ?this WHERE {{ {focus} FILTER NOT EXISTS {{ ?this {render_path(g, path)} {nt(parameter)} }} }}"
                self.add(shape, name, query)
            elif name in ("minCount", "maxCount"):
                if path is None:
                    raise self.refuse(shape, f"sh:{name} on a node shape")
                limit = int(parameter.value)
                steps = render_path(g, path)
                if name == "maxCount" and limit == 0:
                    query = f"SELECT DISTINCT ?this WHERE {{ {focus} {values} }}"
                elif name == "maxCount" and isinstance(path, ox.NamedNode):  # triples are distinct: COUNT(*)
                    query = (
                        f"SELECT ?this WHERE {{ {{ SELECT ?this WHERE {{ ?this {steps} ?value }} GROUP BY ?this"
                        f" HAVING (COUNT(*) > {limit}) }} FILTER EXISTS {{ {focus} }} }}"
                    )
                elif name == "maxCount" and limit == 1:  # a self-join is several times faster than GROUP BY
                    query = (
                        f"SELECT DISTINCT ?this WHERE {{ {focus} ?this {steps} ?value . ?this {steps} ?_other ."
                        " FILTER(!sameTerm(?value, ?_other)) }"
                    )
                elif name == "minCount" and limit == 1:
                    query = f"SELECT DISTINCT ?this WHERE {{ {focus} FILTER NOT EXISTS {{ ?this {steps} ?value }} }}"
                elif name == "minCount" and limit == 0:
                    continue
                else:
                    test = f"< {limit}" if name == "minCount" else f"> {limit}"
                    query = (
                        f"SELECT ?this WHERE {{ {focus} OPTIONAL {{ {values} }} }}"
                        f" GROUP BY ?this HAVING (COUNT(DISTINCT ?value) {test})"
                    )
                self.add(shape, name, query)
        for qualified in g.objects(shape, SH + "qualifiedValueShape"):
            self.qualified(shape, qualified, focus, path)
        for constraint in g.objects(shape, SH + "sparql"):
            self.sparql_constraint(shape, constraint, focus, path)
        for child in g.objects(shape, SH + "property"):
            if self.deactivated(child):
                continue
            if path is None:
                self.compile_shape(child, focus, depth + 1)
            else:
                key = ox.NamedNode(f"urn:abc-kg:shacl:focus/{next(self.counter)}")
                self.plan.focus_updates.append(
                    f"INSERT {{ GRAPH {nt(FOCUS_GRAPH)} {{ {nt(key)} {nt(FOCUS_OF)} ?value }} }}"
                    f" WHERE {{ {focus} {values} }}"
                )
                self.compile_shape(child, f"GRAPH {nt(FOCUS_GRAPH)} {{ {nt(key)} {nt(FOCUS_OF)} ?this }}", depth + 1)

    def add(self, shape: Term, name: str, query: str, constraint: Term | None = None) -> None:
        component = {
            "qualifiedMin": "QualifiedMinCountConstraintComponent",
            "qualifiedMax": "QualifiedMaxCountConstraintComponent",
            "sparql": "SPARQLConstraintComponent",
        }.get(name, name[0].upper() + name[1:] + "ConstraintComponent")
        self.plan.checks.append(Check(shape, component, query, constraint))

    def check_known(self, shape: Term) -> None:
        """Refuse a shape that uses any sh: constraint the compiler does not translate."""
        for predicate in sorted(self.graph.predicates(shape)):
            if not predicate.startswith(SH):
                continue
            name = predicate[len(SH) :]
            if name not in DESCRIPTIVE | VALUE_TYPE | COUNTS:
                raise self.refuse(shape, f"sh:{name}")
        if is_true(self.graph.value(shape, SH + "qualifiedValueShapesDisjoint")):
            raise self.refuse(shape, "sh:qualifiedValueShapesDisjoint true")

    def parameters(self, shape: Term) -> list[tuple[str, Term]]:
        """The shape's own constraint parameters, each value its own constraint (as pyshacl evaluates them)."""
        return [
            (name, parameter)
            for name in sorted(VALUE_TYPE | {"minCount", "maxCount"})
            for parameter in self.graph.objects(shape, SH + name)
        ]

    def need_path(self, path: Term | None) -> None:
        if path is None:
            return
        if isinstance(path, ox.NamedNode):
            self.need(path)
            return
        for iri in re.findall(r"<([^>]*)>", render_path(self.graph, path)):
            self.need(ox.NamedNode(iri))

    # -------------------------------------------------------------- conditions a value node must meet

    def condition(self, shape: Term, name: str, parameter: Term, var: str, depth: int = 0) -> str:
        """A SPARQL expression, true when the node in `var` meets constraint sh:name `parameter`."""
        g = self.graph
        if name == "class":
            return f"EXISTS {{ {var} a/<{RDFS}subClassOf>* {nt(parameter)} }}"
        if name == "datatype":
            return self.datatype_condition(shape, parameter, var)
        if name == "nodeKind":
            kinds = {
                "IRI": f"isIRI({var})",
                "BlankNode": f"isBlank({var})",
                "Literal": f"isLiteral({var})",
                "BlankNodeOrIRI": f"!isLiteral({var})",
                "BlankNodeOrLiteral": f"!isIRI({var})",
                "IRIOrLiteral": f"!isBlank({var})",
            }
            kind = parameter.value[len(SH) :] if parameter.value.startswith(SH) else ""
            if kind not in kinds:
                raise self.refuse(shape, f"sh:nodeKind {parameter}")
            return kinds[kind]
        if name == "in":
            members = g.items(parameter)
            return "(" + " || ".join(f"sameTerm({var}, {nt(m)})" for m in members) + ")" if members else "false"
        if name == "hasValue":
            return f"sameTerm({var}, {nt(parameter)})"
        if name == "pattern":
            flags = g.value(shape, SH + "flags")
            kept = "".join(f for f in "im" if flags is not None and f in flags.value.lower())
            return f"(!isBlank({var}) && REGEX(STR({var}), {nt(ox.Literal(parameter.value))}, {nt(ox.Literal(kept))}))"
        if name in ("minLength", "maxLength"):
            test = ">=" if name == "minLength" else "<="
            return f"(!isBlank({var}) && STRLEN(STR({var})) {test} {int(parameter.value)})"
        if name in ("minInclusive", "maxInclusive", "minExclusive", "maxExclusive"):
            if not isinstance(parameter, ox.Literal):
                raise self.refuse(shape, f"sh:{name} with a non-literal value")
            test = {"minInclusive": ">=", "maxInclusive": "<=", "minExclusive": ">", "maxExclusive": "<"}[name]
            return f"(isLiteral({var}) && COALESCE({var} {test} {nt(parameter)}, false))"
        if name == "node":
            if g.value(parameter, SH + "path") is not None:
                raise self.refuse(shape, "sh:node pointing to a property shape")
            return self.conforms(parameter, var, depth + 1)
        raise self.refuse(shape, f"sh:{name}")  # pragma: no cover

    def datatype_condition(self, shape: Term, datatype: Term, var: str) -> str:
        """pyshacl's test: same datatype IRI and, for the types rdflib parses, a well-formed lexical form."""
        iri = datatype.value
        if iri == RDFS + "Literal":
            return f"isLiteral({var})"
        if iri == RDF + "langString":
            return f'(isLiteral({var}) && LANG({var}) != "")'
        same = f'(isLiteral({var}) && LANG({var}) = "" && sameTerm(DATATYPE({var}), {nt(datatype)})'
        local = iri[len(XSD) :] if iri.startswith(XSD) else None
        if local in NUMERIC:
            return same + f" && isNumeric({var}))"
        if local in CASTABLE:
            return same + f" && COALESCE(isLiteral(<{iri}>(STR({var}))), false))"
        if iri == RDFS + "Datatype":
            raise self.refuse(shape, "sh:datatype rdfs:Datatype")
        return same + ")"

    def conforms(self, shape: Term, var: str, depth: int) -> str:
        """A SPARQL expression, true when the node in `var` conforms to `shape` (for sh:node and qualified shapes)."""
        g = self.graph
        if depth > 6:
            raise self.refuse(shape, "shapes nested more than 6 deep through sh:node (recursive shapes)")
        if self.deactivated(shape):
            return "true"
        self.check_known(shape)
        if g.objects(shape, SH + "sparql"):
            raise self.refuse(shape, "sh:sparql inside a shape reached by sh:node or sh:qualifiedValueShape")
        if g.objects(shape, SH + "qualifiedValueShape"):
            raise self.refuse(
                shape, "sh:qualifiedValueShape inside a shape reached by sh:node or sh:qualifiedValueShape"
            )
        failures = self.failures(shape, var, depth)
        for child in g.objects(shape, SH + "property"):
            if self.deactivated(child):
                continue
            self.check_known(child)
            if g.value(child, SH + "path") is None:
                raise self.refuse(child, "a sh:property without sh:path")
            if g.objects(child, SH + "sparql") or g.objects(child, SH + "qualifiedValueShape"):
                raise self.refuse(child, "sh:sparql or sh:qualifiedValueShape inside a shape reached by sh:node")
            if g.objects(child, SH + "property"):
                raise self.refuse(child, "sh:property under a property shape reached by sh:node")
            failures.extend(self.failures(child, var, depth))
        return "!(" + " || ".join(failures) + ")" if failures else "true"

    def failures(self, shape: Term, var: str, depth: int) -> list[str]:
        """Expressions each true when `var`, taken as a focus node of `shape`, breaks one of its constraints."""
        g = self.graph
        path = g.value(shape, SH + "path")
        self.need_path(path)
        found = []
        for name, parameter in self.parameters(shape):
            if path is None:
                if name in ("minCount", "maxCount"):
                    raise self.refuse(shape, f"sh:{name} on a node shape")
                found.append(f"!({self.condition(shape, name, parameter, var, depth)})")
                continue
            steps = render_path(g, path)
            if name == "hasValue":
                found.append(f"NOT EXISTS {{ {var} {steps} {nt(parameter)} }}")
            elif name in ("minCount", "maxCount"):
                limit = int(parameter.value) + (1 if name == "maxCount" else 0)
                names = [self.fresh() for _ in range(limit)]
                if not names:
                    continue
                distinct = " && ".join(f"!sameTerm({a}, {b})" for a, b in itertools.combinations(names, 2))
                pattern = " ".join(f"{var} {steps} {n} ." for n in names) + (f" FILTER({distinct})" if distinct else "")
                found.append(("NOT EXISTS" if name == "minCount" else "EXISTS") + f" {{ {pattern} }}")
            else:
                value = self.fresh()
                condition = self.condition(shape, name, parameter, value, depth)
                found.append(f"EXISTS {{ {var} {steps} {value} FILTER(!({condition})) }}")
        return found

    def qualified(self, shape: Term, qualified: Term, focus: str, path: Term | None) -> None:
        if path is None:
            raise self.refuse(shape, "sh:qualifiedValueShape on a node shape")
        g = self.graph
        value = self.fresh()
        condition = self.conforms(qualified, value, depth=1)
        steps = render_path(g, path)
        for key, test in (("qualifiedMinCount", "<"), ("qualifiedMaxCount", ">")):
            limit = g.value(shape, SH + key)
            if limit is None:
                continue
            query = (
                f"SELECT ?this WHERE {{ {focus} OPTIONAL {{ ?this {steps} {value} FILTER({condition}) }} }}"
                f" GROUP BY ?this HAVING (COUNT(DISTINCT {value}) {test} {int(limit.value)})"
            )
            self.add(shape, "qualifiedMin" if key == "qualifiedMinCount" else "qualifiedMax", query)

    def sparql_constraint(self, shape: Term, constraint: Term, focus: str, path: Term | None) -> None:
        """A SPARQL-based constraint: the SELECT, run once with ?this joined to every focus node."""
        g = self.graph
        if self.deactivated(constraint):
            return
        for predicate in g.predicates(constraint):
            if predicate.startswith(SH) and predicate[len(SH) :] not in (
                "select",
                "message",
                "prefixes",
                "deactivated",
            ):
                raise self.refuse(shape, f"sh:{predicate[len(SH) :]} on a SPARQL-based constraint")
        selects = g.objects(constraint, SH + "select")
        if len(selects) != 1 or not isinstance(selects[0], ox.Literal):
            raise self.refuse(shape, "a SPARQL-based constraint without exactly one sh:select")
        text = selects[0].value
        if re.search(r"\$(shapesGraph|currentShape)\b", text):
            raise self.refuse(shape, "$shapesGraph or $currentShape in a SPARQL-based constraint")
        if re.search(r"\$PATH\b", text):
            if path is None:
                raise self.refuse(shape, "$PATH in a SPARQL-based constraint of a node shape")
            text = re.sub(r"\$PATH\b", render_path(g, path), text)
        text = declared_prefixes(g, constraint) + re.sub(r"\$this\b", "?this", text)
        self.read_query(shape, text)
        expanded = self.as_subselect(text)
        match = re.match(r"\s*SELECT\s+(DISTINCT\s+|REDUCED\s+)?([\s\S]*?)\bWHERE\s*\{", expanded, flags=re.IGNORECASE)
        if not match:
            raise self.refuse(shape, "a SPARQL-based constraint that is not of the form SELECT ... WHERE { ... }")
        projection = match.group(2)
        if projection.strip() != "*" and not re.search(r"\?this\b", projection):
            projection = "?this " + projection
        body = expanded[match.end() :]
        query = f"SELECT {match.group(1) or ''}{projection} WHERE {{ {focus} {body}"
        self.add(shape, "sparql", query, constraint)


def compile_shapes(graph: ShapesGraph) -> Plan:
    return Compiler(graph).compile()


# ------------------------------------------------------------------------------------------------ running


def load(triples: Iterable[ox.Triple | ox.Quad] | ox.Store, predicates: frozenset[str] | None) -> ox.Store:
    """An in-memory store with the triples (graph names dropped) the plan reads, bulk-loaded as N-Triples bytes."""
    if isinstance(triples, ox.Store):
        triples = triples.quads_for_pattern(None, None, None, None)
    plain = (t if isinstance(t, ox.Triple) else t.triple for t in triples)
    if predicates is not None:
        wanted = {ox.NamedNode(p) for p in predicates}
        plain = (t for t in plain if t.predicate in wanted)
    store = ox.Store()
    while batch := list(itertools.islice(plain, LOAD_BATCH)):  # bounded bytes: never the whole graph as text
        store.bulk_load(input=ox.serialize(batch, format=ox.RdfFormat.N_TRIPLES), format=ox.RdfFormat.N_TRIPLES)
    return store


def run(plan: Plan, data: ox.Store) -> Iterator[Result]:
    """Fill the focus graph, then run every check; the data store gains the focus graph."""
    g = plan.graph
    flat = not any(True for _ in data.quads_for_pattern(None, ox.NamedNode(SUBCLASS_OF), None, None))
    for update in plan.focus_updates:
        data.update(flatten(update) if flat else update)
    for results in _in_threads(lambda check: list(_results(g, check, data, flat)), plan.checks, QUERY_THREADS):
        yield from results


def _in_threads(function: Callable[[T], R], items: Sequence[T], threads: int) -> list[R]:
    """`[function(item) for item in items]`, run by this thread and `threads - 1` daemon helpers.

    Not a ThreadPoolExecutor: its workers are not daemons and run every queued item before the interpreter may
    exit, so Ctrl-C would wait for all the remaining checks.
    """
    results: list[Any] = [None] * len(items)
    failures: list[BaseException] = []
    queue = iter(enumerate(items))
    lock = threading.Lock()

    def work() -> None:
        while not failures:
            with lock:
                index, item = next(queue, (-1, None))
            if index < 0:
                return
            try:
                results[index] = function(item)  # type: ignore[arg-type]
            except BaseException as err:
                failures.append(err)

    helpers = [threading.Thread(target=work, daemon=True, name="shacl-check") for _ in range(threads - 1)]
    for helper in helpers:
        helper.start()
    work()
    for helper in helpers:
        helper.join()
    if failures:
        raise failures[0]
    return results


def flatten(query: str) -> str:
    """Without any rdfs:subClassOf triple in the data, `a/rdfs:subClassOf*` is `a`, which Oxigraph answers faster."""
    return query.replace(f"a/<{SUBCLASS_OF}>*", "a")


def _results(g: ShapesGraph, check: Check, data: ox.Store, flat: bool) -> Iterator[Result]:
    shape = check.shape
    severity = g.value(shape, SH + "severity")
    severity_name = severity.value.rsplit("#", 1)[-1] if severity is not None else "Violation"
    own_messages = [m.value for m in g.objects(shape, SH + "message") if isinstance(m, ox.Literal)]
    path = g.value(shape, SH + "path")
    label = shape_label(g, shape)
    extra = []
    if check.sparql_constraint is not None:
        extra = [m.value for m in g.objects(check.sparql_constraint, SH + "message") if isinstance(m, ox.Literal)]
    seen = set()
    for solution in data.query(flatten(check.query) if flat else check.query):
        focus = solution["this"]
        value = _bound(solution, "value")
        result_path = path_name(g, path)
        bindings: dict[str, Term] = {}
        if check.sparql_constraint is not None:
            bound_path = _bound(solution, "path")
            if bound_path is not None:
                result_path = bound_path.value if isinstance(bound_path, ox.NamedNode) else str(bound_path)
            if value is None and path is None:
                value = focus
            bindings = {"this": focus, **({"value": value} if value is not None else {})}
            if bound_path is not None:
                bindings["path"] = bound_path
        elif check.component not in _WITH_VALUE:
            value = None
        key = (focus, result_path, value)
        if key in seen:
            continue
        seen.add(key)
        messages = [_format(m, bindings) for m in own_messages + [m for m in extra if m not in own_messages]]
        generated = not messages
        if generated:
            messages = [_generic_message(check, g)]
        yield Result(
            focus=focus,
            path=result_path,
            value=value,
            severity=severity_name,
            source_shape=label,
            component=check.component,
            messages=tuple(sorted(set(messages))),
            shape_has_message=not generated,
        )


_WITH_VALUE = {
    "ClassConstraintComponent", "DatatypeConstraintComponent", "NodeKindConstraintComponent",
    "InConstraintComponent", "PatternConstraintComponent", "MinInclusiveConstraintComponent",
    "MaxInclusiveConstraintComponent", "MinExclusiveConstraintComponent", "MaxExclusiveConstraintComponent",
    "MinLengthConstraintComponent", "MaxLengthConstraintComponent", "NodeConstraintComponent",
}  # fmt: skip


def _bound(solution: ox.QuerySolution, name: str) -> Term | None:
    try:
        return solution[name]
    except (KeyError, IndexError):
        return None


def _format(message: str, bindings: dict[str, Term]) -> str:
    """pyshacl's message templates: {?var} and {$var} become the bound value's string."""
    for name, value in bindings.items():
        message = re.sub(r"\{[?$]" + re.escape(name) + r"\}", lambda _m, v=value: v.value, message)
    return message


def _generic_message(check: Check, g: ShapesGraph) -> str:
    name = check.component.removesuffix("ConstraintComponent")
    parameter = g.value(check.shape, SH + name[0].lower() + name[1:])
    return f"{name} constraint not met" + (f" ({parameter})" if parameter is not None else "")
