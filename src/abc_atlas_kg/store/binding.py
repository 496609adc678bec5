"""Binding parameters into SPARQL text, the same way for the embedded store and every server.

Why text and not pyoxigraph `substitutions`: a server only receives text, and the two must mean the same thing.
The query is tokenized with pygments' SPARQL lexer (strings, IRIs and comments are never mistaken for syntax);
a `VALUES` block with the bound terms in N-Triples form opens the query's outermost group pattern (the WHERE
clause; for `CONSTRUCT` the group after the template), so every pattern and `FILTER` of that group sees the
bindings. `DESCRIBE` without a WHERE clause gets a trailing `VALUES` clause. An unbound optional parameter is left
out of the block, so its variable stays unbound. Variables used only inside a sub-SELECT that does not project
them are out of reach, as SPARQL scoping says.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from ..errors import UsageError
from ..rdf.terms import Term
from ..rdf.vocab import PREFIXES


@dataclass(frozen=True)
class Token:
    kind: str  # "keyword", "variable", "open", "close", "prefix", "other", "skip"
    text: str
    start: int


def _kind(token_type: object, text: str) -> str:
    from pygments.token import Comment, Keyword, Name, Punctuation, Text, Whitespace

    if token_type in Comment or token_type in Text or token_type in Whitespace:
        return "skip"
    if token_type in Name.Variable:
        return "variable"
    if token_type in Keyword:
        return "keyword"
    if token_type in Name.Namespace:
        return "prefix"
    if token_type in Punctuation and text in "{}":
        return "open" if text == "{" else "close"
    return "other"


@dataclass(frozen=True)
class Sparql:
    """A query's text and its tokens: where its groups open, which variables and prefixes it uses."""

    text: str

    @cached_property
    def tokens(self) -> list[Token]:
        from pygments.lexers import SparqlLexer

        found, offset = [], 0
        for token_type, value in SparqlLexer(stripnl=False, ensurenl=False).get_tokens(self.text):
            found.append(Token(_kind(token_type, value), value, offset))
            offset += len(value)
        return [t for t in found if t.kind != "skip"]

    def keywords(self) -> list[str]:
        return [t.text.upper() for t in self.tokens if t.kind == "keyword"]

    @cached_property
    def form(self) -> str:
        """SELECT, CONSTRUCT, ASK or DESCRIBE: the first query-form keyword."""
        forms = ("SELECT", "CONSTRUCT", "ASK", "DESCRIBE")
        return next((k for k in self.keywords() if k in forms), "SELECT")

    @cached_property
    def variables(self) -> list[str]:
        """Variable names in order of first appearance (without ? or $)."""
        return list(dict.fromkeys(t.text[1:] for t in self.tokens if t.kind == "variable"))

    @cached_property
    def declared_prefixes(self) -> set[str]:
        declared, after_prefix = set(), False
        for token in self.tokens:
            if after_prefix:
                declared.add(token.text if token.kind == "prefix" else "")
                after_prefix = False
            after_prefix = token.kind == "keyword" and token.text.upper() == "PREFIX"
        return declared

    @cached_property
    def names_a_dataset(self) -> bool:
        """True when the query has FROM or FROM NAMED: then the store must not replace its dataset by the union."""
        return "FROM" in self.keywords()

    @cached_property
    def select_star(self) -> bool:
        tokens = self.tokens
        for i, token in enumerate(tokens):
            if token.kind == "keyword" and token.text.upper() == "SELECT":
                rest = [t for t in tokens[i + 1 : i + 3] if t.text.upper() not in ("DISTINCT", "REDUCED")]
                return bool(rest) and rest[0].text == "*"
        return False

    def outermost_group(self) -> int | None:
        """Offset just after the `{` that opens the query pattern, or None when there is none (DESCRIBE <x>)."""
        depth, groups_seen, after_where = 0, 0, False
        for token in self.tokens:
            if token.kind == "keyword" and token.text.upper() == "WHERE" and depth == 0:
                after_where = True
            elif token.kind == "open":
                if depth == 0:
                    groups_seen += 1
                    template = self.form == "CONSTRUCT" and not after_where and groups_seen == 1
                    if not template:
                        return token.start + 1
                depth += 1
            elif token.kind == "close":
                depth -= 1
        return None


def with_prefixes(sparql: str, prefixes: Mapping[str, str] = PREFIXES) -> str:
    """The query with `PREFIX` lines for the export's prefixes it uses but does not declare.

    Why: copied examples often leave out the PREFIX lines; the export's own prefixes (vocab.PREFIXES) are the ones
    a user expects. A prefix the query declares itself always wins.
    """
    parsed = Sparql(sparql)
    used = {t.text for t in parsed.tokens if t.kind == "prefix"}
    missing = [p for p in sorted(used - parsed.declared_prefixes) if p in prefixes]
    if not missing:
        return sparql
    return "".join(f"PREFIX {p}: <{prefixes[p]}>\n" for p in missing) + sparql


def bind(sparql: str, bindings: Mapping[str, Term]) -> str:
    """The query with its variables bound to RDF terms by a VALUES block (see the module docstring).

    Terms are written in N-Triples form, which pyoxigraph escapes, so a value can never close the string or IRI
    it sits in. A name the query does not use as a variable is a usage error rather than silently ignored.
    """
    if not bindings:
        return sparql
    parsed = Sparql(sparql)
    unknown = [name for name in bindings if name not in parsed.variables]
    if unknown:
        raise UsageError(f"the query has no variable {', '.join('?' + n for n in unknown)} to bind")
    names = " ".join(f"?{name}" for name in bindings)
    terms = " ".join(str(term) for term in bindings.values())
    block = f" VALUES ({names}) {{ ({terms}) }} "
    position = parsed.outermost_group()
    if position is None:
        if parsed.form != "DESCRIBE":
            raise UsageError("the query has no group pattern ({ ... }) to bind parameters in")
        return sparql.rstrip() + "\n" + block.strip() + "\n"
    return sparql[:position] + block + sparql[position:]
