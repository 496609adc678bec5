"""The command line end to end: export, validate, taxonomies, exit codes and output hygiene."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import COMPLETE, FORMATS, Export, export_to, load_store, run, select

from abc_atlas_kg import write


def test_taxonomies_lists_the_registry() -> None:
    result = run("taxonomies")
    assert result.exit_code == 0
    line = next(line for line in result.stdout.splitlines() if line.startswith("WMB-taxonomy"))
    assert line.split() == ["WMB-taxonomy", "CCN20230722", "10090", "WMB-taxonomy", "20230830,20231215"]


def test_export_prints_the_written_files_on_stdout_and_a_summary_on_stderr(sample_export: Export) -> None:
    for fmt in FORMATS:
        assert sample_export.file(fmt).stat().st_size > 0
    assert not list(sample_export.folder.glob(".*.tmp")), "temporary files left behind"


@pytest.mark.parametrize("fmt", FORMATS)
def test_validate_accepts_every_exported_format(sample_export: Export, fmt: str) -> None:
    result = run("validate", sample_export.file(fmt))
    assert result.exit_code == 0, result.stderr
    assert "conforms" in result.stderr


def test_validate_rejects_a_broken_file_with_a_readable_report(complete_export: Export, tmp_path: Path) -> None:
    broken = tmp_path / "broken.nt"
    lines = complete_export.file("nt").read_text().splitlines(keepends=True)
    broken.write_text("".join(line for line in lines if "<http://www.w3.org/2000/01/rdf-schema#label>" not in line))
    result = run("validate", complete_export.file("ttl"), broken)
    assert result.exit_code == 3
    assert "does not conform" in result.stderr
    assert "CS20230722_CLAS_01" in result.stderr and "exactly one rdfs:label" in result.stderr


def test_validate_reports_an_unparsable_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("<a> <b> .\n")
    result = run("validate", bad)
    assert result.exit_code == 1
    assert "cannot be parsed" in result.stderr


def test_second_export_is_byte_identical_even_from_another_folder(complete_export: Export, tmp_path: Path) -> None:
    moved = tmp_path / "elsewhere" / "bucket"
    shutil.copytree(COMPLETE, moved)
    export_to(tmp_path / "again", "--source", moved)
    again = Export(tmp_path / "again" / "WMB-taxonomy" / "20231215")
    for fmt in FORMATS:
        assert again.file(fmt).read_bytes() == complete_export.file(fmt).read_bytes(), fmt


def test_format_option_writes_only_what_is_asked(tmp_path: Path) -> None:
    export_to(tmp_path, "--source", COMPLETE, "--format", "ttl,nq", "--no-validate")
    folder = tmp_path / "WMB-taxonomy" / "20231215"
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == [
        "CCN20230722.nq",
        "CCN20230722.ttl",
    ]


def test_unknown_format_is_a_usage_error(tmp_path: Path) -> None:
    result = run("export", "WMB-taxonomy", "--out", tmp_path, "--format", "ttl,xml")
    assert result.exit_code == 2
    assert "choose from" in result.stderr


def test_unknown_taxonomy_and_release_are_usage_errors(tmp_path: Path) -> None:
    result = run("export", "NoSuchTaxonomy", "--out", tmp_path)
    assert result.exit_code == 2 and "unknown taxonomy" in result.stderr
    result = run("export", "WMB-taxonomy", "--release", "19990101", "--out", tmp_path)
    assert result.exit_code == 2 and "19990101" in result.stderr
    assert not list(tmp_path.iterdir())


def test_accession_works_as_taxonomy_id(tmp_path: Path) -> None:
    result = run("export", "CCN20230722", "--source", COMPLETE, "--out", tmp_path / "by-accession")
    assert result.exit_code == 0, result.stderr


def test_base_iri_moves_every_minted_iri(tmp_path: Path) -> None:
    export_to(tmp_path, "--source", COMPLETE, "--base-iri", "https://example.org/kg/", "--format", "nt")
    store = load_store(tmp_path / "WMB-taxonomy" / "20231215" / "CCN20230722.nt")
    found = select(store, 'SELECT ?t WHERE { ?t skos:notation "CS20230722_CLAS_01" }')
    assert found == [{"t": "https://example.org/kg/CCN20230722/CS20230722_CLAS_01"}]
    old = select(store, 'SELECT ?s WHERE { ?s ?p ?o FILTER(STRSTARTS(STR(?s), "https://purl.brain-bican.org")) }')
    assert old == []


def test_jsonld_is_compacted_with_the_shipped_context_and_links_stay_links(complete_export: Export) -> None:
    document = json.loads(complete_export.file("jsonld").read_text(encoding="utf-8"))
    assert document["@context"] == write.jsonld_context()["@context"]
    nodes = {node["@id"]: node for node in document["@graph"]}
    supertype = nodes["https://purl.brain-bican.org/taxonomy/CCN20230722/CS20230722_SUPT_0001"]
    assert supertype["broader"] == "https://purl.brain-bican.org/taxonomy/CCN20230722/CS20230722_SUBC_001"
    assert supertype["order"] == 0 and supertype["color"] == "#99822E"
    assert sorted(supertype["@type"]) == ["obo:PCL_0010001", "skos:Concept"]
    for term, definition in document["@context"].items():
        if isinstance(definition, dict) and definition.get("@type") == "@id":
            assert definition["@id"].split(":")[0] in document["@context"], term


def test_failed_write_leaves_the_previous_output_untouched(
    complete_export: Export, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    export_to(out, "--source", COMPLETE)
    folder = out / "WMB-taxonomy" / "20231215"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    def explode(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setitem(write.WRITERS, "jsonld", write.Writer("jsonld", ".jsonld", "application/ld+json", explode))
    edited = tmp_path / "edited"
    shutil.copytree(COMPLETE, edited)
    terms = edited / "metadata" / "WMB-taxonomy" / "20231215" / "cluster_annotation_term.csv"
    terms.write_text(terms.read_text().replace("01 IT-ET Glut", "01 Renamed"))
    result = run("export", "WMB-taxonomy", "--source", edited, "--out", out)
    assert result.exit_code == 1 and "disk full" in result.stderr
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
