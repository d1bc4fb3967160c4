"""Precision and recall per check code: a run's findings.csv against the sample's truth.csv.

    python -m recon sample --members 100000 --out /tmp/s
    python -m recon run --roster /tmp/s/roster.csv --filings /tmp/s/filings.csv \
        --as-of 2025-06-30 --out /tmp/s/out
    python -m bench.accuracy /tmp/s/truth.csv /tmp/s/out/findings.csv

Exit 1 when a check misses its target (1.0 deterministic, 0.99 text comparisons)
or a benign variation was flagged as a match.* warning or error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl

from recon.synthetic.accuracy import benign_flagged, failures, score


def _read(path: Path) -> pl.DataFrame:
    frame = pl.read_csv(path, infer_schema=False)
    return frame.with_columns(pl.col("row").cast(pl.Int64))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("truth", type=Path)
    parser.add_argument("findings", type=Path)
    args = parser.parse_args()
    truth, findings = _read(args.truth), _read(args.findings)
    table = score(findings, truth)
    with pl.Config(tbl_rows=-1, tbl_hide_dataframe_shape=True, tbl_formatting="MARKDOWN"):
        print(table.with_columns(pl.col("precision", "recall").round(4)))
    benign = benign_flagged(findings, truth, pl.col("severity").is_in(["error", "warning"]))
    print(f"benign variations flagged as match.* warning or error: {benign}")
    missed = failures(table)
    for line in missed:
        print(f"below target: {line}")
    return 1 if missed or benign else 0


if __name__ == "__main__":
    sys.exit(main())
