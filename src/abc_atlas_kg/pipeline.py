"""The export pipeline, stage by stage: source → model → convert → validate → write."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from . import adapters, convert, fetch, links, model, registry, source, validate, write
from .errors import NotConformingError, UsageError
from .resources import sample_root
from .vocab import DEFAULT_BASE_IRI

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExportResult:
    taxonomy: model.Taxonomy
    triples: int
    files: list[Path]

    def summary(self) -> str:
        t = self.taxonomy
        return (
            f"{t.id} {t.accession} release {t.release}: {len(t.levels)} levels, {len(t.terms)} terms, "
            f"{len(t.clusters)} clusters, {len(t.memberships)} memberships, {len(t.mappings)} mappings, "
            f"{self.triples} triples"
        )


def choose_release(spec: registry.TaxonomySpec, root: Path, release: str | None) -> str:
    """The requested release, or else the newest release of the registry that `root` holds."""
    present = source.available_releases(root, spec.directory)
    if release is not None:
        if release not in present:
            raise UsageError(
                f"{spec.id} release {release} is not in {root / 'metadata' / spec.directory}"
                f" (present: {', '.join(present) or 'none'})"
            )
        return release
    known = [r for r in present if r in spec.releases] or ([] if spec.releases else present)
    if not known:
        raise UsageError(
            f"no release of {spec.id} ({', '.join(spec.releases)}) under {root / 'metadata' / spec.directory}"
        )
    return known[-1]


def default_root(
    spec: registry.TaxonomySpec, release: str | None, settings: fetch.Settings | None
) -> tuple[Path, str | None]:
    """The bundled sample when it covers the request, else the fetch cache, filled from the ABC bucket as needed.

    Returns the root and the release to read there (the fetched one, which the cache may hold beside others).
    """
    present = source.available_releases(sample_root(), spec.directory)
    if (release in present) if release else any(r in spec.releases for r in present):
        return sample_root(), release
    fetched = fetch.fetch_release(spec, release, settings)
    return fetched.root, fetched.release


def load_taxonomy(
    taxonomy_id: str,
    root: Path | None = None,
    release: str | None = None,
    fetch_settings: fetch.Settings | None = None,
) -> model.Taxonomy:
    """Read and model one release, then run the enrichment steps its registry entry switches on, once each.

    Without `root`, the sample or a fetched copy (see `default_root`); linked taxonomies come from the same place,
    built without their own enrichment (so an export never re-enters itself).
    """
    spec = registry.get(taxonomy_id)
    taxonomy, tables = _build(spec, root, release, fetch_settings)
    return links.run_steps(
        spec, tables, taxonomy, lambda other: _build(registry.get(other), root, None, fetch_settings)[0]
    )


def _build(
    spec: registry.TaxonomySpec, root: Path | None, release: str | None, fetch_settings: fetch.Settings | None
) -> tuple[model.Taxonomy, source.ReleaseTables]:
    if root is None:
        root, release = default_root(spec, release, fetch_settings)
    chosen = choose_release(spec, root, release)
    log.info("reading %s release %s from %s", spec.id, chosen, root)
    elsewhere = source.local_elsewhere(root, spec.table_directories, chosen)
    origins = {}  # URL and manifest version of fetched files
    for directory, version in {(spec.directory, chosen), *elsewhere.values()}:
        origins.update(fetch.read_origins(root, directory, version))
    tables = source.read_release(root, spec.directory, chosen, elsewhere, origins)
    return adapters.builder(spec)(spec, tables), tables


def present_taxonomies(root: Path | None = None) -> list[str]:
    """The registry ids with at least one of their releases under `root`; every id when fetching."""
    if root is None:
        return list(registry.taxonomies())
    return [
        spec.id
        for spec in registry.taxonomies().values()
        if set(source.available_releases(root, spec.directory)) & set(spec.releases)
    ]


def export(
    taxonomy_id: str,
    root: Path | None = None,
    out: Path = Path("output"),
    formats: list[str] | None = None,
    base_iri: str = DEFAULT_BASE_IRI,
    release: str | None = None,
    check: bool = True,
    fetch_settings: fetch.Settings | None = None,
) -> ExportResult:
    taxonomy = load_taxonomy(taxonomy_id, root, release, fetch_settings)
    triples = write.canonical(list(convert.triples(taxonomy, base_iri)))
    log.info("converted %s: %d triples", taxonomy.accession, len(triples))
    if check:
        report = validate.validate(triples)
        if not report.conforms:
            raise NotConformingError(
                f"{taxonomy.id} release {taxonomy.release} does not conform to the SHACL shapes "
                f"({len(report.violations)} result(s)); nothing was written:\n{report.text()}"
            )
        log.info("SHACL: %s conforms", taxonomy.accession)
    graph = convert.Iris(base_iri, taxonomy.accession, taxonomy.release).graph
    documents = [write.Document(taxonomy.accession, triples, graph)]
    if taxonomy.mappings:
        mappings = write.canonical(list(convert.mapping_triples(taxonomy, base_iri)))
        documents.append(write.Document(f"{taxonomy.accession}.mappings", mappings, graph))
    folder = out / taxonomy.id / taxonomy.release
    files = write.write_all(documents, folder, formats or write.formats())
    return ExportResult(taxonomy, len(triples), files)


def _export_in_worker(taxonomy_id: str, **options: object) -> tuple[str, list[Path]]:
    """Export in a worker process; only the summary and the paths travel back, not the whole model."""
    result = export(taxonomy_id, **options)  # type: ignore[arg-type]
    return result.summary(), result.files


def export_many(
    taxonomy_ids: list[str], jobs: int | None = None, **options: object
) -> Iterator[tuple[str, list[Path]]]:
    """Export several taxonomies, in parallel processes when there are cores to spare (pyshacl is single-threaded).

    Yields (summary, files) per taxonomy, in the order asked. Each export stays atomic on its own.
    """
    jobs = max(1, min(len(taxonomy_ids), jobs or os.cpu_count() or 1))
    if jobs == 1:
        for taxonomy_id in taxonomy_ids:
            yield _export_in_worker(taxonomy_id, **options)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        yield from pool.map(partial(_export_in_worker, **options), taxonomy_ids)
