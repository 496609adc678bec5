"""Many releases in one store, through the real loader: each graph holds exactly its own file's triples, whatever
the order, subset, call or format; each fact is attributed to its release by SPARQL; every named query answers per
release with no duplicate rows (issue 10).

The store is abc-kg's embedded store, filled by `abc_atlas_kg.store.load` and by `abc-kg load`; what it holds is
read back by SPARQL and compared with each file as pyoxigraph parses it on its own. The inputs: the export of every
fixture taxonomy (`export --all --source tests/fixtures/atlas`) and both real WMB releases of the shared samples
(20230830 and 20231215, used from `../shared` or $ABC_KG_SHARED, never copied; skipped with the reason shown when
absent, a failure under ABC_KG_REQUIRE_SHARED=1).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import ATLAS, load_cli, run

from abc_atlas_kg import store as kgstore
from abc_atlas_kg.store import named, results

pytestmark = pytest.mark.slow  # both real WMB releases, exported and loaded

KG = "https://w3id.org/abc-atlas-kg/"
WMB = f"{KG}graph/CCN20230722/"
OLD, NEW = f"{WMB}20230830", f"{WMB}20231215"
DOUBLE = "http://www.w3.org/2001/XMLSchema#double"
FORMATS = ("nq", "nt", "ttl", "jsonld")


@dataclass(frozen=True)
class Export:
    """One exported RDF dataset (a release graph or a mappings graph) and its files, one per format."""

    graph: str
    files: dict[str, Path]


def _export(out: Path, *args: str | Path) -> None:
    result = run("export", *args, "--out", out, "--format", ",".join(FORMATS), "--no-validate")
    assert result.exit_code == 0, result.stderr


def _collect(folder: Path) -> list[Export]:
    """Every dataset written under `folder`; its graph is read from its .nq file, independently of the loader."""
    found = []
    for nq in sorted(folder.rglob("*.nq")):
        [graph] = {q.graph_name.value for q in ox.parse(path=str(nq), format=ox.RdfFormat.N_QUADS)}
        stem = nq.name.removesuffix(".nq")
        found.append(Export(graph, {fmt: nq.with_name(f"{stem}.{fmt}") for fmt in FORMATS}))
    return found


@pytest.fixture(scope="module")
def atlas(tmp_path_factory: pytest.TempPathFactory) -> list[Export]:
    out = tmp_path_factory.mktemp("atlas")
    _export(out, "--all", "--source", ATLAS)
    return _collect(out)


@pytest.fixture(scope="module")
def wmb(tmp_path_factory: pytest.TempPathFactory, shared_bucket: Path) -> list[Export]:
    """Both real WMB releases of the shared samples: 20230830 then 20231215."""
    out = tmp_path_factory.mktemp("wmb")
    for release in ("20230830", "20231215"):
        _export(out, "WMB-taxonomy", "--source", shared_bucket, "--release", release)
    found = _collect(out)
    assert [e.graph for e in found] == [OLD, NEW]
    return found


@pytest.fixture(scope="module")
def everything(atlas: list[Export], wmb: list[Export]) -> list[Export]:
    """Every dataset once: the atlas fixture's WMB 20231215 is a small build of the graph the real release fills,
    so it stays out here (it has its own replacement test below)."""
    return [e for e in atlas if e.graph != NEW] + wmb


def key(triple: ox.Triple) -> tuple[str, str, str]:
    """A triple compared by value: the store keeps xsd:double by value ("1.0E0" comes back as "1")."""
    o = triple.object
    if isinstance(o, ox.Literal) and o.datatype.value == DOUBLE:
        return (str(triple.subject), str(triple.predicate), f"{float(o.value.replace('INF', 'inf'))!r}^^double")
    return (str(triple.subject), str(triple.predicate), str(o))


def file_triples(path: Path) -> set[tuple[str, str, str]]:
    fmt = ox.RdfFormat.from_extension(path.suffix.lstrip("."))
    return {key(q.triple) for q in ox.parse(path=str(path), format=fmt)}


def store_triples(store: ox.Store, graph: str) -> set[tuple[str, str, str]]:
    """The graph's triples, asked by SPARQL."""
    rows = store.query(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    return {key(ox.Triple(row["s"], row["p"], row["o"])) for row in rows}


def load(path: Path, files: Sequence[Path]) -> None:
    """One `load` call through the library, as `abc-kg load FILE...` makes it."""
    target = kgstore.open_target(path)
    try:
        kgstore.load(target, files=list(files))
    finally:
        target.close()


def assert_holds_exactly(path: Path, expected: dict[str, Path]) -> None:
    """The store holds exactly these graphs, each with exactly the triples of the file loaded last for it."""
    store = ox.Store.read_only(str(path))
    held = {row["g"].value for row in store.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")}
    assert held == set(expected)
    for graph, file in expected.items():
        assert store_triples(store, graph) == file_triples(file), f"{graph} is not exactly {file}"


def _formats() -> Iterator[str]:
    return itertools.cycle(("nt", "ttl", "jsonld", "nq"))


# --- each graph holds exactly its own file's triples --------------------------------------------------------


@pytest.fixture(scope="module")
def combined(tmp_path_factory: pytest.TempPathFactory, everything: list[Export]) -> Path:
    """One store holding every dataset, loaded by one call of the real loader from the .nq files."""
    path = tmp_path_factory.mktemp("combined") / "store"
    load(path, [e.files["nq"] for e in everything])
    return path


def test_one_call_with_every_nq(combined: Path, everything: list[Export]) -> None:
    assert_holds_exactly(combined, {e.graph: e.files["nq"] for e in everything})


def test_reverse_order_one_call_per_file_in_mixed_formats(tmp_path: Path, everything: list[Export]) -> None:
    """Triples files (.nt, .ttl, .jsonld) name no graph: each goes to the graph its export describes."""
    chosen = {e.graph: e.files[fmt] for e, fmt in zip(everything[::-1], _formats(), strict=False)}
    for file in chosen.values():
        load(tmp_path / "store", [file])
    assert_holds_exactly(tmp_path / "store", chosen)


@pytest.mark.parametrize("part", [0, 1])
def test_subsets_through_the_cli_in_one_call(tmp_path: Path, everything: list[Export], part: int) -> None:
    """Every other dataset (both halves), as `abc-kg load` is called: the same graphs as loading all of them."""
    subset = everything[part::2]
    chosen = {e.graph: e.files[fmt] for e, fmt in zip(subset, _formats(), strict=False)}
    result = load_cli(*chosen.values(), "--store", tmp_path / "store", "--no-vocabulary")
    assert result.exit_code == 0, result.stderr
    for graph in chosen:
        assert graph in result.stderr
    assert_holds_exactly(tmp_path / "store", chosen)


def test_both_wmb_releases_in_one_call_never_mix(tmp_path: Path, wmb: list[Export]) -> None:
    """Issue 10.1: two files both named CCN20230722.nq, two releases: two graphs, each exactly its own."""
    old, new = wmb
    assert old.files["nq"].name == new.files["nq"].name
    load(tmp_path / "store", [new.files["nq"], old.files["ttl"]])
    assert_holds_exactly(tmp_path / "store", {OLD: old.files["ttl"], NEW: new.files["nq"]})


def test_a_later_load_replaces_a_graph_and_leaves_the_others(
    combined: Path, tmp_path: Path, atlas: list[Export], wmb: list[Export]
) -> None:
    """The atlas fixture's small WMB 20231215 and the real release name one graph: the later load wins, whole."""
    [small] = [e for e in atlas if e.graph == NEW]
    store = tmp_path / "store"
    load(store, [small.files["nq"], wmb[0].files["nq"]])
    load(store, [wmb[1].files["nt"]])
    assert_holds_exactly(store, {OLD: wmb[0].files["nq"], NEW: wmb[1].files["nt"]})
    load(store, [small.files["jsonld"]])
    assert_holds_exactly(store, {OLD: wmb[0].files["nq"], NEW: small.files["jsonld"]})


def test_mappings_never_share_a_release_graph(tmp_path: Path, atlas: list[Export]) -> None:
    """Issue 10.5: a mappings file, in any format, goes to its own mappings graph and leaves the release whole."""
    mappings = [e for e in atlas if e.graph.endswith("/mappings")]
    assert len(mappings) == 3  # HMBA-BG, WMB CCN20230504 and the Zeng aging taxonomy publish mappings
    for export in mappings:
        assert ".mappings." in export.files["nq"].name
        release = export.graph.removesuffix("/mappings")
        [own] = [e for e in atlas if e.graph == release]
        store = tmp_path / export.graph.rsplit("/", 3)[1]
        load(store, [own.files["ttl"]])
        for fmt in ("jsonld", "nt", "ttl"):
            load(store, [export.files[fmt]])
            assert_holds_exactly(store, {release: own.files["ttl"], export.graph: export.files[fmt]})


# --- each fact attributed to its release -------------------------------------------------------------------

COLOURS = """
PREFIX akg: <https://w3id.org/abc-atlas-kg/vocab/>
PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?t ?old ?new WHERE {
  GRAPH ?g1 { ?g1 a akg:ReleaseGraph ; prov:wasDerivedFrom/dcat:version "20230830" .
              ?t akg:level/skos:notation "CCN20230722_SUPT" ; akg:color ?old }
  GRAPH ?g2 { ?g2 a akg:ReleaseGraph ; prov:wasDerivedFrom/dcat:version "20231215" . ?t akg:color ?new }
  FILTER(?old != ?new)
}"""


def test_each_supertype_colour_is_attributed_to_its_release(combined: Path) -> None:
    store = ox.Store.read_only(str(combined))
    rows = list(store.query(COLOURS))
    assert len(rows) == 17
    colour = ox.NamedNode(f"{KG}vocab/color")
    for row in rows:  # both colours on the same release-independent IRI, each in its own release's graph only
        by_graph = {q.graph_name.value: q.object.value for q in store.quads_for_pattern(row["t"], colour, None)}
        assert by_graph == {OLD: row["old"].value, NEW: row["new"].value}


# --- named queries per release -----------------------------------------------------------------------------

QUERY_PARAMS = {
    "clusters-by-neurotransmitter": {},
    "clusters-under": {"label": "CS20230722_CLAS_01"},
    "level-counts": {},
    "lineage": {"label": "CS20230722_SUPT_0001"},
    "mappings": {"label": "CS20230722_CLAS_01"},  # incoming, from the Zeng aging taxonomy's mapping set
    "terms-matching": {"pattern": "Car3"},
}


# Queries over the integration layers answer only where a layer is loaded (this store holds none); each is checked
# per release, with the layer, where that layer is tested (tests/test_celltypes.py, ...).
LAYER_QUERIES = {"cell-types": "test_celltypes", "unmapped": "test_celltypes", "conflicts": "test_celltypes"}


def test_every_named_query_is_checked() -> None:
    assert set(QUERY_PARAMS) | set(LAYER_QUERIES) == set(named.library())
    tests = Path(__file__).parent
    for name, module in LAYER_QUERIES.items():
        assert f'"{name}"' in (tests / f"{module}.py").read_text(encoding="utf-8"), f"{module} never runs {name}"


@pytest.fixture(scope="module")
def combined_target(combined: Path) -> Iterator[kgstore.Target]:
    target = kgstore.open_target(combined, read_only=True)
    yield target
    target.close()


def answer(target: kgstore.Target, name: str, **given: str) -> tuple[list[str], list[tuple[str, ...]]]:
    """A named query through the store package, exactly as `abc-kg query NAME --param ...` runs it."""
    query = named.get(name)
    result = target.query(query.text, named.bind(query, given))
    assert isinstance(result, results.Solutions)
    rows = [tuple("" if cell is None else cell.value for cell in row) for row in result.rows]
    return result.variables, rows


@pytest.mark.parametrize("name", sorted(QUERY_PARAMS))
def test_every_named_query_answers_per_release_without_duplicates(combined_target: kgstore.Target, name: str) -> None:
    columns, default = answer(combined_target, name, **QUERY_PARAMS[name])
    version = columns.index("version")
    assert "release" not in columns  # the parameter is not echoed: ?version says which release answered
    assert len(default) == len(set(default)), "duplicate rows"
    per_release = {}
    for release in ("20230830", "20231215"):
        _, rows = answer(combined_target, name, **QUERY_PARAMS[name], release=release)
        assert rows, f"{name} found nothing in release {release}"
        assert len(rows) == len(set(rows)), f"duplicate rows for release {release}"
        assert {row[version] for row in rows} == {release}
        per_release[release] = rows
    # The default is the newest loaded release of each taxonomy: for WMB exactly the 20231215 answer.
    assert not [row for row in default if row[version] == "20230830"]
    assert sorted(row for row in default if row[version] == "20231215") == sorted(per_release["20231215"])


def test_lineage_is_answered_within_one_release(combined_target: kgstore.Target) -> None:
    for release in ("20230830", "20231215"):
        _, rows = answer(combined_target, "lineage", label="CS20230722_SUPT_0001", release=release)
        assert [row[3] for row in rows] == ["CS20230722_SUPT_0001", "CS20230722_SUBC_001", "CS20230722_CLAS_01"]


def test_a_release_that_is_not_loaded_answers_nothing(combined_target: kgstore.Target) -> None:
    for name, params in QUERY_PARAMS.items():
        assert answer(combined_target, name, **params, release="19990101")[1] == [], name
