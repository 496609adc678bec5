"""The one home of the RDF form of a mapping record (SSSOM): every layer that states a mapping goes through here.

A record says that `subject` maps to `target` by a SKOS `predicate`, with a SEMAPV justification, the source file
it came from and whatever evidence the source has. Keeping the form in one function means the whole graph changes
together when the form does (e.g. from OWL axioms to SSSOM's own RDF form), and no layer invents its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pyoxigraph import Literal, NamedNode, Triple

from ..rdf.vocab import StdTerm

Object = NamedNode | Literal


@dataclass(frozen=True)
class MappingRecord:
    node: NamedNode  # the record's own IRI
    subject: NamedNode
    predicate: NamedNode  # a SKOS mapping property
    target: NamedNode
    justification: NamedNode  # a semapv: term
    source: NamedNode | None = None  # the file the record was read from (or derived from)
    comment: str | None = None
    evidence: tuple[tuple[NamedNode, Object], ...] = ()  # further statements about the record


def record_triples(record: MappingRecord) -> Iterator[Triple]:
    """The record as triples about its own node; the plain convenience link, if any, is the caller's."""
    node = record.node
    yield Triple(node, StdTerm.type, StdTerm.Axiom)
    yield Triple(node, StdTerm.annotatedSource, record.subject)
    yield Triple(node, StdTerm.annotatedProperty, record.predicate)
    yield Triple(node, StdTerm.annotatedTarget, record.target)
    yield Triple(node, StdTerm.mappingJustification, record.justification)
    if record.source is not None:
        yield Triple(node, StdTerm.source, record.source)
    if record.comment:
        yield Triple(node, StdTerm.comment, Literal(record.comment))
    for predicate, value in record.evidence:
        yield Triple(node, predicate, value)
