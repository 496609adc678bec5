"""Round-trip fidelity: everything in the input tables can be recovered from the written RDF by SPARQL.

The expectations are read straight from the CSV files with the stdlib csv module, independently of
abc_atlas_kg.source.tables, and compared with what SPARQL finds in each written format.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from conftest import COMPLETE_RELEASE, FORMATS, SAMPLE_RELEASE, Export, select


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def export_of(request: pytest.FixtureRequest, which: str) -> Export:
    return request.getfixturevalue(f"{which}_export")


RELEASES = {"sample": SAMPLE_RELEASE, "complete": COMPLETE_RELEASE}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("which", ["sample", "complete"])
def test_every_term_with_level_parent_colour_and_order(request: pytest.FixtureRequest, which: str, fmt: str) -> None:
    store = export_of(request, which).store(fmt)
    found = {
        r["label"]: r
        for r in select(
            store,
            """SELECT ?label ?name ?pref ?level ?parent ?colour ?order WHERE {
                 ?t a obo:PCL_0010001, skos:Concept ; skos:notation ?label ; dcterms:identifier ?label ;
                    rdfs:label ?name ; skos:prefLabel ?pref ; akg:level/skos:notation ?level .
                 OPTIONAL { ?t akg:parent/skos:notation ?parent . ?t skos:broader/skos:notation ?parent .
                            ?t obo:RO_0015003/skos:notation ?parent }
                 OPTIONAL { ?t akg:color ?colour } OPTIONAL { ?t akg:order ?order } }""",
        )
    }
    expected = rows(RELEASES[which] / "cluster_annotation_term.csv")
    assert len(found) == len(expected)
    for row in expected:
        term = found[row["label"]]
        assert term["name"] == term["pref"] == row["name"]
        assert term["level"] == row["cluster_annotation_term_set_label"]
        assert term.get("parent", "") == row["parent_term_label"]
        assert term["colour"] == row["color_hex_triplet"]
        assert term["order"] == row["term_order"]


@pytest.mark.parametrize("which", ["sample", "complete"])
def test_every_level_with_rank_and_facet_flag(request: pytest.FixtureRequest, which: str) -> None:
    store = export_of(request, which).store("ttl")
    found = {
        r["label"]: r
        for r in select(
            store,
            """SELECT ?label ?name ?rank ?kind ?description WHERE {
                 ?l a akg:Level, ?kind ; skos:notation ?label ; rdfs:label ?name ; akg:rank ?rank ;
                    dcterms:description ?description .
                 FILTER(?kind IN (akg:HierarchyLevel, akg:Facet)) }""",
        )
    }
    expected = rows(RELEASES[which] / "cluster_annotation_term_set.csv")
    assert len(found) == len(expected) == 5
    for row in expected:
        level = found[row["label"]]
        assert (level["name"], level["rank"], level["description"]) == (row["name"], row["order"], row["description"])
    assert found["CCN20230722_NEUR"]["kind"].endswith("Facet")
    assert {r["label"] for r in found.values() if r["kind"].endswith("HierarchyLevel")} == {
        "CCN20230722_CLAS",
        "CCN20230722_SUBC",
        "CCN20230722_SUPT",
        "CCN20230722_CLUS",
    }
    chain = select(
        store,
        "SELECT ?child ?parent WHERE { ?c akg:parentLevel ?p . ?c skos:notation ?child . ?p skos:notation ?parent }",
    )
    assert {(r["child"], r["parent"]) for r in chain} == {
        ("CCN20230722_SUBC", "CCN20230722_CLAS"),
        ("CCN20230722_SUPT", "CCN20230722_SUBC"),
        ("CCN20230722_CLUS", "CCN20230722_SUPT"),
    }


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_cluster_with_alias_label_and_count(complete_export: Export, fmt: str) -> None:
    found = select(
        complete_export.store(fmt),
        """SELECT ?alias ?label ?cells WHERE {
             ?c a akg:Cluster ; akg:clusterAlias ?alias ; dcterms:identifier ?label ; akg:cellCount ?cells }""",
    )
    expected = rows(COMPLETE_RELEASE / "cluster.csv")
    assert sorted((r["alias"], r["label"], r["cells"]) for r in found) == sorted(
        (r["cluster_alias"], r["label"], r["number_of_cells"]) for r in expected
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_membership_including_the_neurotransmitter_facet(complete_export: Export, fmt: str) -> None:
    found = select(
        complete_export.store(fmt),
        "SELECT ?alias ?term WHERE { ?c akg:clusterAlias ?alias ; akg:memberOf/skos:notation ?term }",
    )
    expected = rows(COMPLETE_RELEASE / "cluster_to_cluster_annotation_membership.csv")
    assert len(expected) == 25
    assert sorted((r["alias"], r["term"]) for r in found) == sorted(
        (r["cluster_alias"], r["cluster_annotation_term_label"]) for r in expected
    )


def test_clusters_by_neurotransmitter_with_cell_counts(complete_export: Export) -> None:
    found = select(
        complete_export.store("ttl"),
        """SELECT ?nt (SUM(?cells) AS ?total) (COUNT(?c) AS ?clusters) WHERE {
             ?c a akg:Cluster ; akg:cellCount ?cells ; akg:memberOf ?t .
             ?t akg:level/a akg:Facet ; rdfs:label ?nt } GROUP BY ?nt""",
    )
    assert {r["nt"]: (r["total"], r["clusters"]) for r in found} == {
        "Glut": (str(2546 + 3222 + 1718), "3"),
        "NA": (str(62 + 389), "2"),
    }


@pytest.mark.parametrize("which", ["sample", "complete"])
def test_term_named_NA_survives(request: pytest.FixtureRequest, which: str) -> None:
    found = select(
        export_of(request, which).store("jsonld"),
        'SELECT ?name ?colour WHERE { ?t skos:notation "CS20230722_NEUR_NA" ; rdfs:label ?name ; akg:color ?colour }',
    )
    assert found == [{"name": "NA", "colour": "#666666"}]


def test_a_name_shared_by_two_levels_gives_two_terms(complete_export: Export) -> None:
    found = select(
        complete_export.store("nt"),
        """SELECT ?label ?level WHERE { ?t rdfs:label "0001 CLA-EPd-CTX Car3 Glut_1" ; skos:notation ?label ;
             akg:level/rdfs:label ?level }""",
    )
    assert sorted((r["label"], r["level"]) for r in found) == [
        ("CS20230722_CLUS_0001", "cluster"),
        ("CS20230722_SUPT_0001", "supertype"),
    ]


def test_sample_memberships_come_from_the_pivoted_view(sample_export: Export) -> None:
    """The sample has no membership table; its pivoted view names terms per level, resolved within the level."""
    found = select(
        sample_export.store("ttl"),
        'SELECT ?term WHERE { ?c akg:clusterAlias "128" ; akg:memberOf/skos:notation ?term }',
    )
    assert sorted(r["term"] for r in found) == [
        "CS20230722_CLAS_01",
        "CS20230722_NEUR_Glut",
        "CS20230722_SUBC_001",
        "CS20230722_SUPT_0001",
    ]
    # an empty neurotransmitter cell means no membership, not a term named ""
    no_nt = select(
        sample_export.store("ttl"),
        """SELECT ?t WHERE { ?c akg:clusterAlias "5273" ; akg:memberOf ?t . ?t akg:level/a akg:Facet }""",
    )
    assert no_nt == []


def test_lineage_of_a_cluster_up_to_its_class(complete_export: Export) -> None:
    found = select(
        complete_export.store("ttl"),
        """SELECT ?name WHERE { ?t skos:notation "CS20230722_CLUS_5322" ; akg:parent* ?a .
             ?a rdfs:label ?name ; akg:level/akg:rank ?rank } ORDER BY DESC(?rank)""",
    )
    assert [r["name"] for r in found] == ["5322 T cells NN_4", "1201 T cells NN_4", "338 Lymphoid NN", "34 Immune"]


def test_taxonomy_release_and_export_are_three_nodes(complete_export: Export) -> None:
    store = complete_export.store("ttl")
    [found] = select(
        store,
        """PREFIX dcat: <http://www.w3.org/ns/dcat#>
           SELECT ?t ?title ?species ?release ?version ?graph ?tool WHERE {
             ?t a obo:PCL_0010002, skos:ConceptScheme ; dcterms:title ?title ; akg:species ?species .
             ?release a akg:TaxonomyRelease ; dcat:version ?version ; dcat:isVersionOf ?t .
             ?graph a akg:ReleaseGraph ; prov:wasDerivedFrom ?release ;
                    prov:wasGeneratedBy/prov:wasAssociatedWith ?tool }""",
    )
    assert found["t"] == "https://purl.brain-bican.org/taxonomy/CCN20230722"
    assert found["species"] == "http://purl.obolibrary.org/obo/NCBITaxon_10090"
    assert found["release"] == "https://w3id.org/abc-atlas-kg/release/CCN20230722/20231215"
    assert found["graph"] == "https://w3id.org/abc-atlas-kg/graph/CCN20230722/20231215"
    assert found["version"] == "20231215"
    # the taxonomy is release-independent: no version, no sources, not generated by abc-kg
    assert not select(
        store, "SELECT ?p WHERE { ?t a obo:PCL_0010002 ; ?p ?o . FILTER(STRSTARTS(STR(?p), STR(prov:))) }"
    )


def test_unverified_files_carry_a_local_identifier_and_their_own_checksum(complete_export: Export) -> None:
    """The fixture was read from a folder, not checked against a manifest: no bucket URL, no distribution."""
    store = complete_export.store("ttl")
    sources = select(
        store,
        """SELECT ?f ?path ?md5 ?size ?verified WHERE { ?g a akg:ReleaseGraph ; prov:wasDerivedFrom ?f .
             ?f a akg:SourceFile ; dcterms:identifier ?path ; akg:md5 ?md5 ; akg:verified ?verified ;
                <http://www.w3.org/ns/dcat#byteSize> ?size }""",
    )
    import hashlib

    expected = {}
    for path in sorted(COMPLETE_RELEASE.glob("*.csv")):
        data = path.read_bytes()
        md5 = hashlib.md5(data).hexdigest()
        expected[f"metadata/WMB-taxonomy/20231215/{path.name}"] = (f"urn:abc-kg:file:md5:{md5}", md5, str(len(data)))
    assert {r["path"]: (r["f"], r["md5"], r["size"]) for r in sources} == expected
    assert {r["verified"] for r in sources} == {"false"}
    assert not select(store, "SELECT ?f WHERE { ?r <http://www.w3.org/ns/dcat#distribution> ?f }")
    assert "amazonaws" not in complete_export.file("nt").read_text(encoding="utf-8")


def test_leaf_clusters_are_named_by_alias_under_the_kg_namespace(complete_export: Export) -> None:
    found = select(
        complete_export.store("nt"),
        """SELECT ?c ?term WHERE { ?c akg:clusterAlias "128" ; akg:memberOf ?t . ?t skos:notation ?term ;
             akg:level/skos:notation "CCN20230722_CLUS" }""",
    )
    assert found == [{"c": "https://w3id.org/abc-atlas-kg/cluster/CCN20230722/128", "term": "CS20230722_CLUS_0001"}]


def test_all_formats_hold_the_same_triples(complete_export: Export) -> None:
    def triples(fmt: str) -> set[tuple[str, str, str]]:
        return {(str(q.subject), str(q.predicate), str(q.object)) for q in complete_export.store(fmt)}

    reference = triples("nt")
    assert len(reference) > 300
    for fmt in ("ttl", "nq", "jsonld"):
        assert triples(fmt) == reference, fmt


def test_nquads_put_the_release_in_its_own_named_graph(complete_export: Export) -> None:
    graphs = {str(q.graph_name) for q in complete_export.store("nq")}
    assert graphs == {"<https://w3id.org/abc-atlas-kg/graph/CCN20230722/20231215>"}
