"""Source stage: read one taxonomy release's ABC tables from a directory laid out like the ABC bucket.

Layout: `<root>/metadata/<directory>/<release>/<file_tag>.csv`, derived tables in `views/`.
Every cell is read as text, with no NA detection (the neurotransmitter term named "NA" is data);
an empty cell means missing. The stdlib csv reader does exactly that, faster than pandas would.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

from .errors import InputError, Problem, UsageError

TERM_SET = "cluster_annotation_term_set"
TERM = "cluster_annotation_term"
CLUSTER = "cluster"
MEMBERSHIP = "cluster_to_cluster_annotation_membership"
PIVOTED = "cluster_to_cluster_annotation_membership_pivoted"
CLUSTER_MAPPING = "cluster_mapping"  # Zeng aging: aging clusters -> WMB terms
ABBREVIATION = "abbreviation_term"  # HMBA-BG: abbreviations -> CL, UBERON, DHBA, Ensembl ids
ABBREVIATION_MAP = "cluster_annotation_to_abbreviation_map"

# Only these tables are read: a release directory can also hold cell-level files of millions of rows.
KNOWN_TABLES = (TERM_SET, TERM, CLUSTER, MEMBERSHIP, CLUSTER_MAPPING, ABBREVIATION, ABBREVIATION_MAP)
KNOWN_VIEWS = (PIVOTED,)


@dataclass(frozen=True)
class SourceFile:
    """A file the export was made from, for provenance: where it sits in the bucket and its checksum."""

    relative_path: str  # bucket-relative, e.g. metadata/WMB-taxonomy/20230830/cluster.csv
    md5: str
    size: int
    url: str | None = None  # where the bytes were downloaded from, when abc-kg fetched them
    manifest_version: str | None = None  # the ABC release manifest that resolved the file, if one did
    verified: bool = False  # the bytes matched that manifest's MD5 and size: only then is the bucket URL named


class Origin(NamedTuple):
    """Where a file in a local copy of the bucket came from; the fetcher records it, the reader attaches it."""

    url: str
    manifest_version: str | None
    verified: bool = False  # the bytes matched the manifest's size and MD5


@dataclass
class Table:
    """One CSV file: its header and rows, each a dict keyed by column name (all values stripped text).

    `row_numbers[i]` is the spreadsheet row of `rows[i]` (the header is row 1), for error messages.
    """

    source: SourceFile
    columns: tuple[str, ...]
    rows: list[dict[str, str]]
    row_numbers: list[int]

    @property
    def path(self) -> str:
        return self.source.relative_path

    def numbered(self) -> zip[tuple[int, dict[str, str]]]:
        return zip(self.row_numbers, self.rows, strict=True)


@dataclass
class ReleaseTables:
    """The tables of one release of one ABC directory, keyed by file tag."""

    directory: str
    release: str
    tables: dict[str, Table] = field(default_factory=dict)

    def get(self, tag: str) -> Table | None:
        return self.tables.get(tag)

    @property
    def sources(self) -> list[SourceFile]:
        return sorted((t.source for t in self.tables.values()), key=lambda s: s.relative_path)


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


def read_release(
    root: Path,
    directory: str,
    release: str,
    elsewhere: Mapping[str, str | tuple[str, str]] | None = None,
    origins: Mapping[str, Origin] | None = None,
) -> ReleaseTables:
    """Read the known tables of a release; absent files are simply absent (the model decides what is required).

    `elsewhere` names tables that the ABC Atlas publishes in another directory of the same release
    (the aging clusters' cluster.csv sits in Zeng-Aging-Mouse-10Xv3). `origins` maps bucket-relative paths to
    where a fetched file came from, so provenance can name its URL and manifest version; files without an entry
    are described by path, MD5 and size only.
    """
    folder = release_dir(root, directory, release)
    if not folder.is_dir():
        raise UsageError(f"no release directory {folder}")
    found = ReleaseTables(directory, release)
    problems: list[Problem] = []
    moved = elsewhere or {}
    places = {t: (v, release) if isinstance(v, str) else tuple(v) for t, v in moved.items()}  # (directory, version)
    candidates = [
        (tag, release_dir(root, *places.get(tag, (directory, release))) / f"{tag}.csv") for tag in KNOWN_TABLES
    ]
    views = folder / "views"
    if views.is_dir():
        for path in sorted(views.glob("*.csv")):
            tag = path.name.split(".", 1)[0]
            if tag in KNOWN_VIEWS and tag not in found.tables:
                candidates.append((tag, path))
    for tag, path in candidates:
        if path.is_file():
            relative = path.relative_to(root).as_posix()
            table = read_csv(path, relative, problems)
            if table is not None:
                origin = (origins or {}).get(relative)
                if origin is not None:
                    table.source = replace(
                        table.source,
                        url=origin.url,
                        manifest_version=origin.manifest_version,
                        verified=origin.verified,
                    )
                found.tables[tag] = table
    if problems:
        raise InputError(problems)
    return found


def read_csv(path: Path, relative_path: str, problems: list[Problem]) -> Table | None:
    """Parse one CSV strictly: UTF-8 (BOM allowed), any line ending, quoted fields, cells stripped."""
    data = path.read_bytes()
    source = SourceFile(relative_path, hashlib.md5(data).hexdigest(), len(data))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        problems.append(
            Problem(relative_path, f"is not UTF-8 text (undecodable byte at offset {err.start}); save it as UTF-8")
        )
        return None
    records = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [cell.strip() for cell in next(records, [])]
        rows = [[cell.strip() for cell in record] for record in records]
    except csv.Error as err:
        problems.append(Problem(relative_path, f"is not valid CSV: {err}"))
        return None
    if not header or header == [""]:
        problems.append(Problem(relative_path, "is empty: expected a header row"))
        return None
    seen: set[str] = set()
    for column in header:
        if column in seen:
            problems.append(Problem(relative_path, "column appears twice in the header", row=1, column=column))
        seen.add(column)
    table_rows: list[dict[str, str]] = []
    row_numbers: list[int] = []
    for number, record in enumerate(rows, start=2):
        if not any(record):
            continue  # blank line, e.g. a trailing newline left by a spreadsheet
        if len(record) != len(header):
            problems.append(
                Problem(
                    relative_path,
                    f"has {len(record)} fields but the header has {len(header)}",
                    row=number,
                )
            )
            continue
        table_rows.append(dict(zip(header, record, strict=True)))
        row_numbers.append(number)
    return Table(source, tuple(header), table_rows, row_numbers)
