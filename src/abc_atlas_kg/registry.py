"""The taxonomies abc-kg knows, declared as data in `taxonomies.toml`."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from .errors import UsageError


@dataclass(frozen=True)
class Link:
    """A cross-taxonomy link computed at export time (e.g. clusters sharing a cluster_alias)."""

    kind: str
    other: str  # the other taxonomy's id


@dataclass(frozen=True)
class TaxonomySpec:
    """What abc-kg must know about a taxonomy that its tables do not say. See taxonomies.toml."""

    id: str
    accession: str
    title: str
    species: tuple[str, ...]  # NCBITaxon numeric ids
    directory: str
    releases: tuple[str, ...]
    facets: frozenset[str] = frozenset()
    adapter: str | None = None
    table_directories: tuple[tuple[str, str], ...] = ()
    species_by_name_prefix: tuple[tuple[str, str], ...] = ()
    links: tuple[Link, ...] = ()
    maps_onto: str | None = None

    def directory_of(self, tag: str) -> str:
        """The ABC directory a table lives in: the taxonomy's own, unless declared otherwise."""
        return dict(self.table_directories).get(tag, self.directory)


@cache
def taxonomies() -> dict[str, TaxonomySpec]:
    raw = tomllib.loads(files("abc_atlas_kg").joinpath("taxonomies.toml").read_text(encoding="utf-8"))
    return {
        key: TaxonomySpec(
            id=key,
            accession=entry["accession"],
            title=entry["title"],
            species=tuple(entry["species"]),
            directory=entry["directory"],
            releases=tuple(entry["releases"]),
            facets=frozenset(entry.get("facets", ())),
            adapter=entry.get("adapter"),
            table_directories=tuple(sorted(entry.get("table_directories", {}).items())),
            species_by_name_prefix=tuple(sorted(entry.get("species_by_name_prefix", {}).items())),
            links=tuple(Link(link["kind"], link["with"]) for link in entry.get("links", ())),
            maps_onto=entry.get("maps_onto"),
        )
        for key, entry in raw.items()
    }


def get(taxonomy_id: str) -> TaxonomySpec:
    """Look a taxonomy up by id, or by accession for users who think in CCN numbers."""
    known = taxonomies()
    if taxonomy_id in known:
        return known[taxonomy_id]
    for spec in known.values():
        if spec.accession == taxonomy_id:
            return spec
    raise UsageError(f"unknown taxonomy {taxonomy_id!r}; known: {', '.join(sorted(known))}")
