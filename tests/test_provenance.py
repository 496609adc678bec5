"""Provenance that is true: a source file is named by its bucket URL, with the manifest's MD5, only when its bytes
match a manifest; the bundled (rebuilt) sample claims no bucket checksum; releases chain to their predecessor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SAMPLE, load_store, run, select

BUCKET_URL = "https://allen-brain-cell-atlas.s3.us-west-2.amazonaws.com/"
SOURCES = """SELECT ?f ?path ?md5 ?size ?verified WHERE {
    ?g a akg:ReleaseGraph ; prov:wasDerivedFrom ?f .
    ?f a akg:SourceFile ; dcterms:identifier ?path ; akg:md5 ?md5 ; dcat:byteSize ?size ; akg:verified ?verified }"""


@pytest.fixture(scope="module")
def real_export(tmp_path_factory: pytest.TempPathFactory, shared_bucket: Path) -> Path:
    out = tmp_path_factory.mktemp("real")
    result = run("export", "WMB-taxonomy", "--source", shared_bucket, "--release", "20231215", "--out", out,
                 "--format", "nt")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return out / "WMB-taxonomy" / "20231215" / "CCN20230722.nt"


def test_real_files_verified_against_the_manifest_are_named_by_their_bucket_url(
    real_export: Path, shared_bucket: Path
) -> None:
    manifest = json.loads((shared_bucket / "releases" / "20250531" / "manifest.json").read_text())
    listed = {
        entry["files"]["csv"]["relative_path"]: entry["files"]["csv"]
        for entry in manifest["file_listing"]["WMB-taxonomy"]["metadata"].values()
        if "csv" in entry["files"]
    }
    sources = select(load_store(real_export), SOURCES)
    assert len(sources) == 5  # the four tables and the pivoted view that abc-kg reads
    for source in sources:
        published = listed[source["path"]]
        assert source["f"] == BUCKET_URL + source["path"] == published["url"]
        assert (source["md5"], int(source["size"]), source["verified"]) == (
            published["file_hash"],
            published["size"],
            "true",
        )


def test_the_release_follows_the_previous_one_in_the_source(real_export: Path) -> None:
    found = select(load_store(real_export), 'SELECT ?p WHERE { ?r dcat:version "20231215" ; dcat:previousVersion ?p }')
    assert found == [{"p": "https://w3id.org/abc-atlas-kg/release/CCN20230722/20230830"}]


def test_the_bundled_sample_claims_no_bucket_checksum(tmp_path: Path) -> None:
    result = run("export", "WMB-taxonomy", "--source", SAMPLE, "--out", tmp_path, "--format", "nt", "--no-validate")
    assert result.exit_code == 0, result.stderr
    sources = select(load_store(tmp_path / "WMB-taxonomy" / "20230830" / "CCN20230722.nt"), SOURCES)
    assert sources and all(s["verified"] == "false" and not s["f"].startswith(BUCKET_URL) for s in sources)
    assert all(s["f"] == f"urn:abc-kg:file:md5:{s['md5']}" for s in sources)
