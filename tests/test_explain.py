"""`recon explain MEMBER_ID`: every decision of the bundled sample, traced to its rule."""

from __future__ import annotations

import json
import re
import shutil
import stat
import subprocess
import sys
import unicodedata
from pathlib import Path

import polars as pl
import pytest

from recon import explain, outdir
from recon.explain import EXPLAIN_DIR, PARTS, ExplainError, lookup, render_json, render_text
from recon.masking import error_text
from tests.conftest import (
    SAMPLE_CERTIFICATE_REASONS,
    SAMPLE_CONFIRM_REASONS,
    printed_by_fresh_python,
)

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2025-06-30"  # the date of tests/fixtures/expected_members.csv
# Each test reads the output of one real run of the sample (a process), some start more.
pytestmark = [pytest.mark.subprocess, pytest.mark.slow]


@pytest.fixture(scope="module")
def out(sample_run) -> Path:
    return sample_run[0]


@pytest.fixture(scope="module")
def members(out) -> pl.DataFrame:
    return pl.read_csv(out / "members.csv", infer_schema=False).with_row_index("row", offset=1)


def _one(out: Path, member_id: str) -> explain.Explanation:
    found = lookup(out, member_id)
    assert len(found) == 1, member_id
    return found[0]


def _decision(e: explain.Explanation, name: str) -> explain.Decision:
    return next(d for d in e.decisions if d.decision == name)


def _explain(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "recon", "explain", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
    )


# --- every decision of every member, as members.csv has it -------------------------


def test_every_member_is_explained_with_the_values_of_members_csv(out, members):
    bool_text = {True: "true", False: "false"}
    for m in members.iter_rows(named=True):
        found = [e for e in lookup(out, m["member_id"]) if e.roster_row == m["row"]]
        assert len(found) == 1, m["member_id"]
        e = found[0]
        got = {d.decision: d.value for d in e.decisions}
        assert bool_text[got["active"]] == m["active"]
        assert bool_text[got["must_confirm"]] == m["must_confirm"]
        for name in ("my_number_status", "notice", "certificate", "delivery"):
            assert got[name] == m[name], (m["member_id"], name)
        certificate = _decision(e, "certificate")
        assert ";".join(r.value for r in certificate.reasons) == (m["certificate_reasons"] or "")
        assert certificate.inputs["valid_until"] == m["certificate_valid_until"]
        confirm = _decision(e, "must_confirm")
        assert ";".join(r.value for r in confirm.reasons) == (m["confirm_reasons"] or "")
        assert ";".join(e.confirm_by) == (m["confirm_by"] or "")


def test_the_sample_holds_every_decision_value_explain_is_tested_on(members):
    assert set(members["notice"]) == {"wave1", "wave2", "on_enrolment", "none"}
    assert set(members["certificate"]) == {"yes", "no"}
    assert set(members["delivery"]) == {"household", "designated_address", "undeliverable", "none"}
    reasons = {r for rs in members["certificate_reasons"].drop_nulls() for r in rs.split(";") if r}
    # not_registered needs certificate_for_unregistered on: tested below on its own.
    assert reasons == SAMPLE_CERTIFICATE_REASONS
    confirms = {r for rs in members["confirm_reasons"].drop_nulls() for r in rs.split(";") if r}
    assert confirms == SAMPLE_CONFIRM_REASONS


def test_each_rule_compares_what_the_spec_says(out, members):
    """The values a rule shows satisfy that rule: the wave's inequality, the reasons' facts."""
    for m in members.iter_rows(named=True):
        for e in lookup(out, m["member_id"]):
            notice = _decision(e, "notice")
            i = notice.inputs
            if notice.value != "none":
                assert i["event"] == max(i["acquired_on"], i["first_filed_on"])
            if notice.value == "wave1":
                assert notice.rule == "notice.wave1" and i["event"] <= i["notice_snapshot"]
            elif notice.value == "wave2":
                assert i["notice_snapshot"] < i["event"] <= i["card_issuance_end"]
            elif notice.value == "on_enrolment":
                assert i["event"] > i["card_issuance_end"]
            for reason in _decision(e, "certificate").reasons:
                r = reason.inputs
                if reason.value.startswith("card_"):
                    assert r["card_status"] == reason.value.removeprefix("card_")
                elif reason.value == "cert_expired":
                    assert r["cert_expires_on"] < r["as_of"]
                elif reason.value == "emigrated_before_2015":
                    assert r["emigrated_on"] < r["my_number_system_start"]
                elif reason.value == "opted_out":
                    assert r["myna_opt_out"] == "yes"
                elif reason.value == "needs_assistance":
                    assert r["needs_assistance"] == "yes"
                elif reason.value == "invalid_my_number":
                    assert r["my_number_status"] != "linked"
            active = _decision(e, "active")
            if active.rule == "active.not_yet":
                assert active.inputs["acquired_on"] > active.inputs["as_of"]
            if active.rule == "active.lost":
                assert active.inputs["lost_on"] <= active.inputs["as_of"]


def test_wave_boundary_day_is_wave1_and_the_day_after_card_end_on_enrolment(out):
    wave1 = _one(out, "1201-1001-00")
    assert _decision(wave1, "notice").inputs["event"] == "2024-08-16"  # = notice_snapshot
    text_ja = render_text([wave1], "ja")
    assert (
        "event = max(資格取得日 2002-04-01, 最初の届出日 2024-08-16) = 2024-08-16 "
        "≦ notice_snapshot 2024-08-16 なので第1弾です" in text_ja
    )
    assert "notice: wave1 (wave 1)" in render_text([wave1], "en").replace(
        "Notice (notice)", "notice"
    )
    late = _one(out, "1201-1004-00")
    text_en = render_text([late], "en")
    assert "= 2024-12-02 > card_issuance_end 2024-12-01: sent on enrolment" in text_en
    # Its certificate ends the day before the loss of qualification, not 5 years on.
    assert _decision(late, "certificate").rule == "certificate.yes_until_loss"
    assert "Valid until 2025-06-30: the day before the loss of qualification on 2025-07-01" in (
        text_en
    )


def test_inactive_member_gets_nothing_and_says_why(out):
    e = _one(out, "1201-1005-00")
    assert _decision(e, "active").rule == "active.lost"
    assert {d.rule for d in e.decisions} >= {
        "notice.inactive",
        "certificate.inactive",
        "delivery.inactive",
        "must_confirm.inactive",
    }
    assert "資格喪失日 2025-06-30 ≦ 基準日 2025-06-30 なので資格を失っています" in render_text(
        [e], "ja"
    )


def test_filing_waterfall_shows_each_key_down_to_the_one_that_matched(out):
    e = _one(out, "1201-1006-01")  # wrong birth date: found by kana + relation (key 4)
    (filing,) = e.filings
    assert filing["match_key"] == 4 and filing["matched_by"] == "name_kana+relation"
    assert [k["hits"] for k in filing["keys"]][:4] == [0, 0, 0, 1]
    assert filing["birth_date"] == {"roster": "1987-08-08", "filing": "1987-08-18"}
    assert re.fullmatch(r"\*{8}\d{4}", filing["my_number"])
    text_ja = render_text([e], "ja")
    for line in (
        "キー1（枝番）: 該当する加入者なし → 次のキーへ",
        "キー3（生年月日＋漢字氏名）: 該当する加入者なし → 次のキーへ",
        "キー4（カナ氏名＋続柄）: ちょうど一人 → この加入者に照合",
        "比較: 生年月日 台帳 1987-08-08／届出 1987-08-18",
        "個人番号の状態（my_number_status）: mismatch（本人情報の不一致）",
        "届出と台帳が一致しません: match.birth_date",
        "[エラー] match.birth_date 生年月日の不一致",
    ):
        assert line in text_ja, line
    assert _decision(e, "certificate").reasons[0].value == "invalid_my_number"


def test_status_conflict_lists_the_masked_numbers_only(out):
    e = _one(out, "1201-1010-01")
    status = _decision(e, "my_number_status")
    assert status.value == "conflict" and len(status.inputs["numbers"]) == 2
    assert all(re.fullmatch(r"\*{8}\d{4}", n) for n in status.inputs["numbers"])
    assert [f["check"] for f in e.findings] == ["my_number.conflict", "my_number.conflict"]
    assert {f["who"] for f in e.findings} == {"member"}


def test_overseas_household_mailing_and_hr(out):
    single = _one(out, "3405-2006-00")
    assert _decision(single, "delivery").rule == "delivery.designated_address"
    assert single.household["overseas_type"] == "single"
    reasons = _decision(single, "certificate").reasons
    assert [r.value for r in reasons] == ["no_filing", "emigrated_before_2015"]
    assert reasons[1].inputs["emigrated_on"] == "2015-10-14"  # the day before system start
    text_en = render_text([single], "en")
    assert "Left Japan on 2015-10-14 < my_number_system_start 2015-10-15" in text_en
    assert "Delivery is designated_address (designated domestic address)" in text_en

    child = _one(out, "3405-2007-02")  # born abroad after the insured person left
    assert _decision(child, "delivery").rule == "delivery.undeliverable_overseas"
    never = _decision(child, "certificate").reasons[1]
    assert never.rule == "certificate_reason.never_registered_child"
    assert never.inputs["birth_date"] > never.inputs["insured_emigrated_on"]
    assert child.household["insured_member_id"] == "3405-2007-00"
    assert child.confirm_by == ["member", "hr"]
    text_ja = render_text([child], "ja")
    assert "被保険者（本人）: 3405-2007-00" in text_ja
    assert "海外赴任区分 family_accompanied（家族帯同）" in text_ja
    assert "- hr（グローバル人事課）" in text_ja


def test_duplicate_member_id_explains_each_roster_row(out):
    rows = lookup(out, "3405-2004-02")
    assert [e.roster_row for e in rows] == [37, 38]
    for e in rows:
        confirm = _decision(e, "must_confirm")
        assert [r.value for r in confirm.reasons] == ["no_filing", "roster_problem"]
        assert confirm.reasons[1].inputs["checks"] == ["roster.duplicate_member"]
        assert {f["who"] for f in e.findings} == {"society", "member"}


def test_unreadable_filed_on_says_the_employer_refiles(out):
    e = _one(out, "3405-2009-01")
    assert _decision(e, "notice").rule == "notice.no_filed_on"
    assert [r.value for r in _decision(e, "must_confirm").reasons] == ["filing_problem"]
    assert _decision(e, "must_confirm").reasons[0].inputs["rows"] == [46]


def test_not_registered_reason_with_the_policy_switch(tmp_path):
    policy = tmp_path / "policy.toml"
    shipped = (ROOT / "recon" / "policy.toml").read_text(encoding="utf-8")
    policy.write_text(
        shipped.replace(
            "certificate_for_unregistered = false", "certificate_for_unregistered = true"
        ),
        encoding="utf-8",
    )
    assert "certificate_for_unregistered = true" in policy.read_text(encoding="utf-8")
    folder = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "recon", "run", "--as-of", AS_OF, "--policy", str(policy)]
        + ["--out", str(folder)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    members = pl.read_csv(folder / "members.csv", infer_schema=False)
    ids = members.filter(pl.col("certificate_reasons").str.contains("not_registered"))
    assert ids.height > 0
    e = lookup(folder, ids["member_id"][0])[0]
    reason = next(r for r in _decision(e, "certificate").reasons if r.value == "not_registered")
    assert reason.inputs == {"myna_registered": "no"}
    assert "certificate_for_unregistered is on and myna_registered = no" in render_text([e], "en")
    assert e.policy["certificate_for_unregistered"] is True


# --- every member renders in both languages and as JSON -----------------------------


def test_every_member_renders_in_ja_en_and_json(out, members):
    for member_id in members["member_id"].unique():
        found = lookup(out, member_id)
        ja, en = render_text(found, "ja"), render_text(found, "en")
        assert "■ 判定とその理由" in ja and "■ Decisions and why" in en
        assert not re.search(r"[ぁ-んァ-ヶ]", _without_data(en)), member_id
        doc = json.loads(render_json(found, "en"))
        assert [m["member_id"] for m in doc["members"]] == [member_id] * len(found)
        for m in doc["members"]:
            names = [d["decision"] for d in m["decisions"]]
            assert names == [
                "active",
                "my_number_status",
                "notice",
                "certificate",
                "delivery",
                "must_confirm",
            ]
            for d in m["decisions"]:
                assert set(d) >= {"decision", "value", "words", "rule", "inputs", "why"}
                assert d["why"]


def _without_data(text: str) -> str:
    """English output minus what quotes the files (details, names) and the codes' words."""
    return "\n".join(line for line in text.splitlines() if not line.strip().startswith("Detail:"))


def test_json_keeps_codes_as_spec_gives_them(out):
    doc = json.loads(render_json(lookup(out, "3405-2007-02"), "ja"))
    (m,) = doc["members"]
    decisions = {d["decision"]: d for d in m["decisions"]}
    assert decisions["delivery"]["value"] == "undeliverable"
    assert decisions["delivery"]["words"] == "送付先なし"
    assert [r["value"] for r in decisions["certificate"]["reasons"]] == [
        "no_filing",
        "never_registered",
    ]
    assert decisions["must_confirm"]["value"] is True
    assert m["confirm_by"] == ["member", "hr"]
    assert {f["check"] for f in m["findings"]} == {"filing.missing", "overseas.never_registered"}
    assert all(f["title"] and f["action"] for f in m["findings"])


# --- privacy and the file ----------------------------------------------------------


def _sample_numbers() -> set[str]:
    filings = pl.read_csv(ROOT / "sample_data" / "filings.csv", infer_schema=False)
    return {
        re.sub(r"\D", "", unicodedata.normalize("NFKC", n))
        for n in filings["my_number"].drop_nulls()
    } - {""}


def test_explain_folder_holds_no_full_my_number_and_is_owner_only(out, members):
    folder = out / EXPLAIN_DIR
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    numbers = {n for n in _sample_numbers() if len(n) >= 10}
    assert len(numbers) > 40
    for part in PARTS:
        path = folder / f"{part}.parquet"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        frame = pl.read_parquet(path)
        assert not {"my_number", "my_number_raw", "my_number_key"} & set(frame.columns)
        # Every value in the file, and the file's bytes.
        blob = json.dumps(frame.to_dicts(), default=str, ensure_ascii=False)
        raw = path.read_bytes()
        for number in numbers:
            assert number not in blob and number.encode() not in raw
    masked = pl.read_parquet(folder / "filings.parquet")["my_number_masked"].drop_nulls()
    assert masked.len() > 40
    assert all(re.fullmatch(r"\*{8}\d{0,4}", m) for m in masked)
    # And nothing printed about any member shows one.
    said = "".join(
        render_text(lookup(out, i), lang) + render_json(lookup(out, i), lang)
        for i in members["member_id"].unique()
        for lang in ("ja", "en")
    )
    for number in numbers:
        assert number not in said


def test_one_file_per_table_with_every_row_of_the_run(out, members):
    """Nothing joined or dropped at write time: each file holds its table's rows."""
    folder = out / EXPLAIN_DIR
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{p}.parquet" for p in PARTS)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    counts = summary["conservation"]
    assert pl.read_parquet(folder / "members.parquet").height == counts["roster_rows"]
    assert pl.read_parquet(folder / "roster.parquet").height == counts["roster_rows"]
    assert pl.read_parquet(folder / "filings.parquet").height == counts["filing_rows"]
    assert pl.read_parquet(folder / "matches.parquet").height == counts["filings_matched"]
    findings = pl.read_csv(out / "findings.csv", infer_schema=False)
    with_member = findings.filter(pl.col("member_id").is_not_null()).height
    assert pl.read_parquet(folder / "findings.parquet").height == with_member
    # Encoded beside GX's validation, each timed on its own: "gx" stays GX's time.
    assert {"gx", "explain"} <= set(summary["seconds"])


@pytest.mark.parametrize("typed", ["123456789018", "1234-5678-9018", "1234 5678 9018"])
def test_a_my_number_typed_by_mistake_is_not_printed_back(out, typed):
    # A help desk pasting a My Number where the member id goes: the message says no
    # such member, and masks the number as everything recon writes does.
    with pytest.raises(ExplainError) as caught:
        lookup(out, typed)
    said = error_text(caught.value)
    assert "123456789018" not in re.sub(r"[\s-]", "", said) and "9018" in said, said


def test_unknown_member_and_missing_file_are_errors_naming_what_to_do(out, tmp_path):
    with pytest.raises(ExplainError, match="1201-9999-00"):
        lookup(out, "1201-9999-00")
    with pytest.raises(ExplainError, match="1201-1001-00, 1201-1001-01"):
        lookup(out, "1201-1001-09")  # a household that exists: its members are named
    old = tmp_path / "old"
    shutil.copytree(out, old)
    shutil.rmtree(old / EXPLAIN_DIR)
    with pytest.raises(ExplainError, match="recon run"):
        lookup(old, "1201-1001-00")
    with pytest.raises(ExplainError, match="出力フォルダ .*nowhere がありません"):
        lookup(tmp_path / "nowhere", "1201-1001-00")
    # The report itself given as --out: named a file, not called missing.
    with pytest.raises(ExplainError, match="report.html はファイルです"):
        lookup(out / "report.html", "1201-1001-00")
    # A folder recon never wrote (the current one, the inputs'): said so, not "too old".
    with pytest.raises(ExplainError, match="recon run の出力フォルダではありません"):
        lookup(tmp_path, "1201-1001-00")
    # A folder `recon sample` wrote is recon's, but no run's output either.
    sample = tmp_path / "sample"
    sample.mkdir()
    outdir.write_marker(sample, outdir.SAMPLE, [])
    with pytest.raises(ExplainError, match="recon run の出力フォルダではありません"):
        lookup(sample, "1201-1001-00")
    for blank in ("", "  ", "\u3000"):  # nothing typed, or only spaces
        with pytest.raises(ExplainError, match="加入者IDが空です"):
            lookup(out, blank)
    # A full-width id typed by hand is the same member, and so is a one-digit 枝番,
    # padded to two as the roster's ids are (SPEC §9).
    assert lookup(out, "１２０１－１００１－００")[0].member_id == "1201-1001-00"
    assert lookup(out, "1201-1001-1")[0].member_id == "1201-1001-01"
    assert lookup(out, "\u200b1201-1001-00\ufeff")[0].member_id == "1201-1001-00"  # pasted
    assert lookup(out, "1201-1001-１")[0].member_id == "1201-1001-01"


# --- the command ---------------------------------------------------------------------


def test_command_prints_japanese_by_default_english_and_json_on_request(out):
    done = _explain("3405-2006-00", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "加入者 3405-2006-00（世帯 3405-2006、続柄 本人、加入者台帳 43 行目）" in done.stdout
    assert "送付先（delivery）: designated_address（国内指定住所）" in done.stdout
    en = _explain("3405-2006-00", "--out", str(out), "--lang", "en")
    assert en.returncode == 0 and "Delivery (delivery): designated_address" in en.stdout
    js = _explain("3405-2006-00", "--out", str(out), "--json")
    assert js.returncode == 0
    doc = json.loads(js.stdout)
    assert doc["lang"] == "ja" and doc["members"][0]["member_id"] == "3405-2006-00"


def test_command_unknown_member_and_old_folder_exit_2(out, tmp_path):
    done = _explain("9999-1-00", "--out", str(out))
    assert done.returncode == 2
    assert "9999-1-00" in done.stderr and "Traceback" not in done.stderr
    # The example id holds twelve digits that pass the check digit: an id, never masked.
    assert "1000-181800-00" in done.stderr and "****" not in done.stderr
    blank = _explain("", "--out", str(out))
    assert blank.returncode == 2 and "加入者IDが空です" in blank.stderr
    assert "1000-181800-00" in blank.stderr and "****" not in blank.stderr
    a_file = _explain("1201-1001-00", "--out", str(out / "report.html"), "--lang", "en")
    assert a_file.returncode == 2 and "report.html is a file" in a_file.stderr
    old = tmp_path / "old"
    shutil.copytree(out, old)
    shutil.copytree(out / EXPLAIN_DIR, tmp_path / "kept")
    shutil.rmtree(old / EXPLAIN_DIR)
    done = _explain("1201-1001-00", "--out", str(old), "--lang", "en")
    assert done.returncode == 2
    assert "Run recon run again" in done.stderr and "Traceback" not in done.stderr
    # Any one of the files damaged: a clear answer, never a traceback.
    for part in PARTS:
        shutil.rmtree(old / EXPLAIN_DIR, ignore_errors=True)
        shutil.copytree(tmp_path / "kept", old / EXPLAIN_DIR)
        (old / EXPLAIN_DIR / f"{part}.parquet").write_bytes(b"not a parquet file")
        done = _explain("1201-1001-00", "--out", str(old))
        assert done.returncode == 2, part
        assert "recon run" in done.stderr and "Traceback" not in done.stderr, part


def test_explain_alone_loads_no_pipeline():
    """The help desk's command must not wait for pandera, DuckDB and GX to load."""
    probe = (
        "import sys; from recon import cli; app = cli._for(['explain', 'x']); "
        "import typer; names = [c.name for c in typer.main.get_group(app).commands.values()]; "
        "print(names, [m for m in ('duckdb', 'pandera', 'great_expectations') if m in sys.modules])"
    )
    assert printed_by_fresh_python(probe) == "['explain'] []"
