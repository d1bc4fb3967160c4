"""Each SQL stage on its own, on a few hand-made rows, in a real DuckDB.

A stage is given only the tables it declares it reads (so a stage that reads
more fails here), each with the columns and types the real pipeline gives it,
and every column a test leaves out is NULL. The rules are SPEC's; the
end-to-end tests (test_rules.py) cover them through files.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from recon import details, match, normalize, read, stages, validate
from recon.findings import catalog_frame
from recon.policy import load_policy
from tests.conftest import AS_OF, FILINGS, ROSTER, filing, member, write_csv

D = dt.date
# My Number keys as normalize makes them: two 64-bit halves of a keyed hash.
# K1 and K3 share their low half, K1 and K2 their high one: a stage that compared
# one half only would take two of them for one number.
K1, K2, K3 = {"high": 7, "low": 1}, {"high": 7, "low": 2}, {"high": 8, "low": 1}


@pytest.fixture(scope="module")
def shapes(tmp_path_factory) -> dict[str, list[tuple[str, str]]]:
    """table -> its (column, DuckDB type), as the real inputs and stages make them."""
    folder = tmp_path_factory.mktemp("shapes")
    frames = {}
    insured = member()
    for source, rows, columns in (
        ("roster", [insured], ROSTER),
        ("filings", [filing(insured)], FILINGS),
    ):
        raw, _ = read.read_table(write_csv(folder / f"{source}.csv", rows, columns), source)
        frames[source] = validate.validate(normalize.normalize(raw, source), source)
    inputs = {
        "roster": frames["roster"][0],
        "filings": frames["filings"][0],
        "validation_finding": frames["roster"][1],
    }
    with stages.session() as con:
        match.load(con, inputs, load_policy(), AS_OF)
        for stage in stages.stages():
            con.execute(stage.sql)
        names = [*stages.INPUTS, *(s.name for s in stages.stages())]
        return {n: [(c, t) for c, t, *_ in con.sql(f"DESCRIBE {n}").fetchall()] for n in names}


@pytest.fixture
def run_stage(shapes):
    """run_stage(name, params=..., **table_rows) -> the table the stage made."""

    def _run(name: str, params: dict | None = None, **given: list[dict]) -> pl.DataFrame:
        stage = {s.name: s for s in stages.stages()}[name]
        unread = set(given) - set(stage.reads)
        assert not unread, f"{name} does not read {unread}"
        given.setdefault("catalog", catalog_frame().to_dicts())
        given.setdefault("params", [{**load_policy().__dict__, "as_of": AS_OF, **(params or {})}])
        with stages.session() as con:
            for table in stage.reads:
                columns = ", ".join(f'"{c}" {t}' for c, t in shapes[table])
                con.execute(f"CREATE TABLE {table} ({columns})")
                if given.get(table):
                    con.register("given", pl.DataFrame(given[table], infer_schema_length=None))
                    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM given")
                    con.unregister("given")
            con.execute(stage.sql)
            return con.sql(f"SELECT * FROM {name}").pl()

    return _run


def _by(frame: pl.DataFrame, key: str, *columns: str) -> dict:
    return {r[0]: r[1:] if len(r) > 2 else r[1] for r in frame.select(key, *columns).rows()}


def test_household_finds_its_insured_person_by_relation_not_branch(run_stage):
    roster = [
        # The insured person on branch 01 and a spouse on 00: relation decides.
        {"row": 1, "household_id": "5120-12345678", "relation": "spouse", "branch": "00"},
        {"row": 2, "household_id": "5120-12345678", "relation": "self", "branch": "01"},
        {"row": 3, "household_id": "1000-181800", "relation": "self"},
        {"row": 4, "household_id": "1000-181800", "relation": "self"},
        {"row": 5, "household_id": "1000-181801", "relation": "child"},
    ]
    made = run_stage("household", roster=roster)
    assert _by(made, "household_id", "insured_count", "insured_row") == {
        "5120-12345678": (1, 2),
        "1000-181800": (2, None),  # two insured persons: none is the insured person
        "1000-181801": (0, None),
    }


def test_candidate_pair_pairs_by_employee_and_says_which_keys_hold(run_stage):
    person = {"birth_date": D(1980, 4, 1), "kana_key": "ヤマダタロウ", "name_key": "山田太郎"}
    later = D(1980, 4, 2)
    made = run_stage(
        "candidate_pair",
        filings=[{"row": 1, "employee_key": "E1", "relation": "self", "branch": None, **person}],
        roster=[
            {"row": 1, "employee_key": "E1", "relation": "self", "branch": "00", **person},
            {"row": 2, "employee_key": "E1", "relation": "self", **person, "birth_date": later},
            {"row": 3, "employee_key": "E2", "relation": "self", **person},
        ],
    )
    keys = ("by_branch", "by_birth_kana", "by_birth_name", "by_kana_relation", "by_name_relation")
    assert _by(made.sort("roster_row"), "roster_row", *keys) == {
        1: (False, True, True, True, True),  # no branch on the filing: false, never NULL
        2: (False, False, False, True, True),
    }
    assert set(made["filing_row"]) == {1}


def test_filing_match_takes_the_first_key_that_finds_exactly_one_member(run_stage):
    def pair(filing_row, roster_row, **keys):
        flags = ("by_branch", "by_birth_kana", "by_birth_name", "by_kana_relation")
        return {"filing_row": filing_row, "roster_row": roster_row} | {
            k: keys.get(k, False) for k in (*flags, "by_name_relation")
        }

    made = run_stage(
        "filing_match",
        filings=[{"row": 1}, {"row": 2}, {"row": 3}],
        candidate_pair=[
            # Filing 1: the branch finds two members, so it says nothing; kana finds one.
            pair(1, 10, by_branch=True),
            pair(1, 11, by_branch=True, by_birth_kana=True),
            # Filing 3: the branch finds one member and wins over a later key.
            pair(3, 12, by_branch=True),
            pair(3, 13, by_birth_kana=True),
        ],
    )
    assert _by(made, "filing_row", "roster_row", "matched_by", "candidates") == {
        1: (11, "birth_date+name_kana", 2),
        2: (None, None, 0),  # an orphan, still one row
        3: (12, "branch", 2),
    }


def test_number_owner_counts_the_members_of_each_valid_number(run_stage):
    made = run_stage(
        "number_owner",
        filing_match=[
            {"filing_row": 1, "roster_row": 1},
            {"filing_row": 2, "roster_row": 2},
            {"filing_row": 3, "roster_row": 1},
            {"filing_row": 4, "roster_row": None},
            {"filing_row": 5, "roster_row": 3},
        ],
        filings=[
            {"row": 1, "my_number_key": K1},
            {"row": 2, "my_number_key": K1},
            {"row": 3, "my_number_key": K2},
            {"row": 4, "my_number_key": K2},  # an orphan's number belongs to nobody
            {"row": 5, "my_number_key": K3, "my_number_problem": "check_digit"},
        ],
    )
    owners = made.select(pl.col("my_number_key").struct.unnest(), "members")
    assert sorted(owners.rows()) == [(7, 1, 2), (7, 2, 1)]  # K1: 2 members, K2: 1


def test_member_filing_counts_numbers_whatever_their_validity_but_not_empty_ones(run_stage):
    made = run_stage(
        "member_filing",
        filing_match=[{"filing_row": r, "roster_row": 1 if r <= 3 else 2} for r in (1, 2, 3, 4)],
        filings=[
            {"row": 1, "my_number_key": K1, "filed_on": D(2024, 5, 1)},
            {
                "row": 2,
                "my_number_key": K2,
                "my_number_problem": "check_digit",
                "filed_on": D(2024, 3, 1),
            },  # fmt: skip
            {"row": 3, "my_number_key": None, "my_number_problem": "empty"},
            {"row": 4, "my_number_key": K3, "filed_on": D(2024, 6, 1)},
        ],
        number_owner=[{"my_number_key": K1, "members": 1}, {"my_number_key": K3, "members": 2}],
    )
    columns = ("filings", "numbers", "first_filed_on", "any_invalid", "any_duplicate")
    assert _by(made, "roster_row", *columns) == {
        1: (3, 2, D(2024, 3, 1), True, False),
        2: (1, 1, D(2024, 6, 1), False, True),
    }


def test_member_is_active_from_its_first_day_until_the_day_before_loss(run_stage):
    # as_of is 2025-06-30; the system started on 2015-10-15.
    people = {
        1: {"acquired_on": D(2025, 6, 30)},
        2: {"acquired_on": D(2025, 7, 1)},
        3: {"lost_on": D(2025, 6, 30)},
        4: {"lost_on": D(2025, 7, 1)},
        5: {"acquired_on": D(2025, 7, 1)},  # its dates could not be read: counted active
        6: {"residence": "overseas", "emigrated_on": D(2015, 10, 14)},
        7: {"residence": "overseas", "emigrated_on": D(2015, 10, 15)},
    }
    made = run_stage(
        "member",
        roster=[
            {"row": r, "household_id": f"H{r}", "relation": "self", **v} for r, v in people.items()
        ],
        household=[{"household_id": f"H{r}", "insured_count": 1, "insured_row": r} for r in people],
        validation_finding=[
            {
                "check": "input.invalid_value",
                "severity": "error",
                "source": "roster",
                "row": 5,
                "field": "acquired_on",
                "detail": "acquired_on (資格取得日) not a date: 'x'",
            },
        ],  # fmt: skip
    )
    assert _by(made, "row", "active", "period_unreadable", "emigrated_before_system") == {
        1: (True, False, False),
        2: (False, False, False),
        3: (False, False, False),
        4: (True, False, False),
        5: (True, True, False),
        6: (True, False, True),  # left the day before the system started
        7: (True, False, False),
    }


def test_match_compare_flags_a_birth_date_difference_and_never_sex_3(run_stage):
    born = D(1980, 4, 1)
    made = run_stage(
        "match_compare",
        filing_match=[{"filing_row": r, "roster_row": r} for r in (1, 2, 3)],
        filings=[
            {"row": 1, "birth_date": born, "sex": "1"},
            {"row": 2, "birth_date": born, "sex": "3"},
            {"row": 3, "birth_date": None, "sex": "1"},
        ],
        roster=[
            {"row": 1, "birth_date": D(1980, 4, 2), "sex": "1"},
            {"row": 2, "birth_date": born, "sex": "2"},
            {"row": 3, "birth_date": born, "sex": "1"},
        ],
        validation_finding=[
            {
                "check": "input.invalid_value",
                "severity": "error",
                "source": "filings",
                "row": 3,
                "field": "birth_date",
                "detail": "birth_date (生年月日) not a date: '1980-02-30'",
            },
        ],  # fmt: skip
    )
    columns = ("birth_differs", "sex_differs", "filed_birth_date", "roster_birth_date")
    assert _by(made, "filing_row", *columns) == {
        1: (True, False, "1980-04-01", "1980-04-02"),
        # 2: sex 3 (未設定) never mismatches, so the pair agrees and is not kept
        # unreadable (NULL, worded by recon/details.py): the link is unverified
        3: (True, False, None, "1980-04-01"),
    }


def test_match_compare_keeps_a_pair_that_differs_in_any_one_field_and_drops_one_that_agrees(
    run_stage,
):
    same = {
        "birth_date": D(1980, 4, 1), "sex": "1", "name": "山田太郎", "name_plain": "山田太郎",
        "name_key": "山田太郎", "name_kana": "ヤマダタロウ", "kana_plain": "ヤマダタロウ",
        "kana_key": "ヤマダタロウ", "address": "千代田区1-2-3", "address_key": "千代田区1-2-3",
    }  # fmt: skip
    # Each filing differs from its member in one way only; filing 8 agrees in every field.
    differs = {
        1: ("birth_differs", {"birth_date": D(1980, 4, 2)}),
        2: ("sex_differs", {"sex": "2"}),
        3: ("name_differs", {"name": "山田次郎", "name_plain": "山田次郎", "name_key": "山田次郎"}),
        4: ("kana_differs", {"kana_plain": "ヤマダジロウ", "kana_key": "ヤマダジロウ"}),
        5: ("address_differs", {"address_key": "千代田区1-2-4"}),
        6: ("name_variant", {"name": "山﨑太郎", "name_plain": "山﨑太郎"}),  # same key
        7: ("kana_variant", {"kana_plain": "ヤマダタロヴ"}),  # same key once small kana fold
    }
    made = run_stage(
        "match_compare",
        filing_match=[{"filing_row": r, "roster_row": r} for r in range(1, 9)],
        filings=[{"row": r, **same, **differs.get(r, ("", {}))[1]} for r in range(1, 9)],
        roster=[{"row": r, **same} for r in range(1, 9)],
    )
    flags = [flag for flag, _ in differs.values()]
    kept = {row: {f for f in flags if values[f]} for row, values in _rows(made, flags).items()}
    assert kept == {row: {flag} for row, (flag, _) in differs.items()}


def _rows(frame: pl.DataFrame, columns: list[str]) -> dict[int, dict]:
    return {r["filing_row"]: r for r in frame.select("filing_row", *columns).to_dicts()}


def test_input_finding_emits_each_file_s_own_checks_with_the_catalogs_severity(run_stage):
    made = run_stage(
        "input_finding",
        roster=[
            {
                "row": 1,
                "member_id": "5120-12345678-00",
                "household_id": "5120-12345678",
                "relation": "self",
                "insurer_check_ok": True,
            },
            {
                "row": 2,
                "member_id": "5120-12345678-01",
                "household_id": "5120-12345678",
                "relation": "self",
                "insurer_check_ok": True,
            },
        ],  # fmt: skip
        filings=[
            {"row": 7, "my_number_problem": "check_digit", "my_number_masked": "********9018"}
        ],
        household=[{"household_id": "5120-12345678", "insured_count": 2, "insured_row": None}],
    )
    got = made.select("check", "severity", "member_id", "source", "row", "roster_row", "field")
    assert sorted(got.rows(), key=str) == [
        # Whose filing row it is, only matching says: no member yet.
        ("my_number.check_digit", "error", None, "filings", 7, None, "my_number"),
        ("roster.no_insured", "error", "5120-12345678-00", "roster", 1, 1, "relation"),
        ("roster.no_insured", "error", "5120-12345678-01", "roster", 2, 2, "relation"),
    ]
    # The SQL gives the kind and values; recon/details.py writes the sentence.
    assert sorted(made["detail_kind"]) == ["my_number.check_digit", "no_insured", "no_insured"]
    assert "9018" in made.filter(pl.col("source") == "filings")["detail_v1"].item()
    for lang, said in [
        ("ja", "世帯 5120-12345678 に続柄が本人の行が 2 行あります"),
        ("en", "household 5120-12345678 has 2 rows with relation self"),
    ]:
        written = details.render(made, lang).filter(pl.col("check") == "roster.no_insured")
        assert [d.startswith(said) for d in written["detail"]] == [True, True], written


def test_finding_gives_a_filing_row_s_own_finding_its_matched_member(run_stage):
    own = {
        "severity": "error",
        "field": "my_number",
        "detail_kind": "my_number.check_digit",
        "check_order": 1,
    }
    made = run_stage(
        "finding",
        roster=[{"row": 1, "member_id": "5120-12345678-00"}],
        filings=[{"row": 7}, {"row": 8}],
        filing_match=[
            {"filing_row": 7, "roster_row": 1, "candidates": 1},
            {"filing_row": 8, "roster_row": None, "candidates": 0},
        ],
        input_finding=[
            {"check": "my_number.check_digit", "source": "filings", "row": 7, **own},
            {"check": "my_number.check_digit", "source": "filings", "row": 8, **own},
            {
                "check": "roster.insurer_number",
                "source": "roster",
                "row": 1,
                "member_id": "5120-12345678-00",
                "roster_row": 1,
                **own,
            },
        ],
        member=[{"row": 1, "active": True, "has_filing": False}],
    )
    got = made.select("check", "severity", "member_id", "source", "row", "roster_row")
    assert sorted(got.rows(), key=str) == [
        ("filing.missing", "warning", "5120-12345678-00", "roster", 1, 1),
        ("filing.orphan", "error", None, "filings", 8, None),
        ("my_number.check_digit", "error", "5120-12345678-00", "filings", 7, 1),
        ("my_number.check_digit", "error", None, "filings", 8, None),
        # A roster row's own finding keeps its member and row as they were.
        ("roster.insurer_number", "error", "5120-12345678-00", "roster", 1, 1),
    ]


def test_decision_puts_the_wave_boundary_days_in_the_earlier_wave(run_stage):
    # notice_snapshot 2024-08-16 closes wave 1; card_issuance_end 2024-12-01 closes wave 2.
    filed = {1: D(2024, 8, 16), 2: D(2024, 8, 17), 3: D(2024, 12, 1), 4: D(2024, 12, 2)}
    base = {
        "active": True,
        "period_unreadable": False,
        "has_filing": True,
        "overseas_member": False,
        "emigrated_before_system": False,
        "never_registered": False,
        "acquired_on": D(2020, 4, 1),
        "card_status": "held",
        "route_residence": "domestic",
    }
    made = run_stage(
        "decision",
        member=[{"row": r, "member_id": f"1000-181800-0{r}", **base} for r in (*filed, 5)],
        member_filing=[
            {
                "roster_row": r,
                "filings": 1,
                "first_filed_on": day,
                "numbers": 1,
                "any_invalid": False,
                "any_duplicate": False,
            }
            for r, day in (*filed.items(), (5, D(2024, 5, 1)))
        ],  # fmt: skip
    )
    assert _by(made, "row", "notice") == {
        1: "wave1",
        2: "wave2",
        3: "wave2",
        4: "on_enrolment",
        5: "wave1",
    }
    assert set(made["my_number_status"]) == {"linked"}


def test_decision_certificate_ends_the_day_before_the_same_date_five_years_on(run_stage):
    base = {"active": True, "period_unreadable": False, "has_filing": True, "card_status": "none"}
    made = run_stage(
        "decision",
        member=[
            {"row": 1, **base},
            {"row": 2, **base, "lost_on": D(2027, 1, 1)},  # never past the day before the loss
        ],
        member_filing=[
            {"roster_row": r, "numbers": 1, "any_invalid": False, "any_duplicate": False}
            for r in (1, 2)
        ],
    )
    assert _by(made, "row", "certificate", "certificate_reasons", "certificate_valid_until") == {
        1: ("yes", "card_none", D(2030, 6, 29)),
        2: ("yes", "card_none", D(2026, 12, 31)),
    }


def _enum_values(duckdb_type: str) -> list[str]:
    assert duckdb_type.startswith("ENUM("), duckdb_type
    return [v.strip().strip("'") for v in duckdb_type[len("ENUM(") : -1].split(",")]


def test_decision_types_each_code_column_as_the_values_python_knows(shapes):
    from recon.normalize.codes import CODES
    from recon.output.model import CERTIFICATES, DELIVERIES, MY_NUMBER_STATUSES, NOTICES

    typed = dict(shapes["decision"])
    assert {
        column: sorted(_enum_values(typed[column]))
        for column in (
            "my_number_status",
            "notice",
            "certificate",
            "delivery",
            "relation",
            "overseas_type",
            "route_residence",
        )
    } == {
        "my_number_status": sorted(MY_NUMBER_STATUSES),
        "notice": sorted(NOTICES),
        "certificate": sorted(CERTIFICATES),
        "delivery": sorted(DELIVERIES),
        "relation": sorted(CODES["relation"]),
        "overseas_type": sorted(CODES["overseas_type"]),
        "route_residence": sorted(CODES["residence"]),
    }


def test_decision_fails_on_a_code_outside_its_values_instead_of_writing_it(run_stage):
    import duckdb

    base = {"active": True, "period_unreadable": False, "has_filing": True}
    made = run_stage("decision", member=[{"row": 1, **base, "relation": "child"}])
    assert made["relation"].to_list() == ["child"]
    with pytest.raises(duckdb.ConversionException):
        run_stage("decision", member=[{"row": 1, **base, "relation": "cousin"}])
