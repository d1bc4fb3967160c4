"""Great Expectations on the reconciled tables: suites, findings, Data Docs, privacy."""

import datetime as dt
import gc
import json
import os
import re
import socket
import threading

import great_expectations as gx
import polars as pl
import pytest

from recon import gx_adapter, gx_checks
from recon.errors import InvariantError
from recon.findings import SEVERITIES
from tests.conftest import filing, fresh_python, member, my_number


def _household(reconcile, missing: int = 0, **policy):
    """An insured person and three dependents; the last `missing` of them have no filing."""
    people = [member()] + [
        member(branch=f"0{i}", relation="child", name=f"山田 {n}", name_kana=f"ヤマダ {k}")
        for i, (n, k) in enumerate(
            [("一郎", "イチロウ"), ("二郎", "ジロウ"), ("三郎", "サブロウ")], 1
        )
    ]
    filed = people[: len(people) - missing]
    return reconcile(people, [filing(p) for p in filed], **policy)


def _validate(run, members=None, pairs=None, findings=None):
    r = run.result
    return gx_checks.validate(
        r.members if members is None else members,
        r.filing_match if pairs is None else pairs,
        r.findings if findings is None else findings,
        r.roster.rows,
        r.filings.rows,
        r.policy,
    )


def _failed(quality) -> dict[str, gx_checks.Outcome]:
    return {o.check.name: o for o in quality.outcomes if not o.success}


def test_every_suite_is_gx_json_with_what_the_report_needs():
    suites = gx_checks.suites()
    assert {s.table for s in suites} == {"members", "households", "pairs", "findings"}
    for suite in suites:
        assert suite.source in ("roster", "filings")
        parsed = gx.ExpectationSuite(**suite.spec)  # GX itself accepts the file
        assert len(parsed.expectations) == len(suite.checks) > 0
        assert "my_number" not in gx_adapter.needed_columns(suite.spec)
        for check in suite.checks:
            c = check.check
            assert re.fullmatch(r"gx\.[a-z0-9_]+", c.code) and c.severity in SEVERITIES
            assert c.title_ja and c.title_en and c.action_ja and c.action_en


def test_needed_columns_are_the_columns_expectations_name():
    suite = {
        "expectations": [
            {"kwargs": {"column": "delivery"}},
            {"kwargs": {"column_list": ["a", "b"]}},
            {"kwargs": {"column_A": "c", "column_B": "delivery"}},
            {"kwargs": {"value": {"$PARAMETER": "roster_rows"}}},
        ]
    }
    assert gx_adapter.needed_columns(suite) == ["delivery", "a", "b", "c"]


def test_a_suite_with_a_row_condition_is_refused():
    # GX's pandas engine filters the whole frame again for each metric of such an
    # expectation: the rows it selects are a column of the table instead.
    suite = _probe_suite()
    suite["expectations"][0]["kwargs"]["row_condition"] = {
        "type": "comparison", "column": {"name": "on"}, "operator": "==", "parameter": True
    }  # fmt: skip
    with pytest.raises(InvariantError, match="row_condition"):
        gx_adapter.validate([(suite, _probe_table())], {})
    for shipped in gx_checks.suites():
        gx_adapter.refuse_row_conditions(shipped.spec)


def test_selected_columns_read_missing_values_as_gx_row_conditions_did():
    """A pandas query: a missing value equals nothing and differs from everything."""
    members = pl.DataFrame(
        {
            "row": [1, 2, 3, 4, 5],
            "household_id": ["h"] * 5,
            "relation": ["self"] + ["child"] * 4,
            "active": [True, None, False, True, True],
            "notice": ["wave1", None, "none", None, "none"],
            "my_number_status": ["linked", "missing", "linked", None, "missing"],
            "certificate": ["yes", "no", None, "no", "yes"],
            "certificate_reasons": ["card_none", "", "x", None, ""],
            "certificate_valid_until": [None, None, dt.date(2026, 1, 1), None, None],
            "delivery": ["household", None, "none", "household", "none"],
            "must_confirm": [True, None, False, True, None],
            "confirm_by": ["hr", "", "", None, ""],
        }
    )
    empty = pl.DataFrame(schema={"source": pl.String, "check": pl.String, "row": pl.Int64,
                                 "field": pl.String, "detail": pl.String})  # fmt: skip
    frames = gx_checks.tables(members, pl.DataFrame(), empty)
    of_members = [n for n, c in gx_checks.SELECTED.items() if c.table == "members"]
    assert frames["members"].select(of_members).to_dict(as_series=False) == {
        "notice_missing_when_active": [False, None, None, True, False],
        "status_when_notice": ["linked", None, None, None, None],
        "reasons_when_no_certificate": [None, "", None, None, None],
        "reasons_when_certificate": ["card_none", None, None, None, ""],
        "validity_missing_when_certificate": [True, None, None, None, True],
        # A missing notice is not "none": the member is selected.
        "delivery_when_document": ["household", None, None, "household", "none"],
        "delivery_when_lost": [None, None, "none", None, None],
        "confirm_by_when_must_confirm": ["hr", None, None, None, None],
        "status_when_active": ["linked", None, None, None, "missing"],
    }
    assert gx_checks.selected_rows(frames) == {
        "notice_missing_when_active": 3,
        "status_when_notice": 1,
        "reasons_when_no_certificate": 2,
        "reasons_when_certificate": 2,
        "validity_missing_when_certificate": 2,
        "delivery_when_document": 4,
        "delivery_when_lost": 1,
        "confirm_by_when_must_confirm": 2,
        "status_when_active": 3,
        "self_count_when_mailed": 1,
    }


def test_a_clean_household_passes_every_expectation(reconcile):
    run = _household(reconcile)
    quality = run.result.quality
    assert len(quality.outcomes) == len(gx_checks.gx_catalog())
    assert _failed(quality) == {}
    assert not run.checks()  # and no gx.* finding


def test_too_many_missing_filings_is_a_gx_warning_on_the_roster(reconcile):
    run = _household(reconcile, missing=3, filing_missing_max_percent=50)
    finding = run.finding("gx.filing_missing_share")
    assert finding["severity"] == "warning"
    assert (finding["source"], finding["row"], finding["member_id"]) == ("roster", None, None)
    assert finding["field"] == "my_number_status"
    assert finding["detail"].startswith("3 of 4 rows (75.0%)")
    # Under the limit, the same gaps are only the filing.missing warnings.
    assert (
        "gx.filing_missing_share"
        not in _household(reconcile, missing=3, filing_missing_max_percent=80).checks()
    )


def test_a_decision_that_breaks_an_invariant_fails_its_expectation(reconcile):
    run = _household(reconcile)
    broken = run.members.with_columns(
        certificate_reasons=pl.when(pl.col("member_id") == "1234-1-01")
        .then(pl.lit("card_none"))
        .otherwise(pl.col("certificate_reasons")),
        delivery=pl.when(pl.col("member_id") == "1234-1-02")
        .then(pl.lit("none"))
        .otherwise(pl.col("delivery")),
    )
    failed = _failed(_validate(run, members=broken))
    assert set(failed) == {"no_certificate_no_reasons", "delivery_for_every_document"}
    assert failed["no_certificate_no_reasons"].count == 1
    assert failed["no_certificate_no_reasons"].check.check.severity == "error"
    assert failed["delivery_for_every_document"].detail.startswith("1 of 4 rows")


def test_a_filing_matched_twice_and_a_lost_roster_row_are_caught(reconcile):
    run = _household(reconcile)
    pairs = pl.concat([run.result.filing_match, run.result.filing_match.head(1)])
    failed = _failed(_validate(run, members=run.members.head(3), pairs=pairs))
    assert set(failed) >= {"filing_matched_once", "pairs_equal_filing_rows"}
    assert failed["pairs_equal_filing_rows"].detail.startswith("observed 5")
    assert "members_equal_roster_rows" in failed


def test_a_mailed_household_without_insured_person_is_caught_unless_reported(reconcile):
    run = _household(reconcile)
    orphaned = run.members.with_columns(relation=pl.lit("child"))
    assert "mailed_household_has_one_insured" in _failed(_validate(run, members=orphaned))
    # The real roster.no_insured finding already asks the society to fix it: not twice.
    no_self = [member(relation="spouse"), member(branch="01", relation="child", name="山田 花")]
    reported = reconcile(no_self, [filing(p) for p in no_self])
    assert "roster.no_insured" in reported.checks()
    assert not any(c.startswith("gx.") for c in reported.checks())


def test_gx_results_never_carry_a_full_my_number(reconcile, tmp_path, monkeypatch):
    number = my_number(12345678901)
    run = _household(reconcile, missing=2)  # two filing.missing findings to spoil
    # A name that holds a number (a column shift), quoted by a free-text check.
    leaked = run.findings.with_columns(
        check=pl.lit("match.name"),
        field=pl.lit("name"),
        detail=pl.lit(f"oops {number} / {number[:4]}-{number[4:8]}"),
    )
    # Written scrubbed, so the expectation holds: a shifted number is no bug of recon.
    assert "finding_detail_shows_no_my_number" not in _failed(_validate(run, findings=leaked))
    # A scrubber that let it through is one, and fails the run.
    monkeypatch.setattr(gx_checks, "written_findings", lambda findings: findings)
    quality = _validate(run, findings=leaked)
    outcome = _failed(quality)["finding_detail_shows_no_my_number"]
    assert outcome.count == run.findings.height == 2
    assert outcome.check.check.severity == "error"
    docs = quality.write_docs(tmp_path / "gx").parent
    texts = [outcome.detail, quality.findings.write_csv()]
    texts += [p.read_text(encoding="utf-8") for p in docs.rglob("*.html")]
    assert len(texts) > 5
    for text in texts:
        assert number not in text and number[:4] + "-" + number[4:8] not in text


def test_identifiers_in_details_never_fail_the_my_number_expectation(reconcile):
    # Employee and member ids whose twelve digits pass the check digit, quoted by
    # checks whose details quote identifiers: ids, not My Numbers (SPEC §9).
    employee_id = my_number(98765432100)
    run = _household(reconcile, missing=2)
    quoted = run.findings.with_columns(
        check=pl.Series(["filing.orphan", "roster.duplicate_member"]),
        detail=pl.Series(
            [
                f"no roster member has employee id {employee_id}",
                "member_id 1000-181800-00 is on 2 roster rows",
            ]
        ),
    )
    assert "finding_detail_shows_no_my_number" not in _failed(_validate(run, findings=quoted))


def test_a_my_number_column_never_reaches_gx(reconcile):
    run = _household(reconcile)
    suite = gx_checks.suites()[0].spec
    table = run.members.with_columns(my_number=pl.lit(my_number(1))).to_arrow()
    with pytest.raises(InvariantError, match="my_number"):
        gx_adapter.validate([(suite, table)], {})


def test_result_format_keeps_no_failing_value():
    assert gx_adapter.RESULT_FORMAT["partial_unexpected_count"] == 0
    assert gx_adapter.RESULT_FORMAT["result_format"] in ("BASIC", "BOOLEAN_ONLY", "SUMMARY")
    assert gx_adapter.RESULT_FORMAT["include_unexpected_rows"] is False


def test_gx_runs_and_builds_data_docs_without_the_network(reconcile, tmp_path, monkeypatch):
    run = _household(reconcile)

    def refuse(*args, **kwargs):
        raise AssertionError(f"network use: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    quality = _validate(run)
    index = quality.write_docs(tmp_path / "gx")
    assert index.name == "index.html" and "recon.members" in index.read_text(encoding="utf-8")
    pages = [p for p in index.parent.rglob("*") if p.suffix in (".html", ".css")]
    assert len(pages) >= 9  # the index, a validation page and a suite page per suite, the CSS
    external = re.compile(r"""(src|href)\s*=\s*["']?(https?:)?//|url\(\s*["']?(https?:)?//""")
    for page in pages:
        assert not external.search(page.read_text(encoding="utf-8")), page


def test_analytics_are_off_after_a_run(reconcile):
    _household(reconcile)
    assert os.environ["GX_ANALYTICS_ENABLED"] == "False"


def test_failing_values_stay_out_of_results_and_data_docs(tmp_path):
    """The first line of defence: the result format keeps counts, not values.

    A name is not a number, so `scrub` would not hide it: only the format does.
    """
    suite = {
        "name": "probe",
        "expectations": [
            {
                "type": "expect_column_values_to_be_in_set",
                "kwargs": {"column": "name", "value_set": ["nobody"]},
                "meta": {"name": "probe"},
            }
        ],
    }
    table = pl.DataFrame({"name": ["秘密花子", "秘密太郎"]}).to_arrow()
    validation = gx_adapter.validate([(suite, table)], {})
    (outcome,) = validation.outcomes
    assert (outcome.success, outcome.unexpected_count, outcome.element_count) == (False, 2, 2)
    docs = validation.write_docs(tmp_path / "gx").parent
    pages = [p.read_text(encoding="utf-8") for p in docs.rglob("*.html")]
    assert any("probe" in page for page in pages)
    assert not any("秘密" in page for page in pages)


# --- speed: what makes GX cheap at a million members must not change what it says ---


@pytest.fixture
def nothing_prepared():
    """Each test starts and ends without a context built ahead by `preload`."""
    gx_adapter._prepared = None
    yield
    gx_adapter._prepared = None


def _probe_suite(name: str = "probe") -> dict:
    """A suite of plain column expectations, some on columns empty outside their rows."""

    def expect(kind, meta, **kwargs):
        return {"type": kind, "kwargs": kwargs, "meta": {"name": meta}}

    return {
        "name": name,
        "expectations": [
            expect("expect_column_values_to_be_in_set", "a", column="kind_when_on",
                   value_set=["x", "y"]),
            expect("expect_column_values_to_be_in_set", "b", column="until_missing_when_on",
                   value_set=[False]),
            expect("expect_column_values_to_not_be_in_set", "c", column="kind",
                   value_set=["z"]),
            expect("expect_column_values_to_be_between", "d", column="n",
                   min_value=1, max_value=2),
            expect("expect_column_values_to_be_unique", "e", column="id"),
        ],
    }  # fmt: skip


def _probe_table(rows: int = 60):
    on = [i % 4 != 0 for i in range(rows)]
    kind = [("x", "y", "z", None)[i % 7 % 4] for i in range(rows)]
    until = [None if i % 9 == 0 else dt.date(2026, 1, 1 + i % 28) for i in range(rows)]
    return pl.DataFrame(
        {
            "id": [i % (rows - 3) for i in range(rows)],  # three duplicates
            "kind": kind,
            "kind_when_on": [k if o else None for k, o in zip(kind, on, strict=True)],
            "until_missing_when_on": [
                (u is None) if o else None for u, o in zip(until, on, strict=True)
            ],
            "n": pl.Series([i % 3 for i in range(rows)], dtype=pl.UInt32),
        }
    ).to_arrow()


def _said(validation) -> list[tuple]:
    return [(o.name, o.success, o.element_count, o.unexpected_count) for o in validation.outcomes]


def test_cheap_frames_say_what_plain_gx_says(monkeypatch, nothing_prepared):
    suite, table = _probe_suite(), _probe_table()
    fast = gx_adapter.validate([(suite, table)], {})
    monkeypatch.setattr(gx_adapter, "_pandas", lambda t, keep_text=(): t.to_pandas())
    plain = gx_adapter.validate([(suite, table)], {})
    assert _said(fast) == _said(plain)
    assert [o.success for o in fast.outcomes] == [False, False, False, False, False]


def test_cheapest_frame_keeps_every_value_and_null():
    table = pl.DataFrame(
        {
            "few": ["a", "b", None, "a"] * 25,
            "many": [f"v{i}" for i in range(100)],
            "ordered": ["a", "b", None, "a"] * 25,
            "already": pl.Series(["a", "b", None, "a"] * 25, dtype=pl.Categorical),
            "flag": [True, None, False, True] * 25,
            "count": pl.Series(range(100), dtype=pl.UInt32),
            "small": pl.Series(range(100), dtype=pl.Int16),
            "day": [dt.date(2026, 1, 1), None] * 50,
        }
    ).to_arrow(compat_level=pl.CompatLevel.newest())
    frame = gx_adapter._pandas(table, keep_text={"ordered", "already"})
    kinds = {c: str(t) for c, t in frame.dtypes.items()}
    assert kinds["few"] == kinds["flag"] == "category" and kinds["many"] != "category"
    # pandas cannot order a category against a value: text that must be text is,
    # even when it came categorical.
    assert kinds["ordered"] != "category" and kinds["already"] != "category"
    assert kinds["count"] == kinds["small"] == "int64"  # what GX's `between` vectorizes
    assert kinds["day"].startswith("datetime64")
    expected = table.to_pandas()
    for column in table.column_names:
        got, want = frame[column].tolist(), expected[column].tolist()
        assert [None if v is None or v != v else v for v in got] == [
            None if v is None or v != v else v for v in want
        ] or column == "day"
    assert frame["day"].isna().sum() == 50
    assert gx_adapter._pandas(table, keep_text=None)["few"].dtype != "category"  # can't tell: text


def test_text_columns_are_those_an_expectation_reads_beyond_membership():
    suite = _probe_suite()
    assert gx_adapter.text_columns(suite) == {"n"}  # between: by order
    # An expectation not known to be safe on categoricals keeps its column text.
    suite["expectations"].append(
        {"type": "expect_column_values_to_be_of_type", "kwargs": {"column": "id", "type_": "str"}}
    )
    assert gx_adapter.text_columns(suite) == {"n", "id"}


def test_the_shipped_suites_are_not_changed_by_running_them(reconcile, nothing_prepared):
    before = json.dumps([s.spec for s in gx_checks.suites()], sort_keys=True)
    gx_checks.preload()
    _household(reconcile)  # GX writes into the suite dicts it is given: never ours
    assert json.dumps([s.spec for s in gx_checks.suites()], sort_keys=True) == before


def test_gx_keeps_no_frame_once_a_run_is_over(nothing_prepared):
    import pandas as pd

    rows = 4321
    validation = gx_adapter.validate([(_probe_suite(), _probe_table(rows))], {})
    gc.collect()
    alive = [o for o in gc.get_objects() if isinstance(o, pd.DataFrame | pd.Series) and len(o)]
    assert not [o for o in alive if len(o) in (rows, rows - rows // 4)], "GX kept a frame"
    assert validation.outcomes  # and the validation itself is intact


def test_preload_builds_the_context_the_next_validate_takes_once(
    monkeypatch, tmp_path, nothing_prepared
):
    built = []
    session = gx_adapter._Session

    def counted(suites):
        built.append([s["name"] for s in suites])
        return session(suites)

    monkeypatch.setattr(gx_adapter, "_Session", counted)
    suite = _probe_suite()
    gx_adapter.preload([suite])
    gx_adapter.preload([suite])  # already built: kept
    first = gx_adapter.validate([(suite, _probe_table())], {})
    assert built == [["probe"]]
    second = gx_adapter.validate([(suite, _probe_table())], {})  # taken once: a new one
    assert built == [["probe"], ["probe"]]
    assert _said(first) == _said(second)
    # A context serves one run: its Data Docs show that run only.
    docs = second.write_docs(tmp_path / "gx").parent
    assert len(list((docs / "validations").rglob("*.html"))) == 1
    # Other suites than those preloaded: built for them, not the preloaded one.
    gx_adapter.preload([suite])
    gx_adapter.validate([(_probe_suite("other"), _probe_table())], {})
    assert built[-1] == ["other"]


def test_validate_waits_for_a_preload_in_progress(monkeypatch, nothing_prepared):
    started, go_on = threading.Event(), threading.Event()
    built = []
    session = gx_adapter._Session

    def slow(suites):
        if threading.current_thread().name == "preload":
            started.set()
            assert go_on.wait(30)
        built.append(threading.current_thread().name)
        return session(suites)

    monkeypatch.setattr(gx_adapter, "_Session", slow)
    suite, results = _probe_suite(), []
    preload = threading.Thread(target=gx_adapter.preload, args=([suite],), name="preload")
    preload.start()
    assert started.wait(30)
    run = threading.Thread(
        target=lambda: results.append(gx_adapter.validate([(suite, _probe_table())], {})),
        name="validate",
    )
    run.start()
    run.join(0.5)
    assert run.is_alive()  # waiting for the preload, not building a second context beside it
    go_on.set()
    preload.join(30)
    run.join(60)
    assert built == ["preload"] and len(results) == 1
    assert [o.success for o in results[0].outcomes] == [False] * 5


def test_the_next_table_is_made_while_gx_validates_the_one_before(monkeypatch, nothing_prepared):
    """Tables given as functions are made on a thread of their own, in order, one
    ahead of GX; the outcomes come in suite order."""
    said = []
    checked = gx_adapter._checked

    def noting(suite, result):
        said.append(f"validated {suite}")
        return checked(suite, result)

    def table(name, rows):
        def make():
            said.append(f"making {name}")
            return _probe_table(rows)

        return make

    monkeypatch.setattr(gx_adapter, "_checked", noting)
    sizes = {"first": 60, "second": 30}
    batches = [(_probe_suite(name), table(name, rows)) for name, rows in sizes.items()]
    validation = gx_adapter.validate(batches, {})
    assert said.index("making second") < said.index("validated first")
    assert [o.suite for o in validation.outcomes] == ["first"] * 5 + ["second"] * 5
    assert validation.outcomes[0].element_count == 60 and validation.outcomes[5].element_count == 30


def test_a_table_that_cannot_be_made_fails_the_validation_and_leaves_no_thread(
    nothing_prepared,
):
    def broken():
        raise InvariantError("this table cannot be made")

    # The tables after it wait for a frame's place: they must not hold the failure up.
    batches = [(_probe_suite("first"), _probe_table()), (_probe_suite("broken"), broken)]
    batches += [(_probe_suite(f"after {i}"), _probe_table) for i in range(3)]
    with pytest.raises(InvariantError, match="cannot be made"):
        gx_adapter.validate(batches, {})
    assert not [t for t in threading.enumerate() if t.name.startswith("recon-gx-frames")]


def test_an_expectation_that_cannot_run_fails_the_validation_and_leaves_no_thread(
    nothing_prepared,
):
    broken = {
        "name": "broken",
        "expectations": [
            {
                "type": "expect_column_values_to_match_regex",
                "kwargs": {"column": "kind", "regex": "("},  # no regular expression at all
                "meta": {"name": "unreadable_pattern"},
            }
        ],
    }
    batches = [(broken, _probe_table)]
    batches += [(_probe_suite(f"after {i}"), _probe_table) for i in range(3)]
    with pytest.raises(InvariantError, match="unreadable_pattern could not run"):
        gx_adapter.validate(batches, {})
    assert not [t for t in threading.enumerate() if t.name.startswith("recon-gx-frames")]


def test_a_context_built_meanwhile_does_not_disturb_a_run(monkeypatch, tmp_path, nothing_prepared):
    """GX keeps one "current" context per process; each run stays on its own."""
    pandas_frame = gx_adapter._pandas
    calls = []

    def meanwhile(table, ordered=()):
        if not calls:  # between this run's context and its first validation
            other = threading.Thread(target=gx_adapter.preload, args=([_probe_suite("other")],))
            other.start()
            other.join()
        calls.append(1)
        return pandas_frame(table, ordered)

    monkeypatch.setattr(gx_adapter, "_pandas", meanwhile)
    validation = gx_adapter.validate([(_probe_suite(), _probe_table())], {})
    assert gx_adapter._prepared is not None  # the other context was built
    assert len(validation.outcomes) == 5
    index = validation.write_docs(tmp_path / "gx")
    assert "probe" in index.read_text(encoding="utf-8")
    assert "other" not in index.read_text(encoding="utf-8")


def test_preload_in_a_background_thread_while_a_run_imports_and_works(tmp_path):
    """GX is imported in a thread while the main thread imports and runs everything else."""
    out = tmp_path / "out"
    script = (
        "import sys, threading\n"
        "from recon import gx_checks\n"
        "preload = threading.Thread(target=gx_checks.preload)\n"
        "preload.start()\n"
        "from recon.cli import app\n"
        f"args = ['run', '--as-of', '2025-06-30', '--out', {str(out)!r}]\n"
        "code = app(args, standalone_mode=False)\n"
        "preload.join()\n"
        "sys.exit(code)\n"
    )
    done = fresh_python(script)
    assert done.returncode in (0, 1), done.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["gx"]["expectations"] == len(gx_checks.gx_catalog())
    assert (out / "gx" / "index.html").exists()


@pytest.fixture(autouse=True)
def _english_counts(monkeypatch):
    # GX's counts are asserted as recon says them in English ("3 of 4 rows",
    # "observed 5"; tests/fixtures/gx_outcomes.json was captured so); the words in
    # Japanese are tests/test_report.py's and tests/test_lang.py's.
    monkeypatch.setenv("RECON_LANG", "en")
