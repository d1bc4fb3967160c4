"""`recon sample`: synthetic roster and filings with their ground truth (truth.csv)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

from recon import outdir
from recon.commands.common import LangOpt, exit_codes, option, out
from recon.errors import InvariantError
from recon.runs import require_working_folder
from recon.synthetic import TRUTH_FROM, generate_chunks, write_sample
from recon.texts import text


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
        option("--out", key="option.sample_out"),
    ],
    members: Annotated[int, option("--members", min=1, key="option.members")] = 10_000,
    seed: Annotated[int, option("--seed", key="option.seed")] = 1,
    defects: Annotated[
        float,
        option("--defects", min=0.0, max=1.0, key="option.defects"),
    ] = 0.02,
    encoding: Annotated[Encoding, option("--encoding", key="option.encoding")] = Encoding.cp932,
    filings_encoding: Annotated[
        Encoding | None,
        option("--filings-encoding", key="option.filings_encoding"),
    ] = None,
    fmt: Annotated[Format, option("--format", key="option.format")] = Format.csv,
    lang: LangOpt = None,  # noqa: ARG001 - chosen as it is parsed (`check_lang`)
) -> None:
    with exit_codes():
        require_working_folder()
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
        out.print(text("messages.sample.wrote", out=out_dir, **counts), markup=False)
        said = text(
            "messages.sample.check_with",
            roster=paths["roster"],
            filings=paths["filings"],
            as_of=TRUTH_FROM.isoformat(),
        )
        out.print(said, markup=False)
