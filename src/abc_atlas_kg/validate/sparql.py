"""The little SPARQL text handling the compiler needs for SPARQL-based targets and constraints.

Two questions about a query written in the shapes: which predicates it can read (so that only those triples are
loaded into the validator's store; any doubt means every predicate), and the query as a sub-select (its PREFIX
lines resolved, since a sub-select cannot declare them). Regular expressions over the text with strings and IRIs
masked; the constructs they cannot read safely (BASE, a variable predicate, a negated path) are refused or widen the
answer to every predicate.
"""

from __future__ import annotations

import re

from .shapes import RDF, UnsupportedShape

PREFIX = re.compile(r"PREFIX\s+([\w-]*):\s*<([^>]*)>", flags=re.IGNORECASE)
STRING = re.compile(r'"""[\s\S]*?"""|"(?:[^"\\\n]|\\.)*"')
TERM = r"(?:[?$]\w+|<[^>]*>|[\w-]*:[\w.-]*|\[\s*\]|_:\w+)"
VARIABLE_PREDICATE = re.compile(rf"(?:{TERM}|[;])\s+[?$]\w+\s+(?:{TERM}|\"|\d|\[|\()")
NOT_A_NEGATED_PATH = re.compile(
    r"!=|!\s*(?:BOUND|EXISTS|isIRI|isBlank|isLiteral|isNumeric|sameTerm|REGEX|CONTAINS|\()", flags=re.I
)


def predicates_read(text: str) -> set[str] | None:
    """The predicates a SPARQL text mentions; None when a variable or negated predicate means any predicate."""
    prefixes = dict(PREFIX.findall(text))
    body = STRING.sub('""', text)
    body = re.sub(r"PREFIX\s+[\w-]*:\s*<[^>]*>", "", body, flags=re.IGNORECASE)
    if VARIABLE_PREDICATE.search(body) or "!" in NOT_A_NEGATED_PATH.sub("", body):
        return None
    found = set(re.findall(r"<([^>]*)>", body))
    for prefix, local in re.findall(r"(?<![\w?$])([A-Za-z][\w-]*|):([\w-]+)", body):
        if prefix in prefixes:
            found.add(prefixes[prefix] + local)
    if re.search(r"(?<![\w?$<])a(?![\w:])", body):
        found.add(RDF + "type")
    return found


def as_subselect(text: str) -> str:
    """A whole SELECT query as a sub-select: PREFIX/BASE lines resolved by expanding prefixed names."""
    prefixes = dict(PREFIX.findall(text))
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
