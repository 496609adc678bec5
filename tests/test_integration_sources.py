"""Integration sources as data: the registry of sources, and where their bytes come from (folder, cache, mirror).

Real files and a real HTTP server on 127.0.0.1 (tests/bucket.py); nothing is mocked.
"""

from __future__ import annotations

import hashlib
import shutil
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from bucket import serve

from abc_atlas_kg.errors import FetchError
from abc_atlas_kg.registry import RegistryError
from abc_atlas_kg.registry import sources as declared
from abc_atlas_kg.source.bucket.fetch import Settings
from abc_atlas_kg.source.integration import IntegrationSettings, locate_sources

ENTRY = """
[[source]]
id = "x"
title = "a source"
layers = ["celltypes"]
reader = "tsv"
taxonomies = ["WMB-taxonomy"]
path = "cl/x.tsv"
url = "https://example.org/x.tsv"
md5 = "0123456789abcdef0123456789abcdef"
size = 10
version = "1"
licence = "CC-BY-4.0"
"""


def test_every_declared_source_is_valid_and_serves_known_taxonomies() -> None:
    every = declared.sources()
    assert len(every) == 15
    assert {s.id for s in declared.for_taxonomy("WMB-taxonomy", "celltypes")} >= {"pcl-wmb-mapping", "tdt-wmb"}
    assert declared.for_taxonomy("SEAAD-taxonomy") == []  # no public source is keyed by SEAAD's accession


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('version = "1"', 'version = "1"\ncolour = "red"'), "colour: unknown key"),
        (('md5 = "0123456789abcdef0123456789abcdef"', 'md5 = "XYZ"'), "md5: 'XYZ' is not an MD5"),
        (('reader = "tsv"', 'reader = "csvx"'), "reader: unknown value 'csvx'"),
        (('taxonomies = ["WMB-taxonomy"]', 'taxonomies = ["WMB"]'), "taxonomies: unknown taxonomy 'WMB'"),
        (('path = "cl/x.tsv"', 'path = "../../etc/passwd"'), "path: '../../etc/passwd' is not a relative path"),
        (('layers = ["celltypes"]', 'layers = ["cells"]'), "layers: unknown value 'cells'"),
        (("size = 10", "size = -1"), "size: expected a positive integer"),
        (('url = "https://example.org/x.tsv"', 'url = "file:///etc/passwd"'), "url: 'file:///etc/passwd' is not"),
    ],
)
def test_a_broken_declaration_is_one_line_naming_the_key(change: tuple[str, str], message: str) -> None:
    with pytest.raises(RegistryError, match=message):
        declared.parse(ENTRY.replace(*change))
    assert declared.parse(ENTRY)["x"].size == 10


def test_files_of_a_folder_are_found_by_md5_in_any_layout(shared_integration: Path, tmp_path: Path) -> None:
    every = list(declared.sources().values())
    found = locate_sources(every, IntegrationSettings(folder=shared_integration))
    assert {sid: f.how for sid, f in found.items()} == {s.id: "given" for s in every}
    # another layout and other names: still found; a same-sized file with other bytes is not taken
    flat = tmp_path / "flat"
    flat.mkdir()
    mapping = next(s for s in every if s.id == "tdt-wmb")
    shutil.copy(shared_integration / mapping.path, flat / "renamed.bin")
    (flat / "impostor.tsv").write_bytes(b"x" * declared.sources()["whbo-region-map"].size)
    found = locate_sources(every, IntegrationSettings(folder=flat))
    assert found["tdt-wmb"].path == flat / "renamed.bin"
    assert found["whbo-region-map"].path is None and found["whbo-region-map"].how == "missing"


def _settings(cache: Path, **changes: object) -> Settings:
    return replace(Settings(base_url="http://127.0.0.1:9/", cache=cache, retries=0, timeout=5), **changes)


def test_a_mirror_download_is_verified_cached_and_then_read_offline(shared_integration: Path, tmp_path: Path) -> None:
    wanted = [declared.sources()[i] for i in ("whbo-region-map", "tdt-whb-nonneuronal")]
    with serve(shared_integration) as mirror:
        online = IntegrationSettings(mirror=mirror.url, download=True)
        found = locate_sources(wanted, online, _settings(tmp_path / "cache"))
        assert {f.how for f in found.values()} == {"downloaded"}
        for f in found.values():
            assert f.path is not None and hashlib.md5(f.path.read_bytes()).hexdigest() == f.source.md5
        again = locate_sources(wanted, online, _settings(tmp_path / "cache"))
        assert {f.how for f in again.values()} == {"cached"}
        assert mirror.count() == 2  # the cache answered the second time
    offline = locate_sources(wanted, IntegrationSettings(), _settings(tmp_path / "cache", offline=True))
    assert {f.how for f in offline.values()} == {"cached"}
    nowhere = locate_sources(wanted, IntegrationSettings(download=True), _settings(tmp_path / "empty", offline=True))
    assert {f.how for f in nowhere.values()} == {"missing"} and all(f.reason for f in nowhere.values())


def test_bytes_that_do_not_match_the_md5_are_a_fetch_error_and_not_cached(tmp_path: Path) -> None:
    served = tmp_path / "mirror"
    (served / "cl").mkdir(parents=True)
    (served / "cl" / "x.tsv").write_bytes(b"0123456789")  # the declared size, other bytes
    source = declared.parse(ENTRY)["x"]
    with serve(served) as mirror, pytest.raises(FetchError, match="MD5 mismatch"):
        locate_sources([source], IntegrationSettings(mirror=mirror.url, download=True), _settings(tmp_path / "c"))
    assert not list((tmp_path / "c").rglob("x.tsv"))


def test_a_file_inside_a_wheel_is_taken_out_and_checked(tmp_path: Path) -> None:
    payload = b'{"exact": {}}'
    wheel = tmp_path / "served" / "pkg-1.0-py3-none-any.whl"
    wheel.parent.mkdir()
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("pkg/data/mapping.json", payload)
    data = wheel.read_bytes()
    with serve(wheel.parent) as host:
        source = replace(
            declared.parse(ENTRY)["x"],
            url=host.url + wheel.name,
            md5=hashlib.md5(payload).hexdigest(),
            size=len(payload),
            member="pkg/data/mapping.json",
            archive_md5=hashlib.md5(data).hexdigest(),
            archive_size=len(data),
        )
        found = locate_sources([source], IntegrationSettings(download=True), _settings(tmp_path / "cache"))
    assert found["x"].how == "downloaded" and found["x"].path is not None
    assert found["x"].path.read_bytes() == payload
    assert not list((tmp_path / "cache").rglob("*.archive"))  # the archive itself is not kept
