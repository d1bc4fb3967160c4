"""The generator behind `recon sample`: exact size, synthetic valid numbers, realistic spread."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
from stdnum.jp import in_

from recon.synthetic import generate, generate_sample
from recon.synthetic.generate import my_numbers

ROOT = Path(__file__).resolve().parent.parent


def test_exact_member_count_and_same_seed_same_data():
    a = generate_sample(5_001, seed=4)
    b = generate_sample(5_001, seed=4)
    assert a.roster.height == 5_001
    assert a.roster.equals(b.roster) and a.filings.equals(b.filings) and a.truth.equals(b.truth)


def test_my_numbers_are_distinct_valid_and_start_with_9():
    numbers = my_numbers(pl.int_range(0, 200_000, eager=True).to_numpy(), seed=9)
    assert len(set(numbers)) == len(numbers)
    assert all(n.startswith("9") and len(n) == 12 for n in numbers[:1000])
    assert all(in_.is_valid(n) for n in numbers[:5000])


def test_without_defects_every_number_is_valid_and_nothing_is_expected_but_gaps():
    roster, filings = generate(4_000, seed=2)
    assert all(in_.is_valid(n) for n in filings["my_number"])
    sample = generate_sample(4_000, seed=2, defects=0.0, utf8=True)
    expected = set(sample.truth["check"])
    assert expected <= {
        "filing.missing",
        "match.name_variant",
        "overseas.emigrated_before_2015",
        "overseas.never_registered",
        "overseas.no_designated_address",
    }


def test_benign_variation_is_present():
    roster = generate_sample(20_000, seed=1).roster
    names, kana, addresses = roster["氏名"], roster["氏名カナ"], roster["住所"]
    assert names.str.contains("髙|﨑|齋|邊|濱").any()
    assert kana.str.contains("[ｱ-ﾝ]").any() and kana.str.contains("[ぁ-ん]").any()
    assert kana.str.contains("シヨウ|ｼﾖｳ").any()  # small kana an old system could not store
    assert addresses.str.contains("丁目").any() and addresses.str.contains(r"\d-\d+-\d").any()
    births = roster["生年月日"]
    assert births.str.contains("^[SHR][0-9]{2}\\.").any() and births.str.contains("年").any()
    overseas = roster.filter(pl.col("居住区分") == "海外")
    assert set(overseas["海外赴任区分"]) >= {"単身", "家族帯同"}


def test_sample_command_writes_three_files(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "recon", "sample", "--members", "500", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert {p.name for p in tmp_path.iterdir()} == {"roster.csv", "filings.csv", "truth.csv"}
    (tmp_path / "roster.csv").read_bytes().decode("cp932")
