"""The cell-type layer: every cell set linked to its CL/PCL classes, per source, with evidence, joinable with CL.

Facts are proved by SPARQL over exported files (and a store holding them beside the CL components); expected
values are recomputed from the source files with the csv and json modules, never from abc-kg's readers. The real
WMB 20231215 release is in ../shared; the other taxonomies' real tables are not, so their releases are built from
the sources themselves (tests/celltype_fixtures.py): HMBA-BG from bgo-cl-comp.owl and the CAS JSON, WHB from the two
WHB TDT tables, WMB CCN20230504 (clusters carrying the real CCN20230722 aliases) and the aging fixture beside the
real WMB. Figures of the real CCN20230504 (5,032 of 5,040 clusters) and aging (788 of 847) releases cannot be
checked here.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from collections import Counter
from pathlib import Path

import celltype_fixtures as fx
import pyoxigraph as ox
import pytest
from bucket import serve, write_manifest
from click.testing import CliRunner
from conftest import ATLAS, COMPLETE_RELEASE, run, select

from abc_atlas_kg.cli import main
from abc_atlas_kg.convert import celltypes as convert
from abc_atlas_kg.model.celltypes import Bridge, CellTypeLink, CellTypeRecords
from abc_atlas_kg.model.layers import LayerContext
from abc_atlas_kg.registry import sources as declared
from abc_atlas_kg.validate.run import validate

OBO = "http://purl.obolibrary.org/obo/"
WMB_RELEASE = "20231215"
WMBO = Path("cl/cell-ontology/wmbo-cl-comp.owl")
BGO = Path("cl/cell-ontology/bgo-cl-comp.owl")
MAPPING = Path("cl/mapmycells2cl/mapping.json")
WMB_TDT = Path("cl/wmb-tdt/annotation.tsv")
COMPONENT_GRAPH = "http://purl.obolibrary.org/obo/cl/components/wmbo-cl-comp.owl"
CLAIMS = ("skos:exactMatch", "skos:closeMatch", "skos:relatedMatch")


def iri(curie: str) -> str:
    prefix, local = curie.split(":")
    return f"{OBO}{prefix}_{local}"


def mapping(integration: Path) -> dict:
    return json.loads((integration / MAPPING).read_text(encoding="utf-8"))


def export(out: Path, *args: str | Path) -> str:
    result = run("export", *args, "--out", out, "--format", "nq")
    assert result.exit_code == 0, result.stderr
    return result.stderr


def store_of(*files: Path) -> ox.Store:
    """Export files (N-Quads, their own graphs) and ontologies (RDF/XML, each into a graph named after the file)."""
    store = ox.Store()
    for path in files:
        if path.suffix == ".nq":
            store.bulk_load(path=str(path), format=ox.RdfFormat.N_QUADS)
        else:
            store.bulk_load(path=str(path), format=ox.RdfFormat.RDF_XML, to_graph=ox.NamedNode(path.resolve().as_uri()))
    return store


def records(store: ox.Store, source: str, extra: str = "") -> list[dict[str, str]]:
    """The cell-type records of one source: subject label, predicate, target, justification (+ `extra` pattern)."""
    return select(
        store,
        f"""SELECT * WHERE {{ GRAPH ?layer {{
              ?layer a akg:LayerGraph .
              ?r owl:annotatedSource ?s ; owl:annotatedProperty ?p ; owl:annotatedTarget ?o ;
                 sssom:mapping_justification ?j ; (dcterms:source|sssom:mapping_provider)/rdfs:label ?source . {extra} }}
              GRAPH ?g {{ ?s skos:notation ?label }} }}""",
        source=source,
    )


def query(store_dir: Path, name: str, **params: str) -> list[dict[str, object]]:
    """A named query through `abc-kg query`, as JSON rows."""
    pairs = [a for k, v in params.items() for a in ("--param", f"{k}={v}")]
    result = run("query", name, *pairs, "--store", store_dir, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


# --- the real WMB 20231215 release ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wmb(tmp_path_factory: pytest.TempPathFactory, shared_bucket: Path, shared_integration: Path) -> Path:
    out = tmp_path_factory.mktemp("celltypes-wmb")
    stderr = export(out, "WMB-taxonomy", "--source", shared_bucket, "--integration", shared_integration)
    assert "celltypes: 6879 cell sets linked" in stderr
    return out / "WMB-taxonomy" / WMB_RELEASE


@pytest.fixture(scope="module")
def wmb_store(wmb: Path, shared_integration: Path) -> ox.Store:
    return store_of(wmb / "CCN20230722.nq", wmb / "CCN20230722.celltypes.nq", shared_integration / WMBO)


@pytest.fixture(scope="module")
def wmb_loaded(wmb: Path, shared_integration: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An embedded store (`abc-kg load`) holding the release, its cell-type layer and wmbo-cl-comp.owl."""
    store = tmp_path_factory.mktemp("celltypes-store") / "store"
    result = run("load", wmb / "CCN20230722.nq", wmb / "CCN20230722.celltypes.nq", shared_integration / WMBO,
                 "--store", store, "--no-vocabulary")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return store


def tdt_ids(integration: Path) -> dict[str, str]:
    with (integration / WMB_TDT).open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return {r["cell_set_accession"]: r["cell_ontology_term_id"] for r in rows if r["cell_ontology_term_id"]}


@pytest.mark.slow
def test_exact_type_links_of_wmb(wmb_store: ox.Store, shared_integration: Path) -> None:
    pcl = {(r["label"], r["o"]) for r in records(wmb_store, "pcl-wmb-mapping") if r["p"].endswith("exactMatch")}
    expected = {(label, iri(target["id"])) for label, target in mapping(shared_integration)["exact"].items()}
    assert pcl == expected and len(pcl) == 6601
    kinds = Counter(target.split("/")[-1].split("_")[0] for _, target in pcl)
    assert kinds == {"CL": 130, "PCL": 6471}
    component = {r["label"] for r in records(wmb_store, "cl-wmbo-component") if r["p"].endswith("exactMatch")}
    assert len(component) == 152 and len(component - {label for label, _ in pcl}) == 22
    assert len(component | {label for label, _ in pcl}) == 6623
    justified = Counter(r["j"].rsplit("/", 1)[1] for r in records(wmb_store, "pcl-wmb-mapping"))
    assert justified == {"ManualMappingCuration": 6601, "LogicalReasoning": sum(justified.values()) - 6601}


@pytest.mark.slow
def test_curated_tdt_ids_are_their_own_records_with_evidence(wmb_store: ox.Store, shared_integration: Path) -> None:
    expected = tdt_ids(shared_integration)
    found = records(wmb_store, "tdt-wmb")
    assert {(r["label"], r["o"]) for r in found} == {(k, iri(v)) for k, v in expected.items()} and len(found) == 120
    assert {r["j"].rsplit("/", 1)[1] for r in found} == {"ManualMappingCuration"}
    best = {label: iri(c["id"]) for label, c in mapping(shared_integration)["best_cl"].items()}
    related = [r for r in found if r["p"].endswith("relatedMatch")]
    assert len(related) == 54 and all(best[r["label"]] == r["o"] for r in related)  # broader than the exact class
    with (shared_integration / WMB_TDT).open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE) if r["cell_ontology_term_id"]]
    evidence = {
        "rdfs:comment ?x": sum(1 for r in rows if r["rationale"].strip()),
        "rdfs:seeAlso ?x": sum(1 for r in rows if "10." in r["rationale_dois"]),
        "akg:markerGeneEvidence ?x": sum(1 for r in rows if r["marker_gene_evidence"].strip()),
    }
    for pattern, count in evidence.items():
        assert len({r["label"] for r in records(wmb_store, "tdt-wmb", f"?r {pattern} .")}) == count, pattern
    dois = {r["x"] for r in records(wmb_store, "tdt-wmb", "?r rdfs:seeAlso ?x .")}
    assert dois and all(d.startswith("https://doi.org/10.") and not d.endswith(".") for d in dois)


@pytest.mark.slow
def test_links_unmapped_and_the_unmapped_query(wmb_store: ox.Store, wmb_loaded: Path) -> None:
    [linked] = select(wmb_store, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s akg:cellTypeReference ?c }")
    assert linked["n"] == "6879"
    rows = query(wmb_loaded, "unmapped")
    assert len(rows) == 26
    assert Counter(r["level"] for r in rows) == {"supertype": 12, "cluster": 8, "neurotransmitter": 3,
                                                 "subclass": 2, "class": 1}  # fmt: skip
    for row in rows:
        assert not select(
            wmb_store, "SELECT ?t ?c WHERE { ?s skos:notation ?t ; akg:cellTypeReference ?c }", t=row["term"]
        )


@pytest.mark.slow
def test_conflicts_between_the_curation_and_the_pcl_mapping(wmb_loaded: Path, shared_integration: Path) -> None:
    exact = {label: iri(t["id"]) for label, t in mapping(shared_integration)["exact"].items()}
    tdt = {label: iri(curie) for label, curie in tdt_ids(shared_integration).items()}
    expected = {label for label in tdt if label in exact and exact[label] != tdt[label]}
    rows = query(wmb_loaded, "conflicts", source="tdt-wmb", other="pcl-wmb-mapping")
    assert {r["label"] for r in rows} == expected and len(expected) == 87
    assert all(r["class"] == tdt[r["label"]] and r["otherClass"] == exact[r["label"]] for r in rows)
    every = query(wmb_loaded, "conflicts")
    assert all(r["from"] < r["to"] and r["class"] != r["otherClass"] for r in every)  # each pair of sources once
    assert {r["label"] for r in every} >= expected
    assert {(r["from"], r["to"]) for r in every} <= {
        ("pcl-wmb-mapping", "tdt-wmb"), ("cl-wmbo-component", "tdt-wmb")}  # fmt: skip


@pytest.mark.slow
def test_the_bridge_reaches_every_has_value_class_of_the_component(wmb_store: ox.Store) -> None:
    has_value = """PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
        SELECT (COUNT(DISTINCT ?class) AS ?n) WHERE {
          GRAPH ?component { ?class owl:equivalentClass/owl:intersectionOf/rdf:rest*/rdf:first ?r .
                             ?r owl:onProperty obo:RO_0015001 ; owl:hasValue ?individual . } %s }"""
    bridged = """GRAPH ?layer { ?ours owl:sameAs ?individual }
                 GRAPH ?release { ?release a akg:ReleaseGraph . ?ours a obo:PCL_0010001 }"""
    reached = [select(wmb_store, has_value % "")[0]["n"], select(wmb_store, has_value % bridged)[0]["n"]]
    assert reached == ["130", "130"]
    # one hop from a cell set of this project to the label CL gives its class
    [row] = select(
        wmb_store,
        """SELECT ?label WHERE { ?ours skos:notation "CS20230722_SUBC_313" ; owl:sameAs ?theirs .
             ?theirs a ?r . ?r owl:onProperty obo:RO_0015002 ; owl:someValuesFrom ?class . ?class rdfs:label ?label }""",
    )
    assert row == {"label": "Purkinje cell (Mmus)"}


@pytest.mark.slow
def test_the_cell_types_query_gives_each_source_and_its_evidence(wmb_loaded: Path) -> None:
    rows = query(wmb_loaded, "cell-types", label="CS20230722_CLUS_1731")
    by_source = {r["source"]: r for r in rows}
    assert set(by_source) == {"pcl-wmb-mapping", "tdt-wmb"}  # they disagree, and both are kept
    assert by_source["tdt-wmb"]["class"] == iri("CL:0020003")
    assert "GPi" in str(by_source["tdt-wmb"]["comment"]) and by_source["tdt-wmb"]["markers"] == "Pvalb"
    assert str(by_source["tdt-wmb"]["dois"]).startswith("https://doi.org/10.")
    named = query(wmb_loaded, "cell-types", pattern="tanycyte")
    assert named and all("tanycyte" in str(r["name"]).lower() for r in named)


@pytest.mark.slow
def test_sssom_py_validates_the_layer_and_it_says_what_the_graph_says(wmb: Path, wmb_store: ox.Store) -> None:
    from sssom.constants import SchemaValidationType
    from sssom.parsers import parse_sssom_table
    from sssom.validators import validate as sssom_validate

    mapping_set = parse_sssom_table(wmb / "CCN20230722.celltypes.sssom.tsv")
    checks = [SchemaValidationType.JsonSchema, SchemaValidationType.PrefixMapCompleteness,
              SchemaValidationType.StrictCurieFormat]  # fmt: skip
    reports = sssom_validate(mapping_set, checks, fail_on_error=False)
    assert {str(kind): r.results for kind, r in reports.items() if r.results} == {}
    expand = mapping_set.converter.expand
    in_tsv = Counter(
        (expand(r.subject_id), expand(r.predicate_id), expand(r.object_id), r.mapping_provider)
        for r in mapping_set.df.itertuples()
    )
    in_graph = Counter(
        (r["s"], r["p"], r["o"], r["f"])
        for r in select(
            wmb_store,
            """SELECT ?s ?p ?o ?f WHERE { GRAPH ?layer { ?layer a akg:LayerGraph .
              ?a owl:annotatedSource ?s ; owl:annotatedProperty ?p ; owl:annotatedTarget ?o ; dcterms:source|sssom:mapping_provider ?f } }""",
        )
    )
    assert in_tsv == in_graph and sum(in_tsv.values()) == len(mapping_set.df)


# --- HMBA-BG, WHB and the derived links, on releases built from the sources ---------------------------------------------


@pytest.mark.slow
def test_hmba_every_bgo_class_is_reached_through_the_bridge(tmp_path: Path, shared_integration: Path) -> None:
    names = fx.hmba_release(tmp_path / "src", shared_integration, with_cas=False)
    export(tmp_path / "out", "HMBA-BG-taxonomy", "--source", tmp_path / "src", "--integration", shared_integration)
    folder = tmp_path / "out" / "HMBA-BG-taxonomy" / "20250630"
    store = store_of(folder / "CCN20250428.nq", folder / "CCN20250428.celltypes.nq", shared_integration / BGO)
    rows = select(
        store,
        """SELECT ?label ?class WHERE {
             GRAPH ?component { ?theirs a ?r . ?r owl:onProperty obo:RO_0015002 ; owl:someValuesFrom ?class }
             GRAPH ?layer { ?ours owl:sameAs ?theirs ; akg:cellTypeReference ?class }
             GRAPH ?release { ?ours a obo:PCL_0010001 ; skos:notation ?label } }""",
    )
    assert len(names) == 47 and {r["label"] for r in rows} == set(names) and len(rows) == 47


@pytest.mark.slow
def test_hmba_cas_links_named_differently_are_refused_with_one_warning(
    tmp_path: Path, shared_integration: Path
) -> None:
    names = fx.hmba_release(tmp_path / "src", shared_integration, with_cas=True)
    stderr = export(tmp_path / "out", "HMBA-BG-taxonomy", "--source", tmp_path / "src", "--integration",
                    shared_integration)  # fmt: skip
    cas = json.loads((shared_integration / "cl" / "hmba-tdt" / "CS20250428.json").read_text(encoding="utf-8"))
    renamed = {a["cell_set_accession"] for a in cas["annotations"] if a["cell_label"] != names[a["cell_set_accession"]]}
    warnings = [line for line in stderr.splitlines() if "cas-hmba" in line]
    assert len(warnings) == 1 and all(accession in warnings[0] for accession in renamed)
    assert f"names {len(renamed)} cell set(s) differently" in warnings[0]
    store = store_of(tmp_path / "out" / "HMBA-BG-taxonomy" / "20250630" / "CCN20250428.celltypes.nq")
    linked = {
        r["s"].rsplit("/", 1)[1]
        for r in select(
            store,
            """SELECT ?s WHERE {
        ?r owl:annotatedSource ?s ; (dcterms:source|sssom:mapping_provider)/rdfs:label "cas-hmba" }""",
        )
    }
    kept = {a["cell_set_accession"] for a in cas["annotations"]
            if a["cell_ontology_term_id"] and a["cell_set_accession"] not in renamed}  # fmt: skip
    assert linked == kept and kept  # the rest exports


@pytest.mark.slow
def test_whb_every_class_base_and_tdt_row_is_linked(tmp_path: Path, shared_integration: Path) -> None:
    terms = fx.whb_release(tmp_path / "src", shared_integration)
    export(tmp_path / "out", "WHB-taxonomy", "--source", tmp_path / "src", "--integration", shared_integration)
    folder = tmp_path / "out" / "WHB-taxonomy" / "20240330"
    store = store_of(folder / "CCN202210140.nq", folder / "CCN202210140.celltypes.nq")
    base = fx.tsv_rows(shared_integration / "cl" / "whbo" / "CS202210140_class_base.tsv")
    whbo = {(r["label"], r["o"]) for r in records(store, "whbo-class-base") if r["p"].endswith("exactMatch")}
    assert whbo == {(r["Cluster_ID"], r["defined_class"]) for r in base} and len(whbo) == 469
    curated = set()
    for table in ("whb-neurons-tdt", "whb-nonneuronal-tdt"):
        rows = fx.tsv_rows(shared_integration / "cl" / table / "annotation.tsv")
        curated |= {
            (r["cell_set_accession"], iri(r["cell_ontology_term_id"])) for r in rows if r["cell_ontology_term_id"]
        }
        found = {(r["label"], r["o"]) for r in records(store, f"tdt-{table.removesuffix('-tdt')}")}
        assert found == {c for c in curated if c in found} and found
    every_tdt = {(r["label"], r["o"]) for s in ("tdt-whb-neurons", "tdt-whb-nonneuronal") for r in records(store, s)}
    assert every_tdt == curated and len(curated) == 114
    linked = {
        r["s"].rsplit("/", 1)[1] for r in select(store, "SELECT DISTINCT ?s WHERE { ?s akg:cellTypeReference ?c }")
    }
    assert len(linked) == 492 and not [label for label in linked if terms[label][1] == "subcluster"]
    [bridged] = select(
        store, "SELECT (COUNT(*) AS ?n) WHERE { ?s owl:sameAs ?p FILTER(STRSTARTS(STR(?p), STR(obo:pcl))) }"
    )
    assert bridged["n"] == "469"


@pytest.fixture(scope="module")
def derived(tmp_path_factory: pytest.TempPathFactory, shared_bucket: Path, shared_integration: Path) -> Path:
    root = tmp_path_factory.mktemp("celltypes-derived")
    fx.derived_root(root / "src", shared_bucket, ATLAS)
    export(root / "out", "WMB-taxonomy-CCN20230504", "Zeng-Aging-Mouse", "--source", root / "src",
           "--integration", shared_integration)  # fmt: skip
    return root


@pytest.mark.slow
def test_ccn20230504_clusters_reach_the_exact_class_of_their_alias(derived: Path, shared_bucket: Path,
                                                                   shared_integration: Path) -> None:  # fmt: skip
    exact = {label: iri(t["id"]) for label, t in mapping(shared_integration)["exact"].items()}
    aliases = sorted(fx.wmb_aliases(shared_bucket), key=int) + list(fx.RETIRED)
    by_alias = fx.wmb_aliases(shared_bucket)
    expected = {(f"CCN20230504_CLUS_{i + 1:04d}", exact[by_alias[a]]) for i, a in enumerate(aliases)
                if a in by_alias and by_alias[a] in exact}  # fmt: skip
    store = store_of(*sorted((derived / "out" / "WMB-taxonomy-CCN20230504").rglob("*.nq")))
    found = records(store, "pcl-wmb-mapping")
    assert {(r["label"], r["o"]) for r in found} == expected and len(expected) == 5314  # of 5,322 shared aliases
    assert {(r["p"].rsplit("#", 1)[1], r["j"].rsplit("/", 1)[1]) for r in found} == {("closeMatch", "MappingChaining")}
    never = "SELECT ?r WHERE { GRAPH ?layer { ?layer a akg:LayerGraph . ?r owl:annotatedProperty skos:exactMatch } }"
    assert not select(store, never)  # a chained link is never exact


@pytest.mark.slow
def test_aging_clusters_reach_the_exact_class_of_their_supertype(derived: Path, shared_integration: Path) -> None:
    exact = {label: iri(t["id"]) for label, t in mapping(shared_integration)["exact"].items()}
    with (ATLAS / "metadata" / "Zeng-Aging-Mouse-WMB-taxonomy" / "20241130" / "cluster_mapping.csv").open() as handle:
        supertypes = {r["cluster_label"]: r["cluster_annotation_term_label"] for r in csv.DictReader(handle)
                      if r["cluster_annotation_term_set_label"] == "CCN20230722_SUPT"}  # fmt: skip
    expected = {(c, exact[s]) for c, s in supertypes.items() if s in exact}
    store = store_of(*sorted((derived / "out" / "Zeng-Aging-Mouse").rglob("*.nq")))
    found = records(store, "pcl-wmb-mapping")
    assert {(r["label"], r["o"]) for r in found} == expected and expected
    assert {(r["p"].rsplit("#", 1)[1], r["j"].rsplit("/", 1)[1]) for r in found} == {("broadMatch", "MappingChaining")}


@pytest.mark.slow
def test_the_named_queries_answer_alike_on_embedded_oxigraph_and_virtuoso(
    tmp_path: Path, shared_integration: Path
) -> None:
    """WHB (built from its sources: curations and WHBO classes that disagree, unmapped subclusters) loaded into the
    embedded store, an Oxigraph server and Virtuoso: every cell-type query gives the same rows on each."""
    import servers
    from conftest import VIRTUOSO_ENV, load_cli

    fx.whb_release(tmp_path / "src", shared_integration)
    export(tmp_path / "out", "WHB-taxonomy", "--source", tmp_path / "src", "--integration", shared_integration)
    files = sorted((tmp_path / "out").rglob("*.nq"))
    cases = [("cell-types", {"label": "CS202210140_1"}), ("cell-types", {"pattern": "^Mgl_"}), ("unmapped", {}),
             ("conflicts", {}), ("conflicts", {"source": "tdt-whb-neurons"})]  # fmt: skip
    store = tmp_path / "embedded"
    assert load_cli(*files, "--store", store, "--no-vocabulary").exit_code == 0
    expected = [query(store, name, **params) for name, params in cases]
    assert all(expected) and len(expected[2]) > 3000 and expected[3]
    for folder in ("oxigraph", "virtuoso"):
        (tmp_path / folder).mkdir()
    started = [servers.start_oxigraph(tmp_path / "oxigraph")]
    try:
        try:
            started.append(servers.start_virtuoso(tmp_path / "virtuoso"))
        except FileNotFoundError:
            if os.environ.get("ABC_KG_REQUIRE_SERVERS"):
                raise
        for server in started:
            env = VIRTUOSO_ENV if "sparql-graph-crud" in server.endpoint else None
            loaded = load_cli(*files, "--endpoint", server.endpoint, "--no-vocabulary", env=env)
            assert loaded.exit_code == 0, loaded.stderr
            for (name, params), rows in zip(cases, expected, strict=True):
                pairs = [a for k, v in params.items() for a in ("--param", f"{k}={v}")]
                result = CliRunner(env=env).invoke(main, ["query", name, *pairs, "--endpoint", server.endpoint,
                                                          "--format", "json"], catch_exceptions=False)  # fmt: skip
                assert result.exit_code == 0, result.stderr
                assert _rows(json.loads(result.stdout)) == _rows(rows), (server.endpoint, name, params)
    finally:
        for server in started:
            server.stop()


def _rows(rows: list[dict[str, object]]) -> list[tuple[tuple[str, str], ...]]:
    """Rows as sorted (column, text) pairs: stores may order ties differently, and GROUP_CONCAT's order (the DOIs
    and marker genes) is the store's choice, so those lists compare as sorted; empty values as absent."""
    concatenated = {"dois": " ", "markers": ","}

    def text(column: str, value: object) -> str:
        if column in concatenated:
            return concatenated[column].join(sorted(str(value).split(concatenated[column])))
        return str(value)

    # an empty GROUP_CONCAT is "" on Virtuoso and unbound (left out) on Oxigraph
    return sorted(tuple(sorted((k, text(k, v)) for k, v in row.items() if v != "")) for row in rows)


# --- reasoning: the layer and the CL components together stay true, and the bridge is an identity -------------------


def _closure(graph: object) -> object:
    import owlrl

    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(graph)
    return graph


@pytest.mark.slow
def test_owl_rl_over_the_layer_and_the_component_types_no_cl_class_and_joins_by_same_as(
    tmp_path: Path, shared_integration: Path
) -> None:
    """HMBA-BG (built from bgo-cl-comp.owl) with its layer in the OWL view, bgo-cl-comp.owl, the ontology and the
    outside axioms: the OWL 2 RL closure is consistent, makes no CL class a skos:Concept, a cell set or a member of
    the taxonomy, and gives each of this project's 47 cell-set IRIs CL's own `RO:0015002 some CL:x` typing, because
    the bridge is owl:sameAs. With skos:exactMatch in its place, no typing crosses: the bridge would not join."""
    import pyshacl
    import rdflib
    from rdflib.namespace import OWL, RDF, SKOS
    from test_reasoning import background

    from abc_atlas_kg.validate.run import shapes_graph

    fx.hmba_release(tmp_path / "src", shared_integration, with_cas=False)
    out = tmp_path / "out"
    result = run("export", "HMBA-BG-taxonomy", "--source", tmp_path / "src", "--integration", shared_integration,
                 "--out", out, "--format", "nq", "--owl-view")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    exported = rdflib.Dataset()
    for path in sorted(out.rglob("*.nq")):
        exported.parse(path, format="nquads")
    layer = next(g for g in exported.graphs() if str(g.identifier).endswith("/celltypes"))
    data = rdflib.Graph()
    for triple in layer:
        data.add(triple)
    conforms, _, text = pyshacl.validate(data, shacl_graph=shapes_graph(), ont_graph=background(), inference="rdfs",
                                         advanced=True)  # fmt: skip
    assert conforms, text

    def closed(bridge: rdflib.URIRef, owl_view: bool) -> rdflib.Graph:
        union = background().parse(shared_integration / BGO, format="xml")
        for s, p, o, _ in exported.quads():
            if owl_view or (not isinstance(s, rdflib.BNode) and not isinstance(o, rdflib.BNode)):
                union.add((s, bridge if p == OWL.sameAs else p, o))
        return _closure(union)

    union = closed(OWL.sameAs, owl_view=True)
    assert not list(union.subjects(RDF.type, OWL.Nothing))
    cell_set = rdflib.URIRef(OBO + "PCL_0010001")
    for subject, _, cls in union.triples((None, RDF.type, None)):
        if str(subject).startswith((OBO + "CL_", OBO + "PCL_")):
            assert cls not in (SKOS.Concept, cell_set), (subject, cls)
    assert not [s for s in union.subjects(SKOS.inScheme, None) if str(s).startswith((OBO + "CL_", OBO + "PCL_"))]
    ours = [s for s in union.subjects(SKOS.inScheme, None) if "/taxonomy/CCN20250428/" in str(s)]

    def typed_by_cl(graph: rdflib.Graph) -> set[str]:
        """Our cell sets that carry a `RO:0015002 some CL:x` restriction after the closure."""
        return {
            str(subject)
            for subject in ours
            for restriction in graph.objects(subject, RDF.type)
            if (restriction, OWL.onProperty, rdflib.URIRef(OBO + "RO_0015002")) in graph
        }

    assert len(typed_by_cl(closed(OWL.sameAs, owl_view=False))) == 47
    assert typed_by_cl(closed(SKOS.exactMatch, owl_view=False)) == set()


# --- shapes: every record carries its justification, source and version ---------------------------------------------


def _small_layer(owl_view: bool = False) -> list[ox.Triple]:
    """The layer graph of two hand-made records on the atlas fixture's WMB cell sets, through the real converter."""
    from abc_atlas_kg.build import load_taxonomy
    from abc_atlas_kg.convert.release import iris_of

    taxonomy = load_taxonomy("WMB-taxonomy", ATLAS)
    source = declared.sources()["tdt-wmb"]
    located = {}
    context = LayerContext("celltypes", taxonomy, located, lambda _: taxonomy, lambda *_: None,
                           options=frozenset({"owl-view"} if owl_view else ()))  # fmt: skip
    links = CellTypeRecords(
        links=[
            CellTypeLink(
                "CS20230722_CLAS_01",
                "CL:0000540",
                "exactMatch",
                "ManualMappingCuration",
                source.id,
                dois=("https://doi.org/10.1/x",),
                markers=("Slc17a7",),
            )
        ],
        bridges=[
            Bridge(
                "CS20230722_CLAS_01", "https://purl.brain-bican.org/ontology/CCN20230722/CS20230722_CLAS_01", source.id
            )
        ],
        sources={source.id: source},
    )
    return list(convert.convert(links, context, iris_of(taxonomy)).triples)


def _without(triples: list[ox.Triple], predicate: str) -> list[ox.Triple]:
    return [t for t in triples if not t.predicate.value.endswith(predicate)]


def _messages(triples: list[ox.Triple]) -> str:
    report = validate(triples)
    assert not report.conforms
    return report.text()


def test_the_small_layer_conforms_and_its_owl_view_is_cls_pattern() -> None:
    triples = _small_layer(owl_view=True)
    assert validate(triples).conforms
    restriction = [
        t.object for t in triples if t.predicate.value.endswith("#type") and isinstance(t.object, ox.BlankNode)
    ]
    assert len(restriction) == 1
    about = {(t.predicate.value.rsplit("#", 1)[1], t.object.value) for t in triples if t.subject == restriction[0]}
    assert about == {("type", "http://www.w3.org/2002/07/owl#Restriction"), ("onProperty", OBO + "RO_0015002"),
                     ("someValuesFrom", OBO + "CL_0000540")}  # fmt: skip


@pytest.mark.parametrize(
    ("break_it", "message"),
    [
        (lambda ts: _without(ts, "mapping_justification"), "justification"),
        (lambda ts: _without(_without(ts, "/source"), "mapping_provider"), "names exactly one source file"),
        (lambda ts: _without(ts, "#versionInfo"), "version of the source"),
        (lambda ts: _without(ts, "#isVersionOf"), "derived from exactly one release"),
    ],
)
def test_the_shapes_catch_a_record_without_justification_source_or_version(break_it, message: str) -> None:
    assert message in _messages(break_it(_small_layer()))


def test_the_shapes_refuse_a_chained_exact_link_and_a_subject_of_another_taxonomy() -> None:
    triples = _small_layer()
    chained = [
        ox.Triple(t.subject, t.predicate, ox.NamedNode("https://w3id.org/semapv/vocab/MappingChaining"))
        if t.predicate.value.endswith("mapping_justification") else t
        for t in triples
    ]  # fmt: skip
    assert "never skos:exactMatch" in _messages(chained)
    elsewhere = ox.NamedNode("https://purl.brain-bican.org/taxonomy/CCN20250428/CS20250428_CLASS_0000")
    moved = [ox.Triple(t.subject, t.predicate, elsewhere) if t.predicate.value.endswith("annotatedSource") else t
             for t in triples]  # fmt: skip
    assert "is not a cell set of the release's taxonomy" in _messages(moved)


def test_with_the_release_graph_a_subject_must_be_one_of_its_cell_sets(tmp_path: Path) -> None:
    """Validated beside the release graph (as in a store), a record about a label the release lacks is refused."""
    from abc_atlas_kg.build import load_taxonomy
    from abc_atlas_kg.convert import release

    taxonomy = load_taxonomy("WMB-taxonomy", ATLAS)
    triples = _small_layer()
    ghost = ox.NamedNode("https://purl.brain-bican.org/taxonomy/CCN20230722/CS20230722_CLAS_99")
    moved = [ox.Triple(t.subject, t.predicate, ghost) if t.predicate.value.endswith("annotatedSource") else t
             for t in triples]  # fmt: skip
    union = list(release.triples(taxonomy))
    assert validate(union + triples).conforms
    assert "CS20230722_CLAS_99" in _messages(union + moved)


# --- readers: malformed input is one problem naming file, row, column and value -------------------------------------

TDT_HEADER = "cell_set_accession\tcell_label\tlabelset\tcell_ontology_term_id\tcell_ontology_term\n"
OWL_HEAD = """<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:owl="http://www.w3.org/2002/07/owl#">
  <owl:NamedIndividual rdf:about="https://purl.brain-bican.org/ontology/CCN20230722/CS20230722_CLAS_01">
    <rdf:type><owl:Restriction>
      <owl:onProperty rdf:resource="http://purl.obolibrary.org/obo/RO_0015002"/>
      <owl:someValuesFrom rdf:resource="%s"/>
    </owl:Restriction></rdf:type>
  </owl:NamedIndividual>
</rdf:RDF>
"""


@pytest.mark.parametrize(
    ("reader", "name", "text", "where"),
    [
        ("tdt", "annotation.tsv", TDT_HEADER + "CS20230722_CLAS_01\t01 IT-ET Glut\tclass\tCL:54\tneuron\n",
         "row 2, column 'cell_ontology_term_id': is not a CL or PCL id (CL:nnnnnnn, PCL:nnnnnnn) (value 'CL:54')"),
        ("tdt", "annotation.tsv", "cell_label\tlabelset\n01\tclass\n", "row 1: lacks the column(s)"),
        ("cas_json", "cas.json", json.dumps({"annotations": [{"cell_set_accession": "CS1", "cell_label": 7}]}),
         "row 1, column 'cell_label': expected a string or null (value '7')"),
        ("cas_json", "cas.json", '{"annotations": [', "is not valid JSON"),
        ("pcl_mapping", "mapping.json", json.dumps({"exact": {"CS20230722_CLAS_01": {"id": "UBERON:0000955"}}}),
         "column 'exact/CS20230722_CLAS_01/id': is not a CL or PCL id (value \"'UBERON:0000955'\")"),
        ("cl_component", "comp.owl", OWL_HEAD % "http://purl.obolibrary.org/obo/UBERON_0000955",
         "RO_0015002 some names a class outside CL/PCL (value 'http://purl.obolibrary.org/obo/UBERON_0000955')"),
        ("cl_component", "comp.owl", "<rdf:RDF", "is not valid RDF/XML"),
        ("whbo_class_base", "base.tsv",
         "defined_class\tprefLabel\tCluster_ID\tIndividual\tGross_cell_type\n"
         "http://purl.obolibrary.org/obo/PCL_0051005\tMgl_4\tCS202210140_5\thttp://purl.obolibrary.org/obo/pcl/CS202210140_6\tCL:0000129\n",
         "row 2, column 'Individual': is not the IRI of the cell set CS202210140_5"),
    ],
)  # fmt: skip
def test_a_malformed_source_is_an_input_error_naming_file_row_column_and_value(
    tmp_path: Path, reader: str, name: str, text: str, where: str
) -> None:
    import importlib

    from abc_atlas_kg.errors import InputError

    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    module = importlib.import_module(f"abc_atlas_kg.source.integration.readers.{reader}")
    with pytest.raises(InputError) as raised:
        module.read(path)
    assert str(path) in str(raised.value) and where in str(raised.value), str(raised.value)


def test_curators_dois_become_doi_iris_and_markers_a_list() -> None:
    from abc_atlas_kg.source.integration.readers.curation import dois, markers

    written = "https://doi.org/10.1084%2Fjem.20110345|https://doi.org/10.1038. https://10.5281/zenodo.17543831,doi:10.3389/fncel.2015.00480; DOI:10.1126/science.adf6812. mousebrain.org"
    assert dois(written) == (
        "https://doi.org/10.1084/jem.20110345", "https://doi.org/10.5281/zenodo.17543831",
        "https://doi.org/10.3389/fncel.2015.00480", "https://doi.org/10.1126/science.adf6812",
    )  # fmt: skip
    assert markers("DOCK8|PAX5|FCRL1") == ("DOCK8", "PAX5", "FCRL1") and markers("Crx,Gngt1, Crx") == ("Crx", "Gngt1")


# --- the fetch path -----------------------------------------------------------------------------------------------


WMB_SOURCES = [s for s in declared.for_taxonomy("WMB-taxonomy", "celltypes")]


def _bucket_root(tmp_path: Path) -> Path:
    root = tmp_path / "bucket"
    shutil.copytree(COMPLETE_RELEASE, root / "metadata" / "WMB-taxonomy" / WMB_RELEASE)
    write_manifest(root, WMB_RELEASE, {"WMB-taxonomy": WMB_RELEASE})
    return root


def _mirror(tmp_path: Path, integration: Path, tamper: str | None = None) -> Path:
    """The WMB cell-type sources laid out as on --integration-url; `tamper` flips one byte of that source."""
    mirror = tmp_path / "mirror"
    for source in WMB_SOURCES:
        target = mirror / source.path
        target.parent.mkdir(parents=True, exist_ok=True)
        data = bytearray((integration / source.path).read_bytes())
        if source.id == tamper:
            data[-2] ^= 0x20
        target.write_bytes(bytes(data))
    return mirror


def _fetching_export(bucket_url: str, cache: Path, out: Path, *extra: str) -> object:
    return run("export", "WMB-taxonomy", "--release", WMB_RELEASE, "--cache", cache, "--base-url", bucket_url,
               "--out", out, "--format", "nq", "--timeout", "5", "--retries", "0", *extra)  # fmt: skip


@pytest.mark.slow
def test_sources_are_downloaded_from_the_mirror_verified_and_cached(tmp_path: Path, shared_integration: Path) -> None:
    with serve(_bucket_root(tmp_path)) as bucket, serve(_mirror(tmp_path, shared_integration)) as mirror:
        result = _fetching_export(bucket.url, tmp_path / "cache", tmp_path / "out", "--integration-url", mirror.url)
        assert result.exit_code == 0, result.stderr
        assert mirror.count() == len(WMB_SOURCES)
        again = _fetching_export(bucket.url, tmp_path / "cache", tmp_path / "out2", "--integration-url", mirror.url)
        assert again.exit_code == 0 and mirror.count() == len(WMB_SOURCES)  # the cache answered
    layer = tmp_path / "out2" / "WMB-taxonomy" / WMB_RELEASE / "CCN20230722.celltypes.nq"
    sources = select(store_of(layer), "SELECT ?id ?md5 WHERE { ?f a akg:SourceFile ; rdfs:label ?id ; akg:md5 ?md5 }")
    assert {(r["id"], r["md5"]) for r in sources} <= {(s.id, s.md5) for s in WMB_SOURCES} and sources


@pytest.mark.slow
def test_a_source_whose_bytes_do_not_match_its_md5_is_exit_4(tmp_path: Path, shared_integration: Path) -> None:
    with serve(_bucket_root(tmp_path)) as bucket, serve(_mirror(tmp_path, shared_integration, "tdt-wmb")) as mirror:
        result = _fetching_export(bucket.url, tmp_path / "cache", tmp_path / "out", "--integration-url", mirror.url)
    assert result.exit_code == 4 and "MD5" in result.stderr
    assert not list((tmp_path / "cache" / "integration").rglob("annotation.tsv"))


@pytest.mark.slow
def test_offline_without_the_sources_the_export_goes_on_without_the_layer_said_once(tmp_path: Path) -> None:
    with serve(_bucket_root(tmp_path)) as bucket:
        fetched = run("fetch", "WMB-taxonomy", "--release", WMB_RELEASE, "--cache", tmp_path / "cache",
                      "--base-url", bucket.url)  # fmt: skip
        assert fetched.exit_code == 0, fetched.stderr
        url = bucket.url
    result = _fetching_export(url, tmp_path / "cache", tmp_path / "out", "--offline")  # the server is gone
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("no celltypes layer") == 1
    assert not list((tmp_path / "out").rglob("*.celltypes.*"))
