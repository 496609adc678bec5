"""The taxonomies abc-kg knows, declared as data in `taxonomies.toml`."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from .errors import UsageError


@dataclass(frozen=True)
class TaxonomySpec:
    """What abc-kg must know about a taxonomy that its tables do not say."""

    id: str
    accession: str
    title: str
    species: tuple[str, ...]  # NCBITaxon numeric ids
    directory: str
    releases: tuple[str, ...]
    facets: frozenset[str] = frozenset()


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
