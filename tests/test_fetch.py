"""Fetching from a real S3-shaped HTTP server on 127.0.0.1 (tests/bucket.py): manifests, cache, checksums, retries,
and every hostile-mirror fault of issue 12 reproduced for real (no mocks).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from bucket import LIST, STALL_SECONDS, Bucket, serve, write_manifest
from conftest import AGING_10XV3, COMPLETE, COMPLETE_RELEASE, FIXTURES, load_store, run, select, shared_root

from abc_atlas_kg import registry
from abc_atlas_kg.defaults import BASE_URL_ENV, CACHE_ENV, DEFAULT_BASE_URL
from abc_atlas_kg.errors import FetchError, UsageError
from abc_atlas_kg.source import locate
from abc_atlas_kg.source.bucket import fetch
from abc_atlas_kg.source.bucket.catalogue import parse_listing
from abc_atlas_kg.source.bucket.download import MARGIN
from abc_atlas_kg.source.bucket.http import redact
from abc_atlas_kg.source.bucket.record import RECORD_NAME, read_origins
from abc_atlas_kg.source.bucket.releases import release_table
from abc_atlas_kg.source.bucket.settings import Settings

DIRECTORY = "WMB-taxonomy"
RELEASE = "20231215"
FOLDER = f"metadata/{DIRECTORY}/{RELEASE}"
PIVOTED = f"{FOLDER}/views/cluster_to_cluster_annotation_membership_pivoted.csv"
CLUSTER = f"{FOLDER}/cluster.csv"
FAST = ("--timeout", "0.5", "--retries", "1", "--backoff", "0.01")


def shared() -> Path | None:
    """`../shared` beside the clone (or $ABC_KG_SHARED); None when absent, unless ABC_KG_REQUIRE_SHARED=1."""
    path = shared_root()
    if (path / "samples" / "abc-bucket").is_dir():
        return path / "samples" / "abc-bucket"
    if os.environ.get("ABC_KG_REQUIRE_SHARED") == "1":
        pytest.fail(f"ABC_KG_REQUIRE_SHARED=1 but {path}/samples/abc-bucket is missing")
    return None


@pytest.fixture
def bucket(tmp_path: Path) -> Iterator[Bucket]:
    """The complete fixture's tables served as release 20231215, with manifest 20231215 listing them."""
    root = tmp_path / "served"
    shutil.copytree(COMPLETE_RELEASE, root / FOLDER)
    write_manifest(root, RELEASE, {DIRECTORY: RELEASE})
    with serve(root) as served:
        yield served


@pytest.fixture
def real_bucket() -> Iterator[Bucket]:
    """The real sample files with both real manifests (../shared), served as S3 would."""
    root = shared()
    if root is None:
        pytest.skip("needs ../shared/samples/abc-bucket (real ABC files; set ABC_KG_SHARED)")
    with serve(root) as served:
        yield served


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def fetch_cli(bucket: Bucket, cache: Path, *extra: str, release: str = RELEASE):
    return run("fetch", "WMB-taxonomy", "--release", release, "--cache", cache, "--base-url", bucket.url, *FAST, *extra)


def cached_files(cache: Path) -> set[str]:
    """Every file under the cache, temporary ones included."""
    return {p.relative_to(cache).as_posix() for p in cache.rglob("*") if p.is_file()}


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------- success and the cache


def test_first_fetch_downloads_and_verifies_second_makes_no_request(bucket: Bucket, cache: Path) -> None:
    result = fetch_cli(bucket, cache)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == str(cache / FOLDER)
    for csv in COMPLETE_RELEASE.glob("*.csv"):
        assert md5(cache / FOLDER / csv.name) == md5(csv), csv.name
        assert f"downloaded {FOLDER}/{csv.name}" in " ".join(result.stderr.split())
    assert f"absent     {PIVOTED}" in result.stderr  # unlisted, optional, 404: absent, not an error
    assert (cache / "releases" / RELEASE / "manifest.json").is_file()
    assert bucket.count(LIST) == 1  # one page: one manifest
    record = json.loads((cache / FOLDER / RECORD_NAME).read_text())
    assert record["manifest_version"] == RELEASE
    assert record["files"][CLUSTER]["checksum"] == "manifest"
    assert not any(".part" in p for p in cached_files(cache))
    assert "━" not in result.stderr  # no progress bar when stderr is not a terminal

    before = bucket.count()
    again = fetch_cli(bucket, cache)
    assert again.exit_code == 0, again.stderr
    assert bucket.count() == before, "a verified cache hit made a request"
    assert f"cached     {CLUSTER}" in again.stderr
    offline = fetch_cli(bucket, cache, "--offline")
    assert offline.exit_code == 0 and bucket.count() == before


def test_a_cached_file_edited_after_its_check_is_fetched_again(bucket: Bucket, cache: Path) -> None:
    assert fetch_cli(bucket, cache).exit_code == 0
    (cache / CLUSTER).write_text("tampered\n")
    before = bucket.count(CLUSTER)
    assert fetch_cli(bucket, cache).exit_code == 0
    assert bucket.count(CLUSTER) == before + 1
    assert md5(cache / CLUSTER) == md5(COMPLETE_RELEASE / "cluster.csv")
    assert fetch_cli(bucket, cache, "--offline").exit_code == 0


def test_export_without_source_fetches_and_records_url_manifest_version_and_md5(
    bucket: Bucket, cache: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = run(
        "export", "WMB-taxonomy", "--release", RELEASE, "--cache", cache, "--base-url", bucket.url, "--out", out, *FAST
    )
    assert result.exit_code == 0, result.stderr
    store = load_store(out / "WMB-taxonomy" / RELEASE / "CCN20230722.ttl")
    rows = select(
        store,
        """
        PREFIX dcat: <http://www.w3.org/ns/dcat#>
        SELECT ?path ?url ?manifest ?md5 WHERE {
          ?taxonomy prov:wasDerivedFrom ?file .
          ?file a akg:SourceFile ; dcterms:identifier ?path ; dcat:downloadURL ?url ;
                akg:manifestVersion ?manifest ; akg:md5 ?md5 .
        }""",
    )
    expected = {f"{FOLDER}/{p.name}": md5(p) for p in COMPLETE_RELEASE.glob("*.csv")}
    assert {r["path"]: r["md5"] for r in rows} == expected
    for row in rows:
        assert row["url"] == DEFAULT_BASE_URL + row["path"]  # verified: the published URL the manifest gives
        assert row["manifest"] == RELEASE
    before = bucket.count()
    again = run(
        "export", "WMB-taxonomy", "--release", RELEASE, "--cache", cache, "--base-url", bucket.url, "--out", out
    )
    assert again.exit_code == 0, again.stderr
    assert bucket.count() == before


def test_a_listed_view_is_fetched_into_views_and_checked_against_the_manifest(bucket: Bucket, cache: Path) -> None:
    view = bucket.root / PIVOTED
    view.parent.mkdir()
    view.write_text("cluster_alias,class,subclass\n1,01 IT-ET Glut,001 CLA-EPd-CTX Car3 Glut\n")
    write_manifest(bucket.root, RELEASE, {DIRECTORY: RELEASE})
    result = fetch_cli(bucket, cache)
    assert result.exit_code == 0, result.stderr
    assert md5(cache / PIVOTED) == md5(view)
    assert json.loads((cache / FOLDER / RECORD_NAME).read_text())["files"][PIVOTED]["checksum"] == "manifest"


def test_env_vars_choose_mirror_and_cache(bucket: Bucket, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BASE_URL_ENV, bucket.url)
    monkeypatch.setenv(CACHE_ENV, str(cache))
    result = run("fetch", "WMB-taxonomy", "--release", RELEASE, *FAST)
    assert result.exit_code == 0, result.stderr
    assert (cache / CLUSTER).is_file() and bucket.count(CLUSTER) == 1


def test_a_later_manifest_found_through_the_listing_resolves_the_directory_version(
    bucket: Bucket, cache: Path, tmp_path: Path
) -> None:
    shutil.rmtree(bucket.root / "releases")
    write_manifest(bucket.root, "20230830", {DIRECTORY: "20230830"})  # older: cannot list 20231215, never opened
    write_manifest(bucket.root, "20240330", {DIRECTORY: RELEASE})  # lists WMB-taxonomy at 20231215
    out = tmp_path / "out"
    result = run(
        "export", "WMB-taxonomy", "--release", RELEASE, "--cache", cache, "--base-url", bucket.url, "--out", out, *FAST
    )
    assert result.exit_code == 0, result.stderr
    assert bucket.count(LIST) == 2  # two pages of one key
    assert bucket.count("releases/20230830/manifest.json") == 0
    store = load_store(out / "WMB-taxonomy" / RELEASE / "CCN20230722.nt")
    versions = select(store, "SELECT DISTINCT ?v WHERE { ?f akg:manifestVersion ?v }")
    assert versions == [{"v": "20240330"}]


def test_a_file_the_manifest_omits_is_absent_without_a_request(bucket: Bucket, cache: Path) -> None:
    write_manifest(bucket.root, RELEASE, {DIRECTORY: RELEASE})
    manifest = json.loads((bucket.root / "releases" / RELEASE / "manifest.json").read_text())
    del manifest["file_listing"][DIRECTORY]["metadata"]["cluster"]
    (bucket.root / "releases" / RELEASE / "manifest.json").write_text(json.dumps(manifest))
    result = fetch_cli(bucket, cache)
    assert result.exit_code == 0, result.stderr
    assert f"absent     {CLUSTER}" in result.stderr and bucket.count(CLUSTER) == 0


def test_releases_lists_directory_versions_then_the_cached_ones_offline(bucket: Bucket, cache: Path) -> None:
    write_manifest(bucket.root, "20240330", {DIRECTORY: RELEASE})
    settings = Settings(base_url=bucket.url, cache=cache, retries=0)
    table = release_table(settings)
    assert table.live
    assert [(r.taxonomy, r.version, r.manifests) for r in table.rows] == [
        ("WMB-taxonomy", RELEASE, (RELEASE, "20240330"))
    ]
    assert fetch_cli(bucket, cache).exit_code == 0
    before = bucket.count()
    offline = release_table(Settings(base_url=bucket.url, cache=cache, offline=True))
    assert not offline.live and [(r.version, r.cached) for r in offline.rows] == [(RELEASE, True)]
    assert bucket.count() == before


def test_releases_fails_with_exit_4_when_unreachable_and_nothing_is_cached(cache: Path) -> None:
    settings = Settings(base_url=f"http://127.0.0.1:{free_port()}/", cache=cache, retries=0, timeout=0.5)
    with pytest.raises(FetchError, match="cannot be reached and the cache"):
        release_table(settings)


# ---------------------------------------------------------------- failures


def test_a_corrupted_file_fails_naming_url_and_both_hashes_and_is_not_cached(bucket: Bucket, cache: Path) -> None:
    served = bucket.root / CLUSTER
    expected = md5(served)
    data = bytearray(served.read_bytes())
    data[-2] = ord("9") if data[-2] != ord("9") else ord("8")  # same size, other bytes
    served.write_bytes(bytes(data))
    result = fetch_cli(bucket, cache)
    assert result.exit_code == 4
    assert f"{bucket.url}{CLUSTER}: MD5 mismatch: expected {expected}, got {md5(served)}" in result.stderr
    assert bucket.count(CLUSTER) == 1  # a checksum mismatch is not retried
    assert CLUSTER not in cached_files(cache)
    assert not any(".part" in p for p in cached_files(cache))


def test_a_wrong_size_fails_and_is_not_cached(bucket: Bucket, cache: Path) -> None:
    with (bucket.root / CLUSTER).open("ab") as served:
        served.write(b"99,CS20230722_CLUS_9999,1\n")
    result = fetch_cli(bucket, cache)
    assert result.exit_code == 4
    size = (COMPLETE_RELEASE / "cluster.csv").stat().st_size
    assert f"size mismatch: expected {size} bytes, got {size + 26}" in result.stderr
    assert CLUSTER not in cached_files(cache)


def test_a_listed_file_that_404s_is_an_error(bucket: Bucket, cache: Path) -> None:
    (bucket.root / CLUSTER).unlink()
    result = fetch_cli(bucket, cache)
    assert result.exit_code == 4
    assert f"{bucket.url}{CLUSTER}: HTTP 404 Not Found, though manifest {RELEASE} lists it" in result.stderr
    assert bucket.count(CLUSTER) == 1  # 4xx is not retried


def test_a_403_is_final_and_not_retried(bucket: Bucket, cache: Path) -> None:
    bucket.faults[CLUSTER] = ["403"]
    result = fetch_cli(bucket, cache)
    assert result.exit_code == 4
    assert f"{bucket.url}{CLUSTER}: HTTP 403" in result.stderr
    assert bucket.count(CLUSTER) == 1


def test_a_500_that_recovers_after_a_retry_succeeds(bucket: Bucket, cache: Path) -> None:
    bucket.faults[CLUSTER] = ["500"]
    result = fetch_cli(bucket, cache)
    assert result.exit_code == 0, result.stderr
    assert bucket.count(CLUSTER) == 2
    assert "HTTP 500 Internal Server Error (server said: InternalError); retrying" in result.stderr
    assert md5(cache / CLUSTER) == md5(COMPLETE_RELEASE / "cluster.csv")


def test_a_500_that_persists_gives_up_after_the_retries(bucket: Bucket, cache: Path) -> None:
    bucket.faults[CLUSTER] = ["500"] * 5
    result = fetch_cli(bucket, cache)
    assert result.exit_code == 4
    assert bucket.count(CLUSTER) == 2  # one attempt and --retries 1
    assert "gave up after 2 attempt(s)" in result.stderr
    assert CLUSTER not in cached_files(cache)


def test_a_stalled_server_times_out_and_is_retried(bucket: Bucket, cache: Path) -> None:
    bucket.faults[CLUSTER] = ["stall"]
    started = time.monotonic()
    result = fetch_cli(bucket, cache)
    assert result.exit_code == 0, result.stderr
    assert "timed out; retrying" in result.stderr
    assert bucket.count(CLUSTER) == 2
    assert time.monotonic() - started < STALL_SECONDS + 1


def test_a_server_that_keeps_stalling_fails_with_exit_4(bucket: Bucket, cache: Path) -> None:
    bucket.faults[CLUSTER] = ["stall", "stall"]
    result = fetch_cli(bucket, cache)
    assert result.exit_code == 4
    assert f"{bucket.url}{CLUSTER}: timed out (gave up after 2 attempt(s))" in result.stderr
    assert CLUSTER not in cached_files(cache)


def free_port() -> int:
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_connection_refused_names_what_is_missing_from_the_cache(cache: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/"
    result = run("fetch", "WMB-taxonomy", "--release", RELEASE, "--cache", cache, "--base-url", url, *FAST)
    assert result.exit_code == 4
    assert "connection refused" in result.stderr and "Are you offline?" in result.stderr
    assert f"Missing from the cache {cache}: " in result.stderr and CLUSTER in result.stderr


def test_offline_with_an_empty_cache_fails_naming_the_missing_files(
    bucket: Bucket, cache: Path, tmp_path: Path
) -> None:
    result = run(
        "export", "WMB-taxonomy", "--release", RELEASE, "--cache", cache, "--base-url", bucket.url, "--offline",
        "--out", tmp_path / "out",
    )  # fmt: skip
    assert result.exit_code == 4
    assert "--offline" in result.stderr and f"{FOLDER}/cluster_annotation_term.csv" in result.stderr
    assert bucket.count() == 0
    assert not (tmp_path / "out").exists()


def test_credentials_in_the_base_url_never_reach_messages_or_provenance(bucket: Bucket, cache: Path) -> None:
    base = bucket.url.replace("http://", "http://reader:s3cr3t@")
    (bucket.root / CLUSTER).unlink()
    failed = run("fetch", "WMB-taxonomy", "--release", RELEASE, "--cache", cache, "--base-url", base, *FAST)
    assert failed.exit_code == 4 and "s3cr3t" not in failed.stderr and "reader" not in failed.stderr
    shutil.copy(COMPLETE_RELEASE / "cluster.csv", bucket.root / CLUSTER)
    assert run("fetch", "WMB-taxonomy", "--release", RELEASE, "--cache", cache, "--base-url", base).exit_code == 0
    assert "s3cr3t" not in (cache / FOLDER / RECORD_NAME).read_text()


def test_a_release_the_bucket_does_not_offer_is_a_usage_error_naming_the_offered(bucket: Bucket, cache: Path) -> None:
    result = fetch_cli(bucket, cache, release="20991231")
    assert result.exit_code == 2 and "no release 20991231" in result.stderr and f"offered: {RELEASE}" in result.stderr
    assert bucket.count(CLUSTER) == 0
    before = bucket.count()
    assert fetch_cli(bucket, cache, release="19990101").exit_code == 2 and bucket.count() == before


# ---------------------------------------------------------------- small pieces


def test_listing_parser_reads_prefixes_keys_and_continuation() -> None:
    body = (
        b'<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><IsTruncated>true</IsTruncated>'
        b"<Contents><Key>releases/20231215/manifest.json</Key></Contents>"
        b"<CommonPrefixes><Prefix>releases/20240330/</Prefix></CommonPrefixes>"
        b"<CommonPrefixes><Prefix>releases/notes/</Prefix></CommonPrefixes>"
        b"<NextContinuationToken>abc</NextContinuationToken></ListBucketResult>"
    )
    assert parse_listing(body) == (["20231215", "20240330"], "abc")


def test_redact_hides_userinfo_and_signatures() -> None:
    url = "https://u:p@bucket.example/metadata/x.csv?X-Amz-Signature=abc&list-type=2"
    assert redact(url) == "https://***@bucket.example/metadata/x.csv?X-Amz-Signature=***&list-type=2"


def test_export_from_a_fetched_cache_as_source_keeps_the_provenance(
    bucket: Bucket, cache: Path, tmp_path: Path
) -> None:
    assert fetch_cli(bucket, cache).exit_code == 0
    out = tmp_path / "out"
    result = run("export", "WMB-taxonomy", "--source", cache, "--out", out, "--format", "nt")
    assert result.exit_code == 0, result.stderr
    store = load_store(out / "WMB-taxonomy" / RELEASE / "CCN20230722.nt")
    assert select(store, "SELECT (COUNT(?f) AS ?n) WHERE { ?f akg:manifestVersion ?v }") == [{"n": "4"}]
    assert COMPLETE.is_dir()


# ---------------------------------------------------------------- releases from the bucket (issue 11)


def test_real_manifests_list_wmb_20231215_and_seaad_20240131(real_bucket: Bucket, cache: Path) -> None:
    table = release_table(Settings(base_url=real_bucket.url, cache=cache, retries=0))
    offered = {(r.taxonomy, r.version): r.manifests for r in table.rows}
    assert offered[("WMB-taxonomy", "20231215")] == ("20231215", "20250531")
    assert offered[("SEAAD-taxonomy", "20240131")] == ("20250531",)
    assert ("WMB-taxonomy-CCN20230504", "20231215") not in offered  # the directory's newest is not CCN20230504's
    assert real_bucket.count(LIST) == 2  # one key a page: the continuation token was followed


def test_export_without_release_takes_the_newest_offered_and_verifies_every_md5(
    real_bucket: Bucket, cache: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = run("export", "WMB-taxonomy", "--base-url", real_bucket.url, "--cache", cache, "--out", out, "--format",
                 "nt", *FAST)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert f"WMB-taxonomy CCN20230722 release {RELEASE} fetched from {real_bucket.url}" in result.stderr
    assert "bundled sample" not in result.stderr
    record = json.loads((cache / FOLDER / RECORD_NAME).read_text())
    assert record["manifest_version"] == "20250531"  # the newest manifest listing WMB-taxonomy 20231215
    assert {p: e["checksum"] for p, e in record["files"].items()} == {
        f"{FOLDER}/{name}.csv": "manifest"
        for name in ("cluster", "cluster_annotation_term", "cluster_annotation_term_set",
                     "cluster_to_cluster_annotation_membership", "views/cluster_to_cluster_annotation_membership_pivoted")
    }  # fmt: skip
    assert (out / "WMB-taxonomy" / RELEASE / "CCN20230722.nt").is_file()


def test_a_source_folder_is_verified_against_the_manifest_it_carries() -> None:
    root = shared()
    if root is None:
        pytest.skip("needs ../shared/samples/abc-bucket (real ABC files; set ABC_KG_SHARED)")
    spec = registry.get("WMB-taxonomy")
    located = locate.locate(spec, None, root)
    assert (located.origin_kind, located.release) == ("folder", RELEASE)
    assert "5 of 5 file(s) verified (manifest 20250531)" in located.description
    origin = located.origins[CLUSTER]
    assert origin.verified and origin.manifest_version == "20250531"
    assert origin.url == DEFAULT_BASE_URL + CLUSTER
    sample = locate.locate(spec, "20230830", root)  # present, but no manifest lists these rebuilt files
    assert sample.origins == {} and "0 of 2 file(s) verified" in sample.description


def test_without_options_the_sample_is_used_and_said_to_be_partial(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(BASE_URL_ENV, raising=False)
    monkeypatch.delenv(CACHE_ENV, raising=False)
    located = locate.locate(registry.get("WMB-taxonomy"))
    assert located.origin_kind == "bundled sample" and located.release == "20230830"
    assert "partial rebuild" in located.description and "5,322 clusters" in located.description


def test_fetch_options_never_fall_back_to_the_sample(bucket: Bucket, cache: Path) -> None:
    settings = Settings(base_url=bucket.url, cache=cache, retries=0)
    located = locate.locate(registry.get("WMB-taxonomy"), None, None, settings)
    assert (located.origin_kind, located.release, located.root) == ("bucket", RELEASE, cache)
    again = locate.locate(registry.get("WMB-taxonomy"), RELEASE, None, settings)
    assert again.origin_kind == "cache"
    with pytest.raises(UsageError, match="offers no release 20230830"):
        locate.locate(registry.get("WMB-taxonomy"), "20230830", None, settings)  # the sample has it: not used


def test_a_table_of_another_directory_is_fetched_at_that_directorys_version(tmp_path: Path) -> None:
    atlas = FIXTURES / "atlas" / "metadata"
    root = tmp_path / "served"
    shutil.copytree(
        atlas / "Zeng-Aging-Mouse-WMB-taxonomy" / "20241130", root / "metadata/Zeng-Aging-Mouse-WMB-taxonomy/20241130"
    )
    shutil.copytree(AGING_10XV3, root / "metadata", dirs_exist_ok=True)  # the 10Xv3 table at 20250131
    write_manifest(
        root, "20250531", {"Zeng-Aging-Mouse-WMB-taxonomy": "20241130", "Zeng-Aging-Mouse-10Xv3": "20250131"}
    )
    cache = tmp_path / "cache"
    with serve(root) as served:
        got = fetch.fetch_release(
            registry.get("Zeng-Aging-Mouse"), None, Settings(base_url=served.url, cache=cache, retries=0)
        )
        other = "metadata/Zeng-Aging-Mouse-10Xv3/20250131/cluster.csv"
        assert got.release == "20241130" and got.versions["Zeng-Aging-Mouse-10Xv3"] == "20250131"
        assert served.count(other) == 1 and served.count(other.replace("20250131", "20241130")) == 0
        assert got.origins[other].verified
        out = tmp_path / "out"
        result = run("export", "Zeng-Aging-Mouse", "--base-url", served.url, "--cache", cache, "--out", out,
                     "--format", "nt", "--no-validate")  # fmt: skip
        assert result.exit_code == 0, result.stderr
        store = load_store(out / "Zeng-Aging-Mouse" / "20241130" / "CS20241021.nt")
        paths = {r["p"] for r in select(store, "SELECT ?p WHERE { ?f a akg:SourceFile ; dcterms:identifier ?p }")}
        assert other in paths


# ---------------------------------------------------------------- hostile mirrors (issue 12)


def hostile_fetch(bucket: Bucket, cache: Path, **settings: object) -> fetch.Fetched:
    options = {"base_url": bucket.url, "cache": cache, "retries": 0, "timeout": 2.0, **settings}
    return fetch.fetch_release(registry.get("WMB-taxonomy"), RELEASE, Settings(**options))  # type: ignore[arg-type]


def no_partial_files(cache: Path) -> bool:
    return not any(".part" in p for p in cached_files(cache)) if cache.exists() else True


def test_an_endless_body_stops_just_past_the_declared_size(bucket: Bucket, cache: Path) -> None:
    bucket.hostile[CLUSTER] = "endless"
    started = time.monotonic()
    with pytest.raises(
        FetchError, match=f"body goes past {(COMPLETE_RELEASE / 'cluster.csv').stat().st_size + MARGIN} bytes"
    ):
        hostile_fetch(bucket, cache)
    assert time.monotonic() - started < 10 and CLUSTER not in cached_files(cache) and no_partial_files(cache)


def test_a_gzip_bomb_is_not_decompressed(bucket: Bucket, cache: Path) -> None:
    bucket.hostile[CLUSTER] = "gzip-bomb"
    with pytest.raises(FetchError, match=r"goes past|size mismatch"):
        hostile_fetch(bucket, cache)
    assert CLUSTER not in cached_files(cache) and no_partial_files(cache)
    manifest = f"releases/{RELEASE}/manifest.json"
    bucket.hostile = {manifest: "gzip-bomb"}
    with pytest.raises(FetchError, match="not a JSON manifest"):
        hostile_fetch(bucket, tmp := cache.parent / "cache2")
    assert manifest not in cached_files(tmp)
    assert all(h.get("Accept-Encoding") == "identity" for h in bucket.headers)


def test_a_huge_or_endless_manifest_is_refused_by_the_manifest_cap(bucket: Bucket, cache: Path) -> None:
    manifest = f"releases/{RELEASE}/manifest.json"
    bucket.hostile[manifest] = "huge"
    with pytest.raises(FetchError, match="announces 500000000 bytes"):
        hostile_fetch(bucket, cache)
    bucket.hostile[manifest] = "endless"
    with pytest.raises(FetchError, match="body goes past 100000 bytes"):
        hostile_fetch(bucket, cache, max_manifest_bytes=100_000)
    assert manifest not in cached_files(cache)


def test_a_listing_that_never_ends_stops_at_the_page_limit(bucket: Bucket, cache: Path) -> None:
    bucket.hostile[LIST] = "endless-listing"
    result = run("fetch", "WMB-taxonomy", "--cache", cache, "--base-url", bucket.url, *FAST)
    assert result.exit_code == 4 and "did not end after 100 pages" in result.stderr
    assert bucket.count(LIST) == 100
    with pytest.raises(FetchError, match="did not end after 3 pages"):
        release_table(Settings(base_url=bucket.url, cache=cache, max_listing_pages=3))


def test_a_one_byte_per_second_body_is_ended_by_the_deadline(bucket: Bucket, cache: Path) -> None:
    bucket.hostile[CLUSTER] = "slow"
    bucket.slow_interval = 0.2
    started = time.monotonic()
    with pytest.raises(FetchError, match="deadline of 2 s"):
        hostile_fetch(bucket, cache, deadline=2.0)
    assert time.monotonic() - started < 4 and CLUSTER not in cached_files(cache) and no_partial_files(cache)


def test_a_manifest_of_the_wrong_shape_is_never_cached_and_the_fixed_mirror_works(bucket: Bucket, cache: Path) -> None:
    path = bucket.root / "releases" / RELEASE / "manifest.json"
    good = path.read_bytes()
    path.write_text(json.dumps({"version": RELEASE, "directory_listing": [], "file_listing": {}}))
    result = fetch_cli(bucket, cache)
    assert result.exit_code == 4 and "is not a release manifest" in result.stderr and "Traceback" not in result.stderr
    assert f"releases/{RELEASE}/manifest.json" not in cached_files(cache)
    path.write_bytes(good)
    assert fetch_cli(bucket, cache).exit_code == 0


def test_a_damaged_cached_manifest_and_record_are_checked_again(bucket: Bucket, cache: Path) -> None:
    assert fetch_cli(bucket, cache).exit_code == 0
    (cache / "releases" / RELEASE / "manifest.json").write_text('{"version": "20231215", "file_listing": 3}')
    (cache / FOLDER / RECORD_NAME).write_text('{"files": [], "absent": 1}')
    result = fetch_cli(bucket, cache)
    assert result.exit_code == 0, result.stderr
    assert "damaged fetch record" in result.stderr and "not a release manifest" in result.stderr
    assert bucket.count(CLUSTER) == 1  # the files matched the re-fetched manifest: not downloaded again
    assert json.loads((cache / "releases" / RELEASE / "manifest.json").read_text())["file_listing"] != 3


def test_an_html_page_served_with_200_for_an_unchecksummed_table_is_rejected_and_not_recorded(
    bucket: Bucket, cache: Path
) -> None:
    shutil.rmtree(bucket.root / "releases")  # no manifest: tables are fetched by path, only their header checked
    bucket.hostile[CLUSTER] = "html"
    result = fetch_cli(bucket, cache)
    assert result.exit_code == 4 and "an HTML page, not the header of cluster.csv" in result.stderr
    assert CLUSTER not in cached_files(cache)
    record = cache / FOLDER / RECORD_NAME
    assert not record.exists() or CLUSTER not in json.loads(record.read_text())["files"]
    del bucket.hostile[CLUSTER]
    assert fetch_cli(bucket, cache).exit_code == 0
    entry = json.loads(record.read_text())["files"][CLUSTER]
    assert entry["checksum"] == "header"  # not verified: provenance must not cite it as the bucket's file
    assert not read_origins(cache, DIRECTORY, RELEASE)[CLUSTER].verified


@pytest.mark.parametrize(
    ("misbehaviour", "message"),
    [
        ("redirect-file", "which is not http(s); refused"),
        ("redirect-loop", "a redirect loop; refused"),
    ],
)
def test_bad_redirects_end_with_a_fetch_error(bucket: Bucket, cache: Path, misbehaviour: str, message: str) -> None:
    bucket.hostile[CLUSTER] = misbehaviour
    result = fetch_cli(bucket, cache)
    assert result.exit_code == 4 and message in result.stderr and "Traceback" not in result.stderr


def test_credentials_never_follow_a_redirect_to_another_origin(bucket: Bucket, cache: Path) -> None:
    bucket.hostile[CLUSTER] = "redirect-other"
    base = bucket.url.replace("http://", "http://reader:s3cr3t@")
    result = run("fetch", "WMB-taxonomy", "--release", RELEASE, "--cache", cache, "--base-url", base, *FAST)
    assert result.exit_code == 4 and "another origin" in result.stderr and "s3cr3t" not in result.stderr
    assert not any("Authorization" in h for h in bucket.headers if "localhost" in h.get("Host", ""))
    anonymous = fetch_cli(bucket, tmp := cache.parent / "anon")  # without credentials, following is fine
    assert anonymous.exit_code == 0, anonymous.stderr and (tmp / CLUSTER).is_file()


def test_a_server_echoing_request_headers_never_puts_credentials_on_stderr(bucket: Bucket, cache: Path) -> None:
    bucket.hostile[CLUSTER] = "echo"
    base = bucket.url.replace("http://", "http://reader:s3cr3t@")
    result = run("fetch", "WMB-taxonomy", "--release", RELEASE, "--cache", cache, "--base-url", base, *FAST)
    token = base64.b64encode(b"reader:s3cr3t").decode()
    assert any(h.get("Authorization") == f"Basic {token}" for h in bucket.headers)  # it was sent, and echoed
    assert result.exit_code == 4 and "HTTP 403" in result.stderr
    assert "s3cr3t" not in result.stderr and token not in result.stderr


@pytest.mark.parametrize(
    "url",
    ["ftp://mirror.example/", "http://", "file:///tmp/bucket/", "mirror.example", "http://a:%0Ds3cr3t@h/",
     "http://a:p%C3%A4%E2%82%ACss@h/", "http://h:notaport/"],
)  # fmt: skip
def test_an_unusable_base_url_is_a_usage_error_without_echoing_secrets(cache: Path, url: str) -> None:
    result = run("fetch", "WMB-taxonomy", "--release", RELEASE, "--cache", cache, "--base-url", url)
    assert result.exit_code == 2, result.stderr
    assert "s3cr3t" not in result.stderr and "Traceback" not in result.stderr
