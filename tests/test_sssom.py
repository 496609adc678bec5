"""The mappings of an export also come as an SSSOM TSV, which sssom-py (the reference implementation) accepts and
which says what the mappings graph says."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from conftest import ATLAS, load_store, run, select

TAXONOMIES = {
    "HMBA-BG-taxonomy": "CCN20250428",
    "Zeng-Aging-Mouse": "CS20241021",
    "WMB-taxonomy-CCN20230504": "CCN20230504",
}


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sssom")
    result = run("export", *TAXONOMIES, "--source", ATLAS, "--out", out, "--format", "nt")
    assert result.exit_code == 0, result.stderr
    return out


def tsv(exported: Path, taxonomy_id: str) -> Path:
    [path] = exported.glob(f"{taxonomy_id}/*/{TAXONOMIES[taxonomy_id]}.sssom.tsv")
    return path


@pytest.mark.parametrize("taxonomy_id", TAXONOMIES)
def test_sssom_py_validates_the_mapping_set(exported: Path, taxonomy_id: str) -> None:
    from sssom.constants import SchemaValidationType
    from sssom.parsers import parse_sssom_table
    from sssom.validators import validate

    mapping_set = parse_sssom_table(tsv(exported, taxonomy_id))
    assert len(mapping_set.df) > 0
    checks = [
        SchemaValidationType.JsonSchema,
        SchemaValidationType.PrefixMapCompleteness,
        SchemaValidationType.StrictCurieFormat,
    ]
    reports = validate(mapping_set, checks, fail_on_error=False)
    problems = {str(kind): report.results for kind, report in reports.items() if report.results}
    assert problems == {}


@pytest.mark.parametrize("taxonomy_id", TAXONOMIES)
def test_the_tsv_and_the_mappings_graph_agree(exported: Path, taxonomy_id: str) -> None:
    """Same rows: every (subject, predicate, object, justification) of the TSV is an axiom of the graph."""
    from sssom.parsers import parse_sssom_table

    mapping_set = parse_sssom_table(tsv(exported, taxonomy_id))
    expand = mapping_set.converter.expand
    in_tsv = {
        (expand(r.subject_id), expand(r.predicate_id), expand(r.object_id), expand(r.mapping_justification))
        for r in mapping_set.df.itertuples()
    }
    [graph_file] = tsv(exported, taxonomy_id).parent.glob("*.mappings.nt")
    axioms = select(
        load_store(graph_file),
        """SELECT ?s ?p ?o ?j WHERE { ?a owl:annotatedSource ?s ; owl:annotatedProperty ?p ;
             owl:annotatedTarget ?o ; sssom:mapping_justification ?j }""",
    )
    assert in_tsv == {(r["s"], r["p"], r["o"], r["j"]) for r in axioms}


def test_the_header_names_the_mapping_set(exported: Path) -> None:
    text = tsv(exported, "HMBA-BG-taxonomy").read_text(encoding="utf-8")
    header = [line[2:].replace('"', "") for line in text.splitlines() if line.startswith("#")]
    assert any(line.startswith("mapping_set_id: https://w3id.org/abc-atlas-kg/graph/CCN20250428/") for line in header)
    assert any(line.startswith("license:") for line in header)
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    assert list(csv.DictReader(io.StringIO(body), delimiter="\t"))
