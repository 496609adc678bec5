"""The `abc-kg` command line: a thin click group, one command per job.

Data goes to files or stdout; messages, progress, logs and errors go to stderr. Exit codes: 0 ok, 1 invalid
input, 2 usage error, 3 SHACL non-conformance, 4 fetch failure, 5 store failure, 130 interrupted; `-v` adds the
traceback, never changes the code.

Startup is kept cheap on purpose: this module imports only click and abc-kg's light modules (errors, registry);
every stage (pipeline, fetch, validate, load, query, and with them pyshacl, rdflib, requests, rich) is imported
inside the command that needs it, so `abc-kg --help` and `abc-kg taxonomies` start in a fraction of a second.
Every argument is checked by click before a command starts, so a typo never costs a half-done run.
"""

from __future__ import annotations

import functools
import logging
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click
from click.core import ParameterSource
from click.shell_completion import CompletionItem

from .. import __version__
from ..errors import AbcKgError, ExitCode, FetchError, StoreError, UsageError

if TYPE_CHECKING:
    from .. import jobs as jobs_module
    from ..source.bucket import fetch
    from ..store import Credentials, Target

# Names shared with the stages, spelled here so that `--help` imports none of them (tests check they agree).
CACHE_ENV = "ABC_KG_CACHE"  # fetch.CACHE_ENV
BASE_URL_ENV = "ABC_KG_BASE_URL"  # fetch.BASE_URL_ENV
DEFAULT_BASE_URL = "https://allen-brain-cell-atlas.s3.us-west-2.amazonaws.com/"  # fetch.DEFAULT_BASE_URL
DEFAULT_BASE_IRI = "https://purl.brain-bican.org/taxonomy/"  # vocab.DEFAULT_BASE_IRI
DEFAULT_KG_IRI = "https://w3id.org/abc-atlas-kg/"  # vocab.DEFAULT_KG_IRI
STORE_ENV = "ABC_KG_STORE"  # store.STORE_ENV
USER_ENV, PASSWORD_ENV, TOKEN_ENV = "ABC_KG_ENDPOINT_USER", "ABC_KG_ENDPOINT_PASSWORD", "ABC_KG_ENDPOINT_TOKEN"
AUTH_SCHEMES = ("auto", "basic", "digest", "bearer", "none")  # store.AUTH_SCHEMES
QUERY_OUTPUT_FORMATS = ("table", "csv", "tsv", "json")  # store.OUTPUT_FORMATS


def _state() -> dict[str, Any]:
    ctx = click.get_current_context(silent=True)
    return (ctx.find_root().obj if ctx else None) or {}


def _quiet() -> bool:
    return bool(_state().get("quiet"))


def say(line: str) -> None:
    """A status line for people: stderr, and nothing at all with --quiet."""
    if not _quiet():
        click.echo(line, err=True)


class _Group(click.Group):
    """Turns abc-kg's errors and Ctrl-C into one message and a documented exit code; -v adds the traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except AbcKgError as err:
            self._fail(ctx, f"error: {err}", err.exit_code)
        except KeyboardInterrupt:
            self._fail(ctx, "interrupted", ExitCode.INTERRUPTED)
        return None  # pragma: no cover - _fail exits

    @staticmethod
    def _fail(ctx: click.Context, message: str, code: ExitCode) -> None:
        if (ctx.obj or {}).get("verbose") and not isinstance(sys.exc_info()[1], _Reported):
            traceback.print_exc(file=sys.stderr)
        click.echo(message, err=True)
        ctx.exit(int(code))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="abc-kg")
@click.option("-v", "--verbose", is_flag=True, help="Log each stage and show tracebacks on errors (same exit codes).")
@click.option("-q", "--quiet", is_flag=True, help="No progress, summaries or status lines: only data and errors.")
@click.pass_context
def main(ctx: click.Context, verbose: bool, quiet: bool) -> None:
    """Export Allen Brain Cell Atlas taxonomies as SHACL-validated linked data.

    Shell completion (taxonomy and query names too): eval "$(_ABC_KG_COMPLETE=bash_source abc-kg)"
    """
    ctx.obj = {"verbose": verbose, "quiet": quiet and not verbose}
    level = logging.INFO if verbose else (logging.ERROR if quiet else logging.WARNING)
    logging.basicConfig(level=level, format="abc-kg: %(message)s", stream=sys.stderr, force=True)


# --- parameter types: every argument is checked before any work ----------------------------------------------


class TaxonomyType(click.ParamType):
    """A registry id or accession, case-insensitive; a near miss gets a suggestion. Converts to the registry id."""

    name = "taxonomy"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            return resolve_taxonomy(str(value))
        except UsageError as err:
            self.fail(str(err), param, ctx)

    def shell_complete(self, ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
        from .. import registry

        names = [n for s in registry.taxonomies().values() for n in (s.id, s.accession)]
        return [CompletionItem(n) for n in names if n.casefold().startswith(incomplete.casefold())]


def complete_release(ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Releases of the taxonomies named so far (all taxonomies when none is): the registry's hints, the bundled
    sample's and those of a `--source` folder given before, without asking the bucket (completion must be instant)."""
    from .. import registry
    from ..resources import sample_root
    from ..source.tables import available_releases

    # While completing, click leaves the positional taxonomies unconverted in ctx.args.
    named = {n.casefold() for n in (*ctx.params.get("taxonomy", ()), *ctx.params.get("taxonomies", ()), *ctx.args)}
    known = registry.taxonomies().values()
    specs = [s for s in known if s.id.casefold() in named or s.accession.casefold() in named] or list(known)
    folders = [sample_root(), *([ctx.params["source"]] if ctx.params.get("source") else [])]
    found = {r for s in specs for r in s.releases} | {
        r for s in specs for folder in folders for r in available_releases(Path(folder), s.directory)
    }
    return [CompletionItem(r) for r in sorted(found) if r.startswith(incomplete)]


def resolve_taxonomy(name: str) -> str:
    """The registry id for an id or accession in any case; a UsageError naming the closest known ids otherwise."""
    import difflib

    from .. import registry

    known = registry.taxonomies()
    by_name = {n.casefold(): s.id for s in known.values() for n in (s.id, s.accession)}
    if name.casefold() in by_name:
        return by_name[name.casefold()]
    close = difflib.get_close_matches(name.casefold(), list(by_name), n=1, cutoff=0.6)
    hint = f"; did you mean {by_name[close[0]]}?" if close else ""
    raise UsageError(f"unknown taxonomy {name!r}{hint} (known: {', '.join(sorted(known))})")


class FormatsType(click.ParamType):
    """Comma-separated output format names, checked against the writers."""

    name = "formats"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> list[str]:
        if isinstance(value, list):
            return value
        from ..files import write

        names = [v.strip() for v in str(value).split(",") if v.strip()]
        unknown = [n for n in names if n not in write.formats()]
        if unknown or not names:
            self.fail(f"choose from {', '.join(write.formats())} (got {value!r})", param, ctx)
        return names

    def shell_complete(self, ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
        from ..files import write

        head, _, tail = incomplete.rpartition(",")
        prefix = f"{head}," if head else ""
        return [CompletionItem(prefix + n) for n in write.formats() if n.startswith(tail)]


class IriBaseType(click.ParamType):
    """An absolute http(s) IRI ending in / or #: the base that names are appended to."""

    name = "iri"
    FORBIDDEN = frozenset(' <>"{}|^`\\')

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        parts = urlsplit(text)
        bad = sorted({c for c in text if c in self.FORBIDDEN or ord(c) < 0x21})
        if bad:
            self.fail(f"{text!r} contains characters not allowed in an IRI: {' '.join(map(repr, bad))}", param, ctx)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            self.fail(f"{text!r} is not an absolute http:// or https:// IRI", param, ctx)
        if not text.endswith(("/", "#")):
            self.fail(f"{text!r} must end in '/' or '#', since names are appended to it", param, ctx)
        return text


class QueryNameType(click.ParamType):
    """A named query (completed from the shipped queries) or SPARQL text, passed through unchanged."""

    name = "query"

    def shell_complete(self, ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
        return [CompletionItem(n) for n in query_names() if n.startswith(incomplete)]


def query_names() -> list[str]:
    """The named queries: the .rq files shipped in abc_atlas_kg/queries (read without importing the query module)."""
    from importlib.resources import files

    folder = files("abc_atlas_kg").joinpath("queries")
    return sorted(p.name[:-3] for p in folder.iterdir() if p.name.endswith(".rq"))


def _usable_out(_ctx: click.Context, param: click.Parameter, value: Path) -> Path:
    """An output folder that can be created and written, checked before any work is done."""
    if value.exists() and not value.is_dir():
        raise click.BadParameter(f"{value} exists and is not a folder", param=param)
    existing = value
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise click.BadParameter(f"{existing} is not a folder, so {value} cannot be created", param=param)
    import tempfile

    try:
        with tempfile.TemporaryFile(dir=existing, prefix=".abc-kg-probe-"):
            pass
    except OSError as err:
        raise click.BadParameter(f"cannot write in {existing}: {err.strerror or err}", param=param) from None
    return value


# --- shared options ------------------------------------------------------------------------------------------


def _options(options: list[Callable[[Any], Any]]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


fetch_options = _options(
    [
        click.option(
            "--cache",
            type=click.Path(file_okay=False, path_type=Path),
            envvar=CACHE_ENV,
            help=f"Cache folder, laid out like the bucket. Default: ${CACHE_ENV}, else the user cache directory.",
        ),
        click.option(
            "--base-url",
            envvar=BASE_URL_ENV,
            default=DEFAULT_BASE_URL,
            show_default=True,
            help=f"Bucket or mirror to fetch from (also ${BASE_URL_ENV}).",
        ),
        click.option("--offline", is_flag=True, help="Make no request: use the cache or fail (exit 4)."),
        click.option(
            "--timeout",
            type=click.FloatRange(min=0, min_open=True),
            default=30.0,
            show_default=True,
            help="Seconds to wait for a connection or for data, on every request.",
        ),
        click.option(
            "--retries",
            type=click.IntRange(min=0),
            default=4,
            show_default=True,
            help="Extra attempts after connection errors, timeouts and 5xx responses.",
        ),
        click.option(
            "--backoff",
            type=click.FloatRange(min=0),
            default=1.0,
            show_default=True,
            help="Seconds before the first retry; doubled for each further one.",
        ),
        click.option(
            "--deadline",
            type=click.FloatRange(min=0, min_open=True),
            default=600.0,
            show_default=True,
            help="Seconds one file may take in all, retries included; a slower download fails (exit 4).",
        ),
    ]
)
"""The options that say where to fetch from and to: `fetch`, `releases`, `export` and `load`."""

iri_options = _options(
    [
        click.option(
            "--base-iri",
            type=IriBaseType(),
            default=DEFAULT_BASE_IRI,
            show_default=True,
            help="Base of taxonomy, cell-set and level IRIs: {base}{accession}/{label}.",
        ),
        click.option(
            "--kg-iri",
            type=IriBaseType(),
            default=DEFAULT_KG_IRI,
            show_default=True,
            help="abc-kg's own namespace: releases, named graphs, leaf clusters, mappings ({kg}graph/...).",
        ),
    ]
)


def _to_stderr(line: str) -> None:
    """Status lines of fetching; module level so that settings can travel to worker processes."""
    click.echo(line, err=True)


def _silent(_line: str) -> None:
    """Status lines of fetching with --quiet."""


def fetch_settings(options: dict[str, Any]) -> fetch.Settings:
    """Fetch settings from the shared options (consumed from `options`); status lines go to stderr."""
    from ..source.bucket import fetch

    ctx = click.get_current_context()
    given = {"base_url", "cache", "offline"}
    requested = any(ctx.get_parameter_source(name) not in (None, ParameterSource.DEFAULT) for name in given)
    return fetch.Settings(
        base_url=options.pop("base_url"),
        cache=options.pop("cache") or fetch.default_cache(),
        offline=options.pop("offline"),
        timeout=options.pop("timeout"),
        retries=options.pop("retries"),
        backoff=options.pop("backoff"),
        deadline=options.pop("deadline"),
        requested=requested,
        report=_silent if _quiet() else _to_stderr,
    )


# --- progress ------------------------------------------------------------------------------------------------


class Reporter:
    """Progress of a multi-taxonomy job on stderr: rich bars on a terminal, one summary line per taxonomy otherwise.

    Called as `reporter(taxonomy_id, stage)` by the pipeline (see pipeline.STAGES). Shown only when stderr is a
    terminal and --quiet is off, so pipes, CI logs and scripts get plain lines.
    """

    STEPS = ("locate", "read", "model", "link", "convert", "validate", "write", "done")

    def __init__(self, title: str, total: int):
        self.title, self.total = title, total
        self.quiet = _quiet()
        self.live = not self.quiet and sys.stderr.isatty()
        self.progress: Any = None
        self.tasks: dict[str, Any] = {}
        self.finished: set[str] = set()

    def __enter__(self) -> Reporter:
        if self.live:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
            self.progress = Progress(
                *columns,
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
                redirect_stdout=False,  # stdout carries data (paths); it must never be routed into stderr
                redirect_stderr=False,
            )
            self.progress.start()
            self.overall = self.progress.add_task(self.title, total=self.total)
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def __call__(self, taxonomy_id: str, stage: str) -> None:
        if self.progress is None or taxonomy_id in self.finished:  # workers' events can arrive after "done"
            return
        if taxonomy_id not in self.tasks:
            self.tasks[taxonomy_id] = self.progress.add_task(taxonomy_id, total=len(self.STEPS) - 1)
        task = self.tasks[taxonomy_id]
        step = self.STEPS.index(stage) if stage in self.STEPS else 0
        self.progress.update(task, completed=step, description=f"{taxonomy_id}: {stage}")
        if stage == "done":
            self.finished.add(taxonomy_id)
            self.progress.remove_task(task)
            self.progress.advance(self.overall)

    def data(self, text: str) -> None:
        """A line of data for stdout; drawn above the bars when stdout is the same terminal, so both stay legible."""
        if self.progress is not None and sys.stdout.isatty():
            self.progress.console.print(text, markup=False, highlight=False, soft_wrap=True)
        else:
            click.echo(text)

    def line(self, text: str) -> None:
        """A line for people (a summary, a failure), above the bars on a terminal."""
        if self.quiet:
            return
        if self.progress is not None:
            self.progress.console.print(text, markup=False, highlight=False, soft_wrap=True)
        else:
            click.echo(text, err=True)

    def error(self, text: str) -> None:
        """Errors are shown even with --quiet."""
        if self.progress is not None:
            self.progress.console.print(text, markup=False, highlight=False, soft_wrap=True)
        else:
            click.echo(text, err=True)


# --- commands: fetch, releases, export, validate, taxonomies ------------------------------------------------


@main.command("fetch")
@click.argument("taxonomies", nargs=-1, required=True, type=TaxonomyType())
@click.option(
    "--release",
    shell_complete=complete_release,
    help="Release (directory version, YYYYMMDD). Default: the newest the bucket offers.",
)
@fetch_options
def fetch_command(taxonomies: tuple[str, ...], release: str | None, **options: Any) -> None:
    """Download TAXONOMIES' tables from the ABC Atlas into the cache, verified; print each release folder."""
    from .. import registry
    from ..source.bucket import fetch

    settings = fetch_settings(options)
    for taxonomy in taxonomies:
        fetched = fetch.fetch_release(registry.get(taxonomy), release, settings)
        click.echo(str(fetched.folder))


@main.command()
@fetch_options
def releases(**options: Any) -> None:
    """Per taxonomy, the directory versions the bucket offers and the manifests that list them.

    Offline or when the bucket cannot be reached, the cached releases; exit 4 if it cannot be reached (the cached
    ones are listed all the same), exit 0 with --offline.
    """
    from ..source.bucket import fetch

    settings = fetch_settings(options)
    table = fetch.release_table(settings)
    say(f"{len(table.rows)} taxonomy release(s) in {table.where}")
    rows = [("taxonomy", "directory", "version", "manifests", "cached")]
    rows += [(r.taxonomy, r.directory, r.version, ",".join(r.manifests), "yes" if r.cached else "") for r in table.rows]
    echo_table(rows)
    if not table.live and not settings.offline:
        raise FetchError(f"the bucket {fetch.redact(settings.base_url)} could not be reached; listed the cache only")


@main.command()
@click.argument("taxonomy", nargs=-1, type=TaxonomyType())
@click.option("--all", "everything", is_flag=True, help="Export every known taxonomy that the source holds.")
@click.option(
    "--source",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder laid out like the ABC bucket (metadata/<directory>/<release>/...). "
    "Default: the bundled sample if it has the release, else fetched from the ABC Atlas.",
)
@click.option(
    "--release",
    shell_complete=complete_release,
    help="Release (directory version) to export. Default: the newest one in --source or the sample, "
    "else the newest the bucket offers.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("output"),
    show_default=True,
    callback=_usable_out,
    help="Output folder; files go to <out>/<taxonomy>/<release>/.",
)
@click.option(
    "--format",
    "formats",
    type=FormatsType(),
    default="ttl,nt,nq,jsonld",
    show_default=True,
    help="Comma-separated output formats.",
)
@iri_options
@click.option("--no-validate", is_flag=True, help="Skip the SHACL check (not recommended).")
@click.option(
    "--shapes",
    type=click.Path(exists=True, path_type=Path),
    help="SHACL shapes (a Turtle file or a folder of them) that gate the export instead of the project's: give a "
    "folder holding the project's shapes and your own to add constraints.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    help="Taxonomies exported in parallel processes. Default: one per core, at most one per taxonomy.",
)
@fetch_options
def export(
    taxonomy: tuple[str, ...],
    everything: bool,
    source: Path | None,
    release: str | None,
    out: Path,
    formats: list[str],
    base_iri: str,
    kg_iri: str,
    no_validate: bool,
    shapes: Path | None,
    jobs: int | None,
    **fetch_args: Any,
) -> None:
    """Export TAXONOMY... (ids from `abc-kg taxonomies`, or accessions) to RDF.

    Paths of the written files go to stdout, one per line; a summary per taxonomy to stderr (progress bars
    instead on a terminal). With several taxonomies a failure does not stop the others: every failure is
    reported, every written file listed, and the exit code is the worst of the failures.
    """
    if everything == bool(taxonomy):
        raise click.UsageError("name one or more taxonomies, or give --all")
    if release is not None and len(taxonomy) != 1:
        raise click.UsageError("--release needs exactly one taxonomy")
    ids = list(dict.fromkeys(taxonomy))
    if shapes is not None and not no_validate:
        _compile_shapes(shapes)
    with Reporter("export", len(ids) or 1) as reporter:
        from .. import build as pipeline  # after the progress display is up: the stages take a moment to import
        from .. import jobs as jobs_module

        ids = ids or pipeline.present_taxonomies(source)
        if reporter.progress is not None:
            reporter.progress.update(reporter.overall, total=len(ids))
        options = {
            "root": source,
            "out": out,
            "formats": formats,
            "base_iri": base_iri,
            "kg_iri": kg_iri,
            "release": release,
            "check": not no_validate,
            "shapes": shapes,
            "fetch_settings": fetch_settings(fetch_args),
        }
        failures = []
        for outcome in jobs_module.export_many(ids, jobs, progress=reporter, **options):
            for path in outcome.files:
                reporter.data(str(path))
            if outcome.error is None:
                reporter.line(outcome.summary)
            else:
                failures.append(outcome)
                if _state().get("verbose"):
                    reporter.error("".join(traceback.format_exception(outcome.error)).rstrip())
                reporter.error(f"error: {outcome.taxonomy_id}: {outcome.error}")
    _raise_failures(failures)


def _compile_shapes(shapes: Path) -> None:
    """Shapes given to gate an export are read and compiled before any work, so a bad file is a usage error."""
    from ..validate import run as validate

    try:
        validate.compiled(shapes)
    except validate.UnsupportedShape as err:
        raise click.BadParameter(
            f"{err} (the export's gate compiles shapes to SPARQL)", param_hint="--shapes"
        ) from None
    except (SyntaxError, ValueError, OSError) as err:
        raise click.BadParameter(f"{shapes} cannot be read as SHACL shapes: {err}", param_hint="--shapes") from None


def _raise_failures(failures: list[jobs_module.Outcome]) -> None:
    """One failure keeps its own error (already shown); several become one error with the worst exit code."""
    if not failures:
        return
    from .. import jobs as jobs_module

    worst = jobs_module.ExportFailures(failures)
    raise _Reported(worst.exit_code, str(worst))


class _Reported(AbcKgError):
    """An error whose details were already printed; carries the exit code and a closing line."""

    def __init__(self, code: ExitCode, message: str):
        self.exit_code = code
        super().__init__(message)


@main.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--engine",
    type=click.Choice(["sparql", "pyshacl"]),
    default="sparql",
    show_default=True,
    help="sparql: the shapes compiled to SPARQL and run by Oxigraph (fast); pyshacl: the reference engine, for "
    "any shapes.",
)
@click.option(
    "--shapes",
    type=click.Path(exists=True, path_type=Path),
    help="SHACL shapes (a Turtle file or a folder of them) instead of the project's.",
)
def validate_files(files: tuple[Path, ...], engine: str, shapes: Path | None) -> None:
    """Check RDF FILES (.ttl, .nt, .nq, .jsonld, .trig, .rdf, .owl, also gzipped) against the shapes.

    Exit 0 only if all conform; 3 if any file does not conform, else 1 if any file cannot be parsed. RDF/XML
    that declares DTD entities is refused unread (their expansion is unbounded).
    """
    from ..validate import run as validate

    unparsable = not_conforming = 0
    for path in files:
        try:
            quads = _read_rdf(path)
        except (ValueError, SyntaxError, OSError, AbcKgError) as err:
            click.echo(f"{path}: cannot be parsed: {err}", err=True)
            unparsable += 1
            continue
        try:
            report = validate.validate(quads, shapes=shapes, engine=engine)
        except validate.UnsupportedShape as err:
            raise UsageError(f"{err}; the pyshacl engine reads any shapes: --engine pyshacl") from None
        if report.conforms:
            say(f"{path}: conforms ({len(quads)} triples)")
        else:
            not_conforming += 1
            click.echo(f"{path}: does not conform ({len(report.violations)} result(s))\n{report.text()}", err=True)
    if not_conforming:
        sys.exit(int(ExitCode.NOT_CONFORMING))
    if unparsable:
        sys.exit(int(ExitCode.INVALID_INPUT))


def _read_rdf(path: Path) -> list[Any]:
    """Every quad of an RDF file, by its extension (gzip allowed), with RDF/XML entity declarations refused."""
    import gzip

    import pyoxigraph as ox

    from ..store.inputs import check_xml_prolog, rdf_format

    fmt, gzipped = rdf_format(path)
    if fmt == ox.RdfFormat.RDF_XML:
        check_xml_prolog(path, gzipped)
    with gzip.open(path, "rb") if gzipped else path.open("rb") as data:
        return list(ox.parse(data, format=fmt))


@main.command()
def taxonomies() -> None:
    """List the taxonomies abc-kg knows: id, accession, species, ABC directory and releases."""
    from .. import registry

    rows = [("id", "accession", "species (NCBITaxon)", "directory", "known releases (offline hints; see `releases`)")]
    for spec in registry.taxonomies().values():
        rows.append((spec.id, spec.accession, ",".join(spec.species), spec.directory, ",".join(spec.releases)))
    echo_table(rows)


def echo_table(rows: list[tuple[str, ...]]) -> None:
    """Rows as aligned columns on stdout, the first row being the header."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


# --- stores: load, query, serve ------------------------------------------------------------------------------

_target_options = _options(
    [
        click.option(
            "--store",
            type=click.Path(file_okay=False, path_type=Path),
            help=f"Embedded Oxigraph store folder. Default: ${STORE_ENV}, else the user data directory.",
        ),
        click.option(
            "--endpoint",
            envvar="ABC_KG_ENDPOINT",
            help="SPARQL 1.1 Graph Store Protocol URL of a server, e.g. http://localhost:7878/store (Oxigraph) or "
            "http://localhost:8890/sparql-graph-crud-auth (Virtuoso). [env ABC_KG_ENDPOINT]",
        ),
        click.option(
            "--query-url",
            envvar="ABC_KG_QUERY_URL",
            help="SPARQL query URL of that server. Default: derived from --endpoint (/store → /query, "
            "/sparql-graph-crud-auth → /sparql, /ds/data → /ds/sparql). [env ABC_KG_QUERY_URL]",
        ),
        click.option(
            "--gsp-param",
            type=click.Choice(["auto", "graph", "graph-uri"]),
            default="auto",
            show_default=True,
            help="Query parameter naming the graph: graph (standard) or graph-uri (Virtuoso); auto picks by URL.",
        ),
        click.option(
            "--auth",
            "auth_scheme",
            type=click.Choice(AUTH_SCHEMES),
            default="auto",
            envvar="ABC_KG_ENDPOINT_AUTH",
            show_default=True,
            help=f"Authentication for --endpoint. Credentials come only from ${USER_ENV}, "
            f"${PASSWORD_ENV}, ${TOKEN_ENV} or a hidden prompt on a terminal. auto: bearer if a token "
            "is set, else Digest or Basic as the server's challenge asks.",
        ),
    ]
)


def prompt_credentials(url: str) -> Credentials | None:
    """Ask for a user and password on a terminal (hidden input); None when nobody is there to answer."""
    if not sys.stdin.isatty():
        return None
    from ..store import Credentials

    user = click.prompt(f"user for {url}", err=True)
    password = click.prompt(f"password for {user}", hide_input=True, err=True)
    return Credentials(user=user, password=password)


def open_target(
    store: Path | None, endpoint: str | None, query_url: str | None, gsp_param: str, auth_scheme: str, read_only: bool
) -> Target:
    """The store a command works on; a server is checked to be reachable now, before minutes of building."""
    from .. import store as kgstore

    credentials = kgstore.credentials_from_env() if endpoint else None
    target = kgstore.open_target(store, endpoint, query_url, gsp_param, auth_scheme, credentials, read_only)
    if isinstance(target, kgstore.GraphStoreEndpoint):
        target.prompt = prompt_credentials
        _reachable(target.url)
    return target


def _reachable(url: str, timeout: float = 10.0) -> None:
    """A TCP connection to the server, without any HTTP request (authentication flows stay as they are)."""
    import socket

    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    safe = parts._replace(query="", fragment="").geturl()
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=timeout):
            pass
    except OSError as err:
        reason = (
            "connection refused" if isinstance(err, ConnectionRefusedError) else (err.strerror or type(err).__name__)
        )
        raise StoreError(f"cannot connect to {safe} ({reason}); is the server running?") from None


def store_target(
    read_only: bool, check: Callable[..., None] | None = None, needed: Callable[..., bool] | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Hands the command a ready `target` (opened, reachable, closed afterwards) in place of the store options.

    `check(**arguments)` runs first, so that usage errors are reported before a store is created or contacted;
    when `needed(**arguments)` is false the command gets `target=None` (e.g. `query --list`).
    """

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(command)
        def wrapper(**kwargs: Any) -> Any:
            if check is not None:
                check(**kwargs)
            names = ("store", "endpoint", "query_url", "gsp_param", "auth_scheme")
            chosen = {name: kwargs.pop(name) for name in names}
            if needed is not None and not needed(**kwargs):
                return command(target=None, endpoint=chosen["endpoint"], **kwargs)
            target = open_target(**chosen, read_only=read_only)
            try:
                return command(target=target, endpoint=chosen["endpoint"], **kwargs)
            finally:
                target.close()

        return _target_options(wrapper)

    return decorate


def _check_load(items: tuple[str, ...], all_taxonomies: bool, fresh: bool, endpoint: str | None, **_: Any) -> None:
    if not items and not all_taxonomies:
        raise UsageError("name a TAXONOMY or FILE to load, or use --all")
    if fresh and endpoint:
        raise UsageError("--fresh is for the embedded store; a server's graphs are replaced one by one by PUT")


@main.command("load")
@click.argument("items", nargs=-1, metavar="[TAXONOMY... | FILE...]", shell_complete=TaxonomyType().shell_complete)
@click.option("--all", "all_taxonomies", is_flag=True, help="Every known taxonomy that the source holds.")
@click.option(
    "--source",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder laid out like the ABC bucket, for TAXONOMY arguments. Default: the bundled sample if it has "
    "the release, else fetched from the ABC Atlas (as export).",
)
@click.option(
    "--release",
    shell_complete=complete_release,
    help="Release to build for TAXONOMY arguments. Default: the newest one present.",
)
@iri_options
@click.option(
    "--graph",
    help="Named graph for the triples of .nt/.ttl FILEs. Default: the release graph of the file's taxonomy "
    "node. Quads (.nq, .trig, exported .jsonld) keep their own graphs.",
)
@click.option(
    "--fresh", is_flag=True, help="Embedded store only: empty the whole store first (fast, unlike a graph drop)."
)
@click.option("--no-vocabulary", is_flag=True, help="Do not (re)load the ontology and shapes graphs.")
@fetch_options
@store_target(read_only=False, check=_check_load)
def load_command(
    items: tuple[str, ...],
    all_taxonomies: bool,
    source: Path | None,
    release: str | None,
    base_iri: str,
    kg_iri: str,
    graph: str | None,
    fresh: bool,
    no_vocabulary: bool,
    target: Target,
    endpoint: str | None,
    **fetch_args: Any,
) -> None:
    """Load taxonomy releases (built on the fly, SHACL-checked) or RDF FILEs into a store, one named graph per release.

    Re-loading replaces each graph, so loading twice never duplicates. The ontology and the SHACL shapes go to
    their own graphs. A summary (graphs, triples counted by the store, time) goes to stderr.
    """
    from .. import build as pipeline
    from .. import store as kgstore

    chosen = _load_items(items, all_taxonomies, source)
    settings = fetch_settings(fetch_args)
    started = time.perf_counter()
    names = [item for item in chosen if isinstance(item, str)]
    documents = []
    with Reporter("build", len(names) or 1) as reporter:
        run = pipeline.Run()
        for name in names:
            built = pipeline.build(
                name,
                root=source,
                release=release,
                base_iri=base_iri,
                kg_iri=kg_iri,
                fetch_settings=settings,
                progress=reporter,
                run=run,
            )
            reporter(name, "done")
            documents += built.documents
    built_in = time.perf_counter() - started
    if fresh and isinstance(target, kgstore.EmbeddedStore):
        target.clear()
    files = [item for item in chosen if isinstance(item, Path)]
    summary = kgstore.load(target, documents=documents, files=files, graph=graph, vocabulary=not no_vocabulary)
    say(summary.text())
    say(f"total {time.perf_counter() - started:.2f} s (build {built_in:.2f} s)")


def _load_items(items: tuple[str, ...], all_taxonomies: bool, source: Path | None) -> list[str | Path]:
    """Files as paths, everything else as taxonomy ids (checked now, before anything is written)."""
    from .. import build as pipeline
    from ..resources import sample_root
    from ..store import RDF_FILE_SUFFIXES

    chosen: list[str | Path] = []
    for item in items:
        path = Path(item)
        if path.is_file():
            chosen.append(path)
        elif path.name.lower().endswith(RDF_FILE_SUFFIXES):
            raise UsageError(f"no such file: {item}")
        else:
            chosen.append(resolve_taxonomy(item))
    if all_taxonomies:
        present = pipeline.present_taxonomies(source if source is not None else sample_root())
        if not present:
            raise UsageError(f"no known taxonomy has a release under {source or sample_root()}/metadata")
        chosen += [t for t in present if t not in chosen]
    return chosen


def _check_query(query_text: str | None, query_file: Path | None, list_queries: bool, **_: Any) -> None:
    if not list_queries and (query_text is None) == (query_file is None):
        raise UsageError("give one QUERY_NAME, SPARQL string or --file (see `abc-kg query --list`)")


@main.command("query")
@click.argument("query_text", required=False, metavar="[QUERY_NAME | 'SPARQL']", type=QueryNameType())
@click.option(
    "--file", "query_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Read the query here."
)
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="Bind a query variable (repeatable).")
@click.option("--list", "list_queries", is_flag=True, help="List the named queries and their parameters.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(QUERY_OUTPUT_FORMATS),
    default="table",
    show_default=True,
    help="SELECT output.",
)
@click.option("--full-iris", is_flag=True, help="Tables show full IRIs instead of CURIEs of the known prefixes.")
@store_target(read_only=True, check=_check_query, needed=lambda list_queries, **_: not list_queries)
def query_command(
    query_text: str | None,
    query_file: Path | None,
    params: tuple[str, ...],
    list_queries: bool,
    fmt: str,
    full_iris: bool,
    target: Target | None,
    endpoint: str | None,
) -> None:
    """Run a named query (see --list), a query file or a SPARQL string against a store; results to stdout.

    On the embedded store the default graph is the union of all graphs. Named queries work on any store, as
    they match each release in its own graph (GRAPH ?g).
    """
    from .. import store as kgstore
    from ..store import binding, named, results

    if target is None:
        named.describe(sys.stdout)
        return
    named_query = None
    if query_file is not None:
        text = query_file.read_text(encoding="utf-8")
    elif query_text is not None and named.looks_like_name(query_text):
        named_query = named.get(query_text)
        text = named_query.text
    else:
        text = query_text or ""
    bindings = named.bind(named_query, named.parse_params(params))
    if named_query is None:
        text = kgstore.with_prefixes(text)  # ad-hoc queries get the export's prefixes unless they declare them
    start = time.perf_counter()
    result = target.query(text, bindings)
    parsed = binding.Sparql(text)
    if isinstance(result, results.Solutions) and parsed.select_star:
        result = result.reordered(parsed.variables)
    output = kgstore.render(result, fmt, kgstore.Style(full_iris=full_iris))
    logging.getLogger(__name__).info("query took %.3f s", time.perf_counter() - start)
    click.echo(output, nl=False)


@main.command()
@click.option(
    "--store",
    type=click.Path(file_okay=False, path_type=Path),
    help=f"Embedded store folder. Default: ${STORE_ENV}, else the user data directory.",
)
@click.option("--port", type=click.IntRange(1, 65535), default=7878, show_default=True)
def serve(store: Path | None, port: int) -> None:
    """Serve the embedded store read-only as a SPARQL endpoint on 127.0.0.1 (http://127.0.0.1:PORT/query).

    Runs the Oxigraph server (`oxigraph serve-read-only`) with the union of all graphs as default graph. Do not
    load into the store while it is being served. Stop with Ctrl-C.
    """
    import shutil
    import signal
    import subprocess

    from .. import store as kgstore

    location = store or kgstore.default_store_dir()
    if not (location / "CURRENT").is_file():
        raise StoreError(f"no store at {location}; load something first with `abc-kg load`")
    binary = shutil.which("oxigraph") or shutil.which("oxigraph", path=str(Path(sys.executable).parent))
    if binary is None:
        raise StoreError("the oxigraph server is not installed (pip install oxigraph)")
    with kgstore.serve_lock(location):  # held while serving: `load` refuses the store meanwhile
        say(f"serving {location} read-only at http://127.0.0.1:{port}/query (Ctrl-C stops)")
        process = subprocess.Popen(kgstore.serve_command(binary, location, port))
        # Stopping abc-kg (Ctrl-C or SIGTERM) stops the server with it, so no orphan keeps the port and the store.
        previous = signal.signal(signal.SIGTERM, lambda *_: process.terminate())
        try:
            code = process.wait()
        except KeyboardInterrupt:
            process.terminate()
            process.wait()
            raise
        finally:
            signal.signal(signal.SIGTERM, previous)
    if code not in (0, -signal.SIGTERM, -signal.SIGINT):
        raise StoreError(f"the oxigraph server stopped with exit code {code}")


@main.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--store", type=click.Path(file_okay=False, path_type=Path), help="Describe this embedded store.")
@click.option("--graph", help="Named graph for the triples of .nt/.ttl FILEs (as load).")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table.")
def info(files: tuple[Path, ...], store: Path | None, graph: str | None, as_json: bool) -> None:
    """What FILEs of an export, or a store, hold: taxonomies, releases, graphs, counts per class and level."""
    from .. import store as kgstore

    if bool(files) == (store is not None):
        raise UsageError("give FILE... or --store, not both")
    if store is not None:
        target = kgstore.open_target(store=store, read_only=True)
        try:
            described = kgstore.info(target=target)
        finally:
            target.close()
    else:
        described = kgstore.info(files=list(files), graph=graph)
    click.echo(
        kgstore.render_json(described) if as_json else kgstore.render_table(described, kgstore.Style()), nl=False
    )
