"""The generator behind `recon sample`: exact size, synthetic valid numbers, realistic spread."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
from stdnum.jp import in_

from recon.synthetic import generate, generate_chunks, generate_sample, write_sample
from recon.synthetic.generate import my_numbers

ROOT = Path(__file__).resolve().parent.parent


def test_exact_member_count_and_same_seed_same_data():
    a = generate_sample(5_001, seed=4)
    b = generate_sample(5_001, seed=4)
    assert a.roster.height == 5_001
    assert a.roster.equals(b.roster) and a.filings.equals(b.filings) and a.truth.equals(b.truth)


def test_chunks_continue_one_sample_with_unique_ids_and_numbers():
    whole = generate_sample(12_000, seed=5, defects=0.0, utf8=True, chunk_members=5_000)
    first = generate_sample(5_000, seed=5, defects=0.0, utf8=True)
    # Up to one chunk's size, chunking changes nothing: the first chunk is that sample.
    assert whole.roster.height == 12_000
    assert whole.roster.head(5_000).equals(first.roster)
    assert whole.filings.head(first.filings.height).equals(first.filings)
    member_ids = whole.roster.select(
        pl.concat_str(pl.col("記号"), pl.col("番号"), pl.col("枝番").str.zfill(2), separator="-")
    ).to_series()
    assert member_ids.n_unique() == 12_000
    employees = whole.roster["社員番号"].unique(maintain_order=True)
    assert employees.is_sorted() and employees.n_unique() == employees.len()
    # Every number is valid and belongs to one member only (a re-filing repeats it).
    assert all(in_.is_valid(n) for n in whole.filings["my_number"])
    owners = whole.filings.group_by("my_number").agg(
        pl.struct("employee_id", "name", "birth_date").n_unique().alias("owners")
    )
    assert owners["owners"].max() == 1
    # With a defect in every household, numbers drawn beyond the members' own
    # (conflicting re-filings, orphans) are still shared only where the truth says.
    defective = generate_sample(12_000, seed=5, defects=1.0, chunk_members=5_000)
    filings = defective.filings.with_row_index("row", offset=1).filter(
        pl.col("my_number").str.starts_with("9")  # not the 000000000000 placeholder
        & pl.col("my_number").map_elements(in_.is_valid, return_dtype=pl.Boolean)
    )
    shared = filings.filter(
        pl.struct("employee_id", "name", "birth_date").n_unique().over("my_number") > 1
    )
    duplicates = defective.truth.filter(pl.col("check") == "my_number.duplicate")["row"]
    assert shared.height > 0 and shared["row"].is_in(duplicates.implode()).all()
    # The truth's rows are those of the appended files.
    for source, frame in (("roster", whole.roster), ("filings", whole.filings)):
        rows = whole.truth.filter(pl.col("source") == source)["row"]
        assert rows.min() >= 1 and rows.max() <= frame.height
    assert whole.truth["row"].filter(whole.truth["source"] == "roster").max() > 10_000


def test_writing_chunks_as_they_come_writes_the_whole_sample(tmp_path):
    args = (9_000, 3, 0.05, True, 4_000)
    write_sample(generate_sample(*args), tmp_path / "whole", "utf-8")
    write_sample(generate_chunks(*args), tmp_path / "chunks", "utf-8")
    for name in ("roster.csv", "filings.csv", "truth.csv"):
        assert (tmp_path / "whole" / name).read_bytes() == (tmp_path / "chunks" / name).read_bytes()
    assert (tmp_path / "chunks" / "filings.csv").read_bytes().startswith(b"\xef\xbb\xbf")


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
    # .recon-output lists them: a later `recon sample` may replace these, and only these.
    assert {p.name for p in tmp_path.iterdir()} == {
        "roster.csv",
        "filings.csv",
        "truth.csv",
        ".recon-output",
    }
    (tmp_path / "roster.csv").read_bytes().decode("cp932")
