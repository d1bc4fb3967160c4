"""The generator behind `recon sample`: exact size, synthetic valid numbers, realistic spread."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from stdnum.jp import in_

from recon.synthetic import generate, generate_chunks, generate_sample, write_sample
from recon.synthetic.defects import INJECTORS, injector
from recon.synthetic.generate import my_numbers
from recon.synthetic.tables import SURNAMES

ROOT = Path(__file__).resolve().parent.parent


def _household_id() -> pl.Expr:
    """記号-番号 as recon composes it (NFKC)."""
    symbol, number = (pl.col(c).str.normalize("NFKC") for c in ("記号", "番号"))
    return pl.concat_str(symbol, number, separator="-").alias("household")


def _member_id() -> pl.Expr:
    return pl.concat_str(_household_id(), pl.col("枝番").str.zfill(2), separator="-").alias(
        "member_id"
    )


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
    member_ids = whole.roster.select(_member_id()).to_series()
    assert member_ids.n_unique() == 12_000
    # One employee id per household, and no two households share one.
    households = whole.roster.select(_household_id(), "社員番号").unique()
    assert households["household"].n_unique() == households.height
    assert households["社員番号"].n_unique() == households.height
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


# --- the shapes of real rosters (issue: realistic shapes everywhere) --------------------


@pytest.fixture(scope="module")
def utf8_sample():
    return generate_sample(30_000, seed=1, defects=0.05, utf8=True)


@pytest.fixture(scope="module")
def cp932_sample():
    return generate_sample(30_000, seed=1, defects=0.05)


def test_identifiers_have_every_length_real_rosters_hold(cp932_sample):
    roster = cp932_sample.roster
    symbol = roster["記号"]
    assert set(symbol.str.len_chars()) == set(range(1, 9))
    assert symbol.str.contains("^[A-Z]").any()  # a letter and digits
    assert symbol.str.contains("[０-９]").any()  # typed in full width
    number = roster["番号"]
    assert number.str.contains("^[0-9]{1,8}$").all()
    assert set(number.str.len_chars()) == set(range(1, 9))
    assert number.str.starts_with("0").any()  # zero-padded by some offices
    assert {"00", "0", "1", "01"} <= set(roster["枝番"])
    # Member ids holding 12 or more digits, like 5120-12345678-00: not My Numbers.
    digits = roster.select(_member_id()).to_series().str.count_matches("[0-9]")
    assert (digits >= 12).any()
    # Employee ids of up to 12 digits; some 12-digit ones pass the My Number check.
    employee = roster["社員番号"]
    assert employee.str.len_chars().max() == 12
    twelve = employee.filter(employee.str.contains("^[0-9]{12}$")).unique().to_list()
    assert any(in_.is_valid(e) for e in twelve) and not all(in_.is_valid(e) for e in twelve)
    assert employee.str.starts_with("E").any() and employee.str.contains("^0").any()
    # An insurer number a spreadsheet cut to 7 digits (benign: padded back).
    assert (roster["保険者番号"] == "6139919").any()


def test_households_of_one_to_eight_with_twins_and_three_generations(cp932_sample):
    roster = cp932_sample.roster.with_columns(_household_id())
    sizes = roster.group_by("household").len()["len"]
    assert set(sizes) == set(range(1, 9))
    relations = set(roster["続柄"])
    assert {"本人", "長男", "二女", "次女", "養子", "孫", "祖母", "義父", "配偶者"} <= relations
    # Twins: two children of one household born on the same day, with different names.
    children = roster.filter(pl.col("続柄").str.contains("男|女$|^子$|養子"))
    twins = children.group_by("household", "生年月日").agg(pl.col("氏名").n_unique().alias("n"))
    assert (twins["n"] >= 2).any()


def test_a_son_may_have_his_fathers_reading(cp932_sample):
    roster = cp932_sample.roster.with_columns(
        _household_id(),
        pl.col("氏名カナ").str.replace_all(r"[\s・･]", "").alias("kana"),
    )
    father = roster.filter(pl.col("続柄").is_in(["本人", "被保険者"]) & (pl.col("性別") != "2"))
    son = roster.filter(pl.col("続柄").is_in(["長男", "子", "養子"]))
    same = father.join(son, on=["household", "kana"])
    assert same.height > 0
    assert (same["氏名"] != same["氏名_right"]).all()  # same reading, other kanji


def test_names_as_rosters_and_employers_write_them(cp932_sample, utf8_sample):
    roster, filings = cp932_sample.roster, cp932_sample.filings
    names = pl.concat([roster["氏名"], filings["name"]])
    # Foreign members in katakana, the parts joined by ・ or ＝.
    assert names.str.contains("^[ァ-ヴー]+・[ァ-ヴー]").any()
    assert names.str.contains("^[ァ-ヴー]+＝[ァ-ヴー]").any()
    assert roster["氏名カナ"].str.contains("･").any()  # half-width ・ in half-width kana
    # ヶ and ケ between kanji, in names as in addresses.
    assert (
        names.str.contains("[一八小]ヶ[谷代]").any()
        and names.str.contains("[一八小]ケ[谷代]").any()
    )
    # Rarer variant kanji the MJ shrink map folds, in a CP932 file.
    rare = "嶌|舘|桒|眞|澁|瀨|黑|曾|榮|學|惠|靜|穗|齊"
    assert names.str.contains(rare).any()
    # Nothing outside CP932 in a CP932 sample.
    roster.write_csv().encode("cp932")
    filings.write_csv().encode("cp932")
    # 𠮷 and 槗 only where the file is UTF-8.
    wide = pl.concat([utf8_sample.roster["氏名"], utf8_sample.filings["name"]])
    assert wide.str.contains("𠮷").any() and wide.str.contains("槗").any()


def test_sai_variants_fold_as_spec_rev2_says(utf8_sample):
    # 齋 folds to 斎 and 齊 to 斉 (two characters): a table entry never mixes them.
    for standard, variants, _ in SURNAMES:
        for variant in variants.split("|") if variants else []:
            assert not ("齊" in variant and "斎" in standard)
            assert not ("齋" in variant and "斉" in standard)
    assert any(s == "斉藤" and "齊藤" in v for s, v, _ in SURNAMES)
    # On the data: a roster 齊藤 filed as 斉藤 (or the other way) is match.name_variant.
    sample = utf8_sample
    roster = sample.roster.with_columns(_member_id()).select("member_id", "氏名")
    filings = sample.filings.with_row_index("row", offset=1).select(
        pl.col("row").cast(pl.Int64), "name"
    )
    variant = (
        sample.truth.filter(pl.col("check") == "match.name_variant")
        .join(filings, on="row")
        .join(roster, on="member_id")
    )
    sai = variant.filter(
        (pl.col("氏名").str.contains("齊") & pl.col("name").str.contains("斉"))
        | (pl.col("氏名").str.contains("斉") & pl.col("name").str.contains("齊"))
    )
    assert sai.height > 0


def test_a_cp932_roster_beside_utf8_filings(tmp_path):
    sample = generate_sample(20_000, seed=2, utf8=False, filings_utf8=True)
    paths = write_sample(sample, tmp_path, "cp932", filings_encoding="utf-8")
    roster = paths["roster"].read_bytes()
    roster.decode("cp932")
    assert not roster.startswith(b"\xef\xbb\xbf")
    filings = paths["filings"].read_bytes()
    assert filings.startswith(b"\xef\xbb\xbf")
    text = filings.decode("utf-8")
    assert "𠮷" in text or "槗" in text  # the employer's file holds what CP932 cannot
    done = subprocess.run(
        [sys.executable, "-m", "recon", "sample", "--members", "300", "--out", str(tmp_path / "c"),
         "--filings-encoding", "utf-8"],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (tmp_path / "c" / "roster.csv").read_bytes().decode("cp932")
    assert (tmp_path / "c" / "filings.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_an_overseas_insured_person_without_a_type_is_expected(cp932_sample):
    roster = cp932_sample.roster.with_row_index("row", offset=1)
    expected = cp932_sample.truth.filter(pl.col("check") == "overseas.unknown_type")
    assert expected.height > 0
    rows = roster.join(expected.select(pl.col("row").cast(pl.UInt32)), on="row")
    assert (rows["居住区分"] == "海外").all() and (rows["海外赴任区分"] == "").all()
    assert rows["続柄"].is_in(["本人", "被保険者"]).all()
    # Every other overseas insured person has a type.
    insured_abroad = roster.filter(
        (pl.col("居住区分") == "海外") & pl.col("続柄").is_in(["本人", "被保険者"])
    )
    untyped = insured_abroad.filter(pl.col("海外赴任区分") == "")
    assert untyped["row"].sort().to_list() == rows["row"].sort().to_list()


def test_a_new_defect_is_one_injector_and_its_truth():
    @injector("test_sex_word", members=1)
    def sex_word(draft, target):
        draft.set_roster(target.member, 性別=pl.lit("不明"))
        draft.expect_roster(target.member, "input.invalid_value")

    try:
        sample = generate_sample(3_000, seed=3, defects=1.0)
    finally:
        del INJECTORS["test_sex_word"]
    roster = sample.roster.with_row_index("row", offset=1)
    marked = roster.filter(pl.col("性別") == "不明")["row"].cast(pl.Int64)
    assert marked.len() > 0
    invalid = sample.truth.filter(
        (pl.col("check") == "input.invalid_value") & (pl.col("source") == "roster")
    )["row"]
    assert marked.is_in(invalid.implode()).all()
    assert "test_sex_word" not in INJECTORS
