"""Many releases in one store: each release graph holds exactly its own export, each fact is attributed to its
release by SPARQL, and every named query answers per release with no duplicate rows.

The real WMB 20231215 release comes from the shared samples folder (`<repo>/../shared` or ABC_KG_SHARED), never
copied into the repository; without it those checks are skipped with the reason shown.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import FIXTURES, run

from abc_atlas_kg import query

SHARED = Path(os.environ.get("ABC_KG_SHARED") or Path(__file__).parents[2].parent / "shared")
SHARED_BUCKET = SHARED / "samples" / "abc-bucket"
ATLAS_IDS = (
    "WMB-taxonomy",
    "WMB-taxonomy-CCN20230504",
    "Consensus-WMB-taxonomy",
    "Zeng-Aging-Mouse",
    "WHB-taxonomy",
    "SEAAD-taxonomy",
    "HMBA-BG-taxonomy",
)
WMB = "https://w3id.org/abc-atlas-kg/graph/CCN20230722/"


def export(out: Path, taxonomy_id: str, *args: str | Path) -> None:
    result = run("export", taxonomy_id, "--out", out, "--format", "nq", *args)
    assert result.exit_code == 0, result.stderr


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    """The .nq files of every export, by kind: the bundled sample, the shared real release, the fixtures."""
    found: dict[str, list[Path]] = {}
    sample = tmp_path_factory.mktemp("sample")
    export(sample, "WMB-taxonomy")
    found["sample"] = sorted(sample.rglob("*.nq"))
    if SHARED_BUCKET.is_dir():
        shared = tmp_path_factory.mktemp("shared")
        export(shared, "WMB-taxonomy", "--source", SHARED_BUCKET, "--release", "20231215")
        found["shared"] = sorted(shared.rglob("*.nq"))
    atlas = tmp_path_factory.mktemp("atlas")
    for taxonomy_id in ATLAS_IDS:
        if taxonomy_id != "WMB-taxonomy":  # the fixture's WMB 20231215 would share the shared release's graph
            export(atlas, taxonomy_id, "--source", FIXTURES / "atlas")
    found["atlas"] = sorted(atlas.rglob("*.nq"))
    return found


def need_shared(exports: dict[str, list[Path]]) -> None:
    if "shared" not in exports:
        pytest.skip(f"shared samples not found at {SHARED_BUCKET} (set ABC_KG_SHARED)")


def files(exports: dict[str, list[Path]]) -> list[Path]:
    return [path for paths in exports.values() for path in paths]


def load(paths: list[Path]) -> ox.Store:
    store = ox.Store()
    for path in paths:
        store.load(path=str(path), format=ox.RdfFormat.N_QUADS)
    return store


DOUBLE = "http://www.w3.org/2001/XMLSchema#double"


def key(triple: ox.Triple) -> tuple[str, str, str]:
    """A triple compared by value: the store keeps xsd:double by value ("1.0" comes back as "1")."""
    o = triple.object
    if isinstance(o, ox.Literal) and o.datatype.value == DOUBLE:
        return (str(triple.subject), str(triple.predicate), f"{float(o.value.replace('INF', 'inf'))!r}^^double")
    return (str(triple.subject), str(triple.predicate), str(o))


def quads_by_graph(path: Path) -> dict[str, set[tuple[str, str, str]]]:
    graphs: dict[str, set[tuple[str, str, str]]] = {}
    for quad in ox.parse(path=str(path), format=ox.RdfFormat.N_QUADS):
        graphs.setdefault(quad.graph_name.value, set()).add(key(quad.triple))
    return graphs


@pytest.mark.parametrize("order", ["forward", "reverse", "odd-subset"])
def test_each_graph_holds_exactly_its_own_files_triples(exports: dict[str, list[Path]], order: str) -> None:
    paths = files(exports)
    paths = {"forward": paths, "reverse": paths[::-1], "odd-subset": paths[::2]}[order]
    store = load(paths)
    expected: dict[str, set[tuple[str, str, str]]] = {}
    for path in paths:
        for graph, triples in quads_by_graph(path).items():
            assert graph not in expected, f"two files write graph {graph}"
            expected[graph] = triples
    assert {g.value for g in store.named_graphs()} == set(expected)
    for graph, triples in expected.items():
        held = {key(q.triple) for q in store.quads_for_pattern(None, None, None, ox.NamedNode(graph))}
        assert held == triples, graph


def test_mappings_never_share_a_release_graph(exports: dict[str, list[Path]]) -> None:
    for path in files(exports):
        [graph] = quads_by_graph(path)
        assert graph.endswith("/mappings") == (".mappings." in path.name), path


def test_each_supertype_colour_is_attributed_to_its_release(exports: dict[str, list[Path]]) -> None:
    need_shared(exports)
    store = load(files(exports))
    rows = list(
        store.query(
            """PREFIX akg: <https://w3id.org/abc-atlas-kg/vocab/>
               PREFIX dcat: <http://www.w3.org/ns/dcat#>
               PREFIX prov: <http://www.w3.org/ns/prov#>
               PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
               SELECT ?term ?old ?new WHERE {
                 GRAPH ?g1 { ?g1 prov:wasDerivedFrom/dcat:version "20230830" .
                             ?t akg:level/skos:notation "CCN20230722_SUPT" ; skos:notation ?term ; akg:color ?old }
                 GRAPH ?g2 { ?g2 prov:wasDerivedFrom/dcat:version "20231215" . ?t akg:color ?new }
                 FILTER(?old != ?new) }"""
        )
    )
    assert len(rows) == 17
    # both colours sit on the same release-independent IRI, each in its own release's graph only
    term = ox.NamedNode(f"https://purl.brain-bican.org/taxonomy/CCN20230722/{rows[0]['term'].value}")
    colour = ox.NamedNode("https://w3id.org/abc-atlas-kg/vocab/color")
    by_graph = {q.graph_name.value: q.object.value for q in store.quads_for_pattern(term, colour, None)}
    assert by_graph == {f"{WMB}20230830": rows[0]["old"].value, f"{WMB}20231215": rows[0]["new"].value}


QUERY_PARAMS = {
    "clusters-by-neurotransmitter": {},
    "clusters-under": {"label": "CS20230722_CLAS_01"},
    "level-counts": {},
    "lineage": {"label": "CS20230722_SUPT_0001"},
    "mappings": {"label": "CS20230722_SUPT_0001"},
    "terms-matching": {"pattern": "Car3"},
}


def answer(store: ox.Store, name: str, **params: str) -> list[tuple[str, ...]]:
    named = query.library()[name]
    substitutions = {ox.Variable(k): ox.Literal(v) for k, v in params.items()}
    _, rows = query.rows(store.query(named.text, substitutions=substitutions))
    return [tuple(row) for row in rows]


@pytest.mark.parametrize("name", sorted(QUERY_PARAMS))
def test_every_named_query_answers_per_release_without_duplicates(exports: dict[str, list[Path]], name: str) -> None:
    need_shared(exports)
    store = load(files(exports))
    columns = [v.value for v in store.query(query.library()[name].text).variables]
    version = columns.index("version")
    default = answer(store, name, **QUERY_PARAMS[name])
    assert len(default) == len(set(default)), "duplicate rows"
    for release in ("20230830", "20231215"):
        rows = answer(store, name, **QUERY_PARAMS[name], release=release)
        assert len(rows) == len(set(rows)), f"duplicate rows for release {release}"
        assert {row[version] for row in rows} <= {release}
        if name != "mappings":
            assert rows, f"{name} found nothing in release {release}"
    wmb_default = {row for row in default if row[version] in ("20230830", "20231215")}
    assert {row[version] for row in wmb_default} <= {"20231215"}, "the default is the newest loaded release"


def test_lineage_differs_between_releases_only_in_its_own_graph(exports: dict[str, list[Path]]) -> None:
    need_shared(exports)
    store = load(files(exports))
    old = answer(store, "lineage", label="CS20230722_SUPT_0001", release="20230830")
    new = answer(store, "lineage", label="CS20230722_SUPT_0001", release="20231215")
    assert (
        [row[4] for row in old]
        == [row[4] for row in new]
        == [
            "CS20230722_SUPT_0001",
            "CS20230722_SUBC_001",
            "CS20230722_CLAS_01",
        ]
    )
