"""DuckDB spills into a private folder that is gone when the run ends (issue 6)."""

from __future__ import annotations

import stat

import pytest

from recon import stages
from recon.errors import InputError


def _force_spill(con) -> None:
    # Sorting more rows than the memory limit holds makes DuckDB write pages out.
    con.execute("SET threads = 1")
    con.execute(
        "CREATE TABLE t AS SELECT (random() * 1e9)::BIGINT AS k, repeat('x', 40) || i AS v "
        "FROM range(3000000) r(i) ORDER BY k"
    )


def test_spills_land_in_a_private_folder_removed_at_the_end(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # DuckDB's own default would be ./.tmp
    spill = tmp_path / "spill"
    spill.mkdir()
    seen = []
    with stages.session("64MB", spill) as con:
        _force_spill(con)
        (private,) = spill.iterdir()
        seen = list(private.iterdir())
        assert stat.S_IMODE(private.stat().st_mode) == 0o700
    assert seen, "the test must really make DuckDB spill"
    assert list(spill.iterdir()) == []
    assert not (tmp_path / ".tmp").exists()


def test_default_spill_folder_is_private_and_temporary(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TMPDIR", str(tmp_path / "sys-tmp"))
    (tmp_path / "sys-tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    with stages.session("64MB") as con:
        _force_spill(con)
        (private,) = (tmp_path / "sys-tmp").iterdir()
        assert private.name.startswith("recon-spill-")
    assert list((tmp_path / "sys-tmp").iterdir()) == []
    assert not (tmp_path / ".tmp").exists()


def test_interrupted_session_still_removes_its_spill_folder(tmp_path):
    with pytest.raises(KeyboardInterrupt), stages.session("64MB", tmp_path):
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_missing_spill_folder_is_a_clear_input_error(tmp_path):
    with pytest.raises(InputError, match="--spill-dir"), stages.session(None, tmp_path / "nope"):
        pass


def test_bad_memory_limit_is_a_clear_input_error(tmp_path):
    with pytest.raises(InputError, match="--memory-limit"), stages.session("lots", tmp_path):
        pass
    assert list(tmp_path.iterdir()) == []


def test_run_with_memory_limit_and_spill_dir_leaves_nothing_behind(tmp_path):
    from tests.test_cli import recon

    spill = tmp_path / "spill"
    spill.mkdir()
    done = recon(
        "run", "--as-of", "2025-06-30", "--out", str(tmp_path / "out"),
        "--memory-limit", "256MB", "--spill-dir", str(spill),
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "report.html").exists()
    assert list(spill.iterdir()) == []
    assert not (tmp_path / ".tmp").exists()


def test_check_takes_the_memory_limit_and_spill_dir_too(tmp_path):
    from tests.test_cli import recon

    spill = tmp_path / "spill"
    spill.mkdir()
    done = recon("check", "--memory-limit", "256MB", "--spill-dir", str(spill), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert list(spill.iterdir()) == []


def test_a_spill_folder_left_by_a_killed_run_is_removed_by_the_next_session(tmp_path):
    import os
    import subprocess
    import sys

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    ).stdout.strip()
    left = tmp_path / f"recon-spill-{dead}-abc123_x"
    left.mkdir(mode=0o700)
    (left / "duckdb_temp_storage-0.tmp").write_bytes(b"pages")
    live = tmp_path / f"recon-spill-{os.getppid()}-def456"  # a run that is still going
    live.mkdir()
    unrelated = tmp_path / f"recon-spill-{dead}"  # not a name recon gives
    unrelated.mkdir()
    with stages.session(None, tmp_path):
        (mine,) = [
            p for p in tmp_path.iterdir() if p.name.startswith(f"recon-spill-{os.getpid()}-")
        ]
    assert not left.exists() and live.exists() and unrelated.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, unrelated.name])


def test_a_temporary_folder_recon_cannot_write_to_is_not_called_spill_dir(monkeypatch):
    # Without --spill-dir, DuckDB's folder goes in the system's temporary folder: a
    # failure there names that folder, and --spill-dir as the way out, not as given.
    import tempfile

    monkeypatch.setenv("RECON_LANG", "en")

    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkdtemp", refused)
    with pytest.raises(InputError) as caught, stages.session(None, None):
        pass
    said = str(caught.value)
    assert said.startswith("cannot create DuckDB's working folder in the temporary folder")
    assert "(permission denied)" in said and "with --spill-dir" in said


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_spill_dir_that_is_no_folder_is_said_in_the_operators_language(
    tmp_path, monkeypatch, lang
):
    monkeypatch.setenv("RECON_LANG", lang)
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x", encoding="utf-8")
    says = {
        "missing": ("そのフォルダはありません", "no such folder"),
        "file": ("フォルダではなくファイルです", "is a file, not a folder"),
    }
    for given, key in ((tmp_path / "nowhere", "missing"), (a_file, "file")):
        with pytest.raises(InputError) as refused, stages.session(None, given):
            pass
        ja, en = says[key]
        message = str(refused.value)
        assert f"--spill-dir {given}" in message
        assert (ja if lang == "ja" else en) in message and (
            en if lang == "ja" else ja
        ) not in message
