"""Waivers at the size of a society: 100,000 waivers against 1,000,000 findings.

    python bench/waivers.py [--findings 1000000] [--waivers 100000]

Times what the gate does with a waivers file, apart from the analysis itself:
reading and checking the TOML (`waivers.load`), matching every finding against
every waiver (`waivers.apply`, a join), and the rows the report and
`waivers.csv` show (`waivers.report_rows`). The findings are built directly
(their check, member id, field and finding id are all matching looks at), with
member ids as real societies write them (`5120-12345678-00`).

The waivers are a mix: most name a member (a third of those a field too), some
an orphan filing's finding id, some both; a tenth match nothing and a tenth
have expired. The answer is checked against the counts the mix implies.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from recon.gate import waivers  # noqa: E402

CHECKS = ["match.birth_date", "match.sex", "match.name", "my_number.duplicate"]
FIELDS = ["birth_date", "sex", "name", None]
DAY = dt.date(2025, 6, 30)


def findings_frame(n: int) -> pl.DataFrame:
    """`n` findings, one per member, a tenth of them orphan filings (no member)."""
    i = pl.int_range(0, n, dtype=pl.Int64)
    return pl.select(
        check=pl.lit(pl.Series(CHECKS)).gather(i % len(CHECKS)),
        member_id=pl.when(i % 10 == 9)
        .then(pl.lit(None, dtype=pl.String))
        .otherwise(pl.format("5120-{}-00", i + 10_000_000)),
        field=pl.lit(pl.Series(FIELDS, dtype=pl.String)).gather(i % len(FIELDS)),
        finding_id=pl.format("f{}", i),
        severity=pl.lit("error"),
    )


def waivers_toml(findings: pl.DataFrame, n: int, rng: random.Random) -> str:
    rows = findings.select("check", "member_id", "field", "finding_id").rows()
    parts = []
    for number in range(1, n + 1):
        check, member, field_, finding_id = rows[rng.randrange(len(rows))]
        kind = number % 10
        expires = DAY + dt.timedelta(days=-30 if kind == 1 else 200)
        keys = {"check": check}
        if kind == 0:  # matches nothing: a member not in the findings
            keys["member_id"] = f"9999-{number:08d}-00"
        elif member is None or kind == 2:
            keys["finding"] = finding_id
            if member is not None:
                keys["member_id"] = member
        else:
            keys["member_id"] = member
            if field_ is not None and kind % 3 == 0:
                keys["field"] = field_
        body = "".join(f'{k} = "{v}"\n' for k, v in keys.items())
        parts.append(
            f'[[waiver]]\n{body}reason = "戸籍で確認済み ({number})"\n'
            f'approved_by = "適用課 佐藤"\nexpires_on = {expires}\n'
        )
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--findings", type=int, default=1_000_000)
    parser.add_argument("--waivers", type=int, default=100_000)
    args = parser.parse_args()
    rng = random.Random(14)
    findings = findings_frame(args.findings)
    text = waivers_toml(findings, args.waivers, rng)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "waivers.toml"
        path.write_text(text, encoding="utf-8")
        start = time.perf_counter()
        read = waivers.load(path)
        waivers.refuse_beyond(read, DAY, 5, path)
        loaded = time.perf_counter() - start
    start = time.perf_counter()
    out, statuses = waivers.apply(findings, read, DAY)
    matched = time.perf_counter() - start
    start = time.perf_counter()
    rows = waivers.report_rows(statuses)
    reported = time.perf_counter() - start
    by = {s: sum(x.status == s for x in statuses) for s in ("active", "expired", "unused")}
    waived = out.filter(pl.col("waiver_state") == "active").height
    assert len(read) == args.waivers and rows.height == args.waivers
    assert by["unused"] >= args.waivers // 10 and by["expired"] >= args.waivers // 10 - 1
    size = len(text.encode("utf-8")) / 1e6
    print(
        f"{args.waivers:,} waivers ({size:.1f} MB of TOML) on {args.findings:,} findings: "
        f"load {loaded:.2f} s, match {matched:.2f} s, report rows {reported:.2f} s; "
        f"{by['active']:,} active, {by['expired']:,} expired, {by['unused']:,} unused, "
        f"{waived:,} findings waived"
    )


if __name__ == "__main__":
    main()
