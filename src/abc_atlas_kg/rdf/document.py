"""The `Document` every sink receives: one named graph's canonical triples, ready for files or a store.

It lives with the RDF knowledge, below the build and the sinks, so that both speak of it without importing
each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pyoxigraph as ox

from .prefixes import Prefixes, for_export


def canonical(triples: Sequence[ox.Triple]) -> list[ox.Triple]:
    """Deduplicated and grouped by subject, in a fixed order: the same input always gives the same bytes.

    The sort is stable and keyed on the subject alone: within a subject, triples keep the order conversion made
    them in (types first), which is itself fixed by the input. A full (s, p, o) sort cost ten times more.
    """
    return sorted(dict.fromkeys(triples), key=_subject_key)


def _subject_key(triple: ox.Triple) -> str:
    return triple.subject.value  # type: ignore[union-attr]  # abc-kg's subjects are IRIs or blank nodes


@dataclass(frozen=True)
class Document:
    """One RDF document of an export: a file stem, its canonical triples and the named graph they belong to.

    `prefixes` are what its Turtle may use; by default `prefixes.for_export` for the accession the stem starts
    with, under the default base IRIs (pass `for_export(accession, base_iri, kg_iri)` for other bases).
    """

    stem: str
    triples: Sequence[ox.Triple]
    graph: ox.NamedNode
    prefixes: Prefixes | None = field(default=None, compare=False)

    def turtle_prefixes(self) -> Prefixes:
        return self.prefixes or for_export(self.stem.split(".")[0])
