"""The SHACL constraint components the compiler translates, by family, each the SPARQL that tests it.

A value constraint (`CONDITIONS`) is an expression, true when one value node (the variable `var`) meets it; the
compiler turns it into a query over the focus nodes' values, or, inside a shape reached by `sh:node` or
`sh:qualifiedValueShape`, into a sub-expression. A cardinality constraint (`cardinality_query`) is a query over the
focus nodes. A construct missing from these tables is refused by the compiler (`UnsupportedShape`), not skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import pyoxigraph as ox

from .shapes import RDF, RDFS, SH, XSD, ShapesGraph, Term, UnsupportedShape, nt

NUMERIC = {
    "integer", "decimal", "double", "float", "int", "long", "short", "byte", "nonNegativeInteger",
    "positiveInteger", "nonPositiveInteger", "negativeInteger", "unsignedLong", "unsignedInt",
    "unsignedShort", "unsignedByte",
}  # fmt: skip
CASTABLE = {"boolean", "date", "dateTime", "time"}  # pyshacl checks their lexical form: a cast must succeed
NODE_KINDS = {
    "IRI": "isIRI({})",
    "BlankNode": "isBlank({})",
    "Literal": "isLiteral({})",
    "BlankNodeOrIRI": "!isLiteral({})",
    "BlankNodeOrLiteral": "!isIRI({})",
    "IRIOrLiteral": "!isBlank({})",
}
RANGE_TESTS = {"minInclusive": ">=", "maxInclusive": "<=", "minExclusive": ">", "maxExclusive": "<"}


class Compiling(Protocol):
    """What a condition needs of the compiler: the shapes, refusing, and (for sh:node) a nested shape's test."""

    graph: ShapesGraph

    def refuse(self, shape: Term, construct: str) -> UnsupportedShape: ...

    def conforms(self, shape: Term, var: str, depth: int) -> str: ...


Condition = Callable[[Compiling, str, Term, Term, str, int], str]  # (compiler, name, shape, parameter, var, depth)


# -------------------------------------------------------------------------------- value type


def value_class(_c: Compiling, _name: str, _shape: Term, parameter: Term, var: str, _depth: int) -> str:
    return f"EXISTS {{ {var} a/<{RDFS}subClassOf>* {nt(parameter)} }}"


def datatype(c: Compiling, _name: str, shape: Term, parameter: Term, var: str, _depth: int) -> str:
    """pyshacl's test: same datatype IRI and, for the types rdflib parses, a well-formed lexical form."""
    iri = parameter.value
    if iri == RDFS + "Literal":
        return f"isLiteral({var})"
    if iri == RDF + "langString":
        return f'(isLiteral({var}) && LANG({var}) != "")'
    same = f'(isLiteral({var}) && LANG({var}) = "" && sameTerm(DATATYPE({var}), {nt(parameter)})'
    local = iri[len(XSD) :] if iri.startswith(XSD) else None
    if local in NUMERIC:
        return same + f" && isNumeric({var}))"
    if local in CASTABLE:
        return same + f" && COALESCE(isLiteral(<{iri}>(STR({var}))), false))"
    if iri == RDFS + "Datatype":
        raise c.refuse(shape, "sh:datatype rdfs:Datatype")
    return same + ")"


def node_kind(c: Compiling, _name: str, shape: Term, parameter: Term, var: str, _depth: int) -> str:
    kind = parameter.value[len(SH) :] if parameter.value.startswith(SH) else ""
    if kind not in NODE_KINDS:
        raise c.refuse(shape, f"sh:nodeKind {parameter}")
    return NODE_KINDS[kind].format(var)


# -------------------------------------------------------------------------------- value range


def value_range(c: Compiling, name: str, shape: Term, parameter: Term, var: str, _depth: int) -> str:
    if not isinstance(parameter, ox.Literal):
        raise c.refuse(shape, f"sh:{name} with a non-literal value")
    return f"(isLiteral({var}) && COALESCE({var} {RANGE_TESTS[name]} {nt(parameter)}, false))"


# -------------------------------------------------------------------------------- string based


def pattern(c: Compiling, _name: str, shape: Term, parameter: Term, var: str, _depth: int) -> str:
    flags = c.graph.value(shape, SH + "flags")
    kept = "".join(f for f in "im" if flags is not None and f in flags.value.lower())  # what pyshacl honours
    return f"(!isBlank({var}) && REGEX(STR({var}), {nt(ox.Literal(parameter.value))}, {nt(ox.Literal(kept))}))"


def length(_c: Compiling, name: str, _shape: Term, parameter: Term, var: str, _depth: int) -> str:
    test = ">=" if name == "minLength" else "<="
    return f"(!isBlank({var}) && STRLEN(STR({var})) {test} {int(parameter.value)})"


# -------------------------------------------------------------------------------- other and shape based


def members(c: Compiling, _name: str, _shape: Term, parameter: Term, var: str, _depth: int) -> str:
    found = c.graph.items(parameter)
    return "(" + " || ".join(f"sameTerm({var}, {nt(m)})" for m in found) + ")" if found else "false"


def has_value(_c: Compiling, _name: str, _shape: Term, parameter: Term, var: str, _depth: int) -> str:
    return f"sameTerm({var}, {nt(parameter)})"


def node(c: Compiling, _name: str, shape: Term, parameter: Term, var: str, depth: int) -> str:
    if c.graph.value(parameter, SH + "path") is not None:
        raise c.refuse(shape, "sh:node pointing to a property shape")
    return c.conforms(parameter, var, depth + 1)


CONDITIONS: dict[str, Condition] = {
    "class": value_class,
    "datatype": datatype,
    "nodeKind": node_kind,
    "minInclusive": value_range,
    "maxInclusive": value_range,
    "minExclusive": value_range,
    "maxExclusive": value_range,
    "pattern": pattern,
    "minLength": length,
    "maxLength": length,
    "in": members,
    "hasValue": has_value,
    "node": node,
}
VALUE_TYPE = frozenset(CONDITIONS)  # constraints on each value node
COUNTS = {"minCount", "maxCount", "qualifiedValueShape"}
# sh: predicates that do not constrain (or that the compiler reads where it reads their shape's constraints)
DESCRIPTIVE = {
    "name", "description", "order", "group", "defaultValue", "message", "severity", "deactivated", "path",
    "declare", "prefixes", "flags", "qualifiedMinCount", "qualifiedMaxCount", "qualifiedValueShapesDisjoint",
    "targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf", "target", "property", "sparql",
}  # fmt: skip


# -------------------------------------------------------------------------------- cardinality


def cardinality_query(name: str, limit: int, path: Term, focus: str, values: str, steps: str) -> str | None:
    """The query whose solutions are the focus nodes breaking sh:minCount/sh:maxCount `limit`; None: cannot fail.

    The general form groups and counts; the frequent limits have faster forms that mean the same.
    """
    if name == "maxCount" and limit == 0:
        return f"SELECT DISTINCT ?this WHERE {{ {focus} {values} }}"
    if name == "maxCount" and isinstance(path, ox.NamedNode):  # triples are distinct: COUNT(*)
        return (
            f"SELECT ?this WHERE {{ {{ SELECT ?this WHERE {{ ?this {steps} ?value }} GROUP BY ?this"
            f" HAVING (COUNT(*) > {limit}) }} FILTER EXISTS {{ {focus} }} }}"
        )
    if name == "maxCount" and limit == 1:  # a self-join is several times faster than GROUP BY
        return (
            f"SELECT DISTINCT ?this WHERE {{ {focus} ?this {steps} ?value . ?this {steps} ?_other ."
            " FILTER(!sameTerm(?value, ?_other)) }"
        )
    if name == "minCount" and limit == 1:
        return f"SELECT DISTINCT ?this WHERE {{ {focus} FILTER NOT EXISTS {{ ?this {steps} ?value }} }}"
    if name == "minCount" and limit == 0:
        return None
    test = f"< {limit}" if name == "minCount" else f"> {limit}"
    return (
        f"SELECT ?this WHERE {{ {focus} OPTIONAL {{ {values} }} }}"
        f" GROUP BY ?this HAVING (COUNT(DISTINCT ?value) {test})"
    )
