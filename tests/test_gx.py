"""Great Expectations on the reconciled tables: suites, findings, Data Docs, privacy."""

import os
import re
import socket

import great_expectations as gx
import polars as pl
import pytest

from recon import gx_adapter, gx_checks
from recon.errors import InvariantError
from recon.findings import SEVERITIES
from tests.conftest import filing, member, my_number


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


def test_needed_columns_include_row_condition_columns():
    suite = {
        "expectations": [
            {
                "kwargs": {
                    "column": "delivery",
                    "row_condition": {
                        "type": "or",
                        "conditions": [
                            {"type": "comparison", "column": {"name": "notice"}},
                            {"type": "comparison", "column": {"name": "certificate"}},
                        ],
                    },
                }
            },
            {"kwargs": {"column_list": ["a", "b"]}},
            {"kwargs": {"value": {"$PARAMETER": "roster_rows"}}},
        ]
    }
    assert gx_adapter.needed_columns(suite) == ["delivery", "notice", "certificate", "a", "b"]


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


def test_gx_results_never_carry_a_full_my_number(reconcile, tmp_path):
    number = my_number(12345678901)
    run = _household(reconcile, missing=2)  # two filing.missing findings to spoil
    leaked = run.findings.with_columns(detail=pl.lit(f"oops {number} / {number[:4]}-{number[4:8]}"))
    quality = _validate(run, findings=leaked)
    outcome = _failed(quality)["finding_detail_shows_no_my_number"]
    assert outcome.count == run.findings.height == 2
    docs = quality.write_docs(tmp_path / "gx").parent
    texts = [outcome.detail, quality.findings.write_csv()]
    texts += [p.read_text(encoding="utf-8") for p in docs.rglob("*.html")]
    assert len(texts) > 5
    for text in texts:
        assert number not in text and number[:4] + "-" + number[4:8] not in text


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
