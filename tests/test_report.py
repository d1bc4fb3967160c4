"""report.html and the files beside it, read the way the staff and their tools read them."""

import datetime as dt
import json
import re
import stat
from pathlib import Path

import polars as pl
import pytest

from recon import output, pipeline
from recon.findings import catalog
from recon.gate import waivers
from recon.gx_checks import gx_catalog
from recon.output import html, tables
from recon.policy import load_policy
from recon.synthetic import generate
from recon.wording import word, words
from tests.conftest import AS_OF, filing, member

BOM = "\ufeff"
EXPORTS = (
    "confirm_members.csv",
    "confirm_hr.csv",
    "confirm_society.csv",
    "mailing.csv",
    "certificates.csv",
    "overseas_households.csv",
    "no_my_number.csv",
)


def _write(reconcile, tmp_path: Path, roster, filings, lang: str = "ja") -> Path:
    run = reconcile(roster, filings)
    return pipeline.write(run.result, tmp_path / f"out-{lang}", lang)


def _csv(path: Path) -> pl.DataFrame:
    text = path.read_text(encoding="utf-8")
    assert text.startswith(BOM), f"{path.name} has no BOM: Excel would garble it"
    return pl.read_csv(text[1:].encode(), infer_schema=False).fill_null("")


def _list(path: Path, lang: str = "ja") -> pl.DataFrame:
    """A per-audience list, its header row in `lang`, its columns named by code again."""
    frame = _csv(path)
    return frame.rename(tables.list_codes(frame.columns, lang))


def _table_rows(page: str, table_id: str) -> list[str]:
    table = re.search(f'<table id="{table_id}".*?</table>', page, re.S)
    assert table, f"no table {table_id}"
    return re.findall(r"<tr>(.*?)</tr>", table.group(0).split("<tbody>")[1], re.S)


def _family(employee: str = "E1", **insured) -> list[dict]:
    return [
        member(employee, **insured),
        member(employee, "01", relation="spouse", name="山田 花子", name_kana="ヤマダ ハナコ"),
        member(employee, "02", relation="child", name="山田 一郎", name_kana="ヤマダ イチロウ"),
    ]


@pytest.fixture
def mixed(reconcile, tmp_path):
    """A domestic family, an overseas family with a designated address, one without."""
    domestic = _family("E1")
    abroad = _family(
        "E2",
        residence="overseas",
        overseas_type="family_accompanied",
        designated_address="東京都港区芝公園4-2-8",
    )
    lost = _family("E3", residence="overseas", overseas_type="single")
    never = member("E2", "03", relation="child", name="山田 次郎", name_kana="ヤマダ ジロウ")
    never |= {"jp_registered": "no", "birth_date": "2018-05-05"}
    roster = [*domestic, *abroad, never, *lost]
    filings = [filing(p) for p in domestic + abroad + lost]
    return _write(reconcile, tmp_path, roster, filings)


def test_outputs_beside_the_report_and_the_links_to_them(mixed):
    page = (mixed / "report.html").read_text(encoding="utf-8")
    for name in EXPORTS:
        assert (mixed / name).is_file()
        assert f'href="{name}"' in page
    assert (mixed / "gx" / "index.html").is_file() and 'href="gx/index.html"' in page
    summary = json.loads((mixed / "summary.json").read_text(encoding="utf-8"))
    codes = [c.code for c in catalog() + gx_catalog()]
    assert list(summary["findings"]["by_check"]) == codes
    assert summary["gx"]["expectations"] == len(gx_catalog())
    assert summary["gx"]["data_docs"] == "gx/index.html"
    for code in codes:  # every check of the catalog has its row in the page
        assert f'<small class="code">{code}</small>' in page
    assert 'id="waivers"' not in page  # waivers are the gate's, not `recon run`'s


def test_mailing_has_one_row_per_envelope_with_the_documents_inside(mixed):
    mailing = _list(mixed / "mailing.csv")
    assert mailing["household_id"].to_list() == ["1234-1", "1234-2", "1234-3"]
    domestic, abroad, lost = mailing.iter_rows(named=True)
    assert domestic["delivery"] == "household" and domestic["ready"] == "yes"
    assert domestic["notices"] == "3" and domestic["documents"].count("資格情報のお知らせ") == 3
    assert abroad["delivery"] == "designated_address"
    assert "1234-2-03 資格確認書" in abroad["documents"]  # the never-registered child
    assert lost["delivery"] == "undeliverable" and lost["ready"] == "no"
    assert lost["hold_reasons"] == "undeliverable;error_finding"


def test_action_lists_name_who_acts_and_why(mixed):
    hr = _list(mixed / "confirm_hr.csv")
    assert hr["household_id"].to_list() == ["1234-3", "1234-2"]  # the error first
    assert hr["members"].to_list() == ["3", "4"]
    members = _list(mixed / "confirm_members.csv")
    assert members["priority"][0] == "error"  # who to contact first
    # Said in words for the staff, beside the code a script reads.
    assert set(zip(members["priority_text"], members["priority"], strict=True)) <= {
        ("エラー", "error"),
        ("警告", "warning"),
        ("情報", "info"),
        ("", ""),
    }
    assert members["priority_text"][0] == "エラー"
    never = members.filter(pl.col("member_id") == "1234-2-03").row(0, named=True)
    assert "日本で住民登録したことがない" in never["confirm_reasons_text"]
    no_number = _list(mixed / "no_my_number.csv")
    assert no_number["member_id"].to_list() == ["1234-2-03"]
    certificates = _list(mixed / "certificates.csv")
    assert certificates.filter(pl.col("member_id") == "1234-2-03")[
        "certificate_valid_until"
    ].to_list() == ["2030-06-29"]
    overseas = _list(mixed / "overseas_households.csv")
    assert set(overseas["household_id"]) == {"1234-2", "1234-3"}


def test_lists_of_member_ids_survive_the_my_number_mask(reconcile, tmp_path):
    people = _family("E1001", residence="overseas", overseas_type="single")
    out = _write(reconcile, tmp_path, people, [filing(p) for p in people])
    ids = "1234-1001-00, 1234-1001-01, 1234-1001-02"
    assert _list(out / "confirm_hr.csv")["member_ids"].to_list() == [ids]
    assert ids in (out / "report.html").read_text(encoding="utf-8")


def test_hostile_names_are_escaped_in_the_page(reconcile, tmp_path):
    script = "<script>alert(1)</script>"
    image = '"><img src=x onerror=alert(1)>'
    insured = member(name=f"{script} 太郎")
    filed = filing(insured, name=f"{image} 太郎")  # match.name: both names in the detail
    # A gate's waiver is typed by people too: its texts are escaped and masked.
    hostile = waivers.Waiver(
        1, "match.name", f"{script} 番号 123456789018", image, dt.date(2099, 1, 1), "1234-1-00"
    )
    rows = waivers.report_rows([waivers.WaiverStatus(hostile, waivers.ACTIVE, 1)])
    section = output.waivers_section(
        output.waiver_rows(rows, "ja"),
        "ja",
        source=f"{image}.toml",
        judged_on="2025-06-30",
        csv=None,
    )
    run = reconcile([insured], [filed])
    out = pipeline.write(run.result, tmp_path / "out", sections=[section])
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "match.name" in pl.read_csv(out / "findings.csv")["check"].to_list()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; 番号 ********9018" in page  # the waiver
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in page  # as Jinja2 escapes
    assert script not in page and "<img" not in page and "123456789018" not in page
    assert page.count("<script>") == 1  # ours, allowed by hash in the page's CSP
    assert "Content-Security-Policy" in page and "script-src 'sha256-" in page


def test_csv_cells_that_look_like_formulas_are_neutralized(tmp_path):
    frame = pl.DataFrame(
        {
            "cell": ["=1+1", "+81 3", "-2", "@SUM(A1)", "\t=x", "1234-1-00"],
            "safe": ["a", None, "b=1", "", "山田", "x-"],  # nothing to neutralize
            "none": [None] * 6,
            # Categorical columns (the decisions' codes) are looked at too.
            "coded": ["=1+1", "-2", "a", None, "a", "=1+1"],
            "coded_safe": ["a", "b", None, "a", "b=1", "a"],
        },
        schema={
            "cell": pl.String,
            "safe": pl.String,
            "none": pl.String,
            "coded": pl.Categorical,
            "coded_safe": pl.Categorical,
        },
    )
    output.excel_csv(frame, tmp_path / "x.csv")
    got = _csv(tmp_path / "x.csv")
    assert got["cell"].to_list() == ["'=1+1", "'+81 3", "'-2", "'@SUM(A1)", "'\t=x", "1234-1-00"]
    assert got["safe"].to_list() == ["a", "", "b=1", "", "山田", "x-"]
    assert got["coded"].to_list() == ["'=1+1", "'-2", "a", "", "a", "'=1+1"]
    assert got["coded_safe"].to_list() == ["a", "b", "", "a", "b=1", "a"]


def test_verdict_comes_first_and_counts_the_errors(reconcile, tmp_path):
    clean = _write(reconcile, tmp_path, [member()], [filing(member())])
    page = (clean / "report.html").read_text(encoding="utf-8")
    assert re.search(r"<h1>[^<]*</h1>\s*<p id=\"verdict\" class=\"verdict ready\">発送可能", page)
    broken = member(employee="E2")
    blocked = _write(
        reconcile, tmp_path / "b", [broken], [filing(broken, number="123456789019")], "en"
    )
    page = (blocked / "report.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in page
    assert 'class="verdict blocked">Blocked by 1 error: fix it' in page


def test_header_names_the_run_its_policy_and_its_inputs(mixed):
    page = (mixed / "report.html").read_text(encoding="utf-8")
    summary = json.loads((mixed / "summary.json").read_text(encoding="utf-8"))
    run_at = dt.datetime.fromisoformat(summary["run_at"]).astimezone(
        dt.timezone(dt.timedelta(hours=9))
    )
    # In Japan's time, as the staff read it: 2026年11月28日 15:49.
    said = f"{run_at.year}年{run_at.month}月{run_at.day}日 {run_at:%H:%M}"
    assert f"<dd>{said}</dd>" in page and AS_OF.isoformat() in page
    for f in summary["inputs"].values():
        assert f["sha256"] in page and f">{f['rows']}<" in page
    assert "filing_missing_max_percent" in page and "recon 0.1.0" in page


def test_english_lists_use_english_words(reconcile, tmp_path):
    people = _family("E1", residence="overseas", overseas_type="single")
    out = _write(reconcile, tmp_path, people, [filing(p) for p in people], "en")
    hr = _list(out / "confirm_hr.csv", "en")
    assert hr.row(0, named=True)["delivery_text"] == "no address"
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Global HR to confirm" in page and "single" in page
    assert "folder 0700, files 0600" in page  # the page says who can read it


# The header rows people read in Excel, as the catalog words them (a changed word
# must change here too: these are what the staff see).
HEADERS = {
    "ja": {
        "confirm_members.csv": "世帯,加入者,続柄,優先度,確認すること,指摘の内容,送付先,"
        "優先度コード,確認理由コード,個人番号の状態コード,お知らせコード,資格確認書コード,送付先コード",
        "confirm_hr.csv": "世帯,海外赴任区分,送付先,人数,世帯の加入者,海外赴任区分コード,"
        "送付先コード,書類あり",
        "confirm_society.csv": "世帯,加入者,続柄,優先度,指摘の内容,優先度コード,確認理由コード",
        "overseas_households.csv": "世帯,海外赴任区分,送付先,人数,海外居住,書類あり,"
        "海外赴任区分コード,送付先コード,世帯の加入者",
        "no_my_number.csv": "世帯,加入者,続柄,交付理由,有効期限,送付先,交付理由コード,送付先コード",
        "certificates.csv": "世帯,加入者,続柄,交付理由,有効期限,送付先,交付理由コード,送付先コード",
        "mailing.csv": "封筒番号,世帯,送付先コード,送付先,お知らせ（通）,資格確認書（通）,"
        "封入する書類,発送可（yes/no）,保留理由コード",
    },
    "en": {
        "confirm_members.csv": "Household,Member,Relation,Priority,To confirm,Findings,Mailed to,"
        "Priority code,Confirm reason codes,My Number status code,Notice code,Certificate code,"
        "Delivery code",
        "confirm_hr.csv": "Household,Overseas type,Mailed to,Members,Members of the household,"
        "Overseas type code,Delivery code,With documents",
        "confirm_society.csv": "Household,Member,Relation,Priority,Findings,Priority code,"
        "Confirm reason codes",
        "overseas_households.csv": "Household,Overseas type,Mailed to,Members,Overseas,"
        "With documents,Overseas type code,Delivery code,Members of the household",
        "no_my_number.csv": "Household,Member,Relation,Reasons,Valid until,Mailed to,"
        "Certificate reason codes,Delivery code",
        "certificates.csv": "Household,Member,Relation,Reasons,Valid until,Mailed to,"
        "Certificate reason codes,Delivery code",
        "mailing.csv": "Envelope,Household,Delivery code,Mailed to,Notices,Certificates,Documents,"
        "Ready to mail (yes/no),Hold reason codes",
    },
}


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_lists_header_rows_are_in_the_operators_language(reconcile, tmp_path, lang):
    people = _family("E1", residence="overseas", overseas_type="single")
    out = _write(reconcile, tmp_path, people, [filing(p) for p in people], lang)
    assert set(HEADERS[lang]) == set(EXPORTS)
    for name, expected in HEADERS[lang].items():
        first = (out / name).read_text(encoding="utf-8").splitlines()[0]
        assert first == BOM + expected, name
        # Read back by a script, whatever the language: the codes again, cells unchanged.
        back = tables.read_list(out / name)
        assert back.columns == [tables.list_codes([h], lang)[h] for h in expected.split(",")]
        assert back.columns == tables.read_list(out / name, lang).columns
    # The codes' cells stay codes beside their words.
    hr = _list(out / "confirm_hr.csv", lang)
    assert hr["overseas_type"].to_list() == ["single"] and hr["delivery"][0] == "undeliverable"
    # SPEC §8's files keep their column names exactly, in both languages.
    members = (out / "members.csv").read_text(encoding="utf-8").splitlines()[0]
    assert members == (
        "member_id,household_id,active,my_number_status,notice,certificate,certificate_reasons,"
        "certificate_valid_until,delivery,must_confirm,confirm_reasons,confirm_by"
    )
    findings = (out / "findings.csv").read_text(encoding="utf-8").splitlines()[0]
    assert findings == "check,severity,member_id,source,row,field,detail"


def test_a_list_in_one_language_is_not_read_as_the_other(mixed):
    names = (mixed / "mailing.csv").read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    with pytest.raises(ValueError, match="封筒番号"):
        tables.list_codes(names, "en")
    assert tables.list_codes(names)["世帯"] == "household_id"


def test_the_page_says_its_folder_is_owner_only(mixed):
    page = (mixed / "report.html").read_text(encoding="utf-8")
    assert "フォルダ 0700、ファイル 0600" in page
    assert stat.S_IMODE(mixed.stat().st_mode) == 0o700


def test_long_lists_are_cut_in_the_page_and_whole_beside_it(reconcile, tmp_path, monkeypatch):
    monkeypatch.setattr(tables, "LIST_CAP", 2)
    people = [
        member(f"E{i}", name=f"山田 {n}", name_kana=f"ヤマダ {k}", card_status="none")
        for i, (n, k) in enumerate([("一", "イチ"), ("二", "ニ"), ("三", "サン")], 1)
    ]
    out = _write(reconcile, tmp_path, people, [filing(p) for p in people])
    page = (out / "report.html").read_text(encoding="utf-8")
    assert len(_table_rows(page, "table-certificates")) == 2
    assert '3 件中 2 件を表示。全件は <a href="certificates.csv">' in page
    assert _list(out / "certificates.csv").height == 3
    # The page explains as many members as a list shows, and says how to ask for the rest.
    assert len(re.findall(r'<details id="explain-r\d+"', page)) == 2
    assert "最大 2 人" in page and "recon explain 加入者番号 --out このフォルダ" in page
    linked = re.findall(r'<a href="#explain-r(\d+)">', _table_rows(page, "table-certificates")[0])
    assert len(linked) == 1


def _said(markup: str) -> list[str]:
    """The sentences of a piece of the page, one per line, as a reader sees them."""
    import html as escaping

    lines = re.sub(r"<(?:/li|li|ul|/ul|h4|/h4|p[^>]*|/p|summary|/summary)>", "\n", markup)
    return [escaping.unescape(x).strip() for x in re.sub(r"<[^>]+>", "", lines).splitlines()]


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_each_listed_member_links_to_what_recon_explain_says(reconcile, tmp_path, lang):
    from recon import explain

    people = _family("E1", residence="overseas", overseas_type="single")
    people += _family("E2")
    filings = [filing(p) for p in people[1:]]  # the first member has no filing: must confirm
    out = _write(reconcile, tmp_path, people, filings, lang)
    page = (out / "report.html").read_text(encoding="utf-8")
    confirming = _list(out / "confirm_members.csv", lang)["member_id"].to_list()
    assert "1234-1-00" in confirming
    rows = _table_rows(page, "table-confirm_members")
    assert len(rows) == len(confirming)
    for member_id, row in zip(confirming, rows, strict=True):
        (anchor,) = re.findall(rf'<a href="#(explain-r\d+)">{member_id}</a>', row)
        block = re.search(rf'<details id="{anchor}" class="explain">.*?</details>', page, re.S)
        assert block, anchor
        said = [x for x in _said(block.group(0)) if x]
        # Every line `recon explain ID` prints, read from the folder: the same sentences.
        told = explain.render_text(explain.lookup(out, member_id), lang).splitlines()
        assert said == [x.strip() for x in told if x.strip()]
    # Each member's priority in words, coloured and sorted as its code says.
    listed = _list(out / "confirm_members.csv", lang)
    assert set(listed["priority"]) >= {"error"}
    for code, said, row in zip(listed["priority"], listed["priority_text"], rows, strict=True):
        assert said == (word("severity", code, lang) if code else "")
        assert f'<td class="sev-{code}" data-sort="{html.SORT_RANK[code]}">{said}</td>' in row
    decided = "判定とその理由" if lang == "ja" else "Decisions and why"
    assert decided in page and 'href="#explain"' in page  # and in the navigation
    # Households are listed by household: no member row, no link of their own.
    assert 'href="#explain' not in "".join(_table_rows(page, "table-confirm_hr"))


def test_a_large_roster_gives_a_small_page(tmp_path):
    roster, filings = generate(20_000, seed=5)
    roster.write_csv(tmp_path / "roster.csv")
    filings.write_csv(tmp_path / "filings.csv")
    result = pipeline.analyse(
        tmp_path / "roster.csv", tmp_path / "filings.csv", load_policy(), AS_OF
    )
    out = pipeline.write(result, tmp_path / "out")
    page = (out / "report.html").read_text(encoding="utf-8")
    assert len(page.encode()) < 1_500_000
    assert max(len(_table_rows(page, f"table-{k}")) for k in ("certificates",)) <= tables.LIST_CAP
    assert 0 < len(re.findall(r'<details id="explain-r', page)) <= tables.explained_cap()
    assert _list(out / "confirm_members.csv").height == result.members["must_confirm"].sum()


def test_the_page_loads_nothing_from_the_network(mixed):
    page = (mixed / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "default-src 'none'" in page


def test_the_page_is_in_the_operators_words(reconcile, tmp_path):
    """Checks by title with the code beside, GX in words, the bundled sample by name."""
    from recon.runs import sample

    result = pipeline.analyse(sample("roster.csv"), sample("filings.csv"), load_policy(), AS_OF)
    for lang, bundled, all_pass in (
        ("ja", "同梱サンプル", "行すべて適合"),
        ("en", "bundled sample", "rows pass"),
    ):
        out = pipeline.write(result, tmp_path / lang, lang)
        page = (out / "report.html").read_text(encoding="utf-8")
        assert f"<td>{bundled}</td>" in page and "site-packages" not in page
        assert "sample_data/roster.csv" not in page
        assert re.search(r"\d+ (of \d+ rows \(|rows \()", page) is None  # no `0 of 45 rows (0.0%)`
        assert all_pass in page
        # GX renders its Data Docs in English only: the Japanese link says so.
        assert ("Great Expectations が作る英語のページです" in page) == (lang == "ja")
        title = catalog()[0].title(lang)
        code = catalog()[0].code
        assert f'{title} <small class="code">{code}</small>' in page
        # summary.json keeps the interface: the path as read, GX details as counted
        # (in the language of the analysis, like findings.csv's details).
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        assert summary["inputs"]["roster"]["path"].endswith("roster.csv")
        assert all(re.search(r"\d", r["detail"]) for r in summary["gx"]["results"])


def test_each_list_holds_its_audiences_reasons_and_findings_once(reconcile, tmp_path):
    """The employer is not asked about the roster's errors; the society sees only those."""
    insured = member()
    bad_roster = member("E1", "01", relation="spouse", birth_date="R06.13.40")  # roster problem
    out = _write(reconcile, tmp_path, [insured, bad_roster], [filing(insured)])
    employer = _list(out / "confirm_members.csv")
    society = _list(out / "confirm_society.csv")
    spouse = "1234-1-01"
    row = employer.filter(pl.col("member_id") == spouse)
    assert row.height == 1 and "roster_problem" in row["confirm_reasons"][0]
    assert "健保組合" not in row["confirm_reasons_text"][0]
    assert "値を読み取れません" not in row["findings"][0]
    srow = society.filter(pl.col("member_id") == spouse)
    assert "値を読み取れません" in srow["findings"][0]
    assert "個人番号の届出がありません" not in srow["findings"][0]
    # Each list's 優先度 is the worst of what its line says: the roster's error is
    # the society's, so the employer sees the missing filing's warning.
    assert (row["priority"][0], row["priority_text"][0]) == ("warning", "警告")
    assert (srow["priority"][0], srow["priority_text"][0]) == ("error", "エラー")
    for cells in (employer["findings"], society["findings"]):
        for cell in cells:
            said = cell.split(" / ")
            assert len(said) == len(set(said)), cell


def test_the_page_colours_and_sorts_a_priority_by_its_code_not_its_word():
    # The severity code travels beside its word (`ActionList.severities`): the page
    # never reads a code back from a word, so a word it does not know still sorts
    # and colours right, and a list without a code shows plain words.
    shown = pl.DataFrame({"member_id": ["1-1-00", "1-2-00", "1-3-00"], "priority_text": ["?"] * 3})
    listed = tables.ActionList(
        "confirm_members",
        shown,
        3,
        pl.Series("row", [1, 2, 3]),
        pl.Series("priority", ["warning", "error", None]),
    )
    rows = html.list_table(listed, "ja").rows
    assert [(r[1].css, r[1].sort) for r in rows] == [
        ("sev-warning", html.SORT_RANK["warning"]),
        ("sev-error", html.SORT_RANK["error"]),
        ("sev-", html.SORT_RANK[""]),
    ]


def test_a_list_must_carry_one_code_per_shown_row():
    shown = pl.DataFrame({"member_id": ["1-1-00", "1-2-00"], "priority_text": ["?", "?"]})
    with pytest.raises(ValueError, match="1 severities for 2 shown rows"):
        tables.ActionList("confirm_members", shown, 2, None, pl.Series(["error"]))
    with pytest.raises(ValueError, match="1 roster_rows for 2 shown rows"):
        tables.ActionList("confirm_members", shown, 2, pl.Series([1]), pl.Series(["a", "b"]))
    with pytest.raises(ValueError, match="without its severities"):
        tables.ActionList("confirm_members", shown, 2, pl.Series([1, 2]))


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_listed_priority_on_the_page_is_its_rows_own(reconcile, tmp_path, lang):
    # Several priorities on one list, worst first: a code handed to the wrong row
    # (shifted, reversed) would colour or sort someone else's line.
    no_filing = member("E1")
    wrong_birth = member("E2", name="佐藤 花子", name_kana="サトウ ハナコ")
    bad_roster = member("E3", name="鈴木 一郎", name_kana="スズキ イチロウ", birth_date="R06.13.40")
    abroad = member(
        "E4",
        name="田中 二郎",
        name_kana="タナカ ジロウ",
        residence="overseas",
        overseas_type="single",
    )
    filings = [filing(wrong_birth, birth_date="1990-01-02"), filing(abroad)]
    out = _write(reconcile, tmp_path, [no_filing, wrong_birth, bad_roster, abroad], filings, lang)
    page = (out / "report.html").read_text(encoding="utf-8")
    seen = set()
    for key in ("confirm_members", "confirm_society"):
        listed = _list(out / f"{key}.csv", lang)
        rows = _table_rows(page, f"table-{key}")
        assert len(rows) == listed.height > 0
        for member_id, code, said, row in zip(
            listed["member_id"], listed["priority"], listed["priority_text"], rows, strict=True
        ):
            assert f">{member_id}<" in row
            assert f'<td class="sev-{code}" data-sort="{html.SORT_RANK[code]}">{said}</td>' in row
        seen |= {(key, code) for code in listed["priority"]}
    assert {("confirm_members", "error"), ("confirm_members", "warning")} <= seen
    assert ("confirm_society", "error") in seen


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_lists_codes_each_have_a_word_of_their_own(lang):
    # A person tells codes apart by their words: two codes of one kind worded
    # alike would be one on the page and in Excel's filter.
    for kind in ("severity", "relation", "notice", "delivery", "overseas_type"):
        said = words(kind, lang)
        assert len(set(said.values())) == len(said), (kind, said)
    assert set(words("severity", lang)) == set(html.SORT_RANK) - {""}
