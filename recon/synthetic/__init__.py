"""Synthetic rosters and filings with ground truth: `recon sample`, tests and benchmarks."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO, Literal

import polars as pl

from recon.synthetic.generate import (
    CHUNK_MEMBERS,
    TRUTH_FROM,
    Sample,
    generate_chunks,
    generate_sample,
)

__all__ = [
    "CHUNK_MEMBERS",
    "TRUTH_FROM",
    "Sample",
    "generate",
    "generate_chunks",
    "generate_sample",
    "write_sample",
]

Encoding = Literal["cp932", "utf-8"]
Format = Literal["csv", "parquet", "xlsx"]


def generate(members: int, seed: int = 1) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(roster, filings) without defects: benign variation only, for tests that need volume."""
    sample = generate_sample(members, seed, defects=0.0, utf8=True)
    return sample.roster, sample.filings


_SLICE_ROWS = 250_000  # rows encoded at once: the text of a whole 5M file would not fit
_BOM = b"\xef\xbb\xbf"


def write_sample(
    sample: Sample | Iterable[Sample],
    out: Path,
    encoding: Encoding = "cp932",
    fmt: Format = "csv",
    filings_encoding: Encoding | None = None,
) -> dict[str, Path]:
    """roster, filings and truth.csv into `out`; CSVs CRLF like a Windows export.

    `encoding` is the roster's, and the filings' unless `filings_encoding` says
    otherwise (a society's CP932 roster beside an employer's UTF-8 filings). The
    filings CSV carries a BOM in UTF-8, as Excel writes it. Parquet and xlsx
    hold the same text (their encoding is their own).

    `sample` is one sample or the chunks of one (`generate_chunks`): CSV chunks
    are appended as they come, so a sample of any size is written holding one
    chunk at a time; parquet and xlsx are written whole.
    """
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "roster": out / f"roster.{fmt}",
        "filings": out / f"filings.{fmt}",
        "truth": out / "truth.csv",
    }
    chunks = [sample] if isinstance(sample, Sample) else sample
    if fmt != "csv":
        whole = _whole(list(chunks))
        for name in ("roster", "filings"):
            frame: pl.DataFrame = getattr(whole, name)
            if fmt == "parquet":
                frame.write_parquet(paths[name])
            else:
                frame.write_excel(paths[name], worksheet=name)
        whole.truth.write_csv(paths["truth"])
        return paths
    truths = []
    filings_encoding = filings_encoding or encoding
    with paths["roster"].open("wb") as roster, paths["filings"].open("wb") as filings:
        if filings_encoding == "utf-8":
            filings.write(_BOM)
        for i, chunk in enumerate(chunks):
            _append_csv(roster, chunk.roster, encoding, header=i == 0)
            _append_csv(filings, chunk.filings, filings_encoding, header=i == 0)
            truths.append(chunk.truth)
    _whole_truth(truths).write_csv(paths["truth"])
    return paths


def _append_csv(file: BinaryIO, frame: pl.DataFrame, encoding: str, header: bool) -> None:
    for start in range(0, max(frame.height, 1), _SLICE_ROWS):
        part = frame.slice(start, _SLICE_ROWS)
        text = part.write_csv(include_header=header and start == 0, line_terminator="\r\n")
        file.write(text.encode(encoding))


def _whole_truth(truths: list[pl.DataFrame]) -> pl.DataFrame:
    return truths[0] if len(truths) == 1 else pl.concat(truths).sort("source", "row", "check")


def _whole(chunks: list[Sample]) -> Sample:
    if len(chunks) == 1:
        return chunks[0]
    return Sample(
        pl.concat([c.roster for c in chunks]),
        pl.concat([c.filings for c in chunks]),
        _whole_truth([c.truth for c in chunks]),
    )
