"""The `abc-kg` command line: a click group with one command per job.

Data goes to files or stdout; messages, logs and errors go to stderr. Exit codes: 0 ok, 1 invalid input,
2 usage error, 3 SHACL non-conformance, 4 fetch failure.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pyoxigraph as ox

from . import __version__, fetch, pipeline, registry, validate, write
from .errors import AbcKgError, ExitCode
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
        level=logging.INFO if verbose else logging.WARNING, format="abc-kg: %(message)s", stream=sys.stderr
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
