"""Benchmark `recon run` and `recon check` end to end against the floor, per size.

    python -m bench.run                   # 100k, 1m and 5m members, both pairs
    python -m bench.run --sizes 100k 1m   # a subset
    python -m bench.run --memory-limit 5m=3GB   # cap DuckDB at 5M (default: share of RAM)
    python -m bench.run --pairs mixed     # only the CP932 roster beside UTF-8 filings
    python -m bench.run --repeat 5        # five rounds per size and pair (default 3)

Data is generated once per size and pair (`recon sample`, seed 1, 2% defects)
in bench/out/<size>/ (both files CP932) or bench/out/<size>-mixed/ (a CP932
roster beside UTF-8 filings with a BOM) and reused. Each measured command runs in its own process;
its peak RSS comes from wait4(), its stages from summary.json "seconds". Floor,
run and check are measured in rounds, interleaved; each time and ratio given
is the median of the rounds (each run's ratio to the floor just before it),
each peak the largest, and every round is kept. The figures go to
bench/results/<date>-<commit>.json so that commits can be compared.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from recon import stages
from recon.synthetic.accuracy import benign_flagged, failures, score

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"100k": 100_000, "1m": 1_000_000, "5m": 5_000_000}
# The encodings of (roster, filings): a society's CP932 export beside an
# employer's CP932 file, or beside a UTF-8 one.
PAIRS = {"cp932": ("cp932", "cp932"), "mixed": ("cp932", "utf-8")}
AS_OF = "2025-06-30"


def measured(args: list[str]) -> dict:
    """Wall seconds and peak RSS (MB) of one command run in a fresh process."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    out, err = proc.stdout.read(), proc.stderr.read()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{' '.join(args[2:4])} failed ({code}): {err.decode()[-2000:]}")
    return {"wall_s": round(wall, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024), "stdout": out}


def generator_fingerprint() -> str:
    """A hash of the generator's source: data made by another generator is made again."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "recon" / "synthetic").glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def data(size: str, pair: str = "cp932") -> Path:
    folder = ROOT / "bench" / "out" / (size if pair == "cp932" else f"{size}-{pair}")
    stamp = folder / "generator.txt"
    fingerprint = generator_fingerprint()
    if not stamp.exists() or stamp.read_text().strip() != fingerprint:
        shutil.rmtree(folder, ignore_errors=True)
        roster_enc, filings_enc = PAIRS[pair]
        python = [sys.executable, "-m", "recon"]
        gen = measured(
            [*python, "sample", "--members", str(SIZES[size]), "--out", str(folder),
             "--encoding", roster_enc, "--filings-encoding", filings_enc]
        )  # fmt: skip
        print(f"{size}: generated in {gen['wall_s']} s, peak {gen['peak_rss_mb']} MB", flush=True)
        stamp.write_text(fingerprint + "\n")
    return folder


def bench(size: str, memory_limit: str | None = None, pair: str = "cp932", repeat: int = 3) -> dict:
    """The size's figures, each the median of `repeat` rounds of floor, run and check.

    The three are interleaved (floor, run, check, floor, run, …) so that a
    busier or quieter stretch of a shared machine falls on all of them, and
    each run's ratio is to the floor measured just before it; the ratio given
    is the median of those. Peak RSS is the largest of the rounds, accuracy is
    scored on every run. Every round's figures are kept under `rounds`.
    """
    folder = data(size, pair)
    measured_rounds = [_round(folder, memory_limit) for _ in range(repeat)]
    rounds = [figures for figures, _ in measured_rounds]
    # The run with the median time gives the stages and the floor's parts.
    middle, summary = sorted(measured_rounds, key=lambda m: m[0]["run"]["wall_s"])[repeat // 2]

    def figure(command: str) -> dict:
        return {
            "wall_s": _median([r[command]["wall_s"] for r in rounds]),
            "peak_rss_mb": max(r[command]["peak_rss_mb"] for r in rounds),
            "ratio_to_floor": _median([r[command]["ratio_to_floor"] for r in rounds]),
        }

    roster, filings = folder / "roster.csv", folder / "filings.csv"
    return {
        "members": SIZES[size],
        "pair": pair,
        "memory_limit": memory_limit,
        "filings": summary["inputs"]["filings"]["rows"]
        if isinstance(summary["inputs"].get("filings"), dict)
        else None,
        "input_mb": round((roster.stat().st_size + filings.stat().st_size) / 2**20),
        "repeat": repeat,
        "floor_s": _median([r["floor_s"] for r in rounds]),
        "floor_detail": middle["floor_detail"],
        "run": figure("run"),
        "stages_s": summary.get("seconds", {}),  # of the run with the median time
        "check": figure("check"),
        "accuracy_failures": sorted({f for r in rounds for f in r["accuracy_failures"]}),
        "benign_flagged": max(r["benign_flagged"] for r in rounds),
        "rounds": rounds,
    }


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 2)


def _round(folder: Path, memory_limit: str | None) -> tuple[dict, dict]:
    """One floor, then one run and one check of the same pair, each in its own
    process: (their figures, the run's summary.json)."""
    roster, filings = folder / "roster.csv", folder / "filings.csv"
    floor_run = measured(
        [sys.executable, str(ROOT / "bench" / "floor.py"), str(roster), str(filings)]
    )
    floor = json.loads(floor_run["stdout"])
    python = [sys.executable, "-m", "recon"]
    inputs = ["--roster", str(roster), "--filings", str(filings)]
    if memory_limit:
        inputs += ["--memory-limit", memory_limit]
    out = Path(tempfile.mkdtemp(prefix=f"bench-{folder.name}-"))
    try:
        run = measured([*python, "run", *inputs, "--as-of", AS_OF, "--out", str(out / "r")])
        summary = json.loads((out / "r" / "summary.json").read_text(encoding="utf-8"))
        findings = pl.read_csv(out / "r" / "findings.csv", infer_schema=False)
        findings = findings.with_columns(pl.col("row").cast(pl.Int64))
        truth = pl.read_csv(folder / "truth.csv", infer_schema=False)
        truth = truth.with_columns(pl.col("row").cast(pl.Int64))
        table = score(findings, truth)
        benign = benign_flagged(findings, truth, pl.col("severity").is_in(["error", "warning"]))
    finally:
        shutil.rmtree(out, ignore_errors=True)
    check = measured([*python, "check", *inputs])
    for r in (run, check, floor_run):
        r.pop("stdout")
    total = floor["total"]
    return {
        "floor_s": round(total, 2),
        "floor_detail": {k: round(v, 2) for k, v in floor.items()},
        "run": run | {"ratio_to_floor": round(run["wall_s"] / total, 2)},
        "check": check | {"ratio_to_floor": round(check["wall_s"] / total, 2)},
        "accuracy_failures": failures(table),
        "benign_flagged": benign,
    }, summary


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"a whole number of rounds, 1 or more: {value!r}")
    return int(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", choices=list(SIZES), default=list(SIZES))
    parser.add_argument(
        "--pairs",
        "--pair",
        nargs="+",
        choices=list(PAIRS),
        default=list(PAIRS),
        help="encodings of roster and filings: cp932 (both CP932), mixed (UTF-8 filings)",
    )
    parser.add_argument(
        "--memory-limit",
        metavar="5m=3GB",
        nargs="*",
        default=[],
        help="DuckDB's --memory-limit for a size, e.g. 5m=3GB (it spills past it).",
    )
    parser.add_argument(
        "--repeat",
        type=_positive,
        default=3,
        help="rounds of floor, run and check per size and pair; each figure is their median",
    )
    args = parser.parse_args()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    results = {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "commit": commit,
        "machine": {
            "cpus": os.cpu_count(),
            "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
            "python": platform.python_version(),
            "polars": pl.__version__,
            # What DuckDB gets when a size has no --memory-limit here.
            "default_memory_limit": stages.default_memory_limit(),
        },
        "pairs": {},
    }
    limits = dict(item.split("=", 1) for item in args.memory_limit)
    for pair, size in ((pair, size) for size in args.sizes for pair in args.pairs):
        results["pairs"].setdefault(pair, {})[size] = r = bench(
            size, limits.get(size), pair, args.repeat
        )
        print(
            f"{size} {pair}: floor {r['floor_s']} s | run {r['run']['wall_s']} s "
            f"({r['run']['ratio_to_floor']}x), {r['run']['peak_rss_mb']} MB | "
            f"check {r['check']['wall_s']} s ({r['check']['ratio_to_floor']}x), "
            f"{r['check']['peak_rss_mb']} MB | accuracy misses {len(r['accuracy_failures'])}, "
            f"benign flagged {r['benign_flagged']}",
            flush=True,
        )
        rounds = ", ".join(
            f"{x['run']['wall_s']}/{x['floor_s']} s = {x['run']['ratio_to_floor']}x"
            for x in r["rounds"]
        )
        print(f"   run/floor, round by round: {rounds}", flush=True)
        print("   stages:", json.dumps(r["stages_s"]), flush=True)
    for pair, sizes in results["pairs"].items():
        if "1m" in sizes and "5m" in sizes:
            # Time ~ n^k between 1M and 5M: k <= 1 is linear or better.
            k = math.log(sizes["5m"]["run"]["wall_s"] / sizes["1m"]["run"]["wall_s"]) / math.log(5)
            results.setdefault("exponent_1m_5m", {})[pair] = round(k, 3)
            print(f"{pair}: time exponent 1M -> 5M: {k:.3f}")
    folder = ROOT / "bench" / "results"
    folder.mkdir(exist_ok=True)
    path = folder / f"{dt.date.today().isoformat()}-{commit or 'nogit'}.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"-> {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
