"""Japanese first, English on request: every text of a run, the help and the details."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import polars as pl
import pytest

from recon import details, texts

ROOT = Path(__file__).resolve().parents[1]
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")
ENGLISH_SENTENCE = re.compile(r"[A-Za-z]{2,}(?: [A-Za-z]{2,}){2,}")
COMMANDS = ("", "run", "check", "gate", "sample")


def recon(*args: str, cwd: Path, lang: str | None = None, columns: int = 80):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECON_", "GITHUB_"))}
    env |= {"PYTHONPATH": str(ROOT), "COLUMNS": str(columns), "TERMINAL_WIDTH": str(columns)}
    if lang:
        env["RECON_LANG"] = lang
    return subprocess.run(
        [sys.executable, "-m", "recon", *args], capture_output=True, text=True, cwd=cwd, env=env
    )


def cells(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def _flat(said: str) -> str:
    return re.sub(r"[\s│╭╮╰╯─*]", "", said)


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("command", COMMANDS)
def test_help_fits_80_columns_and_keeps_every_text(tmp_path, lang, command):
    done = recon(*([command] if command else []), "--help", cwd=tmp_path, lang=lang)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines and max(cells(line) for line in lines) <= 80, done.stdout
    assert "…" not in done.stdout, done.stdout  # nothing cut off
    flat = _flat(done.stdout).replace("[0.0<=x<=1.0]", "").replace("[x>=1]", "")
    key = f"cli.{command or 'app'}.help"
    wanted = [key, "cli.frame.help_option"] + (
        [f"cli.option.{k}" for k in ("roster", "filings", "as_of", "lang")]
        if command in ("run", "gate", "check") and command != "check"
        else []
    )
    for k in wanted:
        assert _flat(texts.text(k, lang)) in flat, (k, done.stdout)
    if lang == "ja":
        assert "Show this message" not in done.stdout


def test_lang_before_the_command_chooses_the_help(tmp_path):
    done = recon("--lang", "en", "run", "--help", cwd=tmp_path)
    assert "Reconcile, decide per member" in done.stdout
    done = recon("run", "--lang=ja", "--help", cwd=tmp_path, lang="en")
    assert "突合し、加入者ごとに判定して" in done.stdout


def test_recon_alone_prints_the_help_and_exits_0(tmp_path):
    done = recon(cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert texts.text("cli.app.help", "ja")[:20] in done.stdout.replace("\n", "")
    assert "run" in done.stdout and "gate" in done.stdout


def test_version(tmp_path):
    from importlib.metadata import version

    done = recon("--version", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.strip() == f"recon {version('recon')}"


@pytest.mark.parametrize("args", [["--lang", "fr", "run"], ["run", "--lang=de"], ["--lang", "EN"]])
def test_an_unknown_language_is_exit_2_in_both_languages(tmp_path, args):
    done = recon(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert "ja か en を指定してください" in done.stderr and "use ja or en" in done.stderr
    assert "Traceback" not in done.stderr


def _english_without_values(detail: str) -> str:
    # Values a sentence quotes as given (names, kana, addresses) are data, not text.
    return re.sub(r"\((?:roster|kana|name|address)[^)]*\)|roster .*? / filing [^)]*", "", detail)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lang")
    done = {}
    for lang in ("ja", "en"):
        args = ["run", "--out", str(folder / lang), "--as-of", "2025-06-30"]
        said = recon(*args, *(["--lang", "en"] if lang == "en" else []), cwd=folder, columns=200)
        assert said.returncode == 0, said.stderr
        findings = pl.read_csv(folder / lang / "findings.csv", infer_schema=False)
        done[lang] = (said.stdout + said.stderr, findings)
    return done


def test_run_in_english_prints_and_writes_no_japanese(runs):
    printed, findings = runs["en"]
    assert not JAPANESE.search(printed), printed
    for check, detail in findings.select("check", "detail").iter_rows():
        assert not JAPANESE.search(_english_without_values(detail)), (check, detail)


def test_run_in_japanese_has_no_english_sentence(runs):
    printed, findings = runs["ja"]
    assert not ENGLISH_SENTENCE.search(printed), printed
    for check, detail in findings.select("check", "detail").iter_rows():
        assert not ENGLISH_SENTENCE.search(detail), (check, detail)


def test_both_languages_find_the_same_findings(runs):
    keep = ["check", "severity", "member_id", "source", "row", "field"]
    assert runs["ja"][1].select(keep).equals(runs["en"][1].select(keep))
    assert runs["ja"][1]["detail"].to_list() != runs["en"][1]["detail"].to_list()


def test_details_are_sentences_with_the_values_in_the_chosen_language():
    frame = pl.DataFrame(
        {
            "check": ["match.birth_date", "match.sex", "my_number.format", "match.identity"]
            + ["match.birth_date", "match.sex"],
            "detail_kind": ["birth_date", "sex", "my_number.lost_leading_zero", "identity"]
            + ["birth_date", "sex"],
            # The last two: one side unreadable (nulled by validation, sql/07).
            "detail_v1": ["1987-08-08", "1", "11", None, None, "1"],
            "detail_v2": ["1987-08-18", "2", None, None, "1987-08-18", None],
            "detail_v3": [None, None, None, "スズキ", None, None],
            "detail_v4": [None, None, None, "サトウ", None, None],
            "detail_v5": [None] * 6,
            "detail_v6": [None] * 6,
            "roster_row": [1, 2, 3, 4, 5, 6],
        },
        schema_overrides={f"detail_v{i}": pl.String for i in range(1, 7)},
    )
    ja = details.render(frame, "ja")
    assert ja.columns == ["check", "detail", "roster_row"]
    assert ja["detail"].to_list() == [
        "生年月日が異なります（台帳 1987-08-08／届出 1987-08-18）",
        "性別が異なります（台帳 男／届出 女）",
        "個人番号が12桁ではありません（11桁：表計算ソフトで先頭の0が落ちた可能性があります。"
        "番号を再提出してもらってください）",
        "本人情報が複数異なります：カナ氏名（台帳 スズキ／届出 サトウ）",
        "生年月日が異なります（台帳 （読み取れない値）／届出 1987-08-18）",
        "性別が異なります（台帳 男／届出 （読み取れない値））",
    ]
    en = details.render(frame, "en")["detail"].to_list()
    assert en[0] == "birth date differs (roster 1987-08-08 / filing 1987-08-18)"
    assert en[1] == "sex differs (roster male / filing female)"
    assert en[4:] == [
        "birth date differs (roster (unreadable) / filing 1987-08-18)",
        "sex differs (roster male / filing (unreadable))",
    ]


def test_every_kind_the_sql_gives_has_a_sentence():
    sql = "".join(
        (ROOT / "sql" / name).read_text(encoding="utf-8")
        for name in ("08_input_finding.sql", "09_finding.sql")
    )
    kinds = set(re.findall(r"'([a-z_]+(?:\.[a-z_0-9]+)?)' AS kind", sql))
    kinds |= {f"my_number.{p}" for p in ("empty", "placeholder", "exponent", "lost_leading_zero")}
    kinds |= set(re.findall(r"THEN '((?:orphan|overseas)\.[a-z_]+)'", sql))
    kinds |= set(re.findall(r"ELSE '((?:orphan|overseas|my_number)\.[a-z_]+)' END AS kind", sql))
    known = set(details.FIELDS) | set(details.LISTS) | {details.GIVEN}
    assert kinds and kinds <= known, kinds - known


def test_every_row_gets_its_detail():
    # Its speed is the run's (bench/); per-row Python anywhere in recon fails
    # tests/test_layers.py instead of a timed assertion here.
    n = 10_000
    frame = pl.DataFrame(
        {
            "check": ["match.birth_date", "match.name"] * (n // 2),
            "detail_kind": ["birth_date", "name"] * (n // 2),
            **{f"detail_v{i}": ["1987-08-08"] * n for i in range(1, 7)},
        }
    )
    written = details.render(frame, "ja")
    assert written.height == n and written["detail"].null_count() == 0
    # Each row its own kind's sentence, alternating as the kinds do.
    birth, name = written["detail"][0], written["detail"][1]
    assert birth.startswith("生年月日") and name.startswith("氏名"), (birth, name)
    assert written["detail"].str.starts_with("生年月日").sum() == n // 2


# --- help wrapped by recon itself, typer and rich untouched ---------------------------


@pytest.mark.parametrize("width", [16, 20, 33, 44])
def test_help_lines_fit_break_between_japanese_and_keep_ascii_whole(width):
    from recon import helptext

    said = texts.text("cli.option.as_of", "ja") + " " + texts.text("cli.option.out", "ja")
    lines = helptext.wrap(said, width)
    assert all(helptext.cells(line) <= width for line in lines), lines
    assert "".join(lines).replace(" ", "") == said.replace(" ", "")  # nothing lost
    assert not any(line[:1] in helptext.NO_LINE_START for line in lines), lines
    assert not any(line[-1:] in helptext.NO_LINE_END for line in lines), lines
    for ascii_word in ("2025-06-30", "members.csv", "reports/latest", "R7.6.30"):
        if ascii_word in said and helptext.cells(ascii_word) + 4 <= width:  # with （ and 、
            assert any(ascii_word in line for line in lines), (ascii_word, lines)


def test_a_word_wider_than_the_line_is_cut_at_the_line():
    from recon import helptext

    assert helptext.wrap("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


def test_the_help_leaves_typer_and_rich_as_they_are(tmp_path):
    """Issue 13: no library internal is replaced; Japanese help fits by recon's own breaks."""
    import typer.rich_utils
    from rich.text import Text

    before = typer.rich_utils._make_rich_text
    from typer.testing import CliRunner

    from recon import cli

    done = CliRunner().invoke(cli._app("ja"), ["run", "--help"], terminal_width=80)
    assert done.exit_code == 0, done.output
    assert typer.rich_utils._make_rich_text is before
    assert Text.__init__.__defaults__ == Text("x").__init__.__defaults__


@pytest.mark.parametrize(
    ("lang", "said"),
    [("ja", "次のいずれでもありません：1（男）、2（女）、3（未設定）"),
     ("en", "not one of 1 (male), 2 (female), 3 (not set)")],
)  # fmt: skip
def test_an_unreadable_sex_lists_the_codes_with_their_words(lang, said):
    from recon import validate

    for source in validate.SCHEMAS:
        problems = validate._problems(source, lang).filter(pl.col("column") == "sex")
        assert problems["problem"].to_list() == [said]


# --- click's usage errors, said by recon in the chosen language -------------------------

USAGE_ERRORS = [
    (["run", "--x"], "--x というオプションはありません。", "No such option: --x."),
    # A close match is a guess, said as one.
    (["run", "--rooster"], "（--roster のことですか？）", "(did you mean --roster?)"),
    # Several guesses: click's best first.
    (["run", "--rost"], "（--roster, --out のことですか？）", "(did you mean --roster, --out?)"),
    (["sample"], "必須のオプション '--out' がありません。", "Missing option '--out'."),
    (
        ["sample", "--out", "s", "--members", "abc"],
        "'--members' の値が正しくありません: 整数で指定してください",
        "Invalid value for '--members': give a whole number",
    ),
    (
        ["sample", "--out", "s", "--members", "0"],
        "'--members' の値が正しくありません: 1 以上で指定してください",
        "Invalid value for '--members': give 1 or more",
    ),
    (
        ["gate", "--fail-on", "bad"],
        "'bad' は使えません。'error', 'warning' のいずれかを指定してください",
        "'bad' is not one of 'error', 'warning'",
    ),
    (
        ["run", "extra"],
        "余分な引数があります（extra）。",
        "unexpected extra argument(s) (extra)",
    ),
    (["nosuch"], "'nosuch' というコマンドはありません。", "No such command 'nosuch'"),
    (["run", "--out"], "'--out' には値が必要です。", "Option '--out' requires a value."),
]


@pytest.mark.parametrize(
    ("args", "ja", "en"), USAGE_ERRORS, ids=[" ".join(a) for a, *_ in USAGE_ERRORS]
)
def test_usage_errors_are_said_in_the_chosen_language_with_exit_2(tmp_path, args, ja, en):
    japanese = recon(*args, cwd=tmp_path)
    english = recon(*args, cwd=tmp_path, lang="en")
    assert japanese.returncode == english.returncode == 2, japanese.stderr + english.stderr
    assert "エラー: " in japanese.stderr and ja in japanese.stderr, japanese.stderr
    assert "Error" not in japanese.stderr, japanese.stderr
    assert not ENGLISH_SENTENCE.search(japanese.stderr.replace("[OPTIONS]", "")), japanese.stderr
    assert "Error: " in english.stderr and en in english.stderr, english.stderr
    assert not JAPANESE.search(english.stderr), english.stderr
    assert "Traceback" not in japanese.stderr + english.stderr
    if args != ["run", "--out"]:  # click has no context yet for an option's missing value
        assert "使い方: python -m recon" in japanese.stderr and "--help' で表示" in japanese.stderr
        assert "Usage: python -m recon" in english.stderr and "for help." in english.stderr


def test_a_my_number_typed_as_an_argument_is_not_echoed(tmp_path):
    from tests.conftest import my_number

    number = my_number(12345678901)
    done = recon("run", number, cwd=tmp_path)
    assert done.returncode == 2 and number not in done.stderr and number[-4:] in done.stderr


# --- the policy, the TOML loader and the gate's key speak one language ----------------


@pytest.mark.parametrize(
    ("written", "ja", "en"),
    [
        (
            "certificate_max_years = true",
            "certificate_max_years = true は真偽値です。5 のような整数で書いてください。",
            "certificate_max_years = true is a boolean; it must be a whole number, like 5.",
        ),
        (
            "snapshot = 2024-08-16",
            "ポリシーにないキーがあります: snapshot（notice_snapshot の誤りでは？）",
            "unknown policy key(s) snapshot (did you mean notice_snapshot?)",
        ),
        (
            "notice_snapshot = 2024-02-30",
            "2 行目: ポリシーのキー notice_snapshot = 2024-02-30 は暦にない日付です。",
            "line 2: policy key notice_snapshot = 2024-02-30 is not a real date",
        ),
        (
            "a = {b = 1",
            "ポリシーファイルが TOML として正しくありません: インラインテーブルが閉じ波かっこで",
            "the policy file is not valid TOML: an inline table is not closed with a brace",
        ),
        (
            "certificate_max_years = 50",
            "は範囲外です。資格確認書の有効年数は 1 から 10 の間でなければなりません。",
            "is out of range: years of certificate validity must lie between 1 and 10.",
        ),
    ],
)
def test_policy_messages_are_in_one_language(tmp_path, monkeypatch, written, ja, en):
    from recon.errors import InputError
    from recon.policy import load_policy

    path = tmp_path / "p.toml"
    path.write_text("# a comment\n" + written + "\n", encoding="utf-8")
    for lang, wanted, other in (("ja", ja, en), ("en", en, ja)):
        monkeypatch.setenv("RECON_LANG", lang)
        with pytest.raises(InputError) as caught:
            load_policy(path)
        said = str(caught.value)
        assert str(path) in said and wanted in said, said
        assert other not in said and " / " not in said.replace(str(path), ""), said
    assert not JAPANESE.search(said), said  # the English one holds no Japanese


def test_gate_key_messages_are_in_one_language(tmp_path, monkeypatch):
    from recon.errors import InputError
    from recon.gate import keys

    monkeypatch.setenv("RECON_LANG", "ja")
    with pytest.raises(InputError, match="バイトしかありません。16 文字以上"):
        keys.load_key(None, {keys.ENV: "short"})
    assert "ゲートの鍵が必要です" in keys.missing_key_message("finding_waiver")
    monkeypatch.setenv("RECON_LANG", "en")
    with pytest.raises(InputError, match="is 5 bytes long; use at least 16"):
        keys.load_key(None, {keys.ENV: "short"})
    said = keys.missing_key_message("baseline", baseline="prev")
    assert said.startswith("--baseline prev needs the gate's key") and not JAPANESE.search(said)
