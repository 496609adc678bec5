"""Query results held in memory in one shape for every store, and their rendering as table, CSV, TSV or JSON.

Why materialise: pyoxigraph parses server results lazily, so a malformed answer would otherwise surface as a
traceback half-way through printing; reading it all first turns it into one StoreError (exit 5).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pyoxigraph as ox

from ..errors import StoreError
from ..rdf.formats import serialized
from ..rdf.vocab import PREFIXES, XSD

Cell = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None


@dataclass(frozen=True)
class Solutions:
    """SELECT results: variable names in column order, one tuple of terms (None = unbound) per row."""

    variables: list[str]
    rows: list[tuple[Cell, ...]]

    def reordered(self, order: Sequence[str]) -> Solutions:
        """The same solutions with columns in `order` (SELECT *: query order), unknown names kept at the end."""
        wanted = [v for v in order if v in self.variables]
        wanted += [v for v in self.variables if v not in wanted]
        index = [self.variables.index(v) for v in wanted]
        return Solutions(wanted, [tuple(row[i] for i in index) for row in self.rows])


@dataclass(frozen=True)
class Boolean:
    value: bool


@dataclass(frozen=True)
class Graph:
    triples: list[ox.Triple] = field(default_factory=list)


Result = Solutions | Boolean | Graph


def materialise(result: object, source: str) -> Result:
    """Read a pyoxigraph result to the end; a malformed one (from a server) becomes a StoreError naming `source`."""
    try:
        if isinstance(result, ox.QueryBoolean):
            return Boolean(bool(result))
        if isinstance(result, ox.QuerySolutions):
            names = [v.value for v in result.variables]
            return Solutions(names, [tuple(solution[n] for n in names) for solution in result])
        return Graph([t if isinstance(t, ox.Triple) else t.triple for t in result])  # type: ignore[attr-defined]
    except (SyntaxError, ValueError, OSError, RuntimeError) as err:
        raise StoreError(f"{source} sent results that cannot be read: {err}") from None


@dataclass(frozen=True)
class Style:
    """How terms are shown: CURIEs for known prefixes (turned off by --full-iris)."""

    full_iris: bool = False
    prefixes: Mapping[str, str] = field(default_factory=lambda: dict(PREFIXES))

    def iri(self, iri: str) -> str:
        if self.full_iris:
            return iri
        best = max((ns for ns in self.prefixes.values() if iri.startswith(ns)), key=len, default=None)
        if best is None or not _curie_local(iri[len(best) :]):
            return iri
        prefix = next(p for p, ns in self.prefixes.items() if ns == best)
        return f"{prefix}:{iri[len(best) :]}"


def _curie_local(local: str) -> bool:
    """A local part that reads unambiguously as a CURIE (no spaces, slashes or other separators)."""
    return bool(local) and all(c.isalnum() or c in "_-." for c in local) and not local.endswith(".")


def text(term: Cell, style: Style) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return style.iri(term.value)
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Triple):
        return str(term)
    return term.value


_INTEGERS = {XSD + t for t in ("integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
                               "negativeInteger", "nonPositiveInteger", "unsignedInt", "unsignedLong",
                               "unsignedShort", "unsignedByte")}  # fmt: skip
_DECIMALS = {XSD + "decimal", XSD + "double", XSD + "float"}


def json_value(term: Cell, style: Style) -> object:
    """A JSON value that keeps the literal's type: integers and finite decimals/doubles as numbers, booleans."""
    if not isinstance(term, ox.Literal):
        return text(term, style)
    datatype = term.datatype.value
    try:
        if datatype in _INTEGERS:
            return int(term.value)
        if datatype in _DECIMALS:
            number = float(term.value)
            return number if math.isfinite(number) else term.value
        if datatype == XSD + "boolean":
            return term.value in ("true", "1")
    except ValueError:
        pass
    return term.value


def _table(names: list[str], data: list[list[str]]) -> str:
    widths = [max([len(name)] + [len(row[i]) for row in data]) for i, name in enumerate(names)]
    lines = ["  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in data]
    return "\n".join(lines) + "\n"


def render(result: Result, fmt: str = "table", style: Style | None = None) -> str:
    """Results as text: SELECT in the chosen format, ASK as true/false, CONSTRUCT/DESCRIBE as N-Triples.

    table: aligned columns, IRIs as CURIEs for known prefixes; csv/tsv: lexical values and full IRIs (data for
    other tools); json: full IRIs too, a list of objects, one per solution, unbound variables left out, numbers as numbers.
    """
    style = style or Style()
    if isinstance(result, Boolean):
        return ("true" if result.value else "false") + "\n"
    if isinstance(result, Graph):
        return serialized(result.triples, ox.RdfFormat.N_TRIPLES).decode("utf-8")
    if fmt == "table":
        return _table(result.variables, [[text(c, style) for c in row] for row in result.rows])
    plain = Style(full_iris=True)
    if fmt == "json":
        objects = [
            {n: json_value(c, plain) for n, c in zip(result.variables, row, strict=True) if c is not None}
            for row in result.rows
        ]
        return json.dumps(objects, ensure_ascii=False, indent=1) + "\n"
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
    writer.writerow(result.variables)
    writer.writerows([text(c, plain) for c in row] for row in result.rows)
    return buffer.getvalue()
