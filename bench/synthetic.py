"""Synthetic roster and filings for benchmarks: vectorized, seeded, all numbers fake.

Households of an insured person and 0-4 dependents, names from a small table
with readings, era dates, half-width/hiragana kana and both address styles,
and a few defects. Issue 3 (`recon sample`) grows this into data with ground truth.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import polars as pl

SURNAMES = [
    ("髙橋", "タカハシ"),
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡邊", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("山田", "ヤマダ"),
    ("佐々木", "ササキ"),
    ("山﨑", "ヤマザキ"),
    ("齋藤", "サイトウ"),
]
GIVEN = [
    ("太郎", "タロウ"),
    ("翔太", "シヨウタ"),
    ("花子", "ハナコ"),
    ("陽菜", "ヒナ"),
    ("健一", "ケンイチ"),
    ("美咲", "ミサキ"),
    ("大輔", "ダイスケ"),
    ("結衣", "ユイ"),
    ("蓮", "レン"),
    ("さくら", "サクラ"),
]
RELATIONS = np.array(["本人", "妻", "長男", "長女", "次男"])


def _era_letter(col: str) -> pl.Expr:
    d = pl.col(col)
    year = d.dt.year()
    era, start = (
        pl.when(d >= pl.date(2019, 5, 1))
        .then(pl.lit("R"))
        .when(d >= pl.date(1989, 1, 8))
        .then(pl.lit("H"))
        .otherwise(pl.lit("S")),
        pl.when(d >= pl.date(2019, 5, 1))
        .then(2019)
        .when(d >= pl.date(1989, 1, 8))
        .then(1989)
        .otherwise(1926),
    )
    return pl.format(
        "{}{}.{}.{}",
        era,
        (year - start + 1).cast(pl.String).str.zfill(2),
        d.dt.month().cast(pl.String).str.zfill(2),
        d.dt.day().cast(pl.String).str.zfill(2),
    )


def _styled_date(col: str, style: pl.Expr) -> pl.Expr:
    return (
        pl.when(style == 0)
        .then(pl.col(col).dt.to_string("%Y-%m-%d"))
        .when(style == 1)
        .then(pl.col(col).dt.to_string("%Y%m%d"))
        .otherwise(_era_letter(col))
    )


def _my_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    body = rng.integers(0, 10, size=(n, 11))
    body[:, 0] = 9  # clearly synthetic
    weights = np.array([6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2])
    r = (body * weights).sum(axis=1) % 11
    check = np.where(r <= 1, 0, 11 - r)
    digits = np.concatenate([body, check[:, None]], axis=1)
    # The leading 9 keeps every number 12 digits long as an integer.
    return (digits * (10 ** np.arange(11, -1, -1))).sum(axis=1).astype(np.int64).astype(str)


def generate(members: int, seed: int = 1) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    sizes = rng.choice([1, 2, 3, 4, 5], size=members, p=[0.35, 0.25, 0.2, 0.15, 0.05])
    sizes = sizes[: np.searchsorted(np.cumsum(sizes), members) + 1]
    household = np.repeat(np.arange(len(sizes)), sizes)[:members]
    position = np.concatenate([np.arange(s) for s in sizes])[:members]
    surname = rng.integers(0, len(SURNAMES), size=len(sizes))[household]
    given = rng.integers(0, len(GIVEN), size=members)
    birth = np.where(
        position == 0, rng.integers(-9000, 8000, members), rng.integers(-3000, 19000, members)
    )
    roster = pl.DataFrame(
        {
            "保険者番号": "06139919",
            "記号": (1000 + household // 9000).astype(str),
            "番号": (household % 9000 + 1).astype(str),
            "枝番": np.char.zfill(position.astype(str), 2),
            "続柄": RELATIONS[np.minimum(position, 4)],
            "氏名": [
                f"{SURNAMES[s][0]} {GIVEN[g][0]}" for s, g in zip(surname, given, strict=True)
            ],
            "kana": [
                f"{SURNAMES[s][1]} {GIVEN[g][1]}" for s, g in zip(surname, given, strict=True)
            ],
            "birth": pl.Series(birth, dtype=pl.Int32).cast(pl.Date),
            "性別": np.where(position == 1, "女", "男"),
            "郵便番号": np.char.zfill((1000000 + household % 8000000).astype(str), 7),
            "番地": (household % 9 + 1).astype(str),
            "acquired": pl.Series(rng.integers(15000, 20150, members), dtype=pl.Int32).cast(
                pl.Date
            ),
            "社員番号": np.char.add("E", household.astype(str)),
            "style": rng.integers(0, 3, members),
        }
    )
    roster = roster.with_columns(
        _styled_date("birth", pl.col("style")).alias("生年月日"),
        _styled_date("acquired", (pl.col("style") + 1) % 3).alias("資格取得日"),
        pl.when(pl.col("style") == 0)
        .then(pl.col("kana").str.replace_all("シヨ", "ショ"))
        .otherwise(pl.col("kana"))
        .alias("氏名カナ"),
        pl.when(pl.col("style") == 2)
        .then(pl.format("東京都港区芝{}丁目2番3号", pl.col("番地")))
        .otherwise(pl.format("東京都港区芝{}-2-3", pl.col("番地")))
        .alias("住所"),
        pl.lit("保有").alias("マイナンバーカード"),
    )
    numbers = _my_numbers(rng, members)
    filed = rng.random(members) < 0.97
    filings = (
        roster.with_columns(my_number=pl.Series(numbers))
        .filter(pl.Series(filed))
        .select(
            pl.col("社員番号").alias("employee_id"),
            pl.col("続柄").alias("relation"),
            pl.col("氏名").str.replace_all("髙", "高").alias("name"),
            pl.col("kana").alias("name_kana"),
            pl.col("birth").dt.to_string("%Y-%m-%d").alias("birth_date"),
            pl.when(pl.col("性別") == "男").then(pl.lit("1")).otherwise(pl.lit("2")).alias("sex"),
            pl.col("my_number"),
            pl.lit("2024-05-01").alias("filed_on"),
        )
    )
    roster = roster.drop("kana", "birth", "acquired", "style", "番地")
    return roster, filings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    roster, filings = generate(args.members, args.seed)
    (args.out / "roster.csv").write_bytes(roster.write_csv(line_terminator="\r\n").encode("cp932"))
    (args.out / "filings.csv").write_bytes(b"\xef\xbb\xbf" + filings.write_csv().encode("utf-8"))
    print(f"{roster.height} roster rows, {filings.height} filings -> {args.out}")


if __name__ == "__main__":
    main()
