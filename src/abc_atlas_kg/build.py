"""Build, then sinks: `build` turns one taxonomy release into validated RDF documents; files and stores consume them.

    locate + source → model (+ enrichment) → convert → validate   = build()  → Built
    Built → write.write_all (files)                                = export()
    Built → store.load (Built.documents, one named graph each)     = `abc-kg load`

`export` runs the SHACL gate in a thread beside the file writers (both spend most of their time in Rust, which
releases the GIL) and commits the written set only when the gate has passed: a release that does not conform still
writes nothing.

`build` writes nothing; every sink takes what it produced, so `load` never exports and re-parses files. A `Run`
remembers the taxonomies it modelled, so cross-taxonomy links (CCN20230504 → WMB) do not read and model the
linked taxonomy a second time when `export --all` builds it anyway. Heavy stages (pandas, the validator) are
imported only when they run, so a caller can show progress before paying for them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import registry
from .defaults import DEFAULT_BASE_IRI, DEFAULT_KG_IRI
from .errors import InputError, Problem
from .rdf.document import Document, canonical
from .source import tables as source
from .validate.gate import Gate

if TYPE_CHECKING:
    from .model import taxonomy as model
    from .model.layers import LayerContext
    from .source.bucket.settings import Settings
    from .source.integration import IntegrationSettings

log = logging.getLogger(__name__)

# Stages reported to `progress(taxonomy_id, stage)`, in order; "done" ends a taxonomy.
STAGES = ("locate", "read", "model", "link", "convert", "validate", "write", "done")
Progress = Callable[[str, str], None]


def no_progress(_taxonomy_id: str, _stage: str) -> None:
    """The default progress callback: report nothing."""


@dataclass(frozen=True)
class Built:
    """One validated taxonomy release, ready for any sink. Nothing has been written yet."""

    taxonomy: model.Taxonomy
    documents: list[Document]
    triples: int  # in the release graph (the mappings document not counted)
    side_files: dict[str, str] = field(default_factory=dict)  # file name → text: the SSSOM TSV of the mappings
    source: str | None = None  # where the tables were read from, in words ("from the bundled sample: …")
    verdict: Future[None] | None = field(default=None, compare=False)  # the SHACL gate, when it runs beside a sink
    notes: tuple[str, ...] = ()  # what the layers made, or why they are missing, for the summary line

    def confirm(self) -> None:
        """Wait for the SHACL gate when it runs in the background; raises NotConformingError if it failed."""
        if self.verdict is not None:
            self.verdict.result()

    def summary(self) -> str:
        t = self.taxonomy
        where = "" if self.source is None else f" {self.source};"
        return (
            f"{t.id} {t.accession} release {t.release}{where} {len(t.levels)} levels, {len(t.terms)} terms, "
            f"{len(t.clusters)} clusters, {len(t.memberships)} memberships, {len(t.mappings)} mappings, "
            f"{self.triples} triples"
        ) + "".join(f"; {note}" for note in self.notes)


@dataclass
class Run:
    """What one command invocation has already modelled: (id, root, release asked) → taxonomy without links."""

    models: dict[tuple[str, str, str | None], tuple[model.Taxonomy, source.ReleaseTables]] = field(default_factory=dict)
    sources: dict[tuple[str, str], str] = field(default_factory=dict)  # (id, release) → where it was read, in words
    kinds: dict[tuple[str, str], str] = field(default_factory=dict)  # (id, release) → locate.KINDS entry
    layer_records: dict[tuple[str, str], Any] = field(default_factory=dict)  # (id, layer) → that layer's records


# --- read and model -----------------------------------------------------------------------------------------


def _model(
    spec: registry.TaxonomySpec,
    root: Path | None,
    release: str | None,
    settings: Settings | None,
    run: Run,
    progress: Progress,
) -> tuple[model.Taxonomy, source.ReleaseTables]:
    """Read and model one release, without enrichment; remembered in `run` when another taxonomy links to it."""
    key = (spec.id, str(root), release)
    if key in run.models:
        return run.models[key]
    from .model import normalise
    from .source import locate

    progress(spec.id, "locate")
    located = locate.locate(spec, release, root, settings)
    log.info("%s", located.description)
    progress(spec.id, "read")
    run.sources[(spec.id, located.release)] = located.where
    run.kinds[(spec.id, located.release)] = located.origin_kind
    tables = source.read_release(
        located.root, spec.directory, located.release, located.elsewhere(spec), located.origins
    )
    progress(spec.id, "model")
    taxonomy = normalise.builder(spec)(spec, tables)
    earlier = [r for r in locate.ours_in(spec, located.root) if r < located.release]
    taxonomy.previous_release = earlier[-1] if earlier else None
    if spec.id in _link_targets():  # kept only if another taxonomy may link to it: memory stays bounded
        run.models[key] = (taxonomy, tables)
    return taxonomy, tables


def _link_targets() -> set[str]:
    return {link.other for spec in registry.taxonomies().values() for link in spec.links}


def load_taxonomy(
    taxonomy_id: str,
    root: Path | None = None,
    release: str | None = None,
    fetch_settings: Settings | None = None,
    run: Run | None = None,
    progress: Progress = no_progress,
) -> model.Taxonomy:
    """One release, modelled, then enriched by the steps its registry entry switches on, each once.

    Linked taxonomies come from the same place and are modelled without their own enrichment (so an export never
    re-enters itself); a `Run` models each at most once. The result is a new object: the remembered model is
    never changed.
    """
    from .model import links

    run = run if run is not None else Run()
    spec = registry.get(taxonomy_id)
    taxonomy, tables = _model(spec, root, release, fetch_settings, run, progress)
    taxonomy = replace(taxonomy, mappings=list(taxonomy.mappings))

    def linked(other_id: str) -> model.Taxonomy:
        progress(spec.id, "link")
        return _model(registry.get(other_id), root, None, fetch_settings, run, no_progress)[0]  # shown as "link"

    return links.run_steps(spec, tables, taxonomy, linked)


def present_taxonomies(root: Path | None = None) -> list[str]:
    """The registry ids with at least one of their releases under `root`; every id when fetching."""
    from .source import locate

    return locate.present_taxonomies(root)


# --- build --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildOptions:
    """Every option of one build, in one frozen object: what `abc-kg export` and `load` take, and the API too.

    Where the tables are (`source`, `release`, `fetch`), how IRIs are minted (`base_iri`, `kg_iri`), the SHACL
    gate (`validate`, `shapes`) and the integration layers (`integration`, `layers`).
    """

    source: Path | None = None  # a folder laid out like the ABC bucket; None: the bundled sample, else fetched
    release: str | None = None  # None: the newest the source holds (or the bucket offers)
    base_iri: str = DEFAULT_BASE_IRI  # taxonomies, cell sets and levels
    kg_iri: str = DEFAULT_KG_IRI  # abc-kg's own namespace: releases, graphs, leaf clusters, mappings
    validate: bool = True  # the SHACL gate: a release that does not conform raises NotConformingError
    shapes: Path | None = None  # shapes for the gate instead of the project's (a Turtle file or a folder)
    fetch: Settings | None = None  # fetching from the bucket; None: the defaults (which honour the environment)
    integration: IntegrationSettings | None = None  # where integration sources are (a folder, a mirror)
    layers: tuple[str, ...] | None = None  # None: every implemented layer whose sources are given or cached


def build(
    taxonomy_id: str,
    options: BuildOptions | None = None,
    *,
    progress: Progress = no_progress,
    run: Run | None = None,
    check_in_background: bool = False,
) -> Built:
    """source → model → convert → validate; writes nothing. Raises NotConformingError if the shapes reject it.

    The release graph and the mappings graph are separate documents, each validated on its own, as a store
    holding only one of them would see it. With `check_in_background` the gate runs in a thread and the caller
    must `confirm()` the result before anything of it is committed. The layers (`options.layers`, default: every
    implemented layer) add one document each when sources serve the taxonomy, read from `options.integration` or
    the cache; a missing source is noted, not fatal.
    """
    from .convert import release as convert
    from .convert import sssom
    from .rdf import prefixes

    options = options or BuildOptions()
    base_iri, kg_iri = options.base_iri, options.kg_iri
    run = run if run is not None else Run()
    taxonomy = load_taxonomy(taxonomy_id, options.source, options.release, options.fetch, run, progress)
    if not taxonomy.terms:
        raise InputError([Problem(f"{taxonomy.id} release {taxonomy.release}", "the taxonomy has no terms")])
    progress(taxonomy.id, "convert")
    iris = convert.iris_of(taxonomy, base_iri, kg_iri)
    names = prefixes.for_export(taxonomy.accession, base_iri, kg_iri)
    gate = Gate(taxonomy, options.shapes) if options.validate else None
    try:
        stem = taxonomy.accession
        triples = canonical(_collect(convert.triples(taxonomy, base_iri, kg_iri), gate, stem))
        log.info("converted %s: %d triples", taxonomy.accession, len(triples))
        documents = [Document(stem, triples, iris.graph, names)]
        side_files = {}
        if taxonomy.mappings:
            stem = f"{taxonomy.accession}.mappings"
            mappings = canonical(_collect(convert.mapping_triples(taxonomy, base_iri, kg_iri), gate, stem))
            documents.append(Document(stem, mappings, iris.mappings_graph, names))
            side_files[f"{taxonomy.accession}.sssom.tsv"] = sssom.sssom_tsv(taxonomy, base_iri, kg_iri)
        notes = _build_layers(
            _LayerJob(taxonomy, iris, names, gate, options, run, progress),
            documents,
            side_files,
        )
    except BaseException:
        if gate is not None:
            gate.abandon()
        raise
    verdict = None
    if gate is not None:
        progress(taxonomy.id, "validate")
        verdict = gate.close()
        if not check_in_background:
            verdict.result()
    source = run.sources.get((taxonomy.id, taxonomy.release))
    return Built(taxonomy, documents, len(triples), side_files, source=source, verdict=verdict, notes=tuple(notes))


# --- integration layers -----------------------------------------------------------------------------------------


@dataclass
class _LayerJob:
    taxonomy: model.Taxonomy
    iris: Any
    names: Any
    gate: Gate | None
    options: BuildOptions
    run: Run
    progress: Progress

    @property
    def root(self) -> Path | None:
        return self.options.source

    @property
    def fetch_settings(self) -> Settings | None:
        return self.options.fetch

    def expects_layers(self) -> bool:
        """Did the user ask for layers (--layers, --integration, --integration-url) or fetch the tables (where sources
        are fetched too, or found missing offline)? Only then is a layer without sources said in the summary: a local
        export that never mentions them stays as it was."""
        given = self.options.integration
        asked = self.options.layers is not None or (
            given is not None and (given.folder is not None or bool(given.mirror))
        )
        return asked or self.run.kinds.get((self.taxonomy.id, self.taxonomy.release)) in ("cache", "bucket")

    def settings(self) -> IntegrationSettings:
        """Sources are downloaded only when the tables were fetched too: a local export makes no request.

        And only from where the user points: the sources' public URLs when the tables come from the public bucket,
        the `--integration-url` mirror otherwise. Tables read from a mirror of the bucket (`--base-url`, a test's
        127.0.0.1 server, a site behind a firewall) never send abc-kg to GitHub on their own.
        """
        from dataclasses import replace as replaced

        from .defaults import DEFAULT_BASE_URL
        from .source.integration import IntegrationSettings

        kind = self.run.kinds.get((self.taxonomy.id, self.taxonomy.release), "folder")
        given = self.options.integration or IntegrationSettings()
        offline = self.fetch_settings is None or self.fetch_settings.offline
        public = self.fetch_settings is not None and self.fetch_settings.base_url.rstrip(
            "/"
        ) == DEFAULT_BASE_URL.rstrip("/")
        return replaced(given, download=kind in ("cache", "bucket") and not offline and (public or bool(given.mirror)))


def _build_layers(job: _LayerJob, documents: list[Document], side_files: dict[str, str]) -> list[str]:
    """One document per layer with sources for this taxonomy; the notes say what each made or lacked."""
    from .registry import sources as declared

    wanted = declared.implemented_layers() if job.options.layers is None else tuple(job.options.layers)
    notes = []
    for layer in wanted:
        if not declared.for_taxonomy(job.taxonomy.id, layer):
            continue
        job.progress(job.taxonomy.id, "link")
        context = _layer_context(job, job.taxonomy, layer)
        if not context.available():
            missing = ", ".join(sorted(context.sources))
            if job.expects_layers():
                notes.append(f"no {layer} layer: its sources are not given or cached ({missing}; see --integration)")
            else:
                log.info("no %s layer for %s: no source given or cached (%s)", layer, job.taxonomy.id, missing)
            continue
        records = _layer_records(job, context)
        notes.extend(_layer_document(job, context, records, documents, side_files))
    return notes


def _layer_context(job: _LayerJob, taxonomy: model.Taxonomy, layer: str) -> LayerContext:
    from .model.layers import LayerContext
    from .registry import sources as declared
    from .source.integration import locate_sources

    located = locate_sources(declared.for_taxonomy(taxonomy.id, layer), job.settings(), job.fetch_settings)

    def linked(other_id: str) -> model.Taxonomy:
        return _model(registry.get(other_id), job.root, None, job.fetch_settings, job.run, no_progress)[0]

    def layer_records(other_id: str, other_layer: str) -> Any:
        key = (other_id, other_layer)
        if key not in job.run.layer_records:
            other = _layer_context(job, linked(other_id), other_layer)
            job.run.layer_records[key] = _layer_records(job, other)
        return job.run.layer_records[key]

    options = job.options.integration.options if job.options.integration is not None else frozenset()
    return LayerContext(layer, taxonomy, located, linked, layer_records, options=options)


def _layer_records(job: _LayerJob, context: LayerContext) -> Any:
    from .registry import plugins

    model_ref, _ = plugins.LAYERS[context.layer]
    return plugins.load(model_ref)(context)


def _layer_document(
    job: _LayerJob, context: LayerContext, records: Any, documents: list[Document], side_files: dict[str, str]
) -> list[str]:
    from .registry import plugins

    _, convert_ref = plugins.LAYERS[context.layer]
    output = plugins.load(convert_ref)(records, context, job.iris)
    stem = f"{job.taxonomy.accession}.{context.layer}"
    triples = canonical(_collect(output.triples, job.gate, stem))
    if triples:
        documents.append(Document(stem, triples, job.iris.layer_graph(context.layer), job.names))
        side_files.update(output.side_files)
    missing = sorted(found.source.id for found in context.sources.values() if found.path is None)
    notes = [f"{context.layer}: {output.summary}" if output.summary else f"{context.layer}: {len(triples)} triples"]
    if missing:
        notes.append(
            f"{context.layer} without {len(missing)} source(s) not given or cached ({', '.join(missing)}; "
            "see --integration)"
        )
    for message in context.warnings:
        log.warning("%s", message)
    return notes


def _collect(triples: Iterator[Any], gate: Gate | None, stem: str) -> list[Any]:
    """The converted triples as a list, handed to the gate (if any) batch by batch as they are made."""
    return list(triples) if gate is None else gate.feed(stem, triples)
