"""`recon sample`: synthetic roster and filings with their ground truth (truth.csv)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from recon import outdir
from recon.commands.common import exit_codes, out
from recon.errors import InvariantError
from recon.synthetic import TRUTH_FROM, generate_chunks, write_sample


class Encoding(StrEnum):
    cp932 = "cp932"
    utf8 = "utf-8"


class Format(StrEnum):
    csv = "csv"
    parquet = "parquet"
    xlsx = "xlsx"


def sample(
    out_dir: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Folder for roster, filings, truth.csv; never over a file recon sample "
            "did not write.",
        ),
    ],
    members: Annotated[int, typer.Option("--members", min=1, help="Roster rows.")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same files.")] = 1,
    defects: Annotated[
        float,
        typer.Option("--defects", min=0.0, max=1.0, help="Share of households with one defect."),
    ] = 0.02,
    encoding: Annotated[
        Encoding, typer.Option("--encoding", help="CSV encoding (of both files by default).")
    ] = Encoding.cp932,
    filings_encoding: Annotated[
        Encoding | None,
        typer.Option("--filings-encoding", help="The filings CSV's encoding, when not --encoding."),
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="File format.")] = Format.csv,
) -> None:
    """Write a synthetic roster, its My Number filings and truth.csv (the findings they must give).

    Every name, address and My Number is made up (numbers start with 9 and carry a
    valid check digit unless a defect says otherwise). truth.csv holds for
    `recon run --as-of` on or after the date printed.
    """
    with exit_codes():
        # Never over a file it did not write: `--out .` beside the real roster.csv is refused.
        names = [f"roster.{fmt.value}", f"filings.{fmt.value}", "truth.csv"]
        folder = outdir.sample_folder(out_dir, names)
        counts = {"roster": 0, "filings": 0, "truth": 0}

        def counted():
            # Chunks are written as they are made: a 5M sample never sits in memory whole.
            for chunk in generate_chunks(
                members,
                seed,
                defects,
                utf8=encoding is Encoding.utf8,
                filings_utf8=(filings_encoding or encoding) is Encoding.utf8,
            ):
                for name in counts:
                    counts[name] += getattr(chunk, name).height
                yield chunk

        paths = write_sample(
            counted(), folder, encoding.value, fmt.value, (filings_encoding or encoding).value
        )
        if {p.name for p in paths.values()} != set(names):
            wrote = sorted(p.name for p in paths.values())
            raise InvariantError(f"recon sample wrote {wrote}, not the checked {names}")
        out.print(
            f"{counts['roster']} roster rows, {counts['filings']} filings, "
            f"{counts['truth']} expected findings -> {out_dir}"
        )
        out.print(
            f"check with: recon run --roster {paths['roster']} --filings {paths['filings']} "
            f"--as-of {TRUTH_FROM.isoformat()} or later"
        )
