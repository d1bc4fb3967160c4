"""A baseline is evidence: sealed under the gate's key, any edit stops the gate (exit 2).

The seal is HMAC-SHA256 of both files' exact bytes (`baseline.seal`): it does
not canonicalize, so reformatting `baseline.json` or re-saving the members file
is an edit like any other. Someone holding the key can still write a baseline;
what such a baseline holds is then checked for shape (exit 2, never 3).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from recon.errors import InputError
from recon.gate import baseline, keys
from tests.conftest import FILINGS, ROSTER, filing, write_csv
from tests.test_gate import AS_OF, KEY, Gate, household

ROOT = Path(__file__).resolve().parent.parent
CHANGED = "the baseline was changed after it was written"
CHANGED_JA = "ベースラインが書き出された後に変更されています"


@pytest.fixture
def gate(tmp_path) -> Gate:
    return Gate(tmp_path)


def _people():
    a, b = household("E1"), household("E2")
    wrong = filing(a[0], birth_date="1980-04-02")  # match.birth_date, accepted in the baseline
    return [*a, *b], [wrong, filing(a[1]), filing(b[0]), filing(b[1])]


def _blocked_update():
    roster, filings = _people()
    return roster, [*filings[:3], filing(roster[3], sex="1")]  # a new match.sex error


def _json(folder: Path) -> dict:
    return json.loads((folder / baseline.FILE).read_text(encoding="utf-8"))


def _rewrite(folder: Path, edit: Callable[[dict], None], *, reseal: bool) -> None:
    """Edit baseline.json's content; `reseal`: as someone holding the key would."""
    document = _json(folder)
    edit(document)
    if not reseal:
        (folder / baseline.FILE).write_text(
            json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        return
    placeholder = baseline.SEAL + "0" * 64
    document["seal"] = placeholder
    text = json.dumps(document, ensure_ascii=False, indent=1) + "\n"
    members = (folder / baseline.MEMBERS_FILE).read_bytes()
    key = keys.Key(KEY.encode(), "test")
    text = text.replace(placeholder, baseline.seal(key, text, members))
    (folder / baseline.FILE).write_text(text, encoding="utf-8", newline="")


def _edit_text(name: str, change: Callable[[str], str]) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        path = folder / name
        path.write_bytes(change(path.read_bytes().decode("utf-8")).encode("utf-8"))

    return edit


def _edit_json(change: Callable[[dict], None]) -> Callable[[Path], None]:
    return lambda folder: _rewrite(folder, change, reseal=False)


def _flip_letter(text: str) -> str:
    header, first, *rest = text.split("\n")
    member_id, household_id, tags = first.split(",")
    tags = ("b" if tags[0] == "a" else "a") + tags[1:]
    return "\n".join([header, f"{member_id},{household_id},{tags}", *rest])


def _household_abroad(document: dict) -> None:
    homes = document["roster"]["households"]
    homes[next(iter(homes))] = "overseas/posted_alone"


def _seal_digit(document: dict) -> None:
    value = document["seal"]
    document["seal"] = value[:-1] + ("0" if value[-1] != "0" else "1")


EDITS: dict[str, Callable[[Path], None]] = {
    # The attack: the new finding's id, copied from gate.json, without the key.
    "a finding id added": lambda folder: None,  # filled in by the test (needs gate.json)
    "a finding removed": _edit_json(lambda d: d["findings"].pop()),
    "a finding's count changed": _edit_json(lambda d: d["findings"][0].update(count=7)),
    "a finding's waiver date added": _edit_json(
        lambda d: d["findings"][0].update(waived_until="2999-12-31")
    ),
    "as_of changed": _edit_json(lambda d: d.update(as_of="2020-01-01")),
    "a household moved abroad": _edit_json(_household_abroad),
    "a field dropped from the roster list": _edit_json(lambda d: d["roster"]["fields"].pop()),
    "the seal removed": _edit_json(lambda d: d.pop("seal")),
    "the seal altered": _edit_json(_seal_digit),
    "the seal written twice": _edit_text(
        baseline.FILE, lambda t: t.replace('"format"', f'"x": "{_json_seal(t)}",\n "format"')
    ),
    "a member's fingerprint changed": _edit_text(baseline.MEMBERS_FILE, _flip_letter),
    "a member removed": _edit_text(
        baseline.MEMBERS_FILE, lambda t: "\n".join(t.split("\n")[:1] + t.split("\n")[2:])
    ),
    "baseline-members.csv re-saved with CRLF": _edit_text(
        baseline.MEMBERS_FILE, lambda t: t.replace("\n", "\r\n")
    ),
    "baseline-members.csv deleted": lambda folder: (folder / baseline.MEMBERS_FILE).unlink(),
    # Byte-exact: the same content in another layout is an edit too.
    "baseline.json re-indented": _edit_text(
        baseline.FILE, lambda t: json.dumps(json.loads(t), ensure_ascii=False, indent=2) + "\n"
    ),
    "baseline.json keys reordered": _edit_text(
        baseline.FILE,
        lambda t: json.dumps(json.loads(t), ensure_ascii=False, indent=1, sort_keys=True) + "\n",
    ),
    "a trailing space": _edit_text(baseline.FILE, lambda t: t + " "),
}


def _json_seal(text: str) -> str:
    return json.loads(text)["seal"]


def _copy_new_id(folder: Path, gate_json: Path) -> None:
    found = json.loads(gate_json.read_text(encoding="utf-8"))
    new = [f for f in found["findings"] if f["status"] == "new"]
    assert new, "the blocked update has a new finding to smuggle in"

    def add(document: dict) -> None:
        for f in new:
            document["findings"].append(
                {
                    "finding_id": f["finding_id"],
                    "check": f["check"],
                    "severity": f["severity"],
                    "member_id": f["member_id"],
                    "source": f["source"],
                    "field": f["field"],
                    "anchor": f["anchor"],
                    "count": 1,
                    "waived_until": None,
                }
            )

    _rewrite(folder, add, reseal=False)


@pytest.mark.parametrize("edit", list(EDITS))
def test_every_edit_of_a_baseline_stops_the_gate(gate, tmp_path, edit, monkeypatch):
    roster, filings = _people()
    accepted = gate(roster, filings).written
    update = _blocked_update()
    # Unedited, the baseline works: the update is blocked by exactly its new error.
    honest = gate(*update, baseline=accepted)
    assert not honest.outcome.passed and honest.outcome.blocking.height == 1
    if edit == "a finding id added":
        _copy_new_id(accepted, honest.written / "gate.json")
    else:
        EDITS[edit](accepted)
    for lang, said, not_said in (("ja", CHANGED_JA, CHANGED), ("en", CHANGED, CHANGED_JA)):
        monkeypatch.setenv("RECON_LANG", lang)
        with pytest.raises(InputError) as raised:
            gate(*update, baseline=accepted)
        message = str(raised.value)
        assert said in message and not_said not in message  # one language, the chosen one
        assert str(accepted / baseline.FILE) in message


def test_the_smuggled_finding_id_is_exit_2_on_the_command_line(tmp_path):
    roster, filings = _people()
    folder = tmp_path / "repo"
    folder.mkdir()
    roster_csv = write_csv(folder / "roster.csv", roster, ROSTER)
    filings_csv = write_csv(folder / "filings.csv", filings, FILINGS)

    def gate(*more: str) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RECON_", "GITHUB_"))}
        env |= {"PYTHONPATH": str(ROOT), keys.ENV: KEY}
        return subprocess.run(
            [sys.executable, "-m", "recon", "gate", "--roster", str(roster_csv), "--filings"]
            + [str(filings_csv), "--as-of", AS_OF, *more],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env=env,
        )

    assert gate("--out", "accepted").returncode == 1  # no baseline: its error is new
    blocked_roster, blocked_filings = _blocked_update()
    write_csv(roster_csv, blocked_roster, ROSTER)
    write_csv(filings_csv, blocked_filings, FILINGS)
    blocked = gate("--out", "blocked", "--baseline", "accepted")
    assert blocked.returncode == 1, blocked.stderr
    _copy_new_id(tmp_path / "accepted", tmp_path / "blocked" / "gate.json")
    forged = gate("--out", "forged", "--baseline", "accepted")
    assert forged.returncode == 2, forged.stdout + forged.stderr
    assert CHANGED_JA in forged.stderr and "Traceback" not in forged.stderr
    assert "pass" not in forged.stdout
    assert not (tmp_path / "forged").exists()


def test_a_baseline_resealed_with_another_key_is_refused(gate):
    roster, filings = _people()
    accepted = gate(roster, filings).written
    document = _json(accepted)
    placeholder = baseline.SEAL + "0" * 64
    document["seal"] = placeholder
    text = json.dumps(document, ensure_ascii=False, indent=1) + "\n"
    members = (accepted / baseline.MEMBERS_FILE).read_bytes()
    other = keys.Key(b"q" * 32, "guess")  # the fingerprint is public, the key is not
    text = text.replace(placeholder, baseline.seal(other, text, members))
    (accepted / baseline.FILE).write_text(text, encoding="utf-8", newline="")
    with pytest.raises(InputError, match=CHANGED_JA):
        gate(roster, filings, baseline=accepted)


# --- malformed baselines: exit 2, never 3 ----------------------------------------------

MALFORMED: dict[str, Callable[[dict], None]] = {
    "households is a list": lambda d: d["roster"].update(households=[]),
    "households holds a number": lambda d: d["roster"].update(households={"1234-1": 5}),
    "roster is a list": lambda d: d.update(roster=[]),
    "fields is a number": lambda d: d["roster"].update(fields=5),
    "tag_bytes is text": lambda d: d["roster"].update(tag_bytes="4"),
    "findings is text": lambda d: d.update(findings="none"),
    "a finding is a number": lambda d: d.update(findings=[1]),
    "a finding without an id": lambda d: d["findings"][0].pop("finding_id"),
    "a finding id twice": lambda d: d["findings"].append(dict(d["findings"][0])),
    "count is text": lambda d: d["findings"][0].update(count="many"),
    "roster missing": lambda d: d.pop("roster"),
}


@pytest.mark.parametrize("damage", list(MALFORMED))
def test_a_malformed_baseline_is_exit_2_whether_sealed_or_not(gate, damage):
    roster, filings = _people()
    accepted = gate(roster, filings).written
    original = (accepted / baseline.FILE).read_bytes()
    _rewrite(accepted, MALFORMED[damage], reseal=False)
    with pytest.raises(InputError, match=CHANGED_JA):
        gate(roster, filings, baseline=accepted)
    # Sealed by someone holding the key (another tool): its shape is checked too.
    (accepted / baseline.FILE).write_bytes(original)
    _rewrite(accepted, MALFORMED[damage], reseal=True)
    with pytest.raises(InputError, match="壊れたベースライン"):
        gate(roster, filings, baseline=accepted)


def test_a_sealed_baseline_that_lists_a_member_twice_is_damaged(gate):
    roster, filings = _people()
    accepted = gate(roster, filings).written
    path = accepted / baseline.MEMBERS_FILE
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join([*lines, lines[1]]), encoding="utf-8")
    _rewrite(accepted, lambda d: None, reseal=True)
    with pytest.raises(InputError, match="a member id twice"):
        gate(roster, filings, baseline=accepted)


@pytest.mark.parametrize(
    "text",
    [
        "[" * 5000 + "]" * 5000,
        '{"format": ' + "[" * 5000 + "]" * 5000 + "}",
        "",
        "\xff\xfe not utf-8",
        "[]",
        '"a string"',
    ],
    ids=["deep-list", "deep-in-object", "empty", "not-utf8", "a-list", "a-string"],
)
def test_a_baseline_json_that_is_not_one_is_exit_2(tmp_path, text):
    folder = tmp_path / "b"
    folder.mkdir()
    data = text.encode("latin-1") if text.startswith("\xff") else text.encode("utf-8")
    (folder / baseline.FILE).write_bytes(data)
    with pytest.raises(InputError, match=r"recon gate が書いたベースラインではありません|形式"):
        baseline.read(folder, keys.Key(KEY.encode(), "test"))


def test_deeply_nested_baseline_is_exit_2_on_the_command_line(tmp_path):
    folder = tmp_path / "b"
    folder.mkdir()
    (folder / baseline.FILE).write_text("[" * 5000 + "]" * 5000, encoding="utf-8")
    (folder / baseline.MEMBERS_FILE).write_text("member_id,household_id,tags\n", "utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECON_", "GITHUB_"))}
    env |= {"PYTHONPATH": str(ROOT), keys.ENV: KEY}
    done = subprocess.run(
        [sys.executable, "-m", "recon", "gate", "--baseline", str(folder), "--out", "o"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 2, done.stderr
    assert "入れ子が深すぎます" in done.stderr and "Traceback" not in done.stderr
