"""The one prefix converter: prefix ⇄ namespace, for Turtle prefixes, JSON-LD compaction and CURIE expansion.

Built from `vocab.PREFIXES` (the vocabularies), `vocab.CURIE_PREFIXES` (the CURIEs the ABC tables use) and, per
export, the data namespaces of that export, so that every place that shortens or expands an IRI agrees.
A small class rather than the `curies` package: it needs three operations, and `curies` brings pydantic
(0.15 s of import) onto the export path.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from ..defaults import DEFAULT_KG_IRI
from . import vocab

# A Turtle PN_PREFIX restricted to ASCII: what a prefix name may be.
_PREFIX_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_UNSAFE_LOCAL = set(' <>"{}|^`\\')


class Prefixes(Mapping[str, str]):
    """An ordered, immutable prefix → namespace map that can expand CURIEs and compress IRIs.

    Compression takes the longest matching namespace, so `CL:0000127` wins over `obo:CL_0000127`.
    Expansion matches the prefix case-insensitively when `case_insensitive` (the ABC tables write `cl:` and `CL:`).
    """

    def __init__(self, mapping: Mapping[str, str], case_insensitive: bool = False):
        for name in mapping:
            if not _PREFIX_NAME.fullmatch(name):
                raise ValueError(f"not a usable prefix name: {name!r}")
        self._map = dict(mapping)
        self._case_insensitive = case_insensitive
        self._lookup = {(k.upper() if case_insensitive else k): v for k, v in self._map.items()}
        self._by_length = sorted(((ns, p) for p, ns in self._map.items()), key=lambda x: (-len(x[0]), x[1]))

    def __getitem__(self, name: str) -> str:
        return self._map[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._map)

    def __len__(self) -> int:
        return len(self._map)

    def __repr__(self) -> str:
        return f"Prefixes({self._map!r})"

    def __or__(self, other: Mapping[str, str]) -> Prefixes:  # type: ignore[override]
        return Prefixes({**self._map, **other}, self._case_insensitive)

    def expand(self, curie: str) -> str | None:
        """`CL:0000127` → `http://purl.obolibrary.org/obo/CL_0000127`; None for an unknown prefix or a bad id."""
        prefix, sep, local = curie.partition(":")
        prefix, local = prefix.strip(), local.strip()
        namespace = self._lookup.get(prefix.upper() if self._case_insensitive else prefix)
        if not sep or namespace is None or not local or any(c in _UNSAFE_LOCAL for c in local):
            return None
        return namespace + local

    def compress(self, iri: str) -> str:
        """The CURIE of `iri` under the longest matching namespace, or `iri` itself when none matches."""
        for namespace, prefix in self._by_length:
            if iri.startswith(namespace) and len(iri) > len(namespace):
                return f"{prefix}:{iri[len(namespace) :]}"
        return iri

    def sorted(self) -> Prefixes:
        """The same map in prefix order (case-insensitive), for output that does not depend on insertion order."""
        return Prefixes(dict(sorted(self._map.items(), key=lambda x: (x[0].lower(), x[0]))), self._case_insensitive)


VOCABULARIES = Prefixes(vocab.PREFIXES)
CURIES = Prefixes(vocab.CURIE_PREFIXES, case_insensitive=True)


def for_export(accession: str, base_iri: str = vocab.DEFAULT_BASE_IRI, kg_iri: str = DEFAULT_KG_IRI) -> Prefixes:
    """Every prefix an export's Turtle may use: vocabularies, table CURIEs, and the export's data namespaces.

    The data namespaces (the IRI rules are in docs/rdf-model.md): `taxonomy:` the BICAN base,
    `<accession>:` its cell sets and levels, and abc-kg's own `release:`, `graph:` and `cluster:` for that taxonomy.
    """
    data = {
        "taxonomy": base_iri,
        (accession if _PREFIX_NAME.fullmatch(accession) else "cellset"): f"{base_iri}{accession}/",
        "release": f"{kg_iri}release/{accession}/",
        "graph": f"{kg_iri}graph/{accession}/",
        "cluster": f"{kg_iri}cluster/{accession}/",
    }
    return Prefixes({**vocab.PREFIXES, **vocab.CURIE_PREFIXES, **data})


def expand_curie(curie: str) -> str | None:
    """What `vocab.expand_curie` does, through the one converter: CL:0000127 → obo:CL_0000127's IRI, else None."""
    return CURIES.expand(curie)
