"""Great Expectations' step alone, at a size: what it takes when nothing runs beside it.

    python -m bench.gx                      # 1m, mixed pair, 5 timings
    python -m bench.gx --size 100k --pair cp932 -n 3

In a run, GX validates beside the report's writing (`pipeline.Later`), so the
run's `seconds.gx` includes the cores it shares; this times the step itself.
The pair is analysed once (its data made as `bench.run` makes it); then each
timing builds GX's context ahead, as the run does while it reads the files
(`gx_checks.preload`), and times `gx_checks.validate` on the run's tables.
Prints JSON: the seconds of each timing, and their median.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import time

from bench.run import AS_OF, PAIRS, SIZES, data
from recon import gx_checks, pipeline
from recon.policy import load_policy


def timings(size: str, pair: str, n: int) -> list[float]:
    folder = data(size, pair)
    result = pipeline.analyse(
        folder / "roster.csv",
        folder / "filings.csv",
        load_policy(None),
        dt.date.fromisoformat(AS_OF),
    )
    result.findings  # noqa: B018 - the run's own GX step ends before these begin
    assert result.members is not None and result.filing_match is not None
    seconds = []
    for _ in range(n):
        gx_checks.preload()
        started = time.perf_counter()
        gx_checks.validate(
            result.members,
            result.filing_match,
            result.found,
            result.roster.rows,
            result.filings.rows,
            result.policy,
        )
        seconds.append(round(time.perf_counter() - started, 3))
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=SIZES, default="1m")
    parser.add_argument("--pair", choices=PAIRS, default="mixed")
    parser.add_argument("-n", type=int, default=5)
    args = parser.parse_args()
    seconds = timings(args.size, args.pair, args.n)
    print(json.dumps({"size": args.size, "pair": args.pair, "seconds": seconds,
                      "median": statistics.median(seconds)}))  # fmt: skip


if __name__ == "__main__":
    main()
