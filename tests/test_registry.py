"""The registry is validated data: typos are one-line errors naming the key, and a new taxonomy is a TOML table."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FIXTURES, load_store, select

from abc_atlas_kg import registry
from abc_atlas_kg.cli import main
from abc_atlas_kg.registry import plugins

BASE = """
["X-taxonomy"]
accession = "CCN20990101"
title = "A test taxonomy"
species = ["10090"]
directory = "X-taxonomy"
"""


def parse_error(text: str) -> str:
    with pytest.raises(registry.RegistryError) as caught:
        registry.parse(text, "test.toml")
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("extra", "fragments"),
    [
        ('facet = ["CCN20990101_NEUR"]', ["[X-taxonomy] facet: unknown key", "facets", "known_releases"]),
        ('adapter = "agign"', ["[X-taxonomy] adapter: unknown value 'agign' (known: aging)"]),
        ('enrich = ["species-from-name"]', ["enrich: unknown value 'species-from-name'", "species-from-names"]),
        (
            'enrich = ["shared-alias-links"]\nlinks = [{ kind = "same-alias", with = "WMB-taxonomy" }]',
            ["links.kind: unknown value 'same-alias' (known: shared-cluster-alias)"],
        ),
        ('membership_counts = "leaf"', ["membership_counts: unknown value 'leaf' (known: cluster, other, none)"]),
        ('required_tables = ["clusters"]', ["required_tables: unknown value 'clusters'", "cluster_mapping"]),
        ('releases = ["20990101"]', ["[X-taxonomy] releases: unknown key"]),
        ('term_label_pattern = "CS(("', ["term_label_pattern: is not a regular expression"]),
        ('statistics = { odds = { property = "x", datatype = "float" } }', ["statistics.odds.datatype: unknown value"]),
        ('release = { "20990101" = { facet = [] } }', ["release.20990101.facet: unknown key"]),
        ('species_by_name_prefix = { Hs = "human" }', ["species_by_name_prefix.Hs: expected an NCBITaxon number"]),
    ],
)
def test_a_typo_is_a_one_line_error_naming_the_key(extra: str, fragments: list[str]) -> None:
    message = parse_error(BASE + extra)
    assert message.startswith("test.toml: ")
    for fragment in fragments:
        assert fragment in message


def test_species_are_ncbitaxon_numbers() -> None:
    message = parse_error(BASE.replace('species = ["10090"]', 'species = ["mouse"]'))
    assert "[X-taxonomy] species: expected an NCBITaxon number" in message and "'mouse'" in message


def test_a_missing_required_key_is_named() -> None:
    assert "[X-taxonomy] directory: is required" in parse_error(BASE.replace('directory = "X-taxonomy"\n', ""))


def test_the_cli_reports_a_broken_registry_without_a_traceback(tmp_path: Path) -> None:
    extra = tmp_path / "extra.toml"
    extra.write_text(BASE + 'adapter = "agign"\n', encoding="utf-8")
    result = CliRunner(env={registry.REGISTRY_ENV: str(extra)}).invoke(main, ["taxonomies"])
    assert result.exit_code == 2
    assert "adapter: unknown value 'agign'" in result.output
    assert "Traceback" not in result.output


def test_every_code_name_the_registry_accepts_is_importable() -> None:
    """The plugin tables name code as "module:attr" strings: each must resolve to a function."""
    for table in (plugins.ADAPTERS, plugins.LINK_KINDS, plugins.ENRICHMENT_STEPS):
        for name, reference in table.items():
            assert callable(plugins.load(reference)), f"{name}: {reference} is not a function"


def test_the_bundled_registry_loads_and_keeps_quirks_as_data() -> None:
    known = registry.taxonomies()
    assert known["SEAAD-taxonomy"].known_releases == ("20240131",)
    assert "CCN20230504_DIVI" in known["WMB-taxonomy-CCN20230504"].facets
    assert known["WHB-taxonomy"].membership_counts == "other"
    assert {c.column for c in known["Zeng-Aging-Mouse"].statistics} >= {"odds_ratio", "cluster_age_bias_color"}
    assert known["WMB-taxonomy"].quirks("20230830").note.startswith("the bundled sample is partial")


def test_a_new_taxonomy_is_a_toml_table_and_nothing_else(tmp_path: Path) -> None:
    """A taxonomy whose tables follow the ABC form: a registry table, its tables, and the export works."""
    root = tmp_path / "bucket"
    shutil.copytree(
        FIXTURES / "atlas" / "metadata" / "Consensus-WMB-integrated-taxonomy" / "20251031",
        root / "metadata" / "New-taxonomy" / "20990101",
    )
    extra = tmp_path / "extra.toml"
    extra.write_text(
        '["New-taxonomy"]\naccession = "CCN20990101"\ntitle = "A new taxonomy"\nspecies = ["10090"]\n'
        'directory = "New-taxonomy"\nfacets = ["CCN20251031_NEUR"]\nmembership_counts = "none"\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = CliRunner(env={registry.REGISTRY_ENV: str(extra)}).invoke(
        main, ["export", "New-taxonomy", "--source", str(root), "--release", "20990101", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    store = load_store(out / "New-taxonomy" / "20990101" / "CCN20990101.nt")
    found = select(store, 'SELECT ?t WHERE { ?t skos:notation "CS20251031_CLUS_6717" ; rdfs:label ?name }')
    assert found == [{"t": "https://purl.brain-bican.org/taxonomy/CCN20990101/CS20251031_CLUS_6717"}]
