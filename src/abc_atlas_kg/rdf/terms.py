"""Typed names for pyoxigraph's term unions, and the narrowing abc-kg relies on.

pyoxigraph types every position for RDF-star (a subject or object may be a quoted `Triple`); abc-kg's graphs and
the shapes it reads have none. These aliases name the unions once, and `term`/`subject` narrow a value to them,
failing loudly if a quoted triple ever appears.
"""

from __future__ import annotations

import pyoxigraph as ox

Term = ox.NamedNode | ox.BlankNode | ox.Literal  # an RDF 1.1 term: what a node, value or result cell is
Subject = ox.NamedNode | ox.BlankNode  # what may stand as a subject
Node = Term | ox.Triple  # what pyoxigraph hands back in an object or result position


def term(node: Node) -> Term:
    """`node` as an RDF 1.1 term; a quoted triple (RDF-star) is not one."""
    if isinstance(node, ox.Triple):
        raise TypeError(f"a quoted triple where an RDF term was expected: {node}")
    return node


def subject(node: Node) -> Subject:
    """`node` as a subject: an IRI or a blank node."""
    if isinstance(node, ox.Triple | ox.Literal):
        raise TypeError(f"not a subject (an IRI or a blank node): {node}")
    return node


def solutions(answer: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples) -> ox.QuerySolutions:
    """The answer of a SELECT query (pyoxigraph types every query's answer as any of the three)."""
    if not isinstance(answer, ox.QuerySolutions):
        raise TypeError(f"a SELECT query gave {type(answer).__name__}")
    return answer
