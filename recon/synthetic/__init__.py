"""Synthetic rosters and filings with ground truth: `recon sample`, tests and benchmarks."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import polars as pl

from recon.synthetic.generate import TRUTH_FROM, Sample, generate_sample

__all__ = ["TRUTH_FROM", "Sample", "generate", "generate_sample", "write_sample"]

Encoding = Literal["cp932", "utf-8"]
Format = Literal["csv", "parquet", "xlsx"]


def generate(members: int, seed: int = 1) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(roster, filings) without defects: benign variation only, for tests that need volume."""
    sample = generate_sample(members, seed, defects=0.0, utf8=True)
    return sample.roster, sample.filings


def write_sample(
    sample: Sample, out: Path, encoding: Encoding = "cp932", fmt: Format = "csv"
) -> dict[str, Path]:
    """roster, filings and truth.csv into `out`; CSVs CRLF like a Windows export.

    The filings CSV carries a BOM in UTF-8, as Excel writes it. Parquet and xlsx
    hold the same text (their encoding is their own).
    """
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "roster": out / f"roster.{fmt}",
        "filings": out / f"filings.{fmt}",
        "truth": out / "truth.csv",
    }
    for name in ("roster", "filings"):
        frame: pl.DataFrame = getattr(sample, name)
        path = paths[name]
        if fmt == "parquet":
            frame.write_parquet(path)
        elif fmt == "xlsx":
            frame.write_excel(path, worksheet=name)
        else:
            text = frame.write_csv(line_terminator="\r\n")
            bom = b"\xef\xbb\xbf" if encoding == "utf-8" and name == "filings" else b""
            path.write_bytes(bom + text.encode(encoding))
    sample.truth.write_csv(paths["truth"])
    return paths
