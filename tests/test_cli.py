"""The command line end to end: export, validate, taxonomies, exit codes and output hygiene."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import (
    ATLAS,
    COMPLETE,
    COMPLETE_RELEASE,
    FORMATS,
    Export,
    atlas_with_aging_counts,
    cli,
    export_to,
    load_store,
    run,
    select,
)

from abc_atlas_kg import cli as cli_module
from abc_atlas_kg import errors, jobs
from abc_atlas_kg.build import BuildOptions, build, present_taxonomies
from abc_atlas_kg.files import write
from abc_atlas_kg.source import tables as source


def test_taxonomies_lists_the_registry() -> None:
    result = run("taxonomies")
    assert result.exit_code == 0
    line = next(line for line in result.stdout.splitlines() if line.startswith("WMB-taxonomy"))
    assert line.split()[:5] == ["WMB-taxonomy", "CCN20230722", "10090", "WMB-taxonomy", "20230830,20231215"]
    assert "celltypes" in line.split()[5].split(",")  # the integration layers whose sources serve it
    seaad = next(line for line in result.stdout.splitlines() if line.startswith("SEAAD-taxonomy"))
    assert seaad.split()[-1] == "none" and "SEAAD-taxonomy" in result.stderr  # no public source: said, not silent


def test_export_prints_the_written_files_on_stdout_and_a_summary_on_stderr(sample_export: Export) -> None:
    for fmt in FORMATS:
        assert sample_export.file(fmt).stat().st_size > 0
    assert not list(sample_export.folder.glob(".*.tmp")), "temporary files left behind"


@pytest.mark.parametrize("fmt", FORMATS)
def test_validate_accepts_every_exported_format(sample_export: Export, fmt: str) -> None:
    result = run("validate", sample_export.file(fmt))
    assert result.exit_code == 0, result.stderr
    assert "conforms" in result.stderr


def test_validate_rejects_a_broken_file_with_a_readable_report(complete_export: Export, tmp_path: Path) -> None:
    broken = tmp_path / "broken.nt"
    lines = complete_export.file("nt").read_text().splitlines(keepends=True)
    broken.write_text("".join(line for line in lines if "<http://www.w3.org/2000/01/rdf-schema#label>" not in line))
    result = run("validate", complete_export.file("ttl"), broken)
    assert result.exit_code == 3
    assert "does not conform" in result.stderr
    assert "CS20230722_CLAS_01" in result.stderr and "exactly one rdfs:label" in result.stderr


def test_validate_reports_an_unparsable_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("<a> <b> .\n")
    result = run("validate", bad)
    assert result.exit_code == 1
    assert "cannot be parsed" in result.stderr


def test_second_export_is_byte_identical_even_from_another_folder(complete_export: Export, tmp_path: Path) -> None:
    moved = tmp_path / "elsewhere" / "bucket"
    shutil.copytree(COMPLETE, moved)
    export_to(tmp_path / "again", "--source", moved)
    again = Export(tmp_path / "again" / "WMB-taxonomy" / "20231215")
    for fmt in FORMATS:
        assert again.file(fmt).read_bytes() == complete_export.file(fmt).read_bytes(), fmt


def test_format_option_writes_only_what_is_asked(tmp_path: Path) -> None:
    export_to(tmp_path, "--source", COMPLETE, "--format", "ttl,nq", "--no-validate")
    folder = tmp_path / "WMB-taxonomy" / "20231215"
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == [
        "CCN20230722.nq",
        "CCN20230722.ttl",
    ]


def test_unknown_format_is_a_usage_error(tmp_path: Path) -> None:
    result = run("export", "WMB-taxonomy", "--out", tmp_path, "--format", "ttl,xml")
    assert result.exit_code == 2
    assert "choose from" in result.stderr


def test_unknown_taxonomy_and_release_are_usage_errors(tmp_path: Path) -> None:
    result = run("export", "NoSuchTaxonomy", "--out", tmp_path)
    assert result.exit_code == 2 and "unknown taxonomy" in result.stderr
    result = run("export", "WMB-taxonomy", "--release", "19990101", "--out", tmp_path)
    assert result.exit_code == 2 and "19990101" in result.stderr
    assert not list(tmp_path.iterdir())


def test_accession_works_as_taxonomy_id(tmp_path: Path) -> None:
    result = run("export", "CCN20230722", "--source", COMPLETE, "--out", tmp_path / "by-accession")
    assert result.exit_code == 0, result.stderr


def test_base_iri_moves_every_minted_iri(tmp_path: Path) -> None:
    export_to(tmp_path, "--source", COMPLETE, "--base-iri", "https://example.org/kg/", "--format", "nt")
    store = load_store(tmp_path / "WMB-taxonomy" / "20231215" / "CCN20230722.nt")
    found = select(store, 'SELECT ?t WHERE { ?t skos:notation "CS20230722_CLAS_01" }')
    assert found == [{"t": "https://example.org/kg/CCN20230722/CS20230722_CLAS_01"}]
    old = select(store, 'SELECT ?s WHERE { ?s ?p ?o FILTER(STRSTARTS(STR(?s), "https://purl.brain-bican.org")) }')
    assert old == []


def test_jsonld_is_compacted_with_the_shipped_context_and_links_stay_links(complete_export: Export) -> None:
    document = json.loads(complete_export.file("jsonld").read_text(encoding="utf-8"))
    assert document["@context"] == write.jsonld_context()["@context"]
    nodes = {node["@id"]: node for node in document["@graph"]}
    supertype = nodes["https://purl.brain-bican.org/taxonomy/CCN20230722/CS20230722_SUPT_0001"]
    assert supertype["broader"] == "https://purl.brain-bican.org/taxonomy/CCN20230722/CS20230722_SUBC_001"
    assert supertype["order"] == 0 and supertype["color"] == "#99822E"
    assert sorted(supertype["@type"]) == ["obo:PCL_0010001", "skos:Concept"]
    for term, definition in document["@context"].items():
        if isinstance(definition, dict) and definition.get("@type") == "@id":
            assert definition["@id"].split(":")[0] in document["@context"], term


def test_failed_write_leaves_the_previous_output_untouched(
    complete_export: Export, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    export_to(out, "--source", COMPLETE)
    folder = out / "WMB-taxonomy" / "20231215"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    def explode(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setitem(write.WRITERS, "jsonld", write.Writer("jsonld", ".jsonld", "application/ld+json", explode))
    edited = tmp_path / "edited"
    shutil.copytree(COMPLETE, edited)
    terms = edited / "metadata" / "WMB-taxonomy" / "20231215" / "cluster_annotation_term.csv"
    terms.write_text(terms.read_text().replace("01 IT-ET Glut", "01 Renamed"))
    result = run("export", "WMB-taxonomy", "--source", edited, "--out", out)
    assert result.exit_code == 1 and "disk full" in result.stderr and "Traceback" not in result.stderr
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


# --- exit codes: the same with and without -v, tracebacks only with -v --------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def exit_cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, bool, list[str]]]:
    """name → (exit code, raises an abc-kg error (so -v shows a traceback), arguments)."""
    tmp = tmp_path_factory.mktemp("exit-cases")
    broken = tmp / "broken-bucket"
    shutil.copytree(COMPLETE, broken)
    terms = broken / COMPLETE_RELEASE.relative_to(COMPLETE) / "cluster_annotation_term.csv"
    terms.write_text(terms.read_text(encoding="utf-8").replace("CS20230722_CLAS_01,", "CS20230722_CLAS_02,", 1))
    not_conforming = tmp / "not-conforming.nt"
    not_conforming.write_text(
        "<https://example.org/t> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
        "<http://purl.obolibrary.org/obo/PCL_0010002> .\n"
    )
    port = _closed_port()
    out = tmp / "out"
    return {
        "ok": (0, False, ["taxonomies"]),
        "invalid input": (1, True, ["export", "WMB-taxonomy", "--source", str(broken), "--out", str(out)]),
        "usage (click)": (2, False, ["export", "NoSuchTaxonomy", "--out", str(out)]),
        "usage (abc-kg)": (2, True, ["export", "WMB-taxonomy", "--release", "19990101", "--out", str(out)]),
        "not conforming": (3, False, ["validate", str(not_conforming)]),
        "fetch failed": (4, True, ["fetch", "WMB-taxonomy", "--offline", "--cache", str(tmp / "empty-cache")]),
        "releases unreachable": (
            4,
            True,
            [
                "releases",
                "--base-url",
                f"http://127.0.0.1:{port}",
                "--retries",
                "0",
                "--timeout",
                "2",
                "--cache",
                str(tmp / "empty-cache"),
            ],
        ),
        "store failed": (5, True, ["serve", "--store", str(tmp / "no-store")]),
        "endpoint unreachable": (
            5,
            True,
            ["query", "level-counts", "--endpoint", f"http://127.0.0.1:{port}/store"],
        ),
    }


CASES = [
    "ok",
    "invalid input",
    "usage (click)",
    "usage (abc-kg)",
    "not conforming",
    "fetch failed",
    "releases unreachable",
    "store failed",
    "endpoint unreachable",
]


@pytest.mark.parametrize("verbose", [False, True], ids=["plain", "-v"])
@pytest.mark.parametrize("case", CASES)
def test_every_exit_code_is_the_same_with_and_without_verbose(
    exit_cases: dict[str, tuple[int, bool, list[str]]], case: str, verbose: bool
) -> None:
    code, raises, args = exit_cases[case]
    result = cli(*(["-v"] if verbose else []), *args)
    assert result.returncode == code, result.stderr
    if verbose and raises:
        assert "Traceback (most recent call last)" in result.stderr
        assert "_Reported" not in result.stderr, "the traceback must be the error's own"
    if not verbose:
        assert "Traceback" not in result.stderr, result.stderr
    if code:
        assert result.stderr.strip(), "a failure must say why"


def test_releases_offline_lists_the_cache_and_exits_0(tmp_path: Path) -> None:
    result = cli("releases", "--offline", "--cache", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "0 taxonomy release(s) in the cache" in result.stderr


# --- arguments are checked before any work ------------------------------------------------------------------


def test_a_typo_among_taxonomies_fails_before_anything_is_written(tmp_path: Path) -> None:
    result = cli("export", "WMB-taxonomy", "WMB-taxnomy", "--source", COMPLETE, "--out", tmp_path / "out")
    assert result.returncode == 2
    assert "did you mean WMB-taxonomy?" in result.stderr
    assert not (tmp_path / "out").exists() and result.stdout == ""


def test_taxonomy_names_are_case_insensitive_ids_or_accessions(tmp_path: Path) -> None:
    for name in ("wmb-TAXONOMY", "ccn20230722"):
        result = run("export", name, "--source", COMPLETE, "--out", tmp_path / name, "--format", "nt")
        assert result.exit_code == 0, result.stderr
        assert (tmp_path / name / "WMB-taxonomy" / "20231215" / "CCN20230722.nt").is_file()


def test_an_unusable_out_is_a_usage_error_before_the_work(tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    for out in (a_file, a_file / "below"):
        result = cli("export", "WMB-taxonomy", "--source", COMPLETE, "--out", out)
        assert result.returncode == 2 and "--out" in result.stderr, result.stderr
        assert result.stdout == ""


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_out_is_a_usage_error(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o555)
    result = cli("export", "WMB-taxonomy", "--source", COMPLETE, "--out", folder)
    assert result.returncode == 2 and "cannot write" in result.stderr


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--base-iri", "https://example.org/kg"),  # no trailing / or #
        ("--base-iri", "example.org/kg/"),  # not absolute
        ("--kg-iri", "ftp://example.org/kg/"),  # not http(s)
        ("--kg-iri", "https://example.org/a b/"),  # a space
        ("--base-iri", "https://example.org/<kg>/"),
    ],
)
def test_bad_iri_bases_are_usage_errors(tmp_path: Path, option: str, value: str) -> None:
    result = run("export", "WMB-taxonomy", "--source", COMPLETE, "--out", tmp_path, option, value)
    assert result.exit_code == 2 and option in result.stderr, result.stderr
    assert not list(tmp_path.iterdir())


def test_hash_ending_iri_bases_are_accepted(tmp_path: Path) -> None:
    result = run(
        "export",
        "WMB-taxonomy",
        "--source",
        COMPLETE,
        "--out",
        tmp_path,
        "--format",
        "nt",
        "--base-iri",
        "https://example.org/kg#",
        "--kg-iri",
        "http://example.org/abc/",
    )
    assert result.exit_code == 0, result.stderr


# --- conventions: version, completion, quiet, lazy imports ---------------------------------------------------


def test_version() -> None:
    from abc_atlas_kg import __version__

    result = cli("--version")
    assert result.returncode == 0 and __version__ in result.stdout


def _complete(words: str) -> list[str]:
    env = {
        **os.environ,
        "_ABC_KG_COMPLETE": "bash_complete",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - 1),
    }
    result = subprocess.run([str(cli_module_path())], env=env, capture_output=True, text=True, check=False)
    return [line.split(",", 1)[1] for line in result.stdout.splitlines()]


def cli_module_path() -> Path:
    return Path(sys.executable).parent / "abc-kg"


def test_shell_completion_offers_taxonomies_formats_and_queries() -> None:
    assert "WMB-taxonomy" in _complete("abc-kg export WMB")
    assert "CCN20230722" in _complete("abc-kg export ccn2023072")
    assert _complete("abc-kg query level") == ["level-counts"]
    assert _complete("abc-kg export --format ttl,j") == ["ttl,jsonld"]
    assert _complete("abc-kg export WMB-taxonomy --release 2023") == ["20230830", "20231215"]
    assert _complete("abc-kg export SEAAD-taxonomy --release 2") == ["20240131"]


def test_query_names_are_listed_without_importing_the_store() -> None:
    """The command line lists the shipped queries by file name; they must be the library the store reads."""
    from abc_atlas_kg.cli.params import query_names
    from abc_atlas_kg.store import named

    assert query_names() == sorted(named.library())


def test_defaults_have_one_home() -> None:
    """No module but defaults.py spells an environment variable name or a default base (grep over the package)."""
    package = Path(cli_module.__file__).parents[1]
    spelled = [
        f"{path.relative_to(package)}:{number}"
        for path in package.rglob("*.py")
        if path.name != "defaults.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r'"ABC_KG_[A-Z_]+"|"https://(w3id.org/abc-atlas-kg|purl.brain-bican.org/taxonomy)/"', line)
    ]
    assert spelled == []


HEAVY = ("pyshacl", "rdflib", "pandas", "requests", "rich", "pyoxigraph")


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["taxonomies"], ["export", "--help"]])
def test_quick_commands_import_no_heavy_library(args: list[str]) -> None:
    probe = (
        "import sys\nfrom abc_atlas_kg.cli import main\n"
        f"try:\n    main({args!r})\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert result.stderr.strip().splitlines()[-1] == "[]", result.stderr


def test_quiet_export_prints_only_paths(tmp_path: Path) -> None:
    result = cli("--quiet", "export", "WMB-taxonomy", "--source", COMPLETE, "--out", tmp_path, "--format", "nt")
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.splitlines() == [str(tmp_path / "WMB-taxonomy" / "20231215" / "CCN20230722.nt")]


def test_piped_export_prints_paths_on_stdout_and_one_summary_line_per_taxonomy(tmp_path: Path) -> None:
    source = atlas_with_aging_counts(tmp_path / "atlas")  # complete: no warning about missing aging counts
    result = cli("export", "--all", "--source", source, "--out", tmp_path / "out", "--format", "nt,ttl")
    assert result.returncode == 0, result.stderr
    paths = [Path(line) for line in result.stdout.splitlines()]
    assert paths and all(p.is_file() and p.is_relative_to(tmp_path / "out") for p in paths)
    summaries = result.stderr.splitlines()
    assert len(summaries) == len(present_taxonomies(source)), result.stderr
    assert all(f" from the folder {source}: " in line and line.endswith(" triples") for line in summaries)


# --- export --all: failures reported, files listed; linked taxonomies read once -----------------------------


def test_export_all_with_one_failing_taxonomy_reports_it_and_lists_the_others(tmp_path: Path) -> None:
    bucket = tmp_path / "bucket"
    shutil.copytree(ATLAS, bucket)
    whb = bucket / "metadata" / "WHB-taxonomy" / "20240330" / "cluster_annotation_term.csv"
    whb.write_text(whb.read_text(encoding="utf-8").replace("CS202210140_298,", "CS202210140_476,", 1))
    result = cli("export", "--all", "--jobs", "2", "--source", bucket, "--out", tmp_path / "out", "--format", "nt")
    assert result.returncode == 1, result.stderr
    assert "error: WHB-taxonomy:" in result.stderr
    written = sorted(p for p in (tmp_path / "out").rglob("*") if p.is_file() and not p.name.startswith("."))
    assert sorted(Path(line) for line in result.stdout.splitlines()) == written
    assert {p.relative_to(tmp_path / "out").parts[0] for p in written} == set(present_taxonomies(ATLAS)) - {
        "WHB-taxonomy"
    }


def test_the_worst_failure_decides_the_exit_code() -> None:
    input_error = errors.InputError([errors.Problem("x.csv", "bad")])
    failures = [
        jobs.Outcome("A", error=input_error),
        jobs.Outcome("B", error=errors.FetchError("unreachable")),
        jobs.Outcome("C", error=errors.NotConformingError("no")),
    ]
    assert errors.ExportFailures(failures).exit_code == errors.ExitCode.FETCH_FAILED


def test_export_all_reads_and_models_each_release_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """CCN20230504 links to WMB: the WMB release that `--all` exports anyway is not read a second time."""
    reads: Counter[tuple[str, str]] = Counter()
    real = source.read_release

    def counting(root: Path, directory: str, release: str, *args: object, **kwargs: object) -> object:
        reads[(directory, release)] += 1
        return real(root, directory, release, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(source, "read_release", counting)
    result = run("export", "--all", "--jobs", "1", "--source", ATLAS, "--out", tmp_path, "--format", "nt")
    assert result.exit_code == 0, result.stderr
    assert reads[("WMB-taxonomy", "20231215")] == 1
    assert all(n == 1 for n in reads.values()), reads


def test_build_writes_nothing_and_export_writes_what_it_built(tmp_path: Path) -> None:
    built = build("WMB-taxonomy", BuildOptions(source=COMPLETE))
    assert built.taxonomy.release == "20231215" and built.triples == len(built.documents[0].triples)
    assert not list(tmp_path.iterdir())
    files = jobs.write_files(built, tmp_path, ["nt"])
    assert files == [tmp_path / "WMB-taxonomy" / "20231215" / "CCN20230722.nt"]
    assert len(load_store(files[0])) == built.triples


# --- load: fetch options like export, an unreachable server found before the build ---------------------------


def test_load_takes_offline_and_cache_like_export(tmp_path: Path) -> None:
    result = cli("load", "WMB-taxonomy", "--release", "20231215", "--offline", "--cache", tmp_path / "empty",
                 "--store", tmp_path / "store")  # fmt: skip
    assert result.returncode == 4, result.stderr
    assert "--offline" in result.stderr and "Traceback" not in result.stderr


def test_load_finds_an_unreachable_endpoint_before_building(tmp_path: Path, shared_bucket: Path) -> None:
    """The full WMB release takes seconds to build: the refusal must come before that."""
    endpoint = f"http://127.0.0.1:{_closed_port()}/store"
    started = time.monotonic()
    result = cli("load", "WMB-taxonomy", "--release", "20231215", "--source", shared_bucket, "--endpoint", endpoint)
    assert result.returncode == 5 and f"cannot connect to {endpoint}" in result.stderr
    assert time.monotonic() - started < 3


def test_the_quick_start_says_which_source_and_release_it_used(tmp_path: Path) -> None:
    result = cli("export", "WMB-taxonomy", "--out", tmp_path, "--format", "nt")
    assert result.returncode == 0, result.stderr
    assert "WMB-taxonomy CCN20230722 release 20230830 from the bundled sample: a partial rebuild" in result.stderr


def test_validate_refuses_rdfxml_with_entity_declarations_unread(tmp_path: Path) -> None:
    """A few hundred bytes of nested DTD entities would expand to gigabytes: refused before parsing, exit 1."""
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 12))
    bomb = tmp_path / "bomb.rdf"
    bomb.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY l0 "lol">' + laughs + "]>\n"
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">'
        '<rdf:Description rdf:about="http://example.org/a"><ex:p>&l11;</ex:p></rdf:Description></rdf:RDF>\n'
    )
    result = cli("validate", bomb)
    assert result.returncode == 1
    assert "declares DTD entities" in result.stderr and "Traceback" not in result.stderr


STRICTER_SHAPE = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix akg: <https://w3id.org/abc-atlas-kg/vocab/> .
@prefix ex: <https://example.org/shapes/> .
ex:HugeClusters a sh:NodeShape ; sh:targetClass akg:Cluster ;
    sh:property [ sh:path akg:cellCount ; sh:minInclusive 1000000000 ;
                  sh:message "This lab only exports clusters of a billion cells." ] .
"""


def _project_and_own_shapes(folder: Path, own: str) -> Path:
    from abc_atlas_kg.resources import shapes_dir

    shutil.copytree(shapes_dir(), folder)
    (folder / "own.ttl").write_text(own)
    return folder


def test_export_gated_by_own_shapes_writes_nothing_and_keeps_the_previous_set(tmp_path: Path) -> None:
    out = tmp_path / "out"
    export_to(out, "--source", COMPLETE)
    folder = out / "WMB-taxonomy" / "20231215"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    shapes = _project_and_own_shapes(tmp_path / "shapes", STRICTER_SHAPE)

    result = run("export", "WMB-taxonomy", "--out", out, "--source", COMPLETE, "--format", "ttl", "--shapes", shapes)

    assert result.exit_code == 3, result.stderr
    assert "does not conform" in result.stderr and "billion cells" in result.stderr
    assert result.stdout == ""  # no file listed: none was written
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # the gate ran beside the writers: no trace


def test_export_with_own_shapes_that_hold_writes_the_set(tmp_path: Path) -> None:
    own = STRICTER_SHAPE.replace("1000000000", "0")
    shapes = _project_and_own_shapes(tmp_path / "shapes", own)
    result = export_to(tmp_path / "out", "--source", COMPLETE, "--format", "nt", "--shapes", shapes)
    assert result.stdout.strip().endswith("CCN20230722.nt")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("not turtle at all {", "cannot be read as SHACL shapes"),
        (STRICTER_SHAPE.replace("sh:minInclusive 1000000000", "sh:closed true"), "sh:closed"),
    ],
)
def test_export_refuses_unusable_shapes_before_any_work(tmp_path: Path, content: str, expected: str) -> None:
    shapes = tmp_path / "bad.ttl"
    shapes.write_text(content)
    result = run("export", "WMB-taxonomy", "--out", tmp_path / "out", "--source", COMPLETE, "--shapes", shapes)
    assert result.exit_code == 2, result.stderr
    assert "--shapes" in result.stderr and expected in result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.ttl"))
