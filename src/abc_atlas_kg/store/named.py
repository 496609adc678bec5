"""The library of named SPARQL queries shipped in `abc_atlas_kg/queries/`, and their typed parameters.

A named query documents itself in its leading `#` comment lines:

    # One-line title.
    # More description lines...
    # @param label literal  what the parameter means, e.g. CS20230722_CLUS_0001
    # @param release literal optional  release (dcat:version) to answer from; default: the newest loaded

`kind` is `literal`, `iri` or `integer`; the word `optional` after it makes the parameter optional: when it is not
given its variable is simply left unbound (the query decides what unbound means: every shipped query then answers
from the newest loaded release of each taxonomy).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import IO

import pyoxigraph as ox

from ..errors import UsageError
from ..rdf.terms import solutions
from ..rdf.vocab import XSD

PARAM_KINDS = ("literal", "iri", "integer")
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True)
class Param:
    name: str
    kind: str
    description: str
    optional: bool = False


@dataclass(frozen=True)
class NamedQuery:
    name: str
    title: str
    description: str
    params: tuple[Param, ...]
    text: str


def _param(name: str, line: str) -> Param:
    parts = line.split(None, 4)
    if len(parts) < 3 or parts[2] not in PARAM_KINDS:
        raise ValueError(f"query {name}: bad parameter line {line!r} (want @param NAME {'|'.join(PARAM_KINDS)} ...)")
    optional = len(parts) > 3 and parts[3] == "optional"
    description = " ".join(parts[4:] if optional else parts[3:])
    return Param(parts[1], parts[2], description, optional)


def parse_named(name: str, text: str) -> NamedQuery:
    """Read a named query's title, description and parameters from its leading `#` comment lines."""
    header = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        header.append(line[1:].strip())
    params = [_param(name, line) for line in header if line.startswith("@param ")]
    prose = [line for line in header if line and not line.startswith("@param ")]
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


def _check_regex(query: NamedQuery, terms: Mapping[str, ox.NamedNode | ox.Literal]) -> None:
    """A `pattern` parameter must be a valid regular expression, or "no match" would hide the mistake.

    Oxigraph (like SPARQL) evaluates an invalid pattern to an error, which FILTER treats as false; so ask it here
    whether REGEX gives a value for this pattern at all.
    """
    pattern = terms.get("pattern")
    if pattern is None or "REGEX" not in query.text.upper():
        return
    check = 'SELECT ?p (REGEX("", ?p, "i") AS ?ok) {}'
    rows = list(solutions(ox.Store().query(check, substitutions={ox.Variable("p"): pattern})))
    if not rows or rows[0]["ok"] is None:
        raise UsageError(f"parameter pattern: {pattern.value!r} is not a valid regular expression")


def bind(query: NamedQuery | None, given: Mapping[str, str]) -> dict[str, ox.NamedNode | ox.Literal]:
    """RDF terms for the given parameters.

    For a named query every declared, non-optional parameter is required and typed by its declaration; unknown
    names are refused. For an ad-hoc query a value written `<...>` is an IRI, anything else a plain literal.
    """
    if query is None:
        return {
            k: _term("iri", k, v[1:-1]) if v.startswith("<") and v.endswith(">") else ox.Literal(v)
            for k, v in given.items()
        }
    declared = {p.name: p for p in query.params}
    unknown = sorted(set(given) - set(declared))
    missing = [p.name for p in query.params if p.name not in given and not p.optional]
    if unknown or missing:
        wanted = " ".join(f"--param {p.name}=..." for p in query.params) or "no parameters"
        problem = (
            f"unknown parameter(s) {', '.join(unknown)}" if unknown else f"missing parameter(s) {', '.join(missing)}"
        )
        raise UsageError(f"query {query.name}: {problem}; it takes {wanted}")
    terms = {name: _term(declared[name].kind, name, value) for name, value in given.items()}
    _check_regex(query, terms)
    return terms


def describe(out: IO[str]) -> None:
    """`abc-kg query --list`: every named query with its title, description and parameters."""
    for query in library().values():
        params = " ".join(
            f"[--param {p.name}=<{p.kind}>]" if p.optional else f"--param {p.name}=<{p.kind}>" for p in query.params
        )
        out.write(f"{query.name}{' ' + params if params else ''}\n    {query.title}\n")
        if query.description:
            out.write(f"    {query.description}\n")
        for p in query.params:
            out.write(f"    {p.name} ({p.kind}{', optional' if p.optional else ''}): {p.description}\n")
