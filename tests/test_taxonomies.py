"""All seven taxonomies, exported by the real CLI from fixtures in the exact published column layout.

`tests/fixtures/atlas` holds one small release per taxonomy (rows copied from the ABC Atlas where the
reference has them; see its README). Ground truth is read from the CSV files with the stdlib csv module;
SPARQL over the written files must find all of it, and every cross-taxonomy link must land on a node that
the other taxonomy's export contains.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import AGING_10XV3, FIXTURES, atlas_with_aging_counts, load_store, run, select

from abc_atlas_kg import registry

ATLAS = FIXTURES / "atlas"
AKG = "https://w3id.org/abc-atlas-kg/vocab/"
META = ATLAS / "metadata"

# taxonomy id -> (release folder of its term tables, accession)
STANDARD = {
    "WMB-taxonomy": ("WMB-taxonomy/20231215", "CCN20230722"),
    "WMB-taxonomy-CCN20230504": ("WMB-taxonomy/20230630", "CCN20230504"),
    "Consensus-WMB-taxonomy": ("Consensus-WMB-integrated-taxonomy/20251031", "CCN20251031"),
    "WHB-taxonomy": ("WHB-taxonomy/20240330", "CCN202210140"),
    "SEAAD-taxonomy": ("SEAAD-taxonomy/20240131", "CCN20230508"),
    "HMBA-BG-taxonomy": ("HMBA-BG-taxonomy-CCN20250428/20250630", "CCN20250428"),
}


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("atlas-out")
    result = run("export", "--all", "--source", ATLAS, "--out", out)
    assert result.exit_code == 0, result.stderr
    return out


def output(out: Path, taxonomy_id: str, suffix: str = "ttl") -> Path:
    """The one file of a taxonomy's export with this suffix (`mappings.ttl` for its mapping file)."""
    [path] = [
        p for p in (out / taxonomy_id).glob(f"*/*.{suffix}") if "mappings" in suffix or ".mappings." not in p.name
    ]
    return path


@pytest.fixture(scope="module")
def union(exported: Path) -> ox.Store:
    """Every taxonomy's N-Quads and mapping file in one store, as a user would load them."""
    store = ox.Store()
    for path in sorted(exported.glob("*/*/*.nq")):
        store.bulk_load(path=str(path), format=ox.RdfFormat.N_QUADS)
    return store


def test_all_seven_taxonomies_are_registered_and_exported(exported: Path) -> None:
    assert len(registry.taxonomies()) == 7
    assert sorted(p.name for p in exported.iterdir()) == sorted(registry.taxonomies())
    listed = run("taxonomies").stdout
    for spec in registry.taxonomies().values():
        assert spec.accession in listed


@pytest.mark.parametrize("taxonomy_id", STANDARD)
def test_every_level_term_parent_colour_order_and_count(exported: Path, taxonomy_id: str) -> None:
    folder, _ = STANDARD[taxonomy_id]
    store = load_store(output(exported, taxonomy_id, "nt"))
    levels = {
        r["label"]: r
        for r in select(
            store,
            "SELECT ?label ?name ?rank WHERE { ?l a akg:Level ; skos:notation ?label ; rdfs:label ?name ; akg:rank ?rank }",
        )
    }
    expected_levels = rows(META / folder / "cluster_annotation_term_set.csv")
    assert len(levels) == len(expected_levels)
    for row in expected_levels:
        rank = row.get("order", row.get("term_set_order"))
        assert (levels[row["label"]]["name"], levels[row["label"]]["rank"]) == (row["name"], rank)
    terms = {
        r["label"]: r
        for r in select(
            store,
            """SELECT ?label ?name ?level ?parent ?colour ?order ?cells ?description WHERE {
                 ?t a obo:PCL_0010001 ; skos:notation ?label ; rdfs:label ?name ; akg:level/skos:notation ?level .
                 OPTIONAL { ?t skos:broader/skos:notation ?parent } OPTIONAL { ?t akg:color ?colour }
                 OPTIONAL { ?t akg:order ?order } OPTIONAL { ?t dcterms:description ?description }
                 OPTIONAL { ?t akg:cellCount ?cells } }""",
        )
    }
    expected_terms = rows(META / folder / "cluster_annotation_term.csv")
    assert len(terms) == len(expected_terms)
    for row in expected_terms:
        term = terms[row["label"]]
        assert term["name"] == row["name"]
        assert term["level"] == row["cluster_annotation_term_set_label"]
        assert term.get("parent", "") == row["parent_term_label"]
        assert term["colour"] == row["color_hex_triplet"]
        assert term["order"] == row["term_order"]
        assert term.get("description", "") == row.get("description", "")
        if "number_of_cells" in row:
            assert term["cells"] == row["number_of_cells"]


@pytest.mark.parametrize("taxonomy_id", STANDARD)
def test_every_cluster_and_membership(exported: Path, taxonomy_id: str) -> None:
    folder, _ = STANDARD[taxonomy_id]
    store = load_store(output(exported, taxonomy_id, "jsonld"))
    memberships = select(
        store, "SELECT ?alias ?term WHERE { ?c akg:clusterAlias ?alias ; akg:memberOf/skos:notation ?term }"
    )
    expected = rows(META / folder / "cluster_to_cluster_annotation_membership.csv")
    assert sorted((m["alias"], m["term"]) for m in memberships) == sorted(
        (r["cluster_alias"], r["cluster_annotation_term_label"]) for r in expected
    )
    clusters = select(
        store,
        "SELECT ?alias ?label ?cells WHERE { ?c a akg:Cluster ; akg:clusterAlias ?alias . OPTIONAL { ?c dcterms:identifier ?label } OPTIONAL { ?c akg:cellCount ?cells } }",
    )
    cluster_file = META / folder / "cluster.csv"
    if cluster_file.exists():
        assert sorted((c["alias"], c["label"], c["cells"]) for c in clusters) == sorted(
            (r["cluster_alias"], r["label"], r["number_of_cells"]) for r in rows(cluster_file)
        )
    else:  # SEA-AD: clusters only from memberships, keyed by text aliases
        assert sorted(c["alias"] for c in clusters) == sorted({r["cluster_alias"] for r in expected})


def test_wmb_first_release_has_division_as_a_facet_and_ccn_labels(exported: Path) -> None:
    store = load_store(output(exported, "WMB-taxonomy-CCN20230504"))
    # classes are roots: division is a facet, not the parent of class
    assert select(store, 'SELECT ?p WHERE { ?t skos:notation "CCN20230504_CLAS_01" ; skos:broader ?p }') == []
    facets = select(store, "SELECT ?name WHERE { ?l a akg:Facet ; rdfs:label ?name } ORDER BY ?name")
    assert facets == [{"name": "division"}, {"name": "neurotransmitter"}]
    # one class spans two divisions
    divisions = select(
        store,
        """SELECT DISTINCT ?division WHERE { ?c akg:memberOf ?class , ?d . ?class skos:notation "CCN20230504_CLAS_01" .
             ?d akg:level/skos:notation "CCN20230504_DIVI" ; rdfs:label ?division } ORDER BY ?division""",
    )
    assert divisions == [{"division": "1 Pallium glutamatergic"}, {"division": "2 Subpallium GABAergic"}]
    # a supertype label with a letter suffix; non-neuronal clusters have no neurotransmitter membership
    assert select(store, 'SELECT ?n WHERE { ?t skos:notation "CCN20230504_SUPT_0040a" ; rdfs:label ?n }') == [
        {"n": "0040a Car3 Glut_2"}
    ]
    nt = 'SELECT ?t WHERE { ?c akg:clusterAlias "5273" ; akg:memberOf ?t . ?t akg:level/skos:notation "CCN20230504_NEUR" }'
    assert select(store, nt) == []
    terms = select(store, 'SELECT ?t WHERE { ?t akg:level/skos:notation "CCN20230504_NEUR" }')
    assert len(terms) == 9


def test_wmb_releases_are_linked_by_shared_cluster_alias(union: ox.Store) -> None:
    found = select(
        union,
        """SELECT ?old ?new ?justification WHERE {
             ?o skos:exactMatch ?n ; skos:notation ?old . ?n skos:notation ?new ; skos:inScheme/dcterms:identifier "CCN20230722" .
             ?axiom owl:annotatedSource ?o ; owl:annotatedTarget ?n ; sssom:mapping_justification ?justification }""",
    )
    assert sorted((r["old"], r["new"]) for r in found) == [
        ("CCN20230504_CLUS_0001", "CS20230722_CLUS_0001"),
        ("CCN20230504_CLUS_0002", "CS20230722_CLUS_0002"),
        ("CCN20230504_CLUS_5196", "CS20230722_CLUS_5322"),
    ]
    assert {r["justification"] for r in found} == {"https://w3id.org/semapv/vocab/InstanceBasedMatching"}


def test_consensus_quirks(exported: Path) -> None:
    store = load_store(output(exported, "Consensus-WMB-taxonomy"))
    nn = select(store, 'SELECT ?label WHERE { ?t rdfs:label "NN" ; skos:notation ?label ; akg:level/a akg:Facet }')
    assert nn == [{"label": "CS20251031_NEUR_0003"}]
    # cluster.csv's label is the cluster term's label; the leaf cluster is still its own node, member of that term
    cluster = select(
        store,
        """SELECT ?alias ?cells ?c WHERE { ?c a akg:Cluster ; dcterms:identifier "CS20251031_CLUS_6717" ;
             akg:clusterAlias ?alias ; akg:cellCount ?cells ; akg:memberOf ?t . ?t skos:notation "CS20251031_CLUS_6717" }""",
    )
    assert cluster == [{"alias": "1736", "cells": "307", "c": "https://w3id.org/abc-atlas-kg/cluster/CCN20251031/1736"}]
    odd = select(store, 'SELECT ?t WHERE { ?t rdfs:label "040 OB_Eomes:Sall1_Glut" }')
    assert odd == [{"t": "https://purl.brain-bican.org/taxonomy/CCN20251031/CS20251031_CLAS_0040"}]


def test_aging_without_the_10xv3_cluster_table_exports_from_cluster_mapping(exported: Path) -> None:
    store = load_store(output(exported, "Zeng-Aging-Mouse", "nt"))
    clusters = select(store, "SELECT ?alias WHERE { ?c a akg:Cluster ; akg:clusterAlias ?alias }")
    assert sorted(r["alias"] for r in clusters) == ["1", "2", "843"]
    terms = select(
        store, "SELECT ?label ?name WHERE { ?t a obo:PCL_0010001 ; skos:notation ?label ; rdfs:label ?name }"
    )
    expected = rows(META / "Zeng-Aging-Mouse-WMB-taxonomy/20241130/cluster_mapping.csv")
    assert sorted((t["label"], t["name"]) for t in terms) == sorted(
        {(r["cluster_label"], r["cluster_name"]) for r in expected}
    )
    assert select(store, "SELECT ?c WHERE { ?c akg:cellCount ?n }") == []  # no counts without cluster.csv


def test_aging_clusters_statistics_and_facet_from_a_10xv3_table_at_its_own_version(tmp_path: Path) -> None:
    """The 10Xv3 cluster.csv at directory version 20250131 (20 columns) enriches the 20241130 taxonomy."""
    root = atlas_with_aging_counts(tmp_path / "atlas")
    result = run("export", "Zeng-Aging-Mouse", "--source", root, "--out", tmp_path / "out", "--format", "nt")
    assert result.exit_code == 0, result.stderr
    assert "is absent" not in result.stderr
    store = load_store(tmp_path / "out" / "Zeng-Aging-Mouse" / "20241130" / "CS20241021.nt")
    found = {
        r["alias"]: r
        for r in select(
            store,
            """SELECT ?alias ?cells ?adult ?aged ?share ?odds ?bias ?nt WHERE {
                 ?c a akg:Cluster ; akg:clusterAlias ?alias ; akg:cellCount ?cells ; akg:adultCellCount ?adult ;
                    akg:agedCellCount ?aged ; akg:agedCellProportion ?share ; akg:agedOddsRatio ?odds ; akg:ageBias ?bias ;
                    akg:memberOf ?t . ?t akg:level/a akg:Facet ; rdfs:label ?nt }""",
        )
    }
    expected = rows(AGING_10XV3 / "Zeng-Aging-Mouse-10Xv3/20250131/cluster.csv")
    assert len(found) == len(expected) == 3
    for row in expected:
        c = found[row["cluster_alias"]]
        assert (c["cells"], c["adult"], c["aged"], c["bias"], c["nt"]) == (
            row["number_of_cells"],
            row["number_of_adult_cells"],
            row["number_of_aged_cells"],
            row["cluster_age_bias"],
            row["neurotransmitter_combined_label"],
        )
        assert float(c["share"]) == float(row["proportion_aged_cells"])
    assert found["2"]["odds"] == "INF"
    assert found["843"]["nt"] == "No-NT"


def test_aging_maps_onto_wmb_terms_that_the_wmb_export_contains(union: ox.Store) -> None:
    found = select(
        union,
        """SELECT ?aging ?wmb ?justification WHERE {
             ?axiom owl:annotatedSource ?a ; owl:annotatedProperty skos:broadMatch ; owl:annotatedTarget ?w ;
                    sssom:mapping_justification ?justification .
             ?a skos:notation ?aging ; skos:inScheme/dcterms:identifier "CS20241021" .
             OPTIONAL { ?w skos:notation ?wmb ; skos:inScheme/dcterms:identifier "CCN20230722" } }""",
    )
    expected = rows(META / "Zeng-Aging-Mouse-WMB-taxonomy/20241130/cluster_mapping.csv")
    assert sorted((r["aging"], r.get("wmb")) for r in found) == sorted(
        (r["cluster_label"], r["cluster_annotation_term_label"]) for r in expected
    )
    assert {r["justification"] for r in found} == {"https://w3id.org/semapv/vocab/ManualMappingCuration"}
    # stated only as an SSSOM axiom: a plain skos:broadMatch would entail skos:broader, a parent in another scheme
    assert select(union, "SELECT ?a WHERE { ?a skos:broadMatch ?w }") == []
    # a mapping, not a claim of identity: no aging cluster is typed or placed in the WMB scheme
    assert (
        select(
            union,
            'SELECT ?a WHERE { ?a skos:inScheme/dcterms:identifier "CCN20230722" ; skos:notation ?n FILTER(STRSTARTS(?n, "CS20241021")) }',
        )
        == []
    )


def test_whb_levels_come_from_the_term_set_not_the_label(exported: Path) -> None:
    store = load_store(output(exported, "WHB-taxonomy"))
    levels = select(
        store,
        "SELECT ?name ?parent WHERE { ?l a akg:HierarchyLevel ; rdfs:label ?name . OPTIONAL { ?l akg:parentLevel/rdfs:label ?parent } } ORDER BY ?name",
    )
    assert levels == [
        {"name": "cluster", "parent": "supercluster"},
        {"name": "subcluster", "parent": "cluster"},
        {"name": "supercluster"},
    ]
    none = select(store, 'SELECT ?cells WHERE { ?t rdfs:label "None" ; akg:cellCount ?cells }')
    assert none == [{"cells": "914696"}]  # a name, read with NA detection off
    zero = select(
        store,
        'SELECT ?id ?t WHERE { ?c akg:clusterAlias "0" ; dcterms:identifier ?id ; akg:memberOf ?m . ?m akg:level/rdfs:label "subcluster" ; skos:notation ?t }',
    )
    assert zero == [{"id": "CS202210140_494", "t": "CS202210140_494"}]


def test_seaad_text_aliases_and_abundance_facet(exported: Path) -> None:
    store = load_store(output(exported, "SEAAD-taxonomy"))
    found = select(
        store,
        'SELECT ?change WHERE { ?c akg:clusterAlias "Micro-PVM_4-SEAAD" ; akg:memberOf ?t . ?t akg:level/skos:notation "CCN20230508_ACPS" ; rdfs:label ?change }',
    )
    assert found == [{"change": "increase"}]


def test_hmba_species_from_cluster_names(exported: Path) -> None:
    store = load_store(output(exported, "HMBA-BG-taxonomy"))
    found = select(
        store,
        'SELECT ?name ?species WHERE { ?t akg:level/skos:notation "CCN20250428_LEVEL_4" ; rdfs:label ?name ; akg:species ?species }',
    )
    assert sorted((r["name"], r["species"]) for r in found) == [
        ("Human-128", "http://purl.obolibrary.org/obo/NCBITaxon_9606"),
        ("Macaque-490", "http://purl.obolibrary.org/obo/NCBITaxon_9544"),
        ("Marmoset-859", "http://purl.obolibrary.org/obo/NCBITaxon_9483"),
    ]
    taxonomy = select(store, "SELECT ?species WHERE { ?t a obo:PCL_0010002 ; akg:species ?species }")
    assert len(taxonomy) == 3
    assert select(store, "SELECT ?s WHERE { ?s obo:RO_0002162 ?o }") == []  # 'in taxon' would make it an organism


def test_hmba_abbreviations_link_to_cl_uberon_dhba_and_ensembl(exported: Path) -> None:
    store = load_store(output(exported, "HMBA-BG-taxonomy", "mappings.ttl"))
    found = select(
        store,
        """SELECT ?label ?target ?kind WHERE {
             ?a owl:annotatedSource ?t ; owl:annotatedProperty skos:relatedMatch ; owl:annotatedTarget ?target ;
                sssom:mapping_justification semapv:ManualMappingCuration .
             ?t ?kind ?target . FILTER(?kind IN (akg:cellTypeReference, akg:anatomyReference, akg:geneReference))
             BIND(STRAFTER(STR(?t), "CCN20250428/") AS ?label) }""",
    )
    kinds = {r["target"].rsplit("/", 1)[-1].split("_")[0].rstrip("0123456789"): r["kind"] for r in found}
    assert kinds == {
        "CL": f"{AKG}cellTypeReference",
        "ENSG": f"{AKG}geneReference",
        "UBERON": f"{AKG}anatomyReference",
        "DHBA": f"{AKG}anatomyReference",
    }
    assert sorted((r["label"], r["target"]) for r in found) == [
        ("CS20250428_CLASS_0000", "http://purl.obolibrary.org/obo/CL_0000127"),
        ("CS20250428_CLASS_0005", "http://purl.obolibrary.org/obo/CL_0000679"),
        ("CS20250428_GROUP_0002", "http://identifiers.org/ensembl/ENSG00000188779"),
        ("CS20250428_GROUP_0002", "http://purl.obolibrary.org/obo/CL_0000679"),
        ("CS20250428_GROUP_0016", "http://purl.obolibrary.org/obo/UBERON_0002476"),
        ("CS20250428_GROUP_0016", "https://purl.brain-bican.org/ontology/dhbao/DHBA_10343"),
        ("CS20250428_SUBCL_0003", "http://purl.obolibrary.org/obo/CL_0000679"),
    ]


def test_mapping_files_have_their_own_graph_and_load_beside_the_release_graphs(exported: Path, union: ox.Store) -> None:
    releases, mappings = ox.Store(), ox.Store()
    for path in sorted(exported.glob("*/*/*.nq")):
        (mappings if ".mappings." in path.name else releases).bulk_load(path=str(path), format=ox.RdfFormat.N_QUADS)
    assert len(mappings) > 0
    assert len(union) == len(releases) + len(mappings)  # no quad in both: nothing is said twice
    release_graphs, mapping_graphs = set(releases.named_graphs()), set(mappings.named_graphs())
    assert release_graphs and mapping_graphs and not release_graphs & mapping_graphs
    assert all(g.value.endswith("/mappings") for g in mapping_graphs)


@pytest.mark.parametrize("taxonomy_id", sorted(registry.taxonomies()))
def test_each_export_conforms(exported: Path, taxonomy_id: str) -> None:
    found = sorted(p for p in (exported / taxonomy_id).glob("*/*") if not p.name.startswith("."))
    files = [p for p in found if p.suffix != ".tsv"]
    assert len(files) in (4, 8)
    assert (len(files) == 8) == any(p.name.endswith(".sssom.tsv") for p in found)  # mappings come with SSSOM
    result = run("validate", *files)
    assert result.exit_code == 0, result.stderr
