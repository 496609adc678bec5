"""The Python API (`import abc_atlas_kg`): its exported names, cheap to import, and the same output as the CLI.

Facts about what a build holds are proved against the files `abc-kg export` writes, by SPARQL (pyoxigraph).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import ATLAS, COMPLETE, Export, load_store, select

import abc_atlas_kg as kg
from abc_atlas_kg import errors

PUBLIC = {
    "__version__", "BuildOptions", "Built", "build", "export", "export_many", "load", "load_many", "validate",
    "taxonomies", "FetchSettings", "IntegrationSettings", "AbcKgError", "ExportFailures", "FetchError",
    "InputError", "NotConformingError", "OutputError", "Problem", "StoreError", "UsageError",
}  # fmt: skip


def test_the_exported_names_are_the_public_api() -> None:
    assert set(kg.__all__) == PUBLIC and len(kg.__all__) == len(PUBLIC)
    for name in kg.__all__:
        assert getattr(kg, name) is not None, name
    assert kg.InputError is errors.InputError and issubclass(kg.ExportFailures, kg.AbcKgError)
    assert set(dir(kg)) >= PUBLIC
    with pytest.raises(AttributeError):
        kg.pipeline  # noqa: B018 - an internal name is not part of the API


def test_importing_the_package_imports_no_stage() -> None:
    """`import abc_atlas_kg` stays cheap: the API and its heavy dependencies load on first use."""
    probe = (
        "import sys, abc_atlas_kg; "
        "print(sorted(m for m in sys.modules if m.startswith(('abc_atlas_kg.', 'pyoxigraph', 'pandas', 'rdflib'))))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_the_functions_named_like_stages_stay_functions() -> None:
    """`build` and `validate` are also the names of stages: importing those first leaves the API functions."""
    probe = (
        "import abc_atlas_kg.build, abc_atlas_kg.validate.run, abc_atlas_kg as kg; "
        "from abc_atlas_kg.build import BuildOptions; "
        "print(kg.build.__module__, kg.validate.__module__, BuildOptions is kg.BuildOptions)"
    )
    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert shown.split() == ["abc_atlas_kg.api", "abc_atlas_kg.api", "True"]


def test_build_options_hold_every_build_option() -> None:
    names = [f.name for f in fields(kg.BuildOptions)]
    assert names == ["source", "release", "base_iri", "kg_iri", "validate", "shapes", "fetch", "integration", "layers"]
    with pytest.raises(kg.UsageError, match="unknown build option"):
        kg.build("WMB-taxonomy", sourse=COMPLETE)


def test_a_build_is_what_export_writes(complete_export: Export) -> None:
    """Terms, clusters, memberships and quads of `build` are those of the exported N-Quads, by SPARQL."""
    built = kg.build("WMB-taxonomy", source=str(COMPLETE))
    exported = load_store(complete_export.file("nq"))
    terms = select(exported, "SELECT ?label WHERE { ?t a skos:Concept ; skos:notation ?label }")
    assert sorted(built.terms["label"]) == sorted(row["label"] for row in terms)
    clusters = select(
        exported, "SELECT ?alias ?n WHERE { ?c a akg:Cluster ; akg:clusterAlias ?alias ; akg:cellCount ?n }"
    )
    assert {(r["alias"], int(r["n"])) for r in clusters} == set(
        zip(built.clusters["alias"], built.clusters["cell_count"], strict=True)
    )
    members = select(
        exported, "SELECT ?alias ?term WHERE { ?c akg:clusterAlias ?alias ; akg:memberOf/skos:notation ?term }"
    )
    assert {(r["alias"], r["term"]) for r in members} == set(
        zip(built.memberships["cluster_alias"], built.memberships["term"], strict=True)
    )
    assert set(built.quads()) == set(exported)
    assert len(built.dataset()) == len(exported)


def test_query_answers_from_the_union_of_the_graphs_with_the_export_prefixes(complete_export: Export) -> None:
    built = kg.build("WMB-taxonomy", source=COMPLETE)
    answer = built.query("SELECT ?level (COUNT(?t) AS ?n) WHERE { ?t akg:level/rdfs:label ?level } GROUP BY ?level")
    exported = select(
        load_store(complete_export.file("nq")),
        "SELECT ?level (COUNT(?t) AS ?n) WHERE { ?t akg:level/rdfs:label ?level } GROUP BY ?level",
    )
    assert dict(zip(answer["level"], answer["n"], strict=True)) == {r["level"]: int(r["n"]) for r in exported}
    assert built.query("ASK { ?c a akg:Cluster }") is True
    assert len(built.query("CONSTRUCT { ?c a akg:Cluster } WHERE { ?c a akg:Cluster }")) == len(built.clusters)
    with pytest.raises(kg.UsageError, match="does not parse"):
        built.query("SELECT WHERE")


def test_export_writes_the_bytes_the_cli_writes(complete_export: Export, tmp_path: Path) -> None:
    written = kg.export("WMB-taxonomy", kg.BuildOptions(source=COMPLETE), out=tmp_path)
    assert sorted(p.name for p in written) == sorted(
        p.name for p in complete_export.folder.iterdir() if p.is_file() and not p.name.startswith(".")
    )
    for path in written:
        assert path.read_bytes() == (complete_export.folder / path.name).read_bytes(), path.name


def test_export_many_reports_every_failure_after_writing_the_rest(tmp_path: Path) -> None:
    with pytest.raises(kg.ExportFailures) as caught:
        kg.export_many(["WHB-taxonomy", "WMB-taxonomy"], source=ATLAS, release="20240330", out=tmp_path, processes=1)
    assert [f.taxonomy_id for f in caught.value.failures] == ["WMB-taxonomy"]
    assert caught.value.exit_code == kg.UsageError.exit_code
    whb = load_store(next((tmp_path / "WHB-taxonomy" / "20240330").glob("*.nq")))
    assert select(whb, "SELECT ?v WHERE { ?r a akg:TaxonomyRelease ; dcat:version ?v }") == [{"v": "20240330"}]


def test_load_many_puts_builds_and_files_into_a_store(complete_export: Export, tmp_path: Path) -> None:
    summary = kg.load_many(
        ["Zeng-Aging-Mouse", complete_export.file("nq")], source=ATLAS, store=tmp_path / "store", vocabulary=False
    )
    graphs = {g.graph: g.triples for g in summary.graphs}
    store = ox.Store.read_only(str(tmp_path / "store"))
    counted = select(store, "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    assert graphs == {r["g"]: int(r["n"]) for r in counted}
    assert "https://w3id.org/abc-atlas-kg/graph/CCN20230722/20231215" in graphs
    assert "https://w3id.org/abc-atlas-kg/graph/CS20241021/20241130/mappings" in graphs


def test_validate_takes_files_builds_and_triples(complete_export: Export) -> None:
    assert kg.validate(complete_export.file("ttl")).conforms
    built = kg.build("WMB-taxonomy", source=COMPLETE, validate=False)
    assert kg.validate(built).conforms
    colour = ox.NamedNode("https://w3id.org/abc-atlas-kg/vocab/color")
    broken = [t if t.predicate != colour else ox.Triple(t.subject, colour, ox.Literal("red")) for t in built.quads()]
    report = kg.validate(broken)
    assert not report.conforms and {v.value for v in report.violations} == {"red"}


def test_taxonomies_are_the_registry() -> None:
    known = kg.taxonomies()
    assert "WMB-taxonomy" in known and known["WMB-taxonomy"].accession == "CCN20230722"
