"""The complete real WMB release 20231215, exported by the real CLI and checked against its own files by SPARQL.

The files live in `../shared/samples/abc-bucket` (byte-identical to the published release; a third party's, so they
are read in place and never copied into this repository). Without them these tests skip and say why, unless
ABC_KG_REQUIRE_SHARED=1 (set by .ci/run), where their absence is a failure.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import PREFIXES, run, shared_root

pytestmark = pytest.mark.slow  # the complete real release

RELEASE = "20231215"
ACCESSION = "CCN20230722"


BUCKET = shared_root() / "samples" / "abc-bucket"
FILES = BUCKET / "metadata" / "WMB-taxonomy" / RELEASE


def _require_shared() -> None:
    if FILES.is_dir():
        return
    reason = f"the real WMB release is not at {FILES} (set ABC_KG_SHARED to the shared folder)"
    if os.environ.get("ABC_KG_REQUIRE_SHARED") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def rows(name: str) -> list[dict[str, str]]:
    with (FILES / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


# --- the SPARQL that reads the export back: one place to adapt when the RDF model changes -------------------------

QUERIES = {
    "levels": "SELECT ?label ?name ?rank WHERE { ?l a akg:Level ; skos:notation ?label ; rdfs:label ?name ; akg:rank ?rank }",
    "terms": """SELECT ?label ?name ?level ?parent ?colour ?order WHERE {
        ?t a obo:PCL_0010001 ; skos:notation ?label ; rdfs:label ?name ; akg:level/skos:notation ?level .
        OPTIONAL { ?t skos:broader/skos:notation ?parent } OPTIONAL { ?t akg:color ?colour }
        OPTIONAL { ?t akg:order ?order } }""",
    "clusters": """SELECT ?alias ?cells ?identifier WHERE { ?c a akg:Cluster ; akg:clusterAlias ?alias .
        OPTIONAL { ?c akg:cellCount ?cells } OPTIONAL { ?c dcterms:identifier ?identifier } }""",
    "memberships": "SELECT ?alias ?term WHERE { ?c akg:clusterAlias ?alias ; akg:memberOf/skos:notation ?term }",
}


def query(store: ox.Store, name: str) -> list[dict[str, str]]:
    results = store.query(PREFIXES + QUERIES[name], use_default_graph_as_union=True)
    return [{v.value: s[v].value for v in results.variables if s[v] is not None} for s in results]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _require_shared()
    out = tmp_path_factory.mktemp("real-out")
    result = run("export", "WMB-taxonomy", "--source", BUCKET, "--release", RELEASE, "--out", out)
    assert result.exit_code == 0, result.stderr
    assert "6905 terms, 5322 clusters, 26610 memberships" in result.stdout + result.stderr
    return out / "WMB-taxonomy" / RELEASE


@pytest.fixture(scope="module", params=["nt", "nq"])
def store(request: pytest.FixtureRequest, exported: Path) -> ox.Store:
    path = exported / f"{ACCESSION}.{request.param}"
    loaded = ox.Store()
    loaded.bulk_load(path=str(path), format=ox.RdfFormat.from_extension(request.param))
    return loaded


def test_every_level(store: ox.Store) -> None:
    found = {r["label"]: (r["name"], r["rank"]) for r in query(store, "levels")}
    expected = {r["label"]: (r["name"], r["order"]) for r in rows("cluster_annotation_term_set.csv")}
    assert len(expected) == 5
    assert found == expected


def test_every_term_parent_colour_and_order(store: ox.Store) -> None:
    found = {
        r["label"]: (r["name"], r["level"], r.get("parent", ""), r.get("colour"), r.get("order"))
        for r in query(store, "terms")
    }
    expected = {
        r["label"]: (
            r["name"],
            r["cluster_annotation_term_set_label"],
            r["parent_term_label"],
            r["color_hex_triplet"],
            r["term_order"],
        )
        for r in rows("cluster_annotation_term.csv")
    }
    assert len(expected) == 6905
    assert found == expected
    assert found["CS20230722_NEUR_NA"][0] == "NA"  # a name, not a missing value


def test_every_cluster_with_its_count_and_label(store: ox.Store) -> None:
    found = sorted((r["alias"], r.get("cells"), r.get("identifier")) for r in query(store, "clusters"))
    expected = sorted((r["cluster_alias"], r["number_of_cells"], r["label"]) for r in rows("cluster.csv"))
    assert len(expected) == 5322
    assert found == expected


def test_every_membership_and_its_count(store: ox.Store) -> None:
    found = sorted((r["alias"], r["term"]) for r in query(store, "memberships"))
    table = rows("cluster_to_cluster_annotation_membership.csv")
    assert len(table) == 26610
    assert found == sorted((r["cluster_alias"], r["cluster_annotation_term_label"]) for r in table)
    cells = {r["alias"]: r.get("cells") for r in query(store, "clusters")}
    assert all(cells[r["cluster_alias"]] == r["number_of_cells"] for r in table)  # counts: the leaf's own
