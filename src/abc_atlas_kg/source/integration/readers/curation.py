"""What a BICAN cell-type curation says about one cell set, whichever form it comes in.

The Cell Annotation Schema (CAS) has one form as JSON (`CS20250428.json`) and one as a TDT table
(`curation_tables/annotation.tsv`); both name the cell set by accession and name, give a CL/PCL id and the
curator's evidence: a rationale, the papers (DOIs, written every way a curator types them) and marker genes.
The two readers (`tdt.py`, `cas_json.py`) turn their rows into the same `Curation`, checked the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote

from ....errors import Problem

CELL_TYPE_ID = re.compile(r"(CL|PCL):[0-9]{7}")  # the only ids a curated cell-type link may name
_DOI = re.compile(r"10\.[0-9]{4,9}/[^\s,;|]+")
_MARKER_SEPARATORS = re.compile(r"[|,;]")
EMPTY = frozenset({"", "None", "none", "NA", "null"})  # what the curation tables write for "nothing here"


class Curation(NamedTuple):
    """One curated annotation of one cell set; `row` is its file row (TSV) or 1-based position (JSON).

    A tuple, not a frozen dataclass: a curation table has a row per cell set (6,905 for WMB), and tuples are made
    several times faster."""

    row: int
    accession: str  # the cell set's label, e.g. CS20230722_CLAS_01
    name: str | None  # the name the curation gives it (cell_label): checked against the release's name
    labelset: str | None
    cell_type: str | None  # CL:nnnnnnn or PCL:nnnnnnn
    cell_type_label: str | None
    rationale: str | None
    dois: tuple[str, ...]  # as https://doi.org/10.… IRIs
    markers: tuple[str, ...]  # gene symbols as the curator wrote them


@dataclass(frozen=True)
class CurationTable:
    path: Path
    curations: tuple[Curation, ...]

    def __iter__(self) -> Iterator[Curation]:
        return iter(self.curations)

    def __len__(self) -> int:
        return len(self.curations)


def text(value: object) -> str | None:
    """A cell's text, or None for what the tables write for an empty cell."""
    if value is None:
        return None
    stripped = str(value).strip()
    return None if stripped in EMPTY else stripped


def dois(value: str | None) -> tuple[str, ...]:
    """Every DOI in a curator's reference cell, as `https://doi.org/…` IRIs, in order, without repeats.

    Curators separate them by `|`, `,`, `;` or spaces, write `doi:`, `DOI:`, `https://doi.org/` or
    `https://10.…`, percent-encode the slash and end a list with a full stop; the DOI itself (`10.<registrant>/
    <suffix>`) is what is kept. Parts that hold no DOI (`mousebrain.org`, a truncated `10.1038.`) are left out.
    """
    if not value:
        return ()
    found: dict[str, None] = {}
    for match in _DOI.finditer(unquote(value)):
        doi = match.group(0).rstrip(".")
        found[f"https://doi.org/{doi}"] = None
    return tuple(found)


def markers(value: str | None) -> tuple[str, ...]:
    """Marker gene symbols of a `|`- or `,`-separated cell, in order, without repeats."""
    if not value:
        return ()
    return tuple(dict.fromkeys(part.strip() for part in _MARKER_SEPARATORS.split(value) if part.strip()))


def cell_type(value: str | None, where: str, row: int, column: str, problems: list[Problem]) -> str | None:
    """A CL/PCL id as written (`CL:0000540`), or None and a problem naming file, row, column and value."""
    if value is None:
        return None
    if CELL_TYPE_ID.fullmatch(value):
        return value
    problems.append(Problem(where, "is not a CL or PCL id (CL:nnnnnnn, PCL:nnnnnnn)", row, column, value))
    return None
