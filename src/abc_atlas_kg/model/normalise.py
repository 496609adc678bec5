"""Normalise a release's ABC tables into the model, checking them on the way.

Every problem (file, row, column, value) is collected before giving up, so that a curator fixes them in one go.
Columns are matched by name; optional columns and files may be absent.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from ..errors import InputError, Problem
from ..registry import TaxonomySpec
from ..source.tables import TERM, TERM_SET, ReleaseTables, Table
from .memberships import clusters_and_memberships
from .rows import RowReader, has_columns
from .taxonomy import Level, Taxonomy, Term

log = logging.getLogger(__name__)


def build(spec: TaxonomySpec, tables: ReleaseTables) -> Taxonomy:
    """Normalise and check a release's tables; raise InputError listing every problem found.

    What differs between releases (facets, label form, what membership counts mean) comes from the registry,
    applied to this release by `spec.at(release)`.
    """
    spec = spec.at(tables.release)
    problems: list[Problem] = []
    taxonomy = Taxonomy(
        id=spec.id,
        accession=spec.accession,
        title=spec.title,
        species=spec.species,
        directory=tables.directory,
        release=tables.release,
        sources=tables.sources,
    )
    for tag in spec.required_tables:
        _required(tables, tag, problems)
    warn_missing_optional(spec, tables)
    term_sets, terms = tables.get(TERM_SET), tables.get(TERM)
    if term_sets is not None:
        taxonomy.levels = _levels(term_sets, spec.facets, problems)
    if terms is not None and term_sets is not None:
        taxonomy.terms = _terms(terms, {level.label: level for level in taxonomy.levels}, spec, problems)
    _check_unused_levels(taxonomy, spec, terms, problems)
    taxonomy.clusters, taxonomy.memberships = clusters_and_memberships(tables, taxonomy, spec, problems)
    if problems:
        raise InputError(problems)
    return taxonomy


def warn_missing_optional(spec: TaxonomySpec, tables: ReleaseTables) -> None:
    """One warning per absent optional (enrichment) table: the rest of the release is still exported."""
    for tag in spec.optional_tables:
        if tables.get(tag) is None:
            log.warning(
                "%s release %s: optional table %s is absent; exported without what it adds",
                spec.id,
                tables.release,
                tables.where(tag),
            )


def _check_unused_levels(taxonomy: Taxonomy, spec: TaxonomySpec, terms: Table | None, problems: list[Problem]) -> None:
    """A term set without terms is an error, unless the registry says the release is known to omit it.

    A term table with a header and no rows is an error too: exporting a taxonomy of 0 terms would replace a real
    release with nothing.
    """
    if terms is not None and not any(True for _ in terms.numbered()):
        problems.append(Problem(terms.path, "has a header but no terms; a release needs at least one term"))
        return
    if terms is None:
        return
    quirks = spec.quirks(taxonomy.release)
    used = {term.level for term in taxonomy.terms}
    for level in taxonomy.levels:
        if level.label in used:
            continue
        if level.label in quirks.omitted_term_sets:  # known and said where the source is named: no alarm
            log.info(
                "%s release %s: term set %s (%s) has no terms: %s",
                taxonomy.id,
                taxonomy.release,
                level.label,
                level.name,
                quirks.note or "the release is known to omit them",
            )
        else:
            problems.append(
                Problem(
                    terms.path,
                    f"has no terms of the term set {level.label} ({level.name}) that the term-set table declares",
                )
            )


def _required(tables: ReleaseTables, tag: str, problems: list[Problem]) -> Table | None:
    table = tables.get(tag)
    if table is None:
        problems.append(Problem(tables.where(tag), "required file is missing"))
    return table


def _levels(table: Table, facets: frozenset[str], problems: list[Problem]) -> list[Level]:
    rank_column = "order" if "order" in table.columns else "term_set_order"
    if not has_columns(table, ("label", "name", rank_column), problems):
        return []
    explicit_parents = "parent_term_set_label" in table.columns
    drafts: list[tuple[str, str, int, str | None, str | None]] = []
    seen: dict[str, int] = {}
    for number, row in table.numbered():
        read = RowReader(table, number, row, problems)
        label, name = read.required("label"), read.required("name")
        read.required(rank_column)
        rank = read.count(rank_column)
        if label in seen:
            read.problem("label", f"duplicate term set label (first at row {seen[label]})", label)
            continue
        seen[label] = number
        parent = read.text("parent_term_set_label") if explicit_parents else None
        drafts.append((label, name, rank or 0, parent, read.text("description")))
    return _with_parents(table, drafts, facets, explicit_parents, seen, problems)


def _with_parents(
    table: Table,
    drafts: list[tuple[str, str, int, str | None, str | None]],
    facets: frozenset[str],
    explicit_parents: bool,
    seen: dict[str, int],
    problems: list[Problem],
) -> list[Level]:
    """The levels with their parent level: as published, else the next rank up; facets have none."""
    hierarchy = sorted((d for d in drafts if d[0] not in facets), key=lambda d: d[2])
    derived_parent = {d[0]: (hierarchy[i - 1][0] if i else None) for i, d in enumerate(hierarchy)}
    levels = []
    for label, name, rank, parent, description in drafts:
        is_facet = label in facets
        if is_facet:
            parent = None
        elif not explicit_parents:
            parent = derived_parent[label]
        elif parent is not None and parent not in seen:
            problems.append(
                Problem(table.path, "names an undeclared term set", seen[label], "parent_term_set_label", parent)
            )
        levels.append(Level(label, name, rank, is_facet, parent, description))
    return levels


def _terms(table: Table, levels: dict[str, Level], spec: TaxonomySpec, problems: list[Problem]) -> list[Term]:
    set_column = "cluster_annotation_term_set_label"
    if not has_columns(table, ("label", "name", set_column), problems):
        return []
    form = re.compile(spec.term_label_pattern) if spec.term_label_pattern else None
    odd: list[str] = []  # labels not of the registry's form: said once, as a hint that the release is another
    terms: list[Term] = []
    rows: dict[str, int] = {}
    for number, row in table.numbered():
        read = RowReader(table, number, row, problems)
        label, name, level = read.required("label"), read.required("name"), read.required(set_column)
        if label in rows:
            read.problem("label", f"duplicate term label (first at row {rows[label]})", label)
            continue
        if label and form is not None and not form.search(label):
            odd.append(label)
        if level and level not in levels:
            read.problem(set_column, "names a term set that cluster_annotation_term_set.csv does not declare", level)
        rows[label] = number
        terms.append(
            Term(
                label=label,
                name=name,
                level=level,
                parent=read.text("parent_term_label"),
                colour=read.colour("color_hex_triplet"),
                order=read.count("term_order"),
                cell_count=read.count("number_of_cells"),
                description=read.text("description"),
            )
        )
    if odd:
        log.warning(
            "%s: %d term label(s) do not have the label form of %s (%s), e.g. %r: is this the release you meant?",
            table.path,
            len(odd),
            spec.id,
            form.pattern if form else "",
            odd[0],
        )
    by_label = {term.label: term for term in terms}
    for term in terms:
        for message in _parent_problems(term, by_label, levels):
            problems.append(Problem(table.path, message, rows[term.label], "parent_term_label", term.parent))
    return terms


def _parent_problems(term: Term, terms: dict[str, Term], levels: dict[str, Level]) -> Iterable[str]:
    """A parent must exist and sit exactly one level up; facet terms have none. This also rules out cycles."""
    level = levels.get(term.level)
    if level is None:
        return

    if term.parent is None:
        if level.parent is not None:
            yield f"is empty, but a term at level '{level.name}' needs a parent at the level above"
        return
    if level.is_facet:
        yield f"facet terms ('{level.name}') take no parent"
        return
    parent = terms.get(term.parent)
    if parent is None:
        yield "names a term that cluster_annotation_term.csv does not contain"
    elif parent.level != level.parent:
        expected = levels[level.parent].name if level.parent in levels else "none (top level)"
        found = levels[parent.level].name if parent.level in levels else parent.level
        yield f"parent is at level '{found}', expected '{expected}'"
