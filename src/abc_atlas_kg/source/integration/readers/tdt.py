"""BICAN TDT curation tables (`curation_tables/annotation.tsv`): the cell-type curation of a taxonomy, per cell set.

The table is read by the strict TSV reader (`tsv.py`); this module picks the Cell Annotation Schema columns out
of it (the other columns, anatomy and markers of other kinds, are other layers' business).
"""

from __future__ import annotations

from pathlib import Path

from ....errors import InputError, Problem
from . import tsv
from .curation import Curation, CurationTable, cell_type, dois, markers, text

ACCESSION = "cell_set_accession"
REQUIRED = (ACCESSION, "cell_label", "cell_ontology_term_id")
COLUMNS = (*REQUIRED, "labelset", "cell_ontology_term", "rationale", "rationale_dois", "marker_gene_evidence")


def read(path: Path) -> CurationTable:
    """Every row of the table as a `Curation`; InputError naming file, row, column and value when malformed."""
    table = tsv.read(path, required=REQUIRED, keep=COLUMNS)
    return curations(table)


def curations(table: tsv.TsvTable) -> CurationTable:
    """The rows as curations. A cell set may be curated twice (CAS lets two label sets name it): both are kept."""
    problems: list[Problem] = []
    where = str(table.path)
    found: list[Curation] = []
    for row, cells in table:
        accession = text(cells[ACCESSION])
        if accession is None:
            problems.append(table.problem("is empty; every row names its cell set", row, ACCESSION))
            continue
        found.append(
            Curation(
                row=row,
                accession=accession,
                name=text(cells["cell_label"]),
                labelset=text(cells.get("labelset")),
                cell_type=cell_type(
                    text(cells["cell_ontology_term_id"]), where, row, "cell_ontology_term_id", problems
                ),
                cell_type_label=text(cells.get("cell_ontology_term")),
                rationale=text(cells.get("rationale")),
                dois=dois(text(cells.get("rationale_dois"))),
                markers=markers(text(cells.get("marker_gene_evidence"))),
            )
        )
    if problems:
        raise InputError(problems)
    return CurationTable(table.path, tuple(found))
