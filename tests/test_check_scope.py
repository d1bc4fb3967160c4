"""`recon check` validates each file on its own (SPEC §7, "input validation only").

It matches nothing: every finding it gives is exactly the one `recon run` gives
for the same row (a filing row's without its member, which only matching
knows), and none of the findings of matching or deciding.
"""

from __future__ import annotations

import polars as pl
import pytest

from recon import pipeline
from recon.findings import catalog
from recon.policy import load_policy
from recon.runs import sample
from recon.synthetic import generate_sample, write_sample
from tests.conftest import AS_OF
from tests.test_lang import recon

# The checks only matching the two files (or deciding) can give: sql/09_finding.sql.
MATCHING = {
    # a filing compared with the member it matched
    "match.birth_date",
    "match.sex",
    "match.identity",
    "match.name",
    "match.name_kana",
    "match.address",
    "match.name_variant",
    # numbers and filings across members
    "my_number.duplicate",
    "my_number.conflict",
    "filing.orphan",
    "filing.missing",
    # the members' decisions (sql/06_member.sql)
    "overseas.emigrated_before_2015",
    "overseas.never_registered",
}
# Each file's own checks (sql/08_input_finding.sql and validation): every other
# check of SPEC §5 but `input.missing_column`, which stops the run (exit 2).
OWN = {c.code for c in catalog()} - MATCHING - {"input.missing_column"}
ROW = ["check", "severity", "source", "row", "field", "detail"]


@pytest.fixture(scope="module")
def defective(tmp_path_factory):
    """A synthetic pair where a third of the households carry a defect, in CP932."""
    folder = tmp_path_factory.mktemp("defective")
    paths = write_sample(generate_sample(3_000, seed=13, defects=0.33), folder)
    return paths["roster"], paths["filings"]


@pytest.mark.parametrize("pair", ["defective", "shipped sample"])
def test_check_gives_each_file_s_own_findings_exactly_as_run_does(pair, defective):
    roster, filings = (
        defective if pair == "defective" else (sample("roster.csv"), sample("filings.csv"))
    )
    policy = load_policy()
    matched = pipeline.analyse(roster, filings, policy, AS_OF, scope="findings").findings
    alone = pipeline.analyse(roster, filings, policy, AS_OF, scope="inputs").findings
    # The data holds findings of both kinds, or the comparison proves little.
    assert set(matched["check"]) & MATCHING and set(matched["check"]) & OWN
    assert set(matched["check"]) <= MATCHING | OWN
    assert set(alone["check"]) <= OWN
    expected = matched.filter(pl.col("check").is_in(OWN))
    assert alone.select(ROW).sort(ROW).equals(expected.select(ROW).sort(ROW))
    # The roster's rows name their member; a filing row's member is matching's to say.
    roster_side = pl.col("source") == "roster"
    assert (
        alone.filter(roster_side)
        .select([*ROW, "member_id"])
        .sort(ROW)
        .equals(expected.filter(roster_side).select([*ROW, "member_id"]).sort(ROW))
    )
    assert alone.filter(~roster_side)["member_id"].null_count() == alone.filter(~roster_side).height


def test_the_defective_pair_gives_every_one_of_a_file_s_own_checks(defective):
    roster, filings = defective
    alone = pipeline.analyse(roster, filings, load_policy(), AS_OF, scope="inputs")
    assert set(alone.findings["check"]) == OWN
    # Nothing was matched, and the rows read are all accounted for.
    assert alone.filing_match is None and alone.members is None
    assert alone.conservation["holds"] and alone.conservation["filings_matched"] is None


@pytest.mark.subprocess
@pytest.mark.parametrize(
    ("lang", "said"),
    [("ja", "入力の検査のみです"), ("en", "inputs checked on their own only")],
)
def test_check_says_that_it_matched_nothing(lang, said, defective, tmp_path):
    roster, filings = defective
    done = recon(
        "check", "--roster", str(roster), "--filings", str(filings), cwd=tmp_path, lang=lang
    )
    assert done.returncode == 0, done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert said in last and "recon run" in last
    assert "match." not in done.stdout.replace("match.*", "")
    assert not list(tmp_path.iterdir())  # writes nothing


def test_check_shows_no_matching_step_and_every_step_it_shows_is_worded(defective):
    from recon import texts

    roster, filings = defective
    shown: list[str] = []
    pipeline.analyse(roster, filings, load_policy(), AS_OF, scope="inputs", progress=shown.append)
    assert list(dict.fromkeys(shown)) == ["read, normalize and validate", "findings"]
    for step in shown:
        worded = texts.entry_of(f"messages.progress.steps.{step}")
        assert "突合" not in worded["ja"] and "match" not in worded["en"]


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_check_s_last_line_names_every_check_it_leaves_to_run(lang):
    from recon import texts

    said = texts.text("messages.summary.unmatched", lang)
    families = {c.split(".")[0] for c in MATCHING if c.startswith(("match.", "filing."))}
    named = {c for c in MATCHING if c.split(".")[0] not in families} | {f"{f}.*" for f in families}
    assert all(name in said for name in named), named
