"""The layout of the ABC bucket (and of every folder laid out like it): which files abc-kg reads, and where.

`<root>/metadata/<directory>/<version>/<file_tag>.csv`, derived tables in `views/`; manifests under
`<root>/releases/<version>/manifest.json`. Locating, fetching and reading all name files through this module.
"""

from __future__ import annotations

from pathlib import Path

from ..registry import TABLE_TAGS, VIEW_TAGS

# The file tags, named: the registry holds the one list (it validates required_tables and the like against it).
(
    TERM_SET,
    TERM,
    CLUSTER,
    MEMBERSHIP,
    PIVOTED,
    CLUSTER_MAPPING,  # Zeng aging: aging clusters -> WMB terms
    ABBREVIATION,  # HMBA-BG: abbreviations -> CL, UBERON, DHBA, Ensembl ids
    ABBREVIATION_MAP,
) = TABLE_TAGS

# Only these tables are read: a release directory can also hold cell-level files of millions of rows.
KNOWN_VIEWS = VIEW_TAGS
KNOWN_TABLES = tuple(tag for tag in TABLE_TAGS if tag not in KNOWN_VIEWS)


def release_dir(root: Path, directory: str, release: str) -> Path:
    return root / "metadata" / directory / release


def available_releases(root: Path, directory: str) -> list[str]:
    base = root / "metadata" / directory
    return sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []


def table_path(directory: str, release: str, tag: str) -> str:
    """The documented bucket-relative path of a known table or view: the one place the file layout is spelled out."""
    folder = f"metadata/{directory}/{release}"
    if tag in KNOWN_VIEWS:
        return f"{folder}/views/{tag}.csv"
    if tag in KNOWN_TABLES:
        return f"{folder}/{tag}.csv"
    raise ValueError(f"{tag!r} is not a table abc-kg reads")
