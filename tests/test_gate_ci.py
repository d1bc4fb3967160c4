"""`recon gate` as CI runs it: a real git repository, one roster commit after another.

Each step commits an update and runs `examples/ci/recon-gate.sh` (what the example
workflow runs) in a fresh process, with GitHub's environment variables set, then
checks the exit code. Every file and line the gate produced is scanned for every
My Number that was ever filed.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

from tests.conftest import FILINGS, ROSTER, filing, member, my_number, write_csv

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "examples" / "ci" / "recon-gate.sh"
TODAY = dt.date.today()
KEY = "society-secret-" + "7" * 24


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=CI", "-c", "user.email=ci@example.invalid", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


class RosterRepo:
    """The society's roster repository, and the CI job run on each of its commits."""

    def __init__(self, path: Path, tmp: Path):
        self.path = path
        self.tmp = tmp
        self.outputs: list[str] = []  # everything the gate printed
        path.mkdir()
        (path / "roster").mkdir()
        (path / ".gitignore").write_text("reports/\n", encoding="utf-8")
        git(path, "init", "-q", "-b", "main")
        self.step = 0

    def commit(self, message: str, roster, filings, waivers: str | None = None) -> None:
        write_csv(self.path / "roster" / "roster.csv", roster, ROSTER)
        write_csv(self.path / "roster" / "filings.csv", filings, FILINGS)
        waiver_file = self.path / "roster" / "waivers.toml"
        if waivers is not None:
            waiver_file.write_text(waivers, encoding="utf-8")
        elif waiver_file.exists():
            waiver_file.unlink()
        git(self.path, "add", "-A")
        git(self.path, "commit", "-q", "-m", message)

    def ci(self, as_of: dt.date = TODAY, *extra: str) -> subprocess.CompletedProcess:
        self.step += 1
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "RECON": f"{sys.executable} -m recon",
            "RECON_AS_OF": as_of.isoformat(),
            "RECON_OUT": f"reports/step{self.step}",
            "RECON_GATE_KEY": KEY,
            "GITHUB_ACTIONS": "true",
            "GITHUB_STEP_SUMMARY": str(self.tmp / f"step-summary-{self.step}.md"),
        }
        done = subprocess.run(
            ["bash", str(SCRIPT), "--lang", "en", *extra],
            cwd=self.path,
            capture_output=True,
            text=True,
            env=env,
        )
        self.outputs += [done.stdout, done.stderr]
        assert "Traceback" not in done.stderr, done.stderr
        return done

    def report(self, name: str) -> str:
        return (self.path / "reports" / f"step{self.step}" / name).read_text(encoding="utf-8")


def household(employee: str, dependents: int = 1) -> list[dict[str, str]]:
    people = [member(employee=employee)]
    for i in range(dependents):
        people.append(
            member(
                employee=employee,
                branch=f"{i + 1:02d}",
                relation="child",
                name=f"山田 {'一二三'[i]}郎",
                name_kana=f"ヤマダ {['イチ', 'ジ', 'サブ'][i]}ロウ",
                birth_date=f"201{i}-05-05",
            )
        )
    return people


def numbers(rows) -> list[str]:
    return [r["my_number"] for r in rows]


def test_a_month_of_roster_updates_through_the_ci_gate(tmp_path):
    repo = RosterRepo(tmp_path / "roster-repo", tmp_path)
    staff = household("E1") + household("E2")
    filed = [filing(p) for p in staff]
    filed_numbers = numbers(filed)

    # 1. The accepted roster: clean, and no earlier commit to compare with.
    repo.commit("roster 2025-04", staff, filed)
    done = repo.ci()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "every finding counts as new" in done.stderr

    # 2. A new hire whose filing carries a wrong birth date: blocked.
    hire = member(employee="E3", name="佐藤 一郎", name_kana="サトウ イチロウ")
    wrong = filing(hire, birth_date="1980-04-11")
    repo.commit("roster 2025-05: new hire E3", [*staff, hire], [*filed, wrong])
    done = repo.ci()
    assert done.returncode == 1, done.stdout + done.stderr
    assert "gate: FAIL" in done.stdout
    assert re.search(
        r"^::error file=roster/filings\.csv,line=\d+,title=recon gate%3A "
        r"match\.birth_date \(new\)::1234-3-00",
        done.stdout,
        re.M,
    )
    junit = ET.parse(repo.path / "reports" / "step2-junit.xml").getroot()
    (failed,) = [c for c in junit.iter("testcase") if c.find("failure") is not None]
    assert failed.get("name").startswith("match.birth_date")
    assert "1234-3-00" in failed.find("failure").text
    assert "match.birth_date" in repo.report("gate.md")

    # 3. The employer re-files with the right date: passes, and the finding is resolved.
    right = filing(hire)
    repo.commit("roster 2025-05: E3 re-filed", [*staff, hire], [*filed, right])
    done = repo.ci()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 resolved" in done.stdout
    assert "Resolved since the baseline (1)" in repo.report("gate.md")

    # 4. Another hire with the same problem, accepted by a waiver until next month.
    second = member(employee="E4", name="鈴木 二郎", name_kana="スズキ ジロウ")
    wrong2 = filing(second, birth_date="1980-04-12")
    expires = TODAY + dt.timedelta(days=30)
    waiver = (
        '[[waiver]]\ncheck = "match.birth_date"\nmember_id = "1234-4-00"\n'
        'reason = "Birth date confirmed on the koseki; employer re-files next month"\n'
        f'approved_by = "適用課 佐藤"\nexpires_on = {expires.isoformat()}\n'
    )
    roster4, filings4 = [*staff, hire, second], [*filed, right, wrong2]
    repo.commit("roster 2025-06: new hire E4, waived", roster4, filings4, waiver)
    done = repo.ci()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 active (1 finding(s) waived)" in done.stdout
    md = repo.report("gate.md")
    assert "### Waivers" in md and "active, waives 1" in md and "適用課 佐藤" in md

    # 5. Next month's update, run after the waiver's date: the finding counts again.
    child = household("E2", dependents=2)[2]
    roster5, filings5 = [*roster4, child], [*filings4, filing(child)]
    repo.commit("roster 2025-07: E2 adds a child", roster5, filings5, waiver)
    done = repo.ci(expires + dt.timedelta(days=1))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "its waiver has expired" in done.stdout
    assert "1 expired" in done.stdout
    assert "1 member(s) added" in done.stdout

    # Deleting the expired waiver does not let the update through either.
    repo.commit("roster 2025-07: waiver removed", roster5, filings5)
    done = repo.ci(expires + dt.timedelta(days=1))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "under a waiver that no longer holds" in done.stdout

    # No file the gate wrote, and no line it printed, holds a filed My Number.
    every = [*filed_numbers, *numbers([wrong, right, wrong2, filing(child)])]
    assert_no_number(every, repo, tmp_path)


def _forms(number: str) -> list[str]:
    groups = [number[:4], number[4:8], number[8:]]
    wide = number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    return [number, "-".join(groups), " ".join(groups), wide]


def assert_no_number(filed: list[str], repo: RosterRepo, tmp_path: Path) -> None:
    written = [p for p in (repo.path / "reports").rglob("*") if p.is_file()]
    written += list(tmp_path.glob("step-summary-*.md"))
    names = {p.name for p in written}
    assert {"baseline.json", "gate.json", "gate.md", "waivers.csv"} <= names
    assert any(n.endswith("-junit.xml") for n in names) and any(
        n.endswith("-summary.md") for n in names
    )
    texts = [p.read_bytes().decode("utf-8", errors="replace") for p in written]
    blob = unicodedata.normalize("NFC", "\n".join([*texts, *repo.outputs]))
    assert len(set(filed)) > 5
    for number in set(filed):
        for form in _forms(number):
            assert form not in blob, f"a filed My Number in the gate's output ({form[-4:]})"


def test_the_gate_refuses_a_baseline_made_with_another_key(tmp_path):
    people = household("E1")
    roster = write_csv(tmp_path / "r.csv", people, ROSTER)
    filings = write_csv(tmp_path / "f.csv", [filing(p) for p in people], FILINGS)
    args = ["--roster", str(roster), "--filings", str(filings), "--as-of", TODAY.isoformat()]

    def gate(*more: str, key: str | None = KEY) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RECON_", "GITHUB_"))}
        env["PYTHONPATH"] = str(ROOT)
        env["RECON_LANG"] = "en"  # its assertions read the English texts
        if key:
            env["RECON_GATE_KEY"] = key
        return subprocess.run(
            [sys.executable, "-m", "recon", "gate", *args, *more],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env=env,
        )

    first = gate("--out", "accepted")
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "accepted" / "baseline.json").is_file()
    same = gate("--out", "next", "--baseline", "accepted")
    assert same.returncode == 0 and "0 new, 0 still open, 0 resolved" in same.stdout
    other = gate("--out", "x", "--baseline", "accepted", key="another-secret-" + "1" * 20)
    assert other.returncode == 2
    assert "another key" in other.stderr and "Traceback" not in other.stderr
    keyless = gate("--out", "y", "--baseline", "accepted", key=None)
    assert keyless.returncode == 2 and "RECON_GATE_KEY" in keyless.stderr
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_the_pre_commit_hook_runs_the_gate_against_head(tmp_path):
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["language"] == "python" and hook["pass_filenames"] is False
    entry = hook["entry"].split()
    assert entry[:2] == ["recon", "gate"]

    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    people = household("E1")
    paths = ["--roster", "r.csv", "--filings", "f.csv", "--as-of", TODAY.isoformat()]

    def hook_run() -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RECON_", "GITHUB_"))}
        env["PYTHONPATH"] = str(ROOT)
        env["RECON_LANG"] = "en"  # its assertions read the English texts
        return subprocess.run(
            [sys.executable, "-m", "recon", *entry[1:], *hook.get("args", []), *paths],
            cwd=repo,
            capture_output=True,
            text=True,
            env=env,
        )

    # The very first commit has no HEAD to compare with: every finding is new.
    write_csv(repo / "r.csv", people, ROSTER)
    write_csv(repo / "f.csv", [filing(p) for p in people], FILINGS)
    assert hook_run().returncode == 0
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "roster")
    write_csv(repo / "f.csv", [filing(people[0], number=my_number(12345678901))], FILINGS)
    staged = hook_run()
    assert staged.returncode == 0, staged.stdout + staged.stderr  # only a new warning
    assert "1 new" in staged.stdout
