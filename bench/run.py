"""Benchmark: abc-kg against the plain-rdflib baseline, on synthetic ABC tables at real atlas sizes.

    python bench/run.py                     # scale 1: all seven taxonomies, ours and the baseline
    python bench/run.py --scale 1 --scale 10 --skip-baseline-above 1

Each measurement runs in its own process, so peak RSS is that run's own (`ru_maxrss` of the process and the
workers it waited for). Figures are reported as ratios to the baseline measured in the same run, which holds
on a noisy machine better than absolute seconds do.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

FORMATS = ("ttl", "jsonld", "nt", "nq")


def run_measured(args: list[str]) -> tuple[float, float, str]:
    """Run a command; return wall seconds, peak RSS in MB and its stdout."""
    start = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    stdout = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(args)}")
    return wall, usage.ru_maxrss / 1024, stdout


def stages_ours(root: Path) -> dict[str, float]:
    """Per-stage seconds of abc-kg's own path, summed over all taxonomies (one process, no parallelism)."""
    import pyoxigraph as ox

    from abc_atlas_kg import convert, pipeline, validate, write

    times: dict[str, float] = {}

    def timed(stage: str, fn, *args):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        value = fn(*args)
        times[stage] = times.get(stage, 0.0) + time.perf_counter() - start
        return value

    triples_total = 0
    for taxonomy_id in pipeline.present_taxonomies(root):
        taxonomy = timed("read + model", pipeline.load_taxonomy, taxonomy_id, root)
        triples = timed("convert", lambda t: write.canonical(list(convert.triples(t))), taxonomy)
        triples_total += len(triples)
        report = timed("validate (SHACL)", validate.validate, triples)
        assert report.conforms, report.text()
        for name in FORMATS:
            timed(
                f"write {name}", write.WRITERS[name].write, triples, ox.NamedNode("https://example.org/g"), io.BytesIO()
            )
    times["triples"] = triples_total
    return times


def stages_baseline(root: Path) -> dict[str, float]:
    import baseline

    from abc_atlas_kg import pipeline

    times: dict[str, float] = {}
    out = Path(tempfile.mkdtemp(prefix="abc-kg-baseline-stages-"))
    for taxonomy_id in pipeline.present_taxonomies(root):
        start = time.perf_counter()
        graph, name, stem = baseline.build_graph(taxonomy_id, root)
        times["read + model + convert into rdflib"] = (
            times.get("read + model + convert into rdflib", 0.0) + time.perf_counter() - start
        )
        start = time.perf_counter()
        assert baseline.check(graph)
        times["validate (SHACL)"] = times.get("validate (SHACL)", 0.0) + time.perf_counter() - start
        for fmt in FORMATS:
            start = time.perf_counter()
            baseline.serialize(graph, name, out / stem, fmt)
            times[f"write {fmt}"] = times.get(f"write {fmt}", 0.0) + time.perf_counter() - start
    return times


def measure(scale: int, with_baseline: bool, workdir: Path) -> dict[str, object]:
    from generate import generate

    data = workdir / f"data-x{scale}"
    if not data.exists():
        generate(data, scale)
    python = sys.executable
    result: dict[str, object] = {"scale": scale}
    wall, rss, _ = run_measured(
        [
            python,
            "-m",
            "abc_atlas_kg",
            "export",
            "--all",
            "--source",
            str(data),
            "--out",
            str(workdir / f"ours-x{scale}"),
        ]
    )
    result["ours"] = {"wall": wall, "rss_mb": rss}
    _, _, out = run_measured([python, __file__, "--worker", "stages-ours", str(data)])
    result["ours_stages"] = json.loads(out)
    if with_baseline:  # one run gives both the whole (wall, RSS) and its stages: the baseline is slow
        wall, rss, out = run_measured([python, __file__, "--worker", "stages-baseline", str(data)])
        result["baseline"] = {"wall": wall, "rss_mb": rss}
        result["baseline_stages"] = json.loads(out)
    return result


def report(results: list[dict]) -> str:  # type: ignore[type-arg]
    lines = []
    for r in results:
        triples = int(r["ours_stages"]["triples"])
        ours = r["ours"]
        lines.append(f"\n## scale x{r['scale']}: all seven taxonomies, {triples:,} triples, four formats, SHACL on\n")
        lines.append("| stage | abc-kg (s) | baseline (s) | baseline / abc-kg |")
        lines.append("|---|---:|---:|---:|")
        base = r.get("baseline_stages", {})
        stage_names = [k for k in r["ours_stages"] if k != "triples"]
        pairs = [("read + model", "read + model + convert into rdflib")]
        for name in stage_names:
            ours_s = r["ours_stages"][name]
            base_key = dict(pairs).get(name, name)
            base_s = base.get(base_key)
            ratio = f"{base_s / ours_s:.1f}x" if base_s and ours_s else "-"
            shown = f"{base_s:.2f}" if base_s is not None else "-"
            if name == "read + model" and base_s is not None:
                shown += " (incl. convert)"
            lines.append(f"| {name} | {ours_s:.2f} | {shown} | {ratio} |")
        lines.append("")
        lines.append("| whole run (own process) | wall (s) | triples/s | peak RSS (MB) | baseline wall / abc-kg wall |")
        lines.append("|---|---:|---:|---:|---:|")
        ratio = f"{r['baseline']['wall'] / ours['wall']:.1f}x" if "baseline" in r else "-"
        lines.append(
            f"| `abc-kg export --all` | {ours['wall']:.1f} | {triples / ours['wall']:,.0f} | {ours['rss_mb']:.0f} | {ratio} |"
        )
        if "baseline" in r:
            b = r["baseline"]
            lines.append(
                f"| baseline (rdflib + pyshacl, sequential) | {b['wall']:.1f} | {triples / b['wall']:,.0f} | {b['rss_mb']:.0f} | 1.0x |"
            )
    if len(results) > 1:
        first, last = results[0], results[-1]
        growth = last["ours"]["wall"] / first["ours"]["wall"]
        size = last["ours_stages"]["triples"] / first["ours_stages"]["triples"]
        lines.append(
            f"\nGrowth x{first['scale']} → x{last['scale']}: {size:.1f}x the triples took {growth:.1f}x the time "
            f"(peak RSS {first['ours']['rss_mb']:.0f} → {last['ours']['rss_mb']:.0f} MB)."
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, action="append", help="size multiplier; repeat for a growth curve")
    parser.add_argument("--skip-baseline-above", type=int, default=1, help="run the baseline only up to this scale")
    parser.add_argument("--workdir", type=Path, help="keep generated data and outputs here")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, *rest = args.worker
        if kind == "stages-ours":
            print(json.dumps(stages_ours(Path(rest[0]))))
        elif kind == "stages-baseline":
            print(json.dumps(stages_baseline(Path(rest[0]))))
        return
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="abc-kg-bench-"))
    results = []
    for scale in args.scale or [1]:
        print(f"measuring scale x{scale} in {workdir} ...", file=sys.stderr, flush=True)
        results.append(measure(scale, scale <= args.skip_baseline_above, workdir))
    print(f"# abc-kg benchmark ({os.cpu_count()} cores)")
    print(report(results))


if __name__ == "__main__":
    main()
