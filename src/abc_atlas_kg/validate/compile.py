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
from dataclasses import dataclass, field

import pyoxigraph as ox

from .constraints import CONDITIONS, COUNTS, DESCRIPTIVE, VALUE_TYPE, cardinality_query
from .shapes import (
    RDF,
    RDFS,
    SH,
    ShapesGraph,
    Term,
    UnsupportedShape,
    declared_prefixes,
    is_true,
    nt,
    render_path,
    shape_label,
)
from .sparql import as_subselect, predicates_read

FOCUS_GRAPH = ox.NamedNode("urn:abc-kg:shacl:focus")
FOCUS_OF = ox.NamedNode("urn:abc-kg:shacl:focus-of")


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
            " validate with --engine pyshacl, or extend abc_atlas_kg.validate.compile"
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

    def read_query(self, text: str) -> None:
        """Note the predicates a SPARQL text mentions; any variable or negated predicate means every predicate."""
        if self.predicates is None:
            return
        found = predicates_read(text)
        if found is None:
            self.predicates = None
        else:
            self.predicates |= found

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
        key = ox.NamedNode(f"urn:abc-kg:shacl:focus/{next(self.counter)}")
        plain = self.plain_targets(shape)
        sparql_targets = self.graph.objects(shape, SH + "target")
        insert = f"INSERT {{ GRAPH {nt(FOCUS_GRAPH)} {{ {nt(key)} {nt(FOCUS_OF)} ?this }} }}"
        if len(plain) == 1 and not sparql_targets:  # one cheap index look-up: inline it, nothing to materialise
            return plain[0]
        if plain:
            self.plan.focus_updates.append(f"{insert} WHERE {{ {' UNION '.join(plain)} }}")
        for target in sparql_targets:
            self.plan.focus_updates.append(f"{insert} WHERE {{ {{ {self.sparql_target(shape, target)} }} }}")
        return f"GRAPH {nt(FOCUS_GRAPH)} {{ {nt(key)} {nt(FOCUS_OF)} ?this }}"

    def plain_targets(self, shape: Term) -> list[str]:
        """One group pattern binding ?this per declared target that is not SPARQL-based."""
        g = self.graph
        classes = list(g.objects(shape, SH + "targetClass"))
        rdfs_classes = {ox.NamedNode(RDFS + "Class"), *g.subjects(RDFS + "subClassOf", ox.NamedNode(RDFS + "Class"))}
        if any(t in rdfs_classes for t in g.objects(shape, RDF + "type")):
            classes.append(shape)
        plain = [f"{{ ?this a/<{RDFS}subClassOf>* {nt(c)} }}" for c in classes]
        nodes = g.objects(shape, SH + "targetNode")
        if nodes:
            plain.append("{ VALUES ?this { " + " ".join(nt(n) for n in nodes) + " } }")
        for predicate in g.objects(shape, SH + "targetSubjectsOf"):
            self.need(predicate)
            plain.append(f"{{ ?this {nt(predicate)} [] }}")
        for predicate in g.objects(shape, SH + "targetObjectsOf"):
            self.need(predicate)
            plain.append(f"{{ [] {nt(predicate)} ?this }}")
        return plain

    def sparql_target(self, shape: Term, target: Term) -> str:
        """A SHACL-AF sh:SPARQLTarget as a sub-select binding ?this."""
        g = self.graph
        if ox.NamedNode(SH + "SPARQLTarget") not in g.objects(target, RDF + "type"):
            raise self.refuse(shape, "a sh:target that is not a sh:SPARQLTarget (SPARQL target types, JS targets)")
        select = g.value(target, SH + "select")
        if not isinstance(select, ox.Literal):
            raise self.refuse(shape, "a sh:SPARQLTarget without one sh:select")
        text = declared_prefixes(g, target) + select.value
        if "$" in re.sub(r'"(?:[^"\\]|\\.)*"', "", select.value):
            raise self.refuse(shape, "a sh:SPARQLTarget with pre-bound ($) variables")
        self.read_query(text)
        return as_subselect(text)

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
            found = self.focus_query(shape, name, parameter, focus, values, path)
            if found is not None:
                self.add(shape, name, found)
        for qualified in g.objects(shape, SH + "qualifiedValueShape"):
            self.qualified(shape, qualified, focus, path)
        for constraint in g.objects(shape, SH + "sparql"):
            self.sparql_constraint(shape, constraint, focus, path)
        self.compile_properties(shape, focus, values, path, depth)

    def focus_query(
        self, shape: Term, name: str, parameter: Term, focus: str, values: str, path: Term | None
    ) -> str | None:
        """The query of a constraint on a focus node's values taken together (sh:hasValue on a path, counts)."""
        if name == "hasValue" and path is not None:
            return f"SELECT DISTINCT ?this WHERE {{ {focus} FILTER NOT EXISTS {{ ?this {render_path(self.graph, path)} {nt(parameter)} }} }}"
        if name not in ("minCount", "maxCount"):
            return None
        if path is None:
            raise self.refuse(shape, f"sh:{name} on a node shape")
        return cardinality_query(name, int(parameter.value), path, focus, values, render_path(self.graph, path))

    def compile_properties(self, shape: Term, focus: str, values: str, path: Term | None, depth: int) -> None:
        """The shape's sh:property shapes, over the same focus nodes (node shape) or over its values."""
        for child in self.graph.objects(shape, SH + "property"):
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
        return CONDITIONS[name](self, name, shape, parameter, var, depth)

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
        self.read_query(text)
        expanded = as_subselect(text)
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
