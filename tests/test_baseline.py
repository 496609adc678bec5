"""The fast path (pyoxigraph writers, direct JSON-LD, trimmed SHACL input) and the plain-rdflib baseline of
bench/ produce isomorphic graphs, format by format, on every fixture taxonomy."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import rdflib
from conftest import FIXTURES, atlas_with_aging_counts, run
from rdflib.compare import isomorphic

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import baseline

RDFLIB_FORMATS = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld", "nq": "nquads"}


def parsed(path: Path) -> rdflib.Graph:
    if path.suffix == ".nq":
        dataset = rdflib.Dataset()
        dataset.parse(path, format="nquads")
        [name] = [g.identifier for g in dataset.graphs() if len(g)]
        graph = rdflib.Graph()
        for triple in dataset.graph(name):
            graph.add(triple)
        return graph
    return rdflib.Graph().parse(path, format=RDFLIB_FORMATS[path.suffix.lstrip(".")])


@pytest.mark.parametrize("taxonomy_id", ["WMB-taxonomy", "Zeng-Aging-Mouse", "HMBA-BG-taxonomy"])
def test_fast_path_and_baseline_are_isomorphic(tmp_path: Path, taxonomy_id: str) -> None:
    """Each of our files parses to the graph the baseline builds in rdflib (and checks with pyshacl).

    The baseline's own Turtle is not the reference: rdflib's Turtle writer shortens xsd:double values
    (0.7849588719153937 becomes 0.7849589), one more reason abc-kg does not use it.
    """
    source = atlas_with_aging_counts(tmp_path / "atlas")  # the aging clusters with their statistics
    expected, _, stem = baseline.build_graph(taxonomy_id, source)
    assert baseline.check(expected)
    result = run("export", taxonomy_id, "--source", source, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    for fmt in RDFLIB_FORMATS:
        found = parsed(tmp_path / "out" / f"{stem}.{fmt}")
        assert len(found) > 100
        assert isomorphic(expected, found), fmt


def test_the_bench_floor_writes_the_four_formats(tmp_path: Path) -> None:
    """bench/run.py's floor (pyoxigraph parse + write) runs on a real export and writes every format."""
    import run as bench

    result = run(
        "export", "WMB-taxonomy", "--source", FIXTURES / "atlas", "--out", tmp_path / "export", "--format", "nt"
    )
    assert result.exit_code == 0, result.stderr
    (tmp_path / "floor").mkdir()
    assert bench.floor(tmp_path / "export", tmp_path / "floor") > 0
    assert sorted(p.suffix for p in (tmp_path / "floor").iterdir()) == [".jsonld", ".nq", ".nt", ".ttl"]


def test_the_bench_measures_the_whole_process_tree() -> None:
    """Peak memory sums a command and its children: a parent that starts a child reports more than either alone."""
    import run as bench

    child = "import subprocess, sys; subprocess.run([sys.executable, '-c', 'x = bytearray(200_000_000); import time; time.sleep(0.5)'])"
    wall, peak_mb, _ = bench.measured([sys.executable, "-c", child])
    assert wall > 0.5
    assert peak_mb > 200
