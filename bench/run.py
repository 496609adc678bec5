"""Benchmark abc-kg against the plain rdflib + pyshacl baseline and the pyoxigraph floor, in one run.

    python bench/run.py                           # scales 1 and 10 (baseline at scale 1 only)
    python bench/run.py --scale 1                 # one scale, quicker
    python bench/run.py --scale 1 --scale 10 --skip-baseline-above 10   # the baseline at 10x too (slow)

On synthetic ABC tables in the published layout (bench/generate.py, all seven taxonomies; `--scale` multiplies
every level below the top one) it measures, each command in its own process:

- `abc-kg export WMB-taxonomy` (full-scale WMB, four formats, SHACL on) against
  * the baseline (bench/baseline.py: rdflib graph, pyshacl on the whole graph, rdflib serializers): goal >= 10x;
  * the physical floor (pyoxigraph parsing the same triples, N-Triples, and writing the four formats): goal <= 3x;
- growth from the first to the last scale: goal time <= 12x for 10x the data, peak memory < 1.5 GB;
- `abc-kg export --all` (seven taxonomies, parallel workers) against the baseline exporting them one by one;
- start-up of `abc-kg --help` and `abc-kg taxonomies`: goal < 0.3 s.

Memory is the peak of the summed RSS of the whole process tree (the command and every worker it starts), sampled
with psutil every 20 ms; not the largest single process. Ratios come from one run, which holds on a noisy machine
better than absolute seconds do.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
PYTHON = sys.executable
FORMATS = ("ttl", "jsonld", "nt", "nq")


def measured(args: list[str]) -> tuple[float, float, str]:
    """Run a command; return wall seconds, the peak summed RSS of its process tree in MB, and its stdout."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        process = psutil.Popen(args, stdout=out, stderr=subprocess.DEVNULL)
        peak = 0
        while process.poll() is None:
            total = 0
            with contextlib.suppress(psutil.Error):
                for p in [process, *process.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        total += p.memory_info().rss
            peak = max(peak, total)
            time.sleep(0.02)
        wall = time.perf_counter() - start
        if process.returncode != 0:
            raise SystemExit(f"failed ({process.returncode}): {' '.join(args)}")
        out.seek(0)
        return wall, peak / 2**20, out.read().decode()


def abc_kg(*args: str | Path) -> list[str]:
    return [PYTHON, "-m", "abc_atlas_kg", *map(str, args)]


def worker(*args: str | Path) -> list[str]:
    return [PYTHON, __file__, "--worker", *map(str, args)]


def floor(data: Path, out: Path) -> float:
    """pyoxigraph alone: parse the export's N-Triples, write the four formats (in-process seconds)."""
    import pyoxigraph as ox

    [nt] = [p for p in data.glob("**/*.nt") if ".mappings." not in p.name]
    start = time.perf_counter()
    triples = list(ox.parse(path=str(nt), format=ox.RdfFormat.N_TRIPLES))
    graph = ox.NamedNode("https://w3id.org/abc-atlas-kg/graph/floor")
    for name, fmt in (("ttl", ox.RdfFormat.TURTLE), ("nt", ox.RdfFormat.N_TRIPLES), ("jsonld", ox.RdfFormat.JSON_LD)):
        ox.serialize(triples, str(out / f"floor.{name}"), fmt)
    ox.serialize(
        (ox.Quad(t.subject, t.predicate, t.object, graph) for t in triples), str(out / "floor.nq"), ox.RdfFormat.N_QUADS
    )
    return time.perf_counter() - start


def baseline_export(root: Path, out: Path, taxonomy_ids: list[str]) -> None:
    import baseline

    for taxonomy_id in taxonomy_ids:
        baseline.export(taxonomy_id, root, out)


def startup(args: list[str], runs: int = 7) -> float:
    """Median wall seconds of a short command."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(scale: int, with_baseline: bool, workdir: Path) -> dict[str, object]:
    from generate import generate

    data = workdir / f"data-x{scale}"
    if not data.exists():
        print(f"generating x{scale} tables in {data} ...", file=sys.stderr, flush=True)
        generate(data, scale)
    r: dict[str, object] = {"scale": scale}

    def fresh(name: str) -> Path:
        path = workdir / f"{name}-x{scale}"
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    print(f"x{scale}: abc-kg export WMB-taxonomy ...", file=sys.stderr, flush=True)
    ours = fresh("ours-wmb")
    r["wmb"] = measured(abc_kg("export", "WMB-taxonomy", "--source", data, "--out", ours, "--jobs", "1"))[:2]
    with open(next(p for p in ours.glob("**/*.nt") if ".mappings." not in p.name), "rb") as nt:
        r["triples"] = sum(1 for _ in nt)
    _, _, seconds = measured(worker("floor", ours, fresh("floor")))
    r["floor"] = float(seconds)
    print(f"x{scale}: abc-kg export --all ...", file=sys.stderr, flush=True)
    r["all"] = measured(abc_kg("export", "--all", "--source", data, "--out", fresh("ours-all")))[:2]
    if with_baseline:
        print(f"x{scale}: baseline (rdflib + pyshacl) ...", file=sys.stderr, flush=True)
        r["baseline_wmb"] = measured(worker("baseline", data, fresh("base-wmb"), "WMB-taxonomy"))[:2]
        r["baseline_all"] = measured(worker("baseline", data, fresh("base-all"), "ALL"))[:2]
    return r


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def report(results: list[dict], startups: dict[str, float]) -> str:  # type: ignore[type-arg]
    lines = [f"# abc-kg benchmark ({os.cpu_count()} cores, {time.strftime('%Y-%m-%d')})", ""]
    lines.append(
        "| scale | triples (WMB) | `export WMB` s | peak MB (tree) | baseline s | baseline / abc-kg | floor s | abc-kg / floor |"
    )
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        wall, rss = r["wmb"]
        base = r.get("baseline_wmb")
        lines.append(
            f"| x{r['scale']} | {r['triples']:,} | {wall:.2f} | {rss:.0f} | "
            + (f"{base[0]:.2f} | **{base[0] / wall:.1f}x** (goal >= 10x) | " if base else "- | - | ")
            + f"{r['floor']:.2f} | **{wall / r['floor']:.1f}x** (goal <= 3x) |"
        )
    lines += ["", "| scale | `export --all` s | peak MB (tree) | baseline s | peak MB | baseline / abc-kg |"]
    lines.append("|---|---:|---:|---:|---:|---:|")
    for r in results:
        wall, rss = r["all"]
        base = r.get("baseline_all")
        lines.append(
            f"| x{r['scale']} | {wall:.2f} | {rss:.0f} | "
            + (f"{base[0]:.2f} | {base[1]:.0f} | **{base[0] / wall:.1f}x** (goal >= 10x) |" if base else "- | - | - |")
        )
    if len(results) > 1:
        first, last = results[0], results[-1]
        growth = last["wmb"][0] / first["wmb"][0]
        size = last["triples"] / first["triples"]
        peak = last["wmb"][1]
        lines += [
            "",
            f"Growth x{first['scale']} -> x{last['scale']}: {size:.1f}x the triples took {growth:.1f}x the time "
            f"({verdict(growth <= 12)}: <= 12x). Peak memory of the whole process tree at x{last['scale']}: one "
            f"export {peak:.0f} MB ({verdict(peak < 1536)}: < 1.5 GB); `export --all` {last['all'][1]:.0f} MB.",
        ]
    lines += ["", "| start-up (median of 7) | s |", "|---|---:|"]
    for name, seconds in startups.items():
        lines.append(f"| `{name}` | {seconds:.3f} ({verdict(seconds < 0.3)}: < 0.3 s) |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, action="append", help="size multiplier; repeat (default: 1 and 10)")
    parser.add_argument("--skip-baseline-above", type=int, default=1, help="run the baseline only up to this scale")
    parser.add_argument("--workdir", type=Path, help="keep generated tables and outputs here (default: a temp dir)")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, *rest = args.worker
        if kind == "floor":
            print(json.dumps(floor(Path(rest[0]), Path(rest[1]))))
        elif kind == "baseline":
            from abc_atlas_kg.build import present_taxonomies

            root, out = Path(rest[0]), Path(rest[1])
            ids = present_taxonomies(root) if rest[2] == "ALL" else [rest[2]]
            baseline_export(root, out, ids)
        return
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="abc-kg-bench-"))
    results = [measure(s, s <= args.skip_baseline_above, workdir) for s in args.scale or [1, 10]]
    startups = {"abc-kg --help": startup(abc_kg("--help")), "abc-kg taxonomies": startup(abc_kg("taxonomies"))}
    print(report(results, startups))


if __name__ == "__main__":
    main()
