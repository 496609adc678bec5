"""`abc-kg load`: releases built on the fly, or RDF files, into a store, one named graph each."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import UsageError

if TYPE_CHECKING:
    from ..store import Target
from .app import say
from .params import (
    TaxonomyType,
    build_options,
    complete_release,
    fetch_options,
    iri_options,
    layer_options,
    resolve_taxonomy,
)
from .report import Reporter
from .targets import store_target


def _check_load(items: tuple[str, ...], all_taxonomies: bool, fresh: bool, endpoint: str | None, **_: Any) -> None:
    if not items and not all_taxonomies:
        raise UsageError("name a TAXONOMY or FILE to load, or use --all")
    if fresh and endpoint:
        raise UsageError("--fresh is for the embedded store; a server's graphs are replaced one by one by PUT")


@click.command("load")
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
@layer_options
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
    from .. import jobs
    from .. import store as kgstore

    chosen = _load_items(items, all_taxonomies, source)
    options = build_options(fetch_args, source, release, base_iri, kg_iri)
    started = time.perf_counter()
    names = [item for item in chosen if isinstance(item, str)]
    with Reporter("build", len(names) or 1) as reporter:
        documents = [document for built in jobs.build_many(names, options, reporter) for document in built.documents]
    built_in = time.perf_counter() - started
    if fresh and isinstance(target, kgstore.EmbeddedStore):
        target.clear()
    files = [item for item in chosen if isinstance(item, Path)]
    summary = kgstore.load(target, documents=documents, files=files, graph=graph, vocabulary=not no_vocabulary)
    say(summary.text())
    say(f"total {time.perf_counter() - started:.2f} s (build {built_in:.2f} s)")


def _load_items(items: tuple[str, ...], all_taxonomies: bool, source: Path | None) -> list[str | Path]:
    """Files as paths, everything else as taxonomy ids (checked now, before anything is written)."""
    from ..build import present_taxonomies
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
        present = present_taxonomies(source if source is not None else sample_root())
        if not present:
            raise UsageError(f"no known taxonomy has a release under {source or sample_root()}/metadata")
        chosen += [t for t in present if t not in chosen]
    return chosen
