"""Every example in README.md and docs/*.md runs here, and what it prints must be what the page shows.

Each page is walked on its own, top to bottom, in its own scratch home; what follows says "README" for any page.

The convention (also summarised in docs/architecture.md), by the language of each fenced block:

- ```console: lines starting with `$ ` are commands, run in README order by bash in one scratch folder, as a user
  following the README from the top would run them (a line ending in `\\` continues on the next). `abc-kg` and
  `.venv/bin/abc-kg` are the installed entry point; relative paths such as `tests/fixtures/atlas` are the repo's.
  The lines after a command, up to the next `$ ` line, are what the user sees: stdout and stderr as one stream, in
  the order written. Compared after normalising only what must vary: durations (`0.28 s`, `72 ms`) become `<time>`,
  the scratch home becomes `/home/me` and the clone `/home/me/abc-atlas-kg`, trailing spaces and trailing blank
  lines go; a line `...` in the README stands for any number of lines. A command must exit 0 unless the README
  shows an `error:` line for it.
- ```bash: a script to copy; run as one `bash -e` script in that same folder, it must exit 0 (output not compared).
- ```sparql: run with `abc-kg query --file` against a store holding the bundled sample (what the quick start
  exports), with the documented default prefixes. If a ```text block follows it directly, that is its answer
  and must be printed exactly. A `<!-- file: NAME.rq -->` comment right before it instead saves it as NAME.rq in
  the scratch folder, for a later ```console block to run (`abc-kg query --file NAME.rq`).
- ```text and unlabelled blocks are synopses, diagrams and illustrations: not run.
- any other language fails the test, so that no unchecked kind of example can slip in.

A `<!-- not run: REASON -->` comment right before a block skips it (needs a server, the network, or installs the
package); the reason is required and shown as the skip reason.

The scratch home is a temporary folder: `HOME`, `XDG_DATA_HOME` and `XDG_CACHE_HOME` point into it (so the default
store and cache are there), every `ABC_KG_*` variable is removed and any HTTP request goes to a closed port.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ABC_KG_SHARED", REPO.parent / "shared"))
README = REPO / "README.md"
DOCS = [README, *sorted((REPO / "docs").glob("*.md"))]
VENV_BIN = Path(sys.executable).parent
RUN_LANGUAGES = {"console", "bash", "sparql"}
SHOWN_LANGUAGES = {"text", ""}
MARKER = re.compile(r"^<!--\s*(not run|file):\s*(.*?)\s*-->$")
DURATION = re.compile(r"\b\d+(?:\.\d+)? ?(?:ms|s)\b")
COMMAND_TIMEOUT = 300


@dataclass
class Block:
    """One fenced block of the README, with the marker comment right before it (if any)."""

    line: int  # 1-based line of the opening fence
    language: str
    lines: list[str]
    section: str
    not_run: str | None = None
    file: str | None = None
    answer: Block | None = None  # the ```text block right after a sparql block
    doc: str = "README.md"  # the page, relative to the repository

    @property
    def id(self) -> str:
        page = "" if self.doc == "README.md" else f"{Path(self.doc).stem}-"
        return f"{page}L{self.line}-{self.language or 'plain'}-{slug(self.section)}"

    @property
    def where(self) -> str:
        return f"{self.doc} line {self.line}"


@dataclass
class Step:
    """One console command with the output the README shows for it."""

    command: str
    expected: list[str] = field(default_factory=list)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:30]


def blank_between(lines: list[str], first: int, last: int) -> bool:
    """Only blank lines strictly between two line indexes: a marker or answer belongs to the block it touches."""
    return all(not lines[i].strip() for i in range(first + 1, last))


def parse(text: str, doc: str = "README.md") -> list[Block]:
    """The fenced blocks of a Markdown text, each with its section heading and marker comment."""
    blocks: list[Block] = []
    section, marker, previous_end = "", None, -1
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("#"):
            section = line.lstrip("#").strip()
        if found := MARKER.match(line.strip()):
            marker = (found.group(1), found.group(2), index)
        if line.startswith("```"):
            start = index
            end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("```"))
            block = Block(start + 1, line[3:].strip(), lines[start + 1 : end], section, doc=doc)
            if marker and blank_between(lines, marker[2], start):
                setattr(block, "not_run" if marker[0] == "not run" else "file", marker[1])
            previous = blocks[-1] if blocks else None
            if previous and previous.language == "sparql" and previous.file is None and block.language == "text":
                previous.answer = block if blank_between(lines, previous_end, start) else None
            blocks.append(block)
            marker, previous_end, index = None, end, end
        index += 1
    return blocks


def steps(block: Block) -> list[Step]:
    """The commands of a console block and the output shown after each."""
    result: list[Step] = []
    lines = iter(block.lines)
    for line in lines:
        if line.startswith("$ "):
            command = line[2:]
            while command.endswith("\\"):
                command += "\n" + next(lines)  # bash reads the backslash-newline as a continuation
            result.append(Step(command))
        elif result:
            result[-1].expected.append(line)
        elif line.strip():
            raise AssertionError(f"{block.where}: console output before any `$ ` command: {line!r}")
    return result


def normalise(text: str, home: Path) -> list[str]:
    """What may differ between runs made uniform: durations, the home and clone folders, trailing space."""
    for real, shown in ((str(REPO), "/home/me/abc-atlas-kg"), (str(home), "/home/me")):
        text = text.replace(real, shown)
    lines = [DURATION.sub("<time>", line).rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def matches(expected: list[str], actual: list[str]) -> bool:
    """Line-by-line equality, where an expected line `...` stands for any number of actual lines."""
    pattern = "".join(r"(?:[^\n]*\n)*?" if line.strip() == "..." else re.escape(line + "\n") for line in expected)
    return re.fullmatch(pattern, "".join(line + "\n" for line in actual)) is not None


# --- the run: one scratch home, every block in README order ---------------------------------------------------


@dataclass
class Outcome:
    """What running one block gave: per command (or query), what was expected and what came out."""

    checks: list[tuple[str, list[str], list[str], int]] = field(default_factory=list)


class Walk:
    """Runs the README's blocks in order in one scratch home, recording each block's outcome."""

    def __init__(self, home: Path, sample_store: Path) -> None:
        self.home = home
        self.clone = home / "abc-atlas-kg"
        self.sample_store = sample_store
        self.clone.mkdir(parents=True)
        for name in ("tests", "ontology", "shapes", "src", "docs"):  # the repo's files, as in a fresh clone
            (self.clone / name).symlink_to(REPO / name)
        if SHARED.is_dir():  # the real ABC data beside the clone, as CI has it (`../shared`)
            (home / "shared").symlink_to(SHARED)
        (self.clone / ".venv" / "bin").mkdir(
            parents=True
        )  # only the entry point: a README command never touches the venv
        (self.clone / ".venv" / "bin" / "abc-kg").symlink_to(VENV_BIN / "abc-kg")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("ABC_KG_")}
        self.env.update(
            HOME=str(home),
            XDG_DATA_HOME=str(home / ".local" / "share"),
            XDG_CACHE_HOME=str(home / ".cache"),
            PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            PYTHONUNBUFFERED="1",  # stdout and stderr interleave as written, as on a terminal
            COLUMNS="120",
            HTTP_PROXY="http://127.0.0.1:9",
            HTTPS_PROXY="http://127.0.0.1:9",
            NO_PROXY="127.0.0.1,localhost",
        )

    def shell(self, script: str, *flags: str) -> tuple[list[str], int]:
        done = subprocess.run(
            ["bash", *flags, "-c", script],
            cwd=self.clone,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        return normalise(done.stdout, self.home), done.returncode

    def run(self, block: Block) -> Outcome:
        outcome = Outcome()
        text = "\n".join(block.lines) + "\n"
        if block.language == "console":
            for step in steps(block):
                actual, code = self.shell(step.command)
                outcome.checks.append((step.command, normalise("\n".join(step.expected), self.home), actual, code))
        elif block.language == "bash":
            actual, code = self.shell(text, "-e")
            outcome.checks.append((text, ["..."], actual, code))
        elif block.file:
            (self.clone / block.file).write_text(text, encoding="utf-8")
        else:
            query = self.clone / f".readme-query-{block.line}.rq"
            query.write_text(text, encoding="utf-8")
            actual, code = self.shell(f"abc-kg query --store {self.sample_store} --file {query}")
            expected = normalise("\n".join(block.answer.lines), self.home) if block.answer else ["..."]
            outcome.checks.append((text, expected, actual, code))
        return outcome


BLOCKS = [b for doc in DOCS for b in parse(doc.read_text(encoding="utf-8"), str(doc.relative_to(REPO)))]
RUN = [b for b in BLOCKS if b.language in RUN_LANGUAGES]


class Walked:
    """Each page's runnable, not-skipped blocks' outcomes, keyed by line; a page is walked once, when first asked."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.factory = tmp_path_factory
        self.pages: dict[str, dict[int, Outcome]] = {}
        self.sample_store: Path | None = None

    def __getitem__(self, block: Block) -> Outcome:
        if block.doc not in self.pages:
            if self.sample_store is None:
                self.sample_store = self.factory.mktemp("readme-sample") / "store"
                done = subprocess.run(
                    [str(VENV_BIN / "abc-kg"), "-q", "load", "WMB-taxonomy", "--store", str(self.sample_store)],
                    env={k: v for k, v in os.environ.items() if not k.startswith("ABC_KG_")},
                    capture_output=True,
                    text=True,
                    check=False,
                )
                assert done.returncode == 0, "loading the bundled sample for the SPARQL examples failed"
            walk = Walk(self.factory.mktemp("readme-home") / "me", self.sample_store)
            page = [b for b in RUN if b.doc == block.doc and b.not_run is None]
            self.pages[block.doc] = {b.line: walk.run(b) for b in page}
        return self.pages[block.doc][block.line]


@pytest.fixture(scope="module")
def walked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walked]:
    yield Walked(tmp_path_factory)


@pytest.mark.parametrize("block", RUN, ids=[b.id for b in RUN])
def test_readme_example(block: Block, walked: Walked) -> None:
    """The block runs and prints what the README shows (see the module docstring for the convention)."""
    if block.not_run is not None:
        pytest.skip(f"{block.where}: not run: {block.not_run}")
    if "../shared/" in "\n".join(block.lines) and not (SHARED / "samples").is_dir():
        if os.environ.get("ABC_KG_REQUIRE_SHARED"):
            raise AssertionError(f"{block.where} needs {SHARED}, which ABC_KG_REQUIRE_SHARED=1 requires")
        pytest.skip(f"{block.where} reads the real release from ../shared, absent here")
    for command, expected, actual, code in walked[block].checks:
        shown_error = any(line.startswith("error:") for line in expected)
        assert code == 0 or shown_error, f"{block.where}: `{command}` exited {code}:\n" + "\n".join(actual)
        assert matches(expected, actual), (
            f"{block.where}: `{command.strip()}` printed something else.\n"
            "--- README shows ---\n" + "\n".join(expected) + "\n--- the command printed ---\n" + "\n".join(actual)
        )


# --- the convention itself ------------------------------------------------------------------------------------


def test_every_block_follows_the_convention() -> None:
    """Only known block languages; skip markers carry a reason and stay few; saved queries are SPARQL."""
    unknown = [(b.line, b.language) for b in BLOCKS if b.language not in RUN_LANGUAGES | SHOWN_LANGUAGES]
    assert not unknown, f"README blocks in a language test_readme.py does not know: {unknown}"
    skipped = [b for b in BLOCKS if b.not_run is not None]
    assert all(b.not_run.strip() for b in skipped), "a <!-- not run: --> marker needs a reason"
    assert len(skipped) <= 12, f"too many examples are not run: {[b.where for b in skipped]}"
    assert all(b.language == "sparql" and re.fullmatch(r"[\w.-]+\.rq", b.file) for b in BLOCKS if b.file)
    assert any(b.language == "console" for b in RUN) and any(b.language == "sparql" for b in RUN)


def test_a_changed_answer_fails() -> None:
    """The comparison is strict where it must be: one changed figure, line or order is a mismatch."""
    home = Path("/tmp/x/me")
    actual = normalise(f"loaded 6 graph(s) into {home}/store in 0.17 s:\n  g   310 triples\ntotal 0.70 s\n", home)
    assert actual == ["loaded 6 graph(s) into /home/me/store in <time>:", "  g   310 triples", "total <time>"]
    assert matches(["loaded 6 graph(s) into /home/me/store in <time>:", "...", "total <time>"], actual)
    assert matches(["...", "total <time>"], actual) and matches(["..."], actual)
    assert not matches(
        ["loaded 6 graph(s) into /home/me/store in <time>:", "  g   311 triples", "total <time>"], actual
    )
    assert not matches(["loaded 6 graph(s) into /home/me/store in <time>:", "total <time>"], actual)
    assert not matches(["total <time>", "..."], actual)


def test_parse_reads_markers_and_answers() -> None:
    text = (
        "# S\n<!-- not run: needs a server -->\n\n```bash\nabc-kg load --endpoint x\n```\n"
        "<!-- file: q.rq -->\n```sparql\nASK {}\n```\n```sparql\nSELECT 1\n```\n\n```text\nanswer\n```\n"
        "```console\n$ abc-kg a \\\n  b\nout\n\n$ abc-kg c\n```\n"
    )
    bash, saved, query, answer, console = parse(text)
    assert bash.not_run == "needs a server" and saved.file == "q.rq" and saved.answer is None
    assert query.answer is answer and query.not_run is None and query.file is None
    assert [(s.command, s.expected) for s in steps(console)] == [("abc-kg a \\\n  b", ["out", ""]), ("abc-kg c", [])]


# --- the figures of the Taxonomies table --------------------------------------------------------------------------

SUMMARY = re.compile(
    r"^(?P<id>\S+) \S+ release (?P<release>\d+) from .*?; (?P<levels>\d+) levels, (?P<terms>\d+) terms, "
    r"(?P<clusters>\d+) clusters, (?P<memberships>\d+) memberships, (?P<mappings>\d+) mappings, (?P<triples>\d+) triples",
    re.M,
)
COLUMNS = ("release", "levels", "terms", "clusters", "memberships", "mappings", "triples")


def table_rows(text: str) -> dict[tuple[str, str], dict[str, str]]:
    """The README's export-figures table: (taxonomy id, real release|bundled sample|fixture) → leading numbers."""
    rows = {}
    for line in text.splitlines():
        if found := re.match(r"^\| `([\w-]+)`, (real release|bundled sample|fixture)\b[^|]*\|(.*)\|$", line):
            cells = [re.match(r"\s*([\d,]+)", cell).group(1).replace(",", "") for cell in found.group(3).split("|")]
            rows[(found.group(1), found.group(2))] = dict(zip(COLUMNS, cells, strict=True))
    return rows


def exported(*args: str | Path) -> dict[str, dict[str, str]]:
    done = subprocess.run(
        [str(VENV_BIN / "abc-kg"), "export", *map(str, args)],
        env={k: v for k, v in os.environ.items() if not k.startswith("ABC_KG_")},  # $ABC_KG_CACHE would mean "fetch"
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return {m["id"]: {c: m[c] for c in COLUMNS} for m in SUMMARY.finditer(done.stderr)}


def test_taxonomy_table_figures_are_what_the_exports_print(tmp_path: Path) -> None:
    """Every figure of the README's export table is what `abc-kg export` reports now for that source."""
    rows = table_rows("\n".join(doc.read_text(encoding="utf-8") for doc in DOCS))
    fixtures = exported("--all", "--source", REPO / "tests" / "fixtures" / "atlas", "--out", tmp_path / "f")
    assert {k: v for (k, kind), v in rows.items() if kind == "fixture"} == fixtures
    sample = exported("WMB-taxonomy", "--out", tmp_path / "s")
    assert rows[("WMB-taxonomy", "bundled sample")] == sample["WMB-taxonomy"]
    shared = SHARED / "samples" / "abc-bucket"
    if not (shared / "metadata").is_dir():
        pytest.skip(f"no real release at {shared}: its row is not checked")
    real = exported("WMB-taxonomy", "--source", shared, "--no-validate", "--format", "nt", "--out", tmp_path / "r")
    assert rows[("WMB-taxonomy", "real release")] == real["WMB-taxonomy"]
