"""Precision and recall per check code: a run's findings.csv against the sample's truth.csv.

Score a run you made:

    python -m recon sample --members 100000 --out /tmp/s
    python -m recon run --roster /tmp/s/roster.csv --filings /tmp/s/filings.csv \\
        --as-of 2025-06-30 --out /tmp/s/out
    python -m bench.accuracy /tmp/s/truth.csv /tmp/s/out/findings.csv

or let it make the sample and the run (in fresh processes, as an operator would):

    python -m bench.accuracy --members 1000000 [--seed 1] [--filings-encoding utf-8]

Prints one row per SPEC §5 check (expected, found, tp, fp, fn, precision,
recall) and the benign variations flagged as match.* warnings or errors, per
check. Exit 1 when a check misses its target (1.0 deterministic, 0.99 text
comparisons) or a benign variation was flagged.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from recon.synthetic.accuracy import benign_by_check, failures, score

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2025-06-30"


def _read(path: Path) -> pl.DataFrame:
    frame = pl.read_csv(path, infer_schema=False)
    return frame.with_columns(pl.col("row").cast(pl.Int64))


def _recon(*args: str) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "recon", *args], cwd=ROOT, capture_output=True)
    if done.returncode not in (0, 1):  # 1: the run found blocking findings, as it must
        raise SystemExit(
            f"recon {args[0]} failed ({done.returncode}): {done.stderr.decode()[-2000:]}"
        )
    return time.perf_counter() - started


def generated_run(members: int, seed: int, filings_encoding: str, folder: Path) -> Path:
    """`recon sample` then `recon run` into `folder`; the findings.csv path."""
    sample = folder / "sample"
    gen = _recon(
        "sample", "--members", str(members), "--seed", str(seed), "--out", str(sample),
        "--encoding", "cp932", "--filings-encoding", filings_encoding,
    )  # fmt: skip
    print(f"generated {members} members in {gen:.1f} s", flush=True)
    run = _recon(
        "run", "--roster", str(sample / "roster.csv"), "--filings", str(sample / "filings.csv"),
        "--as-of", AS_OF, "--out", str(folder / "out"),
    )  # fmt: skip
    print(f"recon run in {run:.1f} s", flush=True)
    return sample / "truth.csv"


def report(truth: pl.DataFrame, findings: pl.DataFrame) -> dict:
    table = score(findings, truth)
    benign = benign_by_check(findings, truth, pl.col("severity").is_in(["error", "warning"]))
    with pl.Config(
        tbl_rows=-1,
        tbl_cols=-1,
        tbl_width_chars=200,
        fmt_str_lengths=40,
        tbl_hide_dataframe_shape=True,
        tbl_formatting="MARKDOWN",
    ):
        print(table.with_columns(pl.col("precision", "recall").round(4)))
        total = int(benign["flagged"].sum())
        print(f"\nbenign variations flagged as match.* warning or error: {total}")
        if total:
            print(benign)
    missed = failures(table)
    for line in missed:
        print(f"below target: {line}")
    return {"checks": table.to_dicts(), "benign_flagged": benign.to_dicts(), "missed": missed}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("truth", type=Path, nargs="?")
    parser.add_argument("findings", type=Path, nargs="?")
    parser.add_argument("--members", type=int, help="generate a sample of this size and run it")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--filings-encoding", choices=["cp932", "utf-8"], default="cp932")
    parser.add_argument("--keep", type=Path, help="folder for the sample and the run (kept)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    if args.members:
        folder = args.keep or Path(tempfile.mkdtemp(prefix="recon-accuracy-"))
        truth_path = generated_run(args.members, args.seed, args.filings_encoding, folder)
        findings_path = folder / "out" / "findings.csv"
    elif args.truth and args.findings:
        truth_path, findings_path = args.truth, args.findings
    else:
        parser.error("give truth.csv and findings.csv, or --members N")
    result = report(_read(truth_path), _read(findings_path))
    if args.json:
        result["members"] = args.members
        result["filings_encoding"] = args.filings_encoding
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    if args.members and not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    return 1 if result["missed"] or result["benign_flagged"] else 0


if __name__ == "__main__":
    sys.exit(main())
