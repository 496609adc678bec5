"""The `abc-kg` command line: a click group with one command per job.

Data goes to files or stdout; messages, logs and errors go to stderr. Exit codes: 0 ok, 1 invalid input,
2 usage error, 3 SHACL non-conformance, 4 fetch failure, 5 store failure.
"""

from __future__ import annotations

import logging
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pyoxigraph as ox

from . import __version__, fetch, pipeline, registry, validate, write
from . import store as kgstore
from .errors import AbcKgError, ExitCode, StoreError, UsageError
from .resources import sample_root
from .source import available_releases
from .store import binding, named, results
from .vocab import DEFAULT_BASE_IRI


class _Group(click.Group):
    """Turns abc-kg's own errors into one clear message and an exit code; tracebacks only with --verbose."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except AbcKgError as err:
            if ctx.obj and ctx.obj.get("verbose"):
                raise
            click.echo(f"error: {err}", err=True)
            ctx.exit(int(err.exit_code))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="abc-kg")
@click.option("-v", "--verbose", is_flag=True, help="Log each stage and show tracebacks on errors.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """Export Allen Brain Cell Atlas taxonomies as SHACL-validated linked data."""
    ctx.obj = {"verbose": verbose}
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="abc-kg: %(message)s", stream=sys.stderr, force=True
    )


def _formats(_ctx: click.Context, _param: click.Parameter, value: str) -> list[str]:
    names = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [n for n in names if n not in write.WRITERS]
    if unknown or not names:
        raise click.BadParameter(f"choose from {', '.join(write.formats())} (got {value!r})")
    return names


def fetch_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options that say where to fetch from and to, shared by `fetch`, `releases` and `export`."""
    options = [
        click.option(
            "--cache",
            type=click.Path(file_okay=False, path_type=Path),
            envvar=fetch.CACHE_ENV,
            help=f"Cache folder, laid out like the bucket. Default: ${fetch.CACHE_ENV}, else the user cache directory.",
        ),
        click.option(
            "--base-url",
            envvar=fetch.BASE_URL_ENV,
            default=fetch.DEFAULT_BASE_URL,
            show_default=True,
            help=f"Bucket or mirror to fetch from (also ${fetch.BASE_URL_ENV}).",
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
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _to_stderr(line: str) -> None:
    """Status lines of fetching; a module-level function so that settings can travel to worker processes."""
    click.echo(line, err=True)


def _settings(options: dict[str, Any]) -> fetch.Settings:
    """Fetch settings from the shared options; per-file status lines go to stderr."""
    return fetch.Settings(
        base_url=options["base_url"],
        cache=options["cache"] or fetch.default_cache(),
        offline=options["offline"],
        timeout=options["timeout"],
        retries=options["retries"],
        backoff=options["backoff"],
        report=_to_stderr,
    )


@main.command("fetch")
@click.argument("taxonomies", nargs=-1, required=True)
@click.option("--release", help="Release (directory version, YYYYMMDD). Default: the newest the registry pins.")
@fetch_options
def fetch_command(taxonomies: tuple[str, ...], release: str | None, **options: Any) -> None:
    """Download TAXONOMIES' tables from the ABC Atlas into the cache, verified; print each release folder."""
    settings = _settings(options)
    for taxonomy in taxonomies:
        spec = registry.get(taxonomy)
        fetched = fetch.fetch_release(spec, release, settings)
        click.echo(str(fetched.folder))


@main.command()
@fetch_options
def releases(**options: Any) -> None:
    """List the release manifests the bucket offers (the cached ones when offline or unreachable)."""
    settings = _settings(options)
    versions, live = fetch.available_manifests(settings)
    where = fetch.redact(settings.base_url) if live else f"the cache {settings.cache}"
    click.echo(f"{len(versions)} release manifest(s) in {where}", err=True)
    for version in versions:
        click.echo(version)


@main.command()
@click.argument("taxonomy", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="Export every known taxonomy that the source holds.")
@click.option(
    "--source",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder laid out like the ABC bucket (metadata/<directory>/<release>/...). "
    "Default: the bundled sample if it has the release, else fetched from the ABC Atlas.",
)
@click.option(
    "--release",
    help="Release (directory version) to export. Default: the newest one in --source or the sample, "
    "else the newest the registry pins.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("output"),
    show_default=True,
    help="Output folder; files go to <out>/<taxonomy>/<release>/.",
)
@click.option(
    "--format",
    "formats",
    default=",".join(write.formats()),
    show_default=True,
    callback=_formats,
    help="Comma-separated output formats.",
)
@click.option(
    "--base-iri",
    default=DEFAULT_BASE_IRI,
    show_default=True,
    help="Base of cell-set and level IRIs: {base}{accession}/{label}.",
)
@click.option("--no-validate", is_flag=True, help="Skip the SHACL check (not recommended).")
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
    no_validate: bool,
    jobs: int | None,
    **fetch_args: Any,
) -> None:
    """Export TAXONOMY... (ids from `abc-kg taxonomies`, or accessions) to RDF."""
    if everything == bool(taxonomy):
        raise click.UsageError("name one or more taxonomies, or give --all")
    if release is not None and len(taxonomy) != 1:
        raise click.UsageError("--release needs exactly one taxonomy")
    ids = list(taxonomy) or pipeline.present_taxonomies(source)
    options = {
        "root": source,
        "out": out,
        "formats": formats,
        "base_iri": base_iri,
        "release": release,
        "check": not no_validate,
        "fetch_settings": _settings(fetch_args),
    }
    for summary, files in pipeline.export_many(ids, jobs, **options):
        click.echo(summary, err=True)
        for path in files:
            click.echo(str(path))


@main.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def validate_files(files: tuple[Path, ...]) -> None:
    """Check RDF FILES (.ttl, .nt, .nq, .jsonld, .trig, .rdf) against the shapes; exit 0 only if all conform.

    Exit 3 if any file does not conform, else 1 if any file cannot be parsed.
    """
    unparsable = not_conforming = 0
    for path in files:
        try:
            fmt = ox.RdfFormat.from_extension(path.suffix.lstrip("."))
            if fmt is None:
                raise ValueError(f"unknown RDF file extension {path.suffix!r}")
            quads = list(ox.parse(path=str(path), format=fmt))
        except (ValueError, SyntaxError, OSError) as err:
            click.echo(f"{path}: cannot be parsed: {err}", err=True)
            unparsable += 1
            continue
        report = validate.validate(quads)
        if report.conforms:
            click.echo(f"{path}: conforms ({len(quads)} triples)", err=True)
        else:
            not_conforming += 1
            click.echo(f"{path}: does not conform ({len(report.violations)} result(s))\n{report.text()}", err=True)
    if not_conforming:
        sys.exit(int(ExitCode.NOT_CONFORMING))
    if unparsable:
        sys.exit(int(ExitCode.INVALID_INPUT))


@main.command()
def taxonomies() -> None:
    """List the taxonomies abc-kg knows: id, accession, species, ABC directory and releases."""
    rows = [("id", "accession", "species (NCBITaxon)", "directory", "releases")]
    for spec in registry.taxonomies().values():
        rows.append((spec.id, spec.accession, ",".join(spec.species), spec.directory, ",".join(spec.releases)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


# --- load, query, serve --------------------------------------------------------------------------------------


def _target_options(fn: Callable[..., None]) -> Callable[..., None]:
    """The options that choose a store, shared by `load` and `query`."""
    options = [
        click.option(
            "--store",
            type=click.Path(file_okay=False, path_type=Path),
            help=f"Embedded Oxigraph store folder. Default: ${kgstore.STORE_ENV}, else {kgstore.default_store_dir()}.",
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
            type=click.Choice(kgstore.AUTH_SCHEMES),
            default="auto",
            envvar="ABC_KG_ENDPOINT_AUTH",
            show_default=True,
            help=f"Authentication for --endpoint. Credentials come only from ${kgstore.USER_ENV}, "
            f"${kgstore.PASSWORD_ENV}, ${kgstore.TOKEN_ENV} or a hidden prompt on a terminal. auto: bearer if a token "
            "is set, else Digest or Basic as the server's challenge asks.",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _open_target(
    store: Path | None, endpoint: str | None, query_url: str | None, gsp_param: str, auth_scheme: str, read_only: bool
) -> kgstore.Target:
    credentials = kgstore.credentials_from_env() if endpoint else None
    return kgstore.open_target(store, endpoint, query_url, gsp_param, auth_scheme, credentials, read_only)


@main.command("load")
@click.argument("items", nargs=-1, metavar="[TAXONOMY... | FILE...]")
@click.option("--all", "all_taxonomies", is_flag=True, help="Every known taxonomy that the source holds.")
@click.option(
    "--source",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder laid out like the ABC bucket, for TAXONOMY arguments. Default: the bundled sample.",
)
@click.option("--release", help="Release to export for TAXONOMY arguments. Default: the newest one present.")
@click.option("--base-iri", default=DEFAULT_BASE_IRI, show_default=True, help="Base of cell-set IRIs (as export).")
@click.option(
    "--graph",
    help="Named graph for the triples of .nt/.ttl FILEs. Default: the release graph of the file's taxonomy "
    "node ({taxonomy IRI}/release/{release}). Quads (.nq, .trig, exported .jsonld) keep their own graphs.",
)
@click.option(
    "--fresh", is_flag=True, help="Embedded store only: empty the whole store first (fast, unlike a graph drop)."
)
@click.option("--no-vocabulary", is_flag=True, help="Do not (re)load the ontology and shapes graphs.")
@_target_options
def load_command(
    items: tuple[str, ...],
    all_taxonomies: bool,
    source: Path | None,
    release: str | None,
    base_iri: str,
    graph: str | None,
    fresh: bool,
    no_vocabulary: bool,
    store: Path | None,
    endpoint: str | None,
    query_url: str | None,
    gsp_param: str,
    auth_scheme: str,
) -> None:
    """Load taxonomy releases (exported on the fly) or RDF FILEs into a store, one named graph per release.

    Re-loading replaces each graph, so loading twice never duplicates. The ontology and the SHACL shapes go to
    their own graphs. A summary (graphs, triples counted by the store, time) goes to stderr.
    """
    if not items and not all_taxonomies:
        raise UsageError("name a TAXONOMY or FILE to load, or use --all")
    if fresh and endpoint:
        raise UsageError("--fresh is for the embedded store; a server's graphs are replaced one by one by PUT")
    chosen = _load_items(items, all_taxonomies, source)
    started = time.perf_counter()
    target = _open_target(store, endpoint, query_url, gsp_param, auth_scheme, read_only=False)  # fail early
    try:
        with tempfile.TemporaryDirectory(prefix="abc-kg-load-") as work:
            # TODO(H7): pipeline.build → Documents handed to kgstore.load(documents=...), without files.
            files = [item for item in chosen if isinstance(item, Path)]
            for item in chosen:
                if not isinstance(item, Path):
                    files += pipeline.export(item, source, Path(work) / item, ["nq"], base_iri, release).files
            exported = time.perf_counter() - started
            if fresh and isinstance(target, kgstore.EmbeddedStore):
                target.clear()
            summary = kgstore.load(target, files=files, graph=graph, vocabulary=not no_vocabulary)
    finally:
        target.close()
    click.echo(summary.text(), err=True)
    click.echo(f"total {time.perf_counter() - started:.2f} s (export and parse {exported:.2f} s)", err=True)


def _load_items(items: tuple[str, ...], all_taxonomies: bool, source: Path | None) -> list[str | Path]:
    """Files as paths, everything else as taxonomy ids (checked now, before anything is written)."""
    chosen: list[str | Path] = []
    for item in items:
        path = Path(item)
        if path.is_file():
            chosen.append(path)
        elif path.name.lower().endswith(kgstore.RDF_FILE_SUFFIXES):
            raise UsageError(f"no such file: {item}")
        else:
            chosen.append(registry.get(item).id)
    if all_taxonomies:
        root = source if source is not None else sample_root()
        present = [s.id for s in registry.taxonomies().values() if pipeline_releases(root, s)]
        if not present:
            raise UsageError(f"no known taxonomy has a release under {root / 'metadata'}")
        chosen += [t for t in present if t not in chosen]
    return chosen


def pipeline_releases(root: Path, spec: registry.TaxonomySpec) -> list[str]:
    return [r for r in available_releases(root, spec.directory) if r in spec.releases]


@main.command("query")
@click.argument("query_text", required=False, metavar="[QUERY_NAME | 'SPARQL']")
@click.option(
    "--file", "query_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Read the query here."
)
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="Bind a query variable (repeatable).")
@click.option("--list", "list_queries", is_flag=True, help="List the named queries and their parameters.")
@click.option("--full-iris", is_flag=True, help="Tables show full IRIs instead of CURIEs.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(kgstore.OUTPUT_FORMATS),
    default="table",
    show_default=True,
    help="SELECT output.",
)
@_target_options
def query_command(
    query_text: str | None,
    query_file: Path | None,
    params: tuple[str, ...],
    list_queries: bool,
    full_iris: bool,
    fmt: str,
    store: Path | None,
    endpoint: str | None,
    query_url: str | None,
    gsp_param: str,
    auth_scheme: str,
) -> None:
    """Run a named query (see --list), a query file or a SPARQL string against a store; results to stdout.

    On the embedded store the default graph is the union of all graphs. Named queries work on any store, as
    they match each release in its own graph (GRAPH ?g).
    """
    if list_queries:
        named.describe(sys.stdout)
        return
    if (query_text is None) == (query_file is None):
        raise UsageError("give one QUERY_NAME, SPARQL string or --file (see `abc-kg query --list`)")
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
        text = kgstore.with_prefixes(text)
    target = _open_target(store, endpoint, query_url, gsp_param, auth_scheme, read_only=True)
    try:
        start = time.perf_counter()
        result = target.query(text, bindings)
        if isinstance(result, results.Solutions) and binding.Sparql(text).select_star:
            result = result.reordered(binding.Sparql(text).variables)
        output = kgstore.render(result, fmt, kgstore.Style(full_iris=full_iris))
    finally:
        target.close()
    logging.getLogger(__name__).info("query took %.3f s", time.perf_counter() - start)
    click.echo(output, nl=False)


@main.command()
@click.option(
    "--store",
    type=click.Path(file_okay=False, path_type=Path),
    help=f"Embedded store folder. Default: ${kgstore.STORE_ENV}, else {kgstore.default_store_dir()}.",
)
@click.option("--port", type=click.IntRange(1, 65535), default=7878, show_default=True)
def serve(store: Path | None, port: int) -> None:
    """Serve the embedded store read-only as a SPARQL endpoint on 127.0.0.1 (http://127.0.0.1:PORT/query).

    Runs the Oxigraph server (`oxigraph serve-read-only`) with the union of all graphs as default graph. Do not
    load into the store while it is being served. Stop with Ctrl-C.
    """
    location = store or kgstore.default_store_dir()
    binary = shutil.which("oxigraph") or shutil.which("oxigraph", path=str(Path(sys.executable).parent))
    if binary is None:
        raise StoreError("the oxigraph server is not installed (pip install oxigraph)")
    command = kgstore.serve_command(binary, location, port)
    lock = kgstore.serve_lock(location)
    lock.__enter__()  # held until serve returns: `load` refuses the store meanwhile
    click.echo(f"serving {location} read-only at http://127.0.0.1:{port}/query (Ctrl-C stops)", err=True)
    process = subprocess.Popen(command)
    # Stopping abc-kg (Ctrl-C or SIGTERM) stops the server with it, so no orphan keeps the port and the store.
    previous = signal.signal(signal.SIGTERM, lambda *_: process.terminate())
    try:
        code = process.wait()
    except KeyboardInterrupt:
        process.terminate()
        code = process.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)
    if code not in (0, -signal.SIGTERM, -signal.SIGINT):
        raise StoreError(f"the oxigraph server stopped with exit code {code}")
