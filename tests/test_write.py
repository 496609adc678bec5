"""The write stage: readable Turtle and JSON-LD that JSON-LD processors read back exactly, the generated context,
the format table and prefix converter, and output folders that always hold one export's complete set of files."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from conftest import FIXTURES, SAMPLE, atlas_with_aging_counts, export_to, run
from rdflib.compare import isomorphic

from abc_atlas_kg import fileio as files
from abc_atlas_kg.errors import OutputError
from abc_atlas_kg.files import write
from abc_atlas_kg.rdf import context, document, formats, prefixes
from abc_atlas_kg.resources import ontology_dir

ATLAS = FIXTURES / "atlas"
XSD_DOUBLE = rdflib.XSD.double


@pytest.fixture(scope="module")
def atlas_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("atlas")
    source = atlas_with_aging_counts(tmp_path_factory.mktemp("source") / "atlas")  # with the infinite odds ratio
    result = run("export", "--all", "--source", source, "--out", out)
    assert result.exit_code == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def sample_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    result = export_to(out, "--source", SAMPLE)
    assert result.exit_code == 0, result.stderr
    return out


# ---------------------------------------------------------------- the context, formats and prefixes


def test_shipped_context_is_the_generated_one() -> None:
    """Regenerate with `python -m abc_atlas_kg.rdf.context > ontology/context.jsonld` when this fails."""
    shipped = (ontology_dir() / "context.jsonld").read_text(encoding="utf-8")
    assert shipped == context.document_text(context.generate())


def test_context_has_one_term_per_line_and_a_term_for_every_declared_property() -> None:
    text = (ontology_dir() / "context.jsonld").read_text(encoding="utf-8")
    terms = json.loads(text)["@context"]
    assert len(text.splitlines()) == len(terms) + 4
    declared = context.declared_terms(ontology_dir() / "abc-atlas-kg.ttl")
    assert declared and all(
        terms[name] == (c if not k else {"@id": c, "@type": k}) for name, (c, k) in declared.items()
    )
    assert terms["rank"] == {"@id": "akg:rank", "@type": "xsd:integer"}
    assert terms["memberOf"]["@type"] == "@id" and terms["color"] == "akg:color"


def test_context_generator_follows_the_ontology(tmp_path: Path) -> None:
    ontology = tmp_path / "o.ttl"
    ontology.write_text(
        (ontology_dir() / "abc-atlas-kg.ttl").read_text(encoding="utf-8")
        + '\nakg:newThing a owl:DatatypeProperty ; rdfs:range xsd:double ; rdfs:label "new thing" .\n'
        + 'obo:RO_0009999 a owl:ObjectProperty ; rdfs:label "has some part" .\n'
    )
    terms = context.generate(ontology)["@context"]
    assert terms["newThing"] == {"@id": "akg:newThing", "@type": "xsd:double"}
    assert terms["hasSomePart"] == {"@id": "obo:RO_0009999", "@type": "@id"}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("a.ttl", ox.RdfFormat.TURTLE),
        ("a.nt", ox.RdfFormat.N_TRIPLES),
        ("a.NQ", ox.RdfFormat.N_QUADS),
        ("a.jsonld", ox.RdfFormat.JSON_LD),
        ("cl.owl", ox.RdfFormat.RDF_XML),
        ("uberon.rdf.gz", ox.RdfFormat.RDF_XML),
        ("x.trig", ox.RdfFormat.TRIG),
    ],
)
def test_format_by_extension(path: str, expected: ox.RdfFormat) -> None:
    assert formats.format_of(path).rdf_format == expected


def test_format_table_names_and_errors() -> None:
    assert formats.OUTPUT == ["ttl", "jsonld", "nt", "nq"] == write.formats()
    assert formats.by_name("NQ").quads and not formats.by_name("ttl").quads
    assert formats.strip_gzip("a/b.nt.gz") == ("b.nt", True)
    with pytest.raises(formats.UnknownFormat, match="choose from ttl, jsonld"):
        formats.by_name("xml")
    with pytest.raises(formats.UnknownFormat, match=r"\.csv"):
        formats.format_of("table.csv")


def test_one_prefix_converter_expands_and_compresses() -> None:
    assert prefixes.expand_curie("cl:0000127") == "http://purl.obolibrary.org/obo/CL_0000127"
    assert prefixes.expand_curie("XX:1") is None and prefixes.expand_curie("CL:") is None
    assert prefixes.expand_curie("CL:a b") is None
    export = prefixes.for_export("CCN20230722")
    assert export.compress("http://purl.obolibrary.org/obo/PCL_0010001") == "PCL:0010001"  # longest namespace wins
    assert export.compress("https://purl.brain-bican.org/taxonomy/CCN20230722/CS_1") == "CCN20230722:CS_1"
    assert export.compress("https://example.org/x") == "https://example.org/x"


# ---------------------------------------------------------------- readable output that reads back exactly


def _normalised(graph: rdflib.Graph) -> rdflib.Graph:
    """Doubles compared by value (JSON-LD processors write canonical lexical forms: 1.1093 → 1.1093E0)."""
    out = rdflib.Graph()
    for s, p, o in graph:
        if isinstance(o, rdflib.Literal) and o.datatype == XSD_DOUBLE:
            value = float(str(o).replace("INF", "inf"))
            o = rdflib.Literal("NaN" if math.isnan(value) else repr(value), datatype=XSD_DOUBLE)
        out.add((s, p, o))
    return out


def _pyld_graph(path: Path) -> rdflib.Graph:
    from pyld import jsonld

    document = json.loads(path.read_text(encoding="utf-8"))
    nquads = jsonld.to_rdf(document, {"format": "application/n-quads"})  # offline: the context is inlined
    return rdflib.Graph().parse(data=nquads, format="nt")


def _jsonld_files(*roots: Path) -> list[Path]:
    found = sorted(p for root in roots for p in root.rglob("*.jsonld"))
    assert found
    return found


@pytest.mark.slow  # pyld expands every export of the sample and the fixtures
def test_every_jsonld_read_by_pyld_is_its_ntriples(atlas_export: Path, sample_out: Path) -> None:
    for path in _jsonld_files(atlas_export, sample_out):
        expected = rdflib.Graph().parse(path.with_suffix(".nt"), format="nt")
        got = _pyld_graph(path)
        assert len(got) == len(expected), path
        assert isomorphic(_normalised(got), _normalised(expected)), path


def test_infinite_doubles_survive_a_jsonld_processor(atlas_export: Path) -> None:
    aging = next(p for p in _jsonld_files(atlas_export) if p.name.startswith("CS20241021") and "mappings" not in p.name)
    assert '{"@value": "INF", "@type": "xsd:double"}' in aging.read_text(encoding="utf-8")
    from pyld import jsonld

    nquads = jsonld.to_rdf(json.loads(aging.read_text(encoding="utf-8")), {"format": "application/n-quads"})
    assert '"INF"^^<http://www.w3.org/2001/XMLSchema#double>' in nquads and "NaN" not in nquads


def test_jsonld_is_indented_with_numbers_as_json_numbers(sample_out: Path) -> None:
    path = next(sample_out.rglob("CCN20230722.jsonld"))
    text = path.read_text(encoding="utf-8")
    node = text[text.index('"@graph": [') :].split("\n")[1:4]
    assert node[0] == "    {" and node[1].startswith('      "@id": ') and node[2].startswith("      ")
    assert '\n    "rank": {"@id": "akg:rank", "@type": "xsd:integer"},\n' in text
    nodes = json.loads(text)["@graph"]
    ranks = [n["rank"] for n in nodes if "rank" in n]
    assert ranks and all(type(r) is int for r in ranks)
    assert all(type(n["byteSize"]) is int for n in nodes if "byteSize" in n)


def test_turtle_has_data_prefixes_and_a_blank_line_between_subjects(sample_out: Path) -> None:
    path = next(sample_out.rglob("CCN20230722.ttl"))
    text = path.read_text(encoding="utf-8")
    header = [line for line in text.splitlines() if line.startswith("@prefix")]
    assert "@prefix CCN20230722: <https://purl.brain-bican.org/taxonomy/CCN20230722/> ." in header
    assert header == sorted(header, key=str.lower)
    assert "sssom" not in "".join(header), "only prefixes the file uses are declared"
    blocks = text.split("\n\n")[1:]
    subjects = [block.split(" ", 1)[0] for block in blocks]
    assert len(subjects) == len(set(subjects)) > 100
    assert all(line.startswith("\t") for block in blocks for line in block.strip("\n").splitlines()[1:])
    expected = rdflib.Graph().parse(path.with_suffix(".nt"), format="nt")
    assert isomorphic(rdflib.Graph().parse(path, format="turtle"), expected)


def test_nquads_are_the_ntriples_in_the_release_graph(sample_out: Path) -> None:
    nt = next(sample_out.rglob("CCN20230722.nt")).read_bytes()
    nq = next(sample_out.rglob("CCN20230722.nq")).read_bytes()
    graph = nq.split(b"\n", 1)[0].rsplit(b" ", 2)[1]
    assert nq == nt.replace(b" .\n", b" " + graph + b" .\n")
    assert nq == ox.serialize(ox.parse(nq, ox.RdfFormat.N_QUADS), format=ox.RdfFormat.N_QUADS)


# ---------------------------------------------------------------- output sets


def _document(marker: str, size: int = 10) -> document.Document:
    node = ox.NamedNode("https://example.org/x")
    triples = [
        ox.Triple(node, ox.NamedNode(f"https://example.org/p{i}"), ox.Literal(f"{marker}-{i}")) for i in range(size)
    ]
    return document.Document("X", document.canonical(triples), ox.NamedNode("https://example.org/g"))


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name != files.LOCK_NAME}


def test_reexport_replaces_the_whole_set(tmp_path: Path) -> None:
    write.write_all([_document("a")], tmp_path, ["ttl", "nt", "nq"], extra={"X.sssom.tsv": b"subject_id\n"})
    assert json.loads((tmp_path / files.MANIFEST_NAME).read_text())["files"] == sorted(
        ["X.ttl", "X.nt", "X.nq", "X.sssom.tsv"]
    )
    (tmp_path / "notes.txt").write_text("mine")  # not the export's: kept
    write.write_all([_document("b")], tmp_path, ["nt"])
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == ["X.nt", "notes.txt"]
    assert b"b-1" in (tmp_path / "X.nt").read_bytes()


def test_reexport_with_fewer_formats_through_the_cli(tmp_path: Path) -> None:
    assert export_to(tmp_path, "--source", SAMPLE, "--no-validate").exit_code == 0
    assert export_to(tmp_path, "--source", SAMPLE, "--no-validate", "--format", "nt").exit_code == 0
    folder = next(tmp_path.rglob("CCN20230722.nt")).parent
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == ["CCN20230722.nt"]


WRITER_SCRIPT = textwrap.dedent(
    """
    import sys, pyoxigraph as ox
    from pathlib import Path
    from abc_atlas_kg.files import write
    from abc_atlas_kg.rdf import document
    marker, folder, size = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    node = ox.NamedNode("https://example.org/x")
    triples = [ox.Triple(ox.NamedNode(f"https://example.org/s{i}"), ox.NamedNode("https://example.org/p"),
                         ox.Literal(f"{marker}-{i}")) for i in range(size)]
    docs = [document.Document("X", document.canonical(triples), ox.NamedNode("https://example.org/g"))]
    if marker == "B":
        docs.append(document.Document("X.mappings", docs[0].triples, docs[0].graph))
    write.write_all(docs, folder, ["ttl", "jsonld", "nt", "nq"], lock_timeout=120)
    """
)


def _writer(marker: str, folder: Path, size: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", WRITER_SCRIPT, marker, str(folder), str(size)])


def _one_export(folder: Path) -> str:
    """The marker of the export the folder holds; fails when its files come from different exports."""
    names = json.loads((folder / files.MANIFEST_NAME).read_text())["files"]
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == sorted(names)
    markers = {m for name in names for m in ("A", "B") if f'"{m}-1"'.encode() in (folder / name).read_bytes()}
    assert len(markers) == 1, (names, markers)
    marker = markers.pop()
    assert ("X.mappings.nt" in names) == (marker == "B")
    return marker


@pytest.mark.slow  # concurrent processes / kills
def test_two_exports_into_one_folder_at_once_never_mix(tmp_path: Path) -> None:
    seen = set()
    for trial in range(4):
        folder = tmp_path / str(trial)
        processes = [_writer("A", folder, 20_000), _writer("B", folder, 20_000)]
        assert [p.wait(timeout=120) for p in processes] == [0, 0]
        seen.add(_one_export(folder))
        assert not list(folder.glob(".*.tmp"))
    assert seen  # which one wins is up to the scheduler; that one wins whole is the point


@pytest.mark.slow  # concurrent processes / kills
def test_kill_during_a_write_keeps_the_previous_set_and_the_next_run_cleans_up(tmp_path: Path) -> None:
    write.write_all([_document("A")], tmp_path, ["ttl", "jsonld", "nt", "nq"])
    before = _snapshot(tmp_path)
    process = _writer("B", tmp_path, 400_000)
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".*.tmp")) and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert list(tmp_path.glob(".*.tmp")), "killed before it staged anything"
    if not (tmp_path / files.PENDING_NAME).exists():  # killed while staging: nothing of B is in place
        assert {k: v for k, v in _snapshot(tmp_path).items() if not k.endswith(".tmp")} == before
    write.write_all([_document("C")], tmp_path, ["nt"])
    assert not list(tmp_path.glob(".*.tmp"))
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == ["X.nt"]


def test_a_commit_cut_short_is_finished_by_the_next_export(tmp_path: Path) -> None:
    write.write_all([_document("A")], tmp_path, ["ttl", "nt"])
    fileset = files.FileSet(tmp_path)
    fileset.stage("X.nt", b"new\n")
    fileset.stage("X.nq", b"new quads\n")
    journal = {"files": ["X.nt", "X.nq"], "remove": ["X.ttl"], "staged": {n: p.name for n, p in fileset.staged.items()}}
    files.atomic_write(tmp_path / files.PENDING_NAME, json.dumps(journal).encode())
    os.replace(fileset.staged["X.nt"], tmp_path / "X.nt")  # the kill came after the first rename
    files.recover(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == ["X.nq", "X.nt"]
    assert (tmp_path / "X.nq").read_bytes() == b"new quads\n"
    assert files.read_manifest(tmp_path) == ["X.nq", "X.nt"]


def test_a_locked_folder_waits_then_fails_clearly(tmp_path: Path) -> None:
    with files.folder_lock(tmp_path), pytest.raises(OutputError, match="another abc-kg export is writing"):
        write.write_all([_document("A")], tmp_path, ["nt"], lock_timeout=0.3)
    write.write_all([_document("A")], tmp_path, ["nt"], lock_timeout=0.3)


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "mnt"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_a_full_disk_is_a_clear_error_and_keeps_the_previous_set(tmpfs: Path) -> None:
    folder = tmpfs / "out"
    write.write_all([_document("A", 100)], folder, ["ttl", "nt"])
    before = _snapshot(folder)
    with pytest.raises(OutputError, match=r"disk is full.*unchanged"):
        write.write_all([_document("B", 20_000)], folder, ["ttl", "nt", "nq", "jsonld"])
    assert _snapshot(folder) == before


def test_a_read_only_folder_is_a_clear_error_and_keeps_the_previous_set(tmpfs: Path) -> None:
    folder = tmpfs / "out"
    write.write_all([_document("A", 100)], folder, ["nt"])
    before = _snapshot(folder)
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    with pytest.raises(OutputError, match=r"read-only.*unchanged"):
        write.write_all([_document("B", 100)], folder, ["nt"])
    assert _snapshot(folder) == before


def test_cli_refuses_an_unwritable_output_folder_before_the_work(tmpfs: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    result = run("export", "WMB-taxonomy", "--out", tmpfs / "out", "--source", SAMPLE, "--no-validate")
    assert result.exit_code == 2  # found from the command line, before anything is read
    assert "read-only" in result.stderr.lower() and "Traceback" not in result.stderr
