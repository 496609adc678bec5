"""WHBO `CS202210140_class_base.tsv`: the PCL classes of the whole human brain taxonomy, one row per class.

Each row is the data of one PCL class of the ROBOT/DOSDP pattern: `defined_class` (the PCL class IRI), `prefLabel`
(the ABC name), `Cluster_ID` (the cell set's ABC label, CS202210140_<n>), `Individual` (the same cell set as WHBO
names it, `http://purl.obolibrary.org/obo/pcl/CS202210140_<n>`, the exemplar of the class) and `Gross_cell_type`
(the CL class it is a kind of). Read by the strict TSV reader (`tsv.py`); the anatomy columns are left to others.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ....errors import InputError, Problem
from . import tsv
from .cl_component import curie
from .curation import cell_type, text

REQUIRED = ("defined_class", "prefLabel", "Cluster_ID", "Individual", "Gross_cell_type")
_INDIVIDUAL = re.compile(r"https?://\S+/([^/\s]+)")


@dataclass(frozen=True)
class WhboClass:
    row: int
    pcl_class: str  # CURIE, PCL:0051005
    name: str | None  # prefLabel: the ABC name of the exemplar cell set
    accession: str  # Cluster_ID: CS202210140_5
    individual: str  # the exemplar's IRI in WHBO
    gross_cell_type: str | None  # CURIE, CL:0000129


@dataclass(frozen=True)
class WhboClassBase:
    path: Path
    classes: tuple[WhboClass, ...]

    def __len__(self) -> int:
        return len(self.classes)


def read(path: Path) -> WhboClassBase:
    table = tsv.read(path, required=REQUIRED, keep=REQUIRED)
    where = str(path)
    problems: list[Problem] = []
    found = []
    for row, cells in table:
        pcl = curie(cells["defined_class"])
        if pcl is None:
            problems.append(table.problem("is not a PCL/CL class IRI", row, "defined_class", cells["defined_class"]))
        accession = text(cells["Cluster_ID"])
        if accession is None:
            problems.append(table.problem("is empty; every class names its cell set", row, "Cluster_ID"))
        individual = cells["Individual"]
        match = _INDIVIDUAL.fullmatch(individual)
        if match is None or (accession is not None and match.group(1) != accession):
            problems.append(table.problem(f"is not the IRI of the cell set {accession}", row, "Individual", individual))
        gross = cell_type(text(cells["Gross_cell_type"]), where, row, "Gross_cell_type", problems)
        if pcl is not None and accession is not None and match is not None:
            found.append(WhboClass(row, pcl, text(cells["prefLabel"]), accession, individual, gross))
    if problems:
        raise InputError(problems)
    return WhboClassBase(path, tuple(found))
