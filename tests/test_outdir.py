"""recon writes only where it made the folder or file itself (the `--out .` issue).

Each case runs the real CLI in a fresh process on real files, and checks the
exit code, the message, and that what was there before is still there.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from recon import outdir, output, pipeline
from tests.conftest import FILINGS, ROSTER, filing, member, write_csv

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2025-06-30"


def recon(*args: str, cwd: Path, env: dict[str, str] | None = None):
    return subprocess.run(
        [sys.executable, "-m", "recon", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (symlinks as their target text) and its bytes."""
    found = {}
    for path in sorted(folder.rglob("*")):
        key = path.relative_to(folder).as_posix()
        if path.is_symlink():
            found[key] = b"-> " + os.readlink(path).encode()
        elif path.is_file():
            found[key] = path.read_bytes()
    return found


@pytest.fixture
def data(tmp_path) -> Path:
    """The operator's folder: the inputs and a note of theirs, nothing recon wrote."""
    folder = tmp_path / "data"
    folder.mkdir()
    insured = member()
    write_csv(folder / "roster.csv", [insured], ROSTER)
    write_csv(folder / "filings.csv", [filing(insured)], FILINGS)
    (folder / "memo.txt").write_text("決裁メモ\n", encoding="utf-8")
    return folder


def inputs(folder: Path) -> list[str]:
    return [
        "--roster",
        str(folder / "roster.csv"),
        "--filings",
        str(folder / "filings.csv"),
        "--as-of",
        AS_OF,
    ]


def refused(done, *phrases: str) -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    message = " ".join(done.stderr.split())
    # In the run's language only (these tests run in English; `test_refusals_are_in_
    # the_operators_language` reads them in Japanese).
    assert message.startswith("recon: input error --")
    assert "。" not in message and "ください" not in message, message  # no Japanese sentence
    for phrase in phrases:
        assert phrase in message, (phrase, message)


# --- recon run --out ---------------------------------------------------------------


def test_out_dot_in_the_folder_of_the_inputs_is_refused_and_deletes_nothing(data):
    before = snapshot(data)
    done = recon("run", "--roster", "roster.csv", "--filings", "filings.csv", "--as-of", AS_OF,
                 "--out", ".", cwd=data)  # fmt: skip
    refused(done, "--out . holds the input given as --roster (roster.csv)",
            "--out reports/latest")  # fmt: skip
    assert snapshot(data) == before
    assert sorted(p.name for p in data.parent.iterdir()) == ["data"]


@pytest.mark.parametrize("command", ["run", "gate", "sample"])
def test_a_path_under_a_file_is_refused_as_such(data, command):
    # `--out roster.csv/report`: the folder cannot be made, and the message says why
    # (it was the system's "[Errno 17] File exists", in English under any language).
    before = snapshot(data)
    given = ["--roster", "roster.csv", "--filings", "filings.csv", "--as-of", AS_OF]
    done = recon(command, *([] if command == "sample" else given),
                 "--out", "memo.txt/report", cwd=data)  # fmt: skip
    refused(done, "--out memo.txt/report cannot be made", "memo.txt on its way is a file")
    assert snapshot(data) == before


def test_a_loop_of_links_is_refused_as_such(data, tmp_path):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    done = recon("run", *inputs(data), "--out", "a", cwd=tmp_path)
    refused(done, "--out a is a loop of symbolic links")
    # Under it, as recon sample's folder, and as the gate's CI file: the same answer.
    refused(recon("run", *inputs(data), "--out", "a/report", cwd=tmp_path), "a loop of symbolic")
    refused(recon("sample", "--out", "a", cwd=tmp_path), "--out a is a loop of symbolic links")
    done = recon("gate", *inputs(data), "--out", "out", "--junit", "a", cwd=tmp_path)
    refused(done, "--junit a is a loop of symbolic links")
    assert (tmp_path / "a").is_symlink() and (tmp_path / "b").is_symlink()


def test_refusals_are_in_the_operators_language(data):
    # Japanese by default, and only Japanese: no English sentence after it.
    done = recon("run", "--roster", "roster.csv", "--filings", "filings.csv", "--as-of", AS_OF,
                 "--out", ".", cwd=data, env={"RECON_LANG": "ja"})  # fmt: skip
    assert done.returncode == 2
    message = " ".join(done.stderr.split())
    assert message.startswith("recon: 入力エラー --out .: --roster に指定した入力 roster.csv")
    assert "を含むフォルダです" in message and "recon replaces" not in message, message


@pytest.mark.parametrize("spelling", ["{data}/sub/../", "~", "{data}/."])
def test_every_spelling_of_the_inputs_folder_is_refused(data, tmp_path, spelling):
    (data / "sub").mkdir()
    before = snapshot(data)
    out = spelling.format(data=data)
    done = recon("run", *inputs(data), "--out", out, cwd=tmp_path, env={"HOME": str(data)})
    refused(done, "holds the input given as --roster")
    assert snapshot(data) == before


def test_a_folder_of_other_files_is_refused(data, tmp_path):
    docs = tmp_path / "Documents"
    docs.mkdir()
    (docs / "a.xlsx").write_bytes(b"PK\x03\x04 someone's workbook")
    (docs / "b.txt").write_text("x", encoding="utf-8")
    before = snapshot(docs)
    done = recon("run", *inputs(data), "--out", str(docs), cwd=tmp_path)
    refused(done, "is not an output folder recon made", "a.xlsx, b.txt",
            "pass a new or empty folder")  # fmt: skip
    assert snapshot(docs) == before


def test_a_symlink_to_a_folder_of_other_files_is_refused_and_kept(data, tmp_path):
    docs = tmp_path / "Documents"
    docs.mkdir()
    (docs / "a.txt").write_text("x", encoding="utf-8")
    link = tmp_path / "link"
    link.symlink_to(docs, target_is_directory=True)
    done = recon("run", *inputs(data), "--out", "link", cwd=tmp_path)
    refused(done, "--out link", "a.txt")
    assert link.is_symlink() and snapshot(docs) == {"a.txt": b"x"}


def test_an_existing_file_as_out_is_refused(data, tmp_path):
    target = tmp_path / "report.pdf"
    target.write_bytes(b"%PDF-1.7 someone's report")
    done = recon("run", *inputs(data), "--out", str(target), cwd=tmp_path)
    refused(done, "is an existing file, not a folder")
    assert target.read_bytes() == b"%PDF-1.7 someone's report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "report.pdf"]


@pytest.mark.parametrize("which", ["roster", "filings"])
def test_an_input_as_out_is_refused(data, which):
    before = snapshot(data)
    done = recon("run", *inputs(data), "--out", f"./{which}.csv", cwd=data)
    refused(done, f"is the input given as --{which}", "never overwrites an input")
    assert snapshot(data) == before


def test_a_symlinked_input_is_recognised_through_the_link(data, tmp_path):
    (tmp_path / "alias.csv").symlink_to(data / "roster.csv")
    before = snapshot(data)
    done = recon("run", *inputs(data), "--out", str(tmp_path / "alias.csv"), cwd=tmp_path)
    refused(done, "never overwrites an input")
    assert snapshot(data) == before


def test_a_policy_file_is_an_input_too(data, tmp_path):
    policy = tmp_path / "policy"
    policy.mkdir()
    (policy / "policy.toml").write_text("", encoding="utf-8")
    done = recon("run", *inputs(data), "--policy", str(policy / "policy.toml"),
                 "--out", str(policy), cwd=tmp_path)  # fmt: skip
    refused(done, "the input given as --policy")
    assert (policy / "policy.toml").exists()


def test_a_new_or_empty_folder_is_used_and_marked(data, tmp_path):
    (tmp_path / "empty").mkdir()
    done = recon("run", *inputs(data), "--out", "empty", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    marker = outdir.read_marker(tmp_path / "empty")
    assert marker is not None and marker["kind"] == "report"
    written = {
        p.relative_to(tmp_path / "empty").as_posix() for p in (tmp_path / "empty").rglob("*")
    }
    assert set(marker["files"]) == written - {outdir.MARKER}
    assert {"members.csv", "findings.csv", "summary.json", "report.html"} <= written
    mode = stat.S_IMODE((tmp_path / "empty" / outdir.MARKER).stat().st_mode)
    assert mode == 0o600


def test_out_dot_in_an_empty_folder_is_refused_and_the_folder_stays(data, tmp_path):
    """The swap would remove the folder the shell stands in; it is refused, untouched."""
    here = tmp_path / "work"
    here.mkdir()
    inode = here.stat().st_ino
    done = recon("run", *inputs(data), "--out", ".", cwd=here)
    refused(done, "--out . is the folder you are working in", "--out reports/latest")
    assert here.stat().st_ino == inode and not any(here.iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "work"]


@pytest.mark.parametrize(("inside", "out"), [("", "."), ("gx", ".."), ("gx", "../../latest")])
def test_a_report_folder_holding_the_working_folder_is_refused_and_kept(
    data, tmp_path, inside, out
):
    latest = tmp_path / "reports" / "latest"
    first = recon("run", *inputs(data), "--out", str(latest), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    before = snapshot(latest)
    done = recon("run", *inputs(data), "--out", out, cwd=latest / inside)
    refused(done, f"--out {out}", "is the folder you are working in, or holds it")
    assert snapshot(latest) == before
    assert sorted(p.name for p in latest.parent.iterdir()) == ["latest"]
    # From anywhere else the same folder is replaced as usual.
    again = recon("run", *inputs(data), "--out", str(latest), cwd=tmp_path)
    assert again.returncode == 0, again.stderr


def test_a_folder_recon_made_is_replaced_but_not_with_a_users_file_in_it(data, tmp_path):
    out = tmp_path / "reports" / "latest"
    first = recon("run", *inputs(data), "--out", str(out), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    # Editing a file recon wrote does not stop the next run: it is recon's file.
    (out / "members.csv").write_text("edited\n", encoding="utf-8")
    second = recon("run", *inputs(data), "--out", str(out), cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert (out / "members.csv").read_text(encoding="utf-8") != "edited\n"
    # A file the user dropped in would be lost by the swap: the run stops instead.
    (out / "メモ.txt").write_text("keep me", encoding="utf-8")
    (out / "gx" / "mine.json").write_text("{}", encoding="utf-8")
    before = snapshot(out)
    third = recon("run", *inputs(data), "--out", str(out), cwd=tmp_path)
    refused(third, "holds files recon did not write (gx/mine.json, メモ.txt)",
            "move them out first")  # fmt: skip
    assert snapshot(out) == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["latest"]


def test_a_symlink_to_a_folder_recon_made_replaces_that_folder_and_keeps_the_link(data, tmp_path):
    real = tmp_path / "real"
    assert recon("run", *inputs(data), "--out", str(real), cwd=tmp_path).returncode == 0
    (real / "members.csv").write_text("old\n", encoding="utf-8")
    link = tmp_path / "latest"
    link.symlink_to(real, target_is_directory=True)
    done = recon("run", *inputs(data), "--out", "latest", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and link.resolve() == real
    assert (real / "members.csv").read_text(encoding="utf-8") != "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "latest", "real"]


@pytest.mark.parametrize("text", ["hello", '{"tool": "other", "kind": "report", "files": []}'])
def test_a_marker_recon_did_not_write_does_not_make_a_folder_replaceable(data, tmp_path, text):
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / outdir.MARKER).write_text(text, encoding="utf-8")
    done = recon("run", *inputs(data), "--out", str(folder), cwd=tmp_path)
    refused(done, "is not an output folder recon made")
    assert (folder / outdir.MARKER).read_text(encoding="utf-8") == text


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True)  # fmt: skip
    return int(done.stdout)


def test_brackets_in_the_name_work_and_a_killed_writes_leftovers_are_removed(data, tmp_path):
    name = "rep[1]*?"
    first = recon("run", *inputs(data), "--out", name, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert outdir.read_marker(tmp_path / name) is not None
    # What a run killed halfway through writing left: its staging folder, half full.
    dead = _dead_pid()
    staging = tmp_path / f".{name}.tmp-{dead}-a1b2c3d4"
    staging.mkdir(mode=0o700)
    (staging / "members.csv").write_text("half\n", encoding="utf-8")
    alive = tmp_path / f".{name}.tmp-{os.getpid()}-e5f6g7h8"  # a run still writing
    alive.mkdir()
    other = tmp_path / f".rep1*?.tmp-{dead}-a1b2c3d4"  # what a glob `[1]` would match
    other.mkdir()
    second = recon("run", *inputs(data), "--out", name, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert not staging.exists() and alive.exists() and other.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["data", name, alive.name, other.name]
    )


def test_an_interrupted_write_into_a_bracketed_name_leaves_nothing(tmp_path, monkeypatch):
    insured = member()
    result = pipeline.analyse(
        write_csv(tmp_path / "roster.csv", [insured], ROSTER),
        write_csv(tmp_path / "filings.csv", [filing(insured)], FILINGS),
        __import__("recon.policy", fromlist=["load_policy"]).load_policy(),
        __import__("datetime").date(2025, 6, 30),
    )
    out = tmp_path / "out[a]"
    pipeline.write(result, out)
    before = snapshot(out)

    def interrupted(res, folder, lang="ja", sections=()):
        (folder / "members.csv").write_text("half", encoding="utf-8")
        raise KeyboardInterrupt

    monkeypatch.setattr(output, "write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        pipeline.write(result, out)
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["filings.csv", "out[a]", "roster.csv"]


def test_a_report_retired_by_a_killed_swap_is_put_back(tmp_path):
    # Killed between the swap's two renames: only the retired copy of the report is left.
    retired = tmp_path / f".out.old-{_dead_pid()}-x"
    retired.mkdir()
    (retired / "members.csv").write_text("last report\n", encoding="utf-8")
    outdir.remove_leftovers(tmp_path / "out")
    assert (tmp_path / "out" / "members.csv").read_text(encoding="utf-8") == "last report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


# --- recon gate -------------------------------------------------------------------


def test_gate_out_dot_over_the_inputs_is_refused(data):
    before = snapshot(data)
    done = recon("gate", "--roster", "roster.csv", "--filings", "filings.csv", "--as-of", AS_OF,
                 "--out", ".", cwd=data)  # fmt: skip
    refused(done, "--out . holds the input given as --roster (roster.csv)")
    assert snapshot(data) == before


def test_gate_refuses_a_folder_of_other_files_and_a_symlink_to_it(data, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("x", encoding="utf-8")
    (tmp_path / "link").symlink_to(docs, target_is_directory=True)
    for out in ("docs", "link", "data/roster.csv"):
        done = recon("gate", *inputs(data), "--out", out, cwd=tmp_path)
        assert done.returncode == 2, (out, done.stderr)
        assert "input error --out" in done.stderr, done.stderr
    assert snapshot(docs) == {"a.txt": b"x"} and (tmp_path / "link").is_symlink()


@pytest.mark.parametrize("option", ["--junit", "--summary"])
@pytest.mark.parametrize("which", ["roster", "filings"])
def test_gate_never_writes_its_ci_files_over_an_input(data, tmp_path, option, which):
    before = snapshot(data)
    done = recon("gate", *inputs(data), "--out", "out", option, str(data / f"{which}.csv"),
                 cwd=tmp_path)  # fmt: skip
    refused(done, f"{option} {data / f'{which}.csv'}", f"the input given as --{which}")
    # Not even the "could not decide" file CI gets when the gate stops.
    assert snapshot(data) == before
    assert not (tmp_path / "out").exists()


def test_gate_waivers_and_key_file_are_inputs_too(data, tmp_path):
    waivers = tmp_path / "waivers.toml"
    waivers.write_text("", encoding="utf-8")
    key = tmp_path / "gate.key"
    key.write_text("k" * 32, encoding="utf-8")
    for option, path in (("--waivers", waivers), ("--key-file", key)):
        done = recon("gate", *inputs(data), "--waivers", str(waivers), "--key-file", str(key),
                     "--out", "out", "--summary", str(path), cwd=tmp_path)  # fmt: skip
        refused(done, f"the input given as {option}")
    assert waivers.read_text(encoding="utf-8") == "" and key.read_text() == "k" * 32


def test_gate_never_writes_over_its_own_baseline(data, tmp_path):
    # The baseline is the last accepted run: a failing gate written over it would
    # be the next run's baseline, and the same failure would then pass.
    key = tmp_path / "gate.key"
    key.write_text("k" * 32, encoding="utf-8")
    args = [*inputs(data), "--key-file", str(key)]
    assert recon("gate", *args, "--out", "accepted", cwd=tmp_path).returncode == 0
    before = snapshot(tmp_path / "accepted")
    (tmp_path / "link").symlink_to(tmp_path / "accepted", target_is_directory=True)
    for out in ("accepted", "link"):
        done = recon("gate", *args, "--baseline", "accepted", "--out", out, cwd=tmp_path)
        refused(done, "the input given as --baseline (accepted)")
    assert snapshot(tmp_path / "accepted") == before
    done = recon("gate", *args, "--baseline", "accepted", "--out", "next", cwd=tmp_path)
    assert done.returncode == 0, done.stderr


def test_gate_ci_files_overwrite_only_what_recon_wrote(data, tmp_path):
    junit, summary = tmp_path / "gate-junit.xml", tmp_path / "gate-summary.md"
    args = [*inputs(data), "--out", "out", "--junit", str(junit), "--summary", str(summary)]
    # What a gate killed while writing its JUnit file left beside it (it names members).
    half = tmp_path / f".gate-junit.xml.tmp-{_dead_pid()}-k9x2ab3c"
    half.write_text("<testsuites", encoding="utf-8")
    first = recon("gate", *args, cwd=tmp_path)
    assert not half.exists()
    assert first.returncode == 0, first.stderr
    assert outdir.carries_mark(junit) and outdir.carries_mark(summary)
    assert summary.read_text(encoding="utf-8").splitlines()[1].startswith("## recon gate")
    __import__("xml.etree.ElementTree", fromlist=["parse"]).parse(junit)  # still valid XML
    assert stat.S_IMODE(junit.stat().st_mode) == 0o600
    again = recon("gate", *args, cwd=tmp_path)  # recon's own files: replaced
    assert again.returncode == 0, again.stderr
    summary.write_text("# 議事録\n", encoding="utf-8")  # now someone else's file
    done = recon("gate", *args, cwd=tmp_path)
    refused(done, "is an existing file recon gate did not write", "--summary")
    assert summary.read_text(encoding="utf-8") == "# 議事録\n"


def test_gate_ci_files_may_not_sit_inside_the_folder_each_run_replaces(data, tmp_path):
    done = recon("gate", *inputs(data), "--out", "out", "--junit", "out/junit.xml", cwd=tmp_path)
    refused(done, "--junit out/junit.xml is inside the --out folder out")


def test_gate_replaces_its_own_folder_and_refuses_a_dropped_in_file(data, tmp_path):
    assert recon("gate", *inputs(data), "--out", "g", cwd=tmp_path).returncode == 0
    assert outdir.read_marker(tmp_path / "g")["kind"] == "report"
    assert {"gate.json", "gate.md"} <= set(outdir.read_marker(tmp_path / "g")["files"])
    assert recon("gate", *inputs(data), "--out", "g", cwd=tmp_path).returncode == 0
    (tmp_path / "g" / "notes.md").write_text("mine", encoding="utf-8")
    done = recon("gate", *inputs(data), "--out", "g", cwd=tmp_path)
    refused(done, "notes.md")
    assert (tmp_path / "g" / "notes.md").read_text(encoding="utf-8") == "mine"


# --- recon sample --out -----------------------------------------------------------


def test_sample_never_overwrites_a_file_it_did_not_write(data):
    before = snapshot(data)
    done = recon("sample", "--out", ".", "--members", "20", cwd=data)
    refused(done, "already holds filings.csv, roster.csv, which recon sample did not write")
    assert snapshot(data) == before


def test_sample_writes_beside_other_files_and_over_its_own(data, tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "memo.txt").write_text("mine", encoding="utf-8")
    for seed in ("1", "2"):
        done = recon("sample", "--out", "s", "--members", "20", "--seed", seed, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    assert (folder / "memo.txt").read_text(encoding="utf-8") == "mine"
    marker = outdir.read_marker(folder)
    assert marker["kind"] == "sample"
    assert marker["files"] == ["filings.csv", "roster.csv", "truth.csv"]
    # A sample folder is not a report folder: `recon run` does not replace it.
    done = recon("run", *inputs(data), "--out", "s", cwd=tmp_path)
    refused(done, "is not an output folder recon made", "memo.txt")


def test_sample_refuses_a_file_a_symlink_and_a_report_folder(data, tmp_path):
    (tmp_path / "file").write_text("x", encoding="utf-8")
    done = recon("sample", "--out", "file", "--members", "20", cwd=tmp_path)
    refused(done, "is an existing file, not a folder")
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "roster.csv").symlink_to(data / "roster.csv")
    outdir.write_marker(linked, outdir.SAMPLE, ["roster.csv"])  # even if listed: not through it
    before = snapshot(data)
    done = recon("sample", "--out", "linked", "--members", "20", cwd=tmp_path)
    refused(done, "roster.csv")
    assert snapshot(data) == before
    assert recon("run", *inputs(data), "--out", "rep", cwd=tmp_path).returncode == 0
    done = recon("sample", "--out", "rep", "--members", "20", cwd=tmp_path)
    refused(done, "is an output folder of recon run or gate")


# --- kill -9 during gate --baseline-ref --------------------------------------------


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
                   cwd=repo, check=True, capture_output=True)  # fmt: skip


def test_kill_9_of_gate_baseline_ref_leaves_no_plain_my_number_and_the_next_run_cleans(tmp_path):
    from recon.synthetic import generate

    repo = tmp_path / "repo"
    (repo / "roster").mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    roster, filings = generate(40_000, seed=5)
    roster.write_csv(repo / "roster" / "roster.csv")
    filings.write_csv(repo / "roster" / "filings.csv")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "accepted")
    filings.head(filings.height - 10).write_csv(repo / "roster" / "filings.csv")
    _git(repo, "commit", "-q", "-am", "update")
    numbers = {n.encode() for n in filings["my_number"].drop_nulls() if re.fullmatch(r"\d{12}", n)}
    assert len(numbers) > 30_000
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(system_tmp)}
    args = [sys.executable, "-m", "recon", "gate", "--roster", "roster/roster.csv",
            "--filings", "roster/filings.csv", "--as-of", AS_OF, "--baseline-ref", "HEAD~1",
            "--out", "reports/gate"]  # fmt: skip

    proc = subprocess.Popen(args, cwd=repo, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 180
    # The revision was read before the long run began: DuckDB's session is the sign.
    while not any(p.name.startswith("recon-spill-") for p in system_tmp.iterdir()):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL

    left = sorted(p.name for p in system_tmp.iterdir())
    assert left and all(n.startswith(f"recon-spill-{proc.pid}-") for n in left), left
    for folder in system_tmp.iterdir():
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    scanned = [p for p in (*system_tmp.rglob("*"), *(repo / "reports").rglob("*")) if p.is_file()]
    for path in scanned:
        found = set(re.findall(rb"(?<!\d)\d{12}(?!\d)", path.read_bytes())) & numbers
        assert not found, (path, len(found))

    again = subprocess.run(args, cwd=repo, env=env, capture_output=True, text=True)
    assert again.returncode in (0, 1), again.stderr
    assert list(system_tmp.iterdir()) == []
    assert json.loads((repo / "reports" / "gate" / "gate.json").read_text("utf-8"))["baseline"]


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_the_inputs_at_a_revision_are_read_from_memory_as_from_the_files(tmp_path, fmt):
    import datetime as dt

    import polars as pl

    from recon.gate import gitref
    from recon.policy import load_policy

    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    insured = member()
    frames = {}
    for name, rows, columns in (
        ("roster", [insured], ROSTER),
        ("filings", [filing(insured)], FILINGS),
    ):
        names = [c.name for c in columns]
        frames[name] = pl.DataFrame([{n: r.get(n, "") for n in names} for r in rows])
        path = repo / f"{name}.{fmt}"
        {"csv": frames[name].write_csv, "parquet": frames[name].write_parquet,
         "xlsx": frames[name].write_excel}[fmt](path)  # fmt: skip
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "accepted")
    found = gitref.files_at(
        "HEAD", {"roster": repo / f"roster.{fmt}", "filings": repo / f"filings.{fmt}"}
    )
    assert all(isinstance(c, pipeline.Content) for c in found.values())
    assert found["roster"].name == Path(f"HEAD:roster.{fmt}")
    args = (load_policy(), dt.date(2025, 6, 30))
    in_memory = pipeline.analyse(found["roster"], found["filings"], *args)
    on_disk = pipeline.analyse(repo / f"roster.{fmt}", repo / f"filings.{fmt}", *args)
    assert in_memory.members.height == 1
    assert in_memory.members.equals(on_disk.members)
    assert in_memory.findings.equals(on_disk.findings)
    assert in_memory.roster.sha256 == on_disk.roster.sha256 and in_memory.roster.in_memory
    for source, file in (("roster", on_disk.roster), ("filings", on_disk.filings)):
        # summary.json's hash is of the bytes that were parsed, which are the file's.
        assert file.sha256 == hashlib.sha256((repo / f"{source}.{fmt}").read_bytes()).hexdigest()
    assert pipeline.input_paths(in_memory) == {}


@pytest.fixture(autouse=True)
def _english_texts(monkeypatch):
    # These tests read recon's English messages (`--lang en`); tests/test_lang.py
    # checks the Japanese default.
    monkeypatch.setenv("RECON_LANG", "en")


def _in_a_deleted_folder(tmp_path: Path, *args: str, env: dict[str, str] | None = None):
    """recon run from a folder removed after the shell entered it (another window's rm)."""
    gone = tmp_path / "gone"
    gone.mkdir()
    return subprocess.run(
        ["sh", "-c", 'cd "$1" && rmdir "$1" && shift && exec "$@"', "sh", str(gone)]
        + [sys.executable, "-m", "recon", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "RECON_LANG": "ja", **(env or {})},
    )


@pytest.mark.parametrize(
    ("command", "prefix"),
    [
        (["run", "--as-of", AS_OF], "recon: 実行できません:"),  # --out reports/latest: relative
        (["check"], "recon: 実行できません:"),
        (["sample", "--members", "10", "--out", "{out}"], "recon: 実行できません:"),
        (["explain", "1-1-00"], "recon explain:"),  # its --out is relative too
        (
            ["run", "--roster", "{data}/roster.csv", "--filings", "{data}/filings.csv"]
            + ["--out", "{out}", "--as-of", AS_OF],
            "recon: 実行できません:",
        ),
    ],
    ids=["run", "check", "sample", "explain", "run-absolute-paths"],
)
def test_a_deleted_working_folder_is_said_plainly(data, tmp_path, command, prefix):
    # With every path absolute the run still failed: Hypothesis, imported by Pandera
    # where it is installed, asks for the folder, and validation ended in exit 3.
    out = tmp_path / "out"
    before = snapshot(data)
    done = _in_a_deleted_folder(tmp_path, *(a.format(data=data, out=out) for a in command))
    assert done.returncode == 2, done.stderr
    said = done.stderr.strip()
    assert said.startswith(prefix) and "\n" not in said, said  # one line, whatever the width
    assert "いま作業しているフォルダ（カレントディレクトリ）が削除されています" in said
    assert "Traceback" not in said and "Errno" not in said
    assert not out.exists() and snapshot(data) == before


def test_a_gate_in_a_deleted_folder_still_tells_ci_it_could_not_decide(data, tmp_path):
    junit, summary, step = tmp_path / "junit.xml", tmp_path / "summary.md", tmp_path / "step.md"
    args = ["gate", "--roster", f"{data}/roster.csv", "--filings", f"{data}/filings.csv"]
    args += ["--out", str(tmp_path / "out"), "--as-of", AS_OF]
    args += ["--junit", str(junit), "--summary", str(summary)]
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(step)}
    done = _in_a_deleted_folder(tmp_path, *args, env=env)
    assert done.returncode == 2, done.stderr
    assert "削除されています" in done.stderr
    # As for any gate that cannot decide: the files CI reads, and an annotation.
    for written in (junit, summary, step):
        assert "削除されています" in written.read_text(encoding="utf-8"), written
    assert "::error" in done.stdout
