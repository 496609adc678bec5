"""Query stage: a library of named SPARQL queries, safe parameter binding, and result formatting.

Named queries are `.rq` files in `abc_atlas_kg/queries/`. Their header comments document them:

    # One-line title.
    # More description lines...
    # @param label literal  what the parameter means, e.g. CS20230722_CLUS_0001

Parameters are bound as RDF terms, never pasted into the query text: the embedded store receives them as
pyoxigraph `substitutions` (which binds only variables the SELECT projects, so named queries project their
parameters); a remote endpoint receives a `VALUES` block of N-Triples-escaped terms inserted at
the start of the outermost `WHERE` group (so named queries use their parameters in that group, not inside a
nested `FILTER` of an inner group, where a `VALUES` join could not reach them).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import IO

import pyoxigraph as ox

from .errors import UsageError
from .load import QueryResult
from .vocab import XSD

PARAM_KINDS = ("literal", "iri", "integer")
OUTPUT_FORMATS = ("table", "csv", "tsv", "json")
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True)
class Param:
    name: str
    kind: str
    description: str


@dataclass(frozen=True)
class NamedQuery:
    name: str
    title: str
    description: str
    params: tuple[Param, ...]
    text: str


def parse_named(name: str, text: str) -> NamedQuery:
    """Read a named query's title, description and parameters from its leading `#` comment lines."""
    header = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        header.append(line[1:].strip())
    params, prose = [], []
    for line in header:
        if line.startswith("@param "):
            parts = line.split(None, 3)
            if len(parts) < 3 or parts[2] not in PARAM_KINDS:
                raise ValueError(f"query {name}: bad parameter line {line!r}")
            params.append(Param(parts[1], parts[2], parts[3] if len(parts) > 3 else ""))
        elif line:
            prose.append(line)
    title = prose[0] if prose else name
    return NamedQuery(name, title, " ".join(prose[1:]), tuple(params), text)


@cache
def library() -> dict[str, NamedQuery]:
    """The named queries shipped with the package, by file name without `.rq`."""
    folder = files("abc_atlas_kg").joinpath("queries")
    found = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".rq"):
            name = entry.name[: -len(".rq")]
            found[name] = parse_named(name, entry.read_text(encoding="utf-8"))
    return found


def get(name: str) -> NamedQuery:
    known = library()
    if name not in known:
        raise UsageError(f"unknown query {name!r}; named queries: {', '.join(known)} (see `abc-kg query --list`)")
    return known[name]


def looks_like_name(text: str) -> bool:
    return bool(_NAME.match(text))


def parse_params(pairs: Sequence[str]) -> dict[str, str]:
    """`name=value` pairs from the command line."""
    given: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--param wants name=value, got {pair!r}")
        given[name.strip().lstrip("?$")] = value
    return given


def _term(kind: str, name: str, value: str) -> ox.NamedNode | ox.Literal:
    try:
        if kind == "iri":
            return ox.NamedNode(value)
        if kind == "integer":
            return ox.Literal(str(int(value)), datatype=ox.NamedNode(XSD + "integer"))
    except ValueError as err:
        raise UsageError(f"parameter {name}: {value!r} is not a valid {kind}") from err
    return ox.Literal(value)


def bind(query: NamedQuery | None, given: Mapping[str, str]) -> dict[str, ox.NamedNode | ox.Literal]:
    """RDF terms for the given parameters.

    For a named query every declared parameter is required and typed by its declaration; unknown names are
    refused. For an ad-hoc query a value written `<...>` is an IRI, anything else a plain string literal.
    """
    if query is None:
        return {
            k: _term("iri", k, v[1:-1]) if v.startswith("<") and v.endswith(">") else ox.Literal(v)
            for k, v in given.items()
        }
    declared = {p.name: p for p in query.params}
    unknown = sorted(set(given) - set(declared))
    missing = [p.name for p in query.params if p.name not in given]
    if unknown or missing:
        wanted = " ".join(f"--param {p.name}=..." for p in query.params) or "no parameters"
        problem = (
            f"unknown parameter(s) {', '.join(unknown)}" if unknown else f"missing parameter(s) {', '.join(missing)}"
        )
        raise UsageError(f"query {query.name}: {problem}; it takes {wanted}")
    return {name: _term(declared[name].kind, name, value) for name, value in given.items()}


# --- VALUES binding for remote endpoints ---------------------------------------------------------------------


def _where_brace(sparql: str) -> int:
    """Index of the `{` that opens the outermost group pattern, skipping comments, strings and IRIs."""
    i, n = 0, len(sparql)
    while i < n:
        c = sparql[i]
        if c == "#":
            i = sparql.find("\n", i)
            i = n if i < 0 else i
        elif c in "\"'":
            long_quote = sparql.startswith(c * 3, i)
            end = c * 3 if long_quote else c
            i += len(end)
            while i < n and not sparql.startswith(end, i):
                i += 2 if sparql[i] == "\\" else 1
            i += len(end)
            continue
        elif c == "<":
            close = re.match(r"<[^<>\"{}|^`\\\s]*>", sparql[i:])
            if close:
                i += close.end()
                continue
        elif c == "{":
            return i
        i += 1
    raise UsageError("the query has no group pattern ({ ... }) to bind parameters in")


def with_values(sparql: str, bindings: Mapping[str, ox.NamedNode | ox.Literal]) -> str:
    """The query with a `VALUES` row of the bound terms opening its outermost group.

    Terms are written in their N-Triples form, which pyoxigraph escapes, so a value can never end the string
    or IRI it sits in and inject SPARQL.
    """
    if not bindings:
        return sparql
    brace = _where_brace(sparql)
    names = " ".join(f"?{name}" for name in bindings)
    terms = " ".join(str(term) for term in bindings.values())
    return f"{sparql[: brace + 1]} VALUES ({names}) {{ ({terms}) }} {sparql[brace + 1 :]}"


# --- output --------------------------------------------------------------------------------------------------


def _cell(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Triple):
        return str(term)
    return term.value


def rows(result: ox.QuerySolutions) -> tuple[list[str], list[list[str]]]:
    """Variable names and plain-text rows: IRIs as IRIs, literals as their lexical form."""
    names = [v.value for v in result.variables]
    return names, [[_cell(solution[name]) for name in names] for solution in result]


def _table(names: list[str], data: list[list[str]]) -> str:
    widths = [max([len(name)] + [len(row[i]) for row in data]) for i, name in enumerate(names)]
    lines = ["  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in data]
    return "\n".join(lines) + "\n"


def render(result: QueryResult, fmt: str) -> str:
    """Results as text: SELECT in the chosen format, ASK as true/false, CONSTRUCT/DESCRIBE as N-Triples.

    csv and tsv are plain tables of the lexical values (a header row, then one row per solution); json is
    a list of objects, one per solution, with the unbound variables left out.
    """
    if isinstance(result, ox.QueryBoolean):
        return ("true" if bool(result) else "false") + "\n"
    if isinstance(result, list):
        return ox.serialize(result, format=ox.RdfFormat.N_TRIPLES).decode("utf-8")
    names, data = rows(result)
    if fmt == "table":
        return _table(names, data)
    if fmt == "json":
        objects = [{n: v for n, v in zip(names, row, strict=True) if v != ""} for row in data]
        return json.dumps(objects, ensure_ascii=False, indent=1) + "\n"
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
    writer.writerow(names)
    writer.writerows(data)
    return buffer.getvalue()


def describe(out: IO[str]) -> None:
    """`abc-kg query --list`: every named query with its title, description and parameters."""
    for query in library().values():
        params = " ".join(f"--param {p.name}=<{p.kind}>" for p in query.params)
        out.write(f"{query.name}{' ' + params if params else ''}\n    {query.title}\n")
        if query.description:
            out.write(f"    {query.description}\n")
        for p in query.params:
            out.write(f"    {p.name} ({p.kind}): {p.description}\n")
