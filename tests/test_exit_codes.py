"""Exit codes that tell the truth (SPEC §7): 3 is only ever a bug in recon.

Each case here is the operator's doing or the machine's (a typo in an option, a
file that is not a file, too little memory, a full disk), fed through the real
command line: exit 2 with a message that names the file or option and says
what to do, Japanese first. Interruptions (130) are in tests/test_interrupts.py.
"""

from __future__ import annotations

import errno
import os
import re
import threading
from pathlib import Path

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from recon import cli, outdir, stages, tomlfile
from recon.errors import InputError
from recon.gate import keys
from recon.synthetic import generate
from tests.conftest import FILINGS, ROSTER, filing, member, run_args, write_csv

KEY = "k" * 40


def _invoke(args: list[str], **kwargs):
    done = CliRunner().invoke(cli.app, args, **kwargs)
    assert isinstance(done.exception, SystemExit | None), done.exception  # never a traceback
    assert "Traceback" not in done.output
    return done


def _flat(text: str) -> str:
    """The output as one line: rich wraps long messages and frames click's errors."""
    return " ".join(text.replace("│", " ").replace("╭", " ").replace("╰", " ").split())


def _inputs(folder: Path) -> tuple[Path, Path]:
    insured = member()
    return (
        write_csv(folder / "roster.csv", [insured], ROSTER),
        write_csv(folder / "filings.csv", [filing(insured)], FILINGS),
    )


# --- --memory-limit ----------------------------------------------------------------


@pytest.mark.parametrize("command", ["run", "check", "gate"])
@pytest.mark.parametrize("value", ["-5GB", "0", "abc", "5XB", "4", "+4GB", "4GB4"])
def test_a_memory_limit_that_is_not_an_amount_is_refused_up_front(tmp_path, command, value):
    out = tmp_path / "out"
    args = [command, f"--memory-limit={value}"] + (
        [] if command == "check" else ["--out", str(out)]
    )
    done = _invoke(args)
    said = _flat(done.output)
    assert done.exit_code == 2, done.output
    assert "--memory-limit" in said and f"'{value}' is not an amount of memory" in said, said
    assert "like 4GB or 512MB" in said and "メモリの量ではありません" not in said  # one language
    assert not out.exists()


@pytest.mark.parametrize("value", ["1KB", "100B", "31MB", "0.03GB", "0GB"])
def test_a_memory_limit_too_small_for_duckdb_to_start_is_refused_up_front(value):
    done = _invoke(["check", f"--memory-limit={value}"])
    said = _flat(done.output)
    assert done.exit_code == 2, done.output
    if value == "100B":  # bytes are not a unit anyone sizes a database in
        assert "is not an amount of memory" in said
    else:
        assert f"'{value}' is too little: DuckDB needs at least 32MB" in said, said


@pytest.mark.parametrize("value", ["32MB", "0.5GB", "4G", "1.5GiB", "512 MiB", " 4gb "])
def test_every_form_duckdb_reads_is_accepted(value):
    done = _invoke(["check", f"--memory-limit={value}"])
    assert done.exit_code == 0, done.output


@pytest.fixture(scope="module")
def members_20k(tmp_path_factory) -> tuple[Path, Path]:
    """20,000 members: DuckDB's stages need more than 32MB for them (about 40MB)."""
    folder = tmp_path_factory.mktemp("m20k")
    roster, filings = generate(20_000, seed=3)
    roster.write_csv(folder / "roster.csv")
    filings.write_csv(folder / "filings.csv")
    return folder / "roster.csv", folder / "filings.csv"


def test_too_little_memory_for_the_inputs_is_exit_2_with_an_amount_that_works(
    tmp_path, members_20k
):
    roster, filings = members_20k
    out = tmp_path / "out"
    base = run_args(roster, filings, out)
    done = _invoke([*base, "--memory-limit", "32MB"])
    said = _flat(done.output)
    assert done.exit_code == 2, done.output
    assert "internal error" not in said and "SET threads" not in said, said
    need = re.search(r"raise --memory-limit \(needs about (\d+(?:\.\d+)?[MG]B)\)", said)
    assert need, said
    assert "--memory-limit 32MB is too small for these inputs" in said
    assert not out.exists()
    # The advice is enough: the same run with the amount it names completes.
    again = _invoke([*base, "--memory-limit", need[1]])
    assert again.exit_code == 0, again.output
    assert pl.read_csv(out / "members.csv", infer_schema=False).height == 20_000


def test_duckdb_out_of_memory_in_the_gate_names_the_gates_memory_limit(tmp_path, monkeypatch):
    """The gate tells exit_codes its options, as run does: the limit named is the one given."""
    roster, filings = _inputs(tmp_path)

    def out_of_memory(*args, **kwargs):
        raise duckdb.OutOfMemoryException(
            "Out of Memory Error: could not allocate block of size 256.0 KiB "
            "(63.9 MiB/64.0 MiB used)\n\nPossible solutions:\n* Reducing the number of threads "
            "(SET threads=X)"
        )

    monkeypatch.setattr(stages, "run", out_of_memory)
    monkeypatch.setenv(keys.ENV, KEY)
    args = ["gate", *run_args(roster, filings, tmp_path / "out")[1:], "--memory-limit", "64MB"]
    done = _invoke(args)
    said = _flat(done.output)
    assert done.exit_code == 2, done.output
    assert "--memory-limit 64MB is too small" in said, said
    assert "needs about" in said and "SET threads" not in said


def test_duckdb_out_of_memory_in_the_gate_without_a_limit_is_the_machines(tmp_path, monkeypatch):
    roster, filings = _inputs(tmp_path)

    def out_of_memory(*args, **kwargs):
        raise duckdb.OutOfMemoryException(
            "Out of Memory Error: failed to allocate data (18.7 GiB/18.8 GiB used)"
        )

    monkeypatch.setattr(stages, "run", out_of_memory)
    monkeypatch.setenv(keys.ENV, KEY)
    done = _invoke(["gate", *run_args(roster, filings, tmp_path / "out")[1:]])
    said = _flat(done.output)
    assert done.exit_code == 2, done.output
    assert "DuckDB ran out of this computer's memory" in said and "--spill-dir" in said, said


def test_duckdb_out_of_the_machine_s_memory_without_a_limit_is_exit_2(tmp_path, monkeypatch):
    """Without --memory-limit DuckDB's own limit (80% of the RAM) is not the operator's."""
    roster, filings = _inputs(tmp_path)

    def out_of_memory(*args, **kwargs):
        raise duckdb.OutOfMemoryException(
            "Out of Memory Error: failed to allocate data (18.7 GiB/18.8 GiB used)"
        )

    monkeypatch.setattr(stages, "run", out_of_memory)
    done = _invoke(["check", "--roster", str(roster), "--filings", str(filings)])
    said = _flat(done.output)
    assert done.exit_code == 2, done.output
    assert "DuckDB ran out of this computer's memory" in said and "--spill-dir" in said, said
    assert "18.8" not in said


# --- files that are not files ----------------------------------------------------------


def _fifo(folder: Path) -> Path:
    path = folder / "roster-pipe.csv"
    os.mkfifo(path)
    return path


def _folder(folder: Path) -> Path:
    path = folder / "exports"
    path.mkdir()
    write_csv(path / "roster.csv", [member()], ROSTER)
    return path


def _dangling(folder: Path) -> Path:
    path = folder / "roster-link.csv"
    path.symlink_to(folder / "moved-away.csv")
    return path


NOT_FILES = {
    "a FIFO": (_fifo, "is a pipe (FIFO), not a file", "はパイプ（FIFO）で、ファイルではありません"),
    "/dev/zero": (lambda _: Path("/dev/zero"), "is a device, not a file", "はデバイスで"),
    "a folder": (
        _folder,
        "is a folder, not a file: pass --roster the roster file",
        "はフォルダで、ファイルではありません。--roster にはその中の加入者台帳のファイルを",
    ),
    "a dangling link": (_dangling, "no such file (a symbolic link to", "リンク先がありません"),
    "a typo": (
        lambda f: f / "rooster.csv",
        "no such file; check the path given to",
        "ファイルがありません。--roster のパスを確かめてください",
    ),
}


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("case", NOT_FILES, ids=list(NOT_FILES))
def test_a_roster_that_is_not_a_file_says_what_it_is(tmp_path, monkeypatch, case, lang):
    make, says_en, says_ja = NOT_FILES[case]
    monkeypatch.setenv("RECON_LANG", lang)
    _, filings = _inputs(tmp_path)
    roster = make(tmp_path)
    out = tmp_path / "out"
    done = _invoke(run_args(roster, filings, out))  # a FIFO nobody writes to would block
    said = _flat(done.output)
    assert done.exit_code == 2, done.output
    says = says_ja if lang == "ja" else says_en
    assert str(roster) in said and says in said and "--roster" in said, said
    assert (says_en if lang == "ja" else says_ja) not in said  # one language, the chosen one
    assert not out.exists()


def test_a_folder_as_roster_names_the_files_inside_it(tmp_path, monkeypatch):
    monkeypatch.setenv("RECON_LANG", "ja")
    _, filings = _inputs(tmp_path)
    folder = _folder(tmp_path)
    done = _invoke(run_args(folder, filings, tmp_path / "out"))
    assert f"（中にあるファイル: roster.csv。例: --roster {folder / 'roster.csv'}）" in _flat(
        done.output
    ), done.output


@pytest.mark.parametrize("make", [_fifo, lambda _: Path("/dev/zero"), _folder], ids=str)
def test_a_policy_that_is_not_a_file_is_refused_before_it_is_read(tmp_path, make, monkeypatch):
    """A FIFO would block and /dev/zero would fill the memory if they were read."""
    monkeypatch.setenv("RECON_LANG", "ja")
    policy = make(tmp_path)
    done = _invoke(["check", "--policy", str(policy)])
    said = _flat(done.output)
    assert done.exit_code == 2, done.output
    assert str(policy) in said and "ファイルではありません" in said and "--policy" in said, said


def test_a_folder_s_example_is_the_file_named_like_the_option(tmp_path, monkeypatch):
    """A sample folder holds filings.csv before roster.csv: --roster's example is roster.csv."""
    monkeypatch.setenv("RECON_LANG", "ja")
    folder = tmp_path / "sample"
    folder.mkdir()
    roster, filings = _inputs(folder)
    for option, wanted in (("--roster", roster), ("--filings", filings)):
        given = {"--roster": roster, "--filings": filings} | {option: folder}
        done = _invoke(run_args(given["--roster"], given["--filings"], tmp_path / "out"))
        said = _flat(done.output)
        assert done.exit_code == 2, done.output
        assert f"（中にあるファイル: filings.csv, roster.csv。例: {option} {wanted}）" in said, said


def test_a_filings_folder_names_the_filings_option(tmp_path, monkeypatch):
    monkeypatch.setenv("RECON_LANG", "en")
    roster, _ = _inputs(tmp_path)
    done = _invoke(run_args(roster, tmp_path, tmp_path / "out"))
    assert done.exit_code == 2
    assert (
        f"{tmp_path} is a folder, not a file: pass --filings the filings file (CSV, xlsx, xls or "
        f"Parquet) inside it (in it: filings.csv, roster.csv; e.g. --filings "
        f"{tmp_path / 'filings.csv'})." in _flat(done.output)
    )


# --- TOML files: nesting and byte order marks ----------------------------------------------

DEEP = "a = " + "[" * 5000 + "]" * 5000 + "\n"


def test_a_deeply_nested_policy_is_exit_2_naming_the_file(tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text(DEEP, encoding="utf-8")
    for command in (["check"], ["run", "--out", str(tmp_path / "out")]):
        done = _invoke([*command, "--policy", str(policy)])
        said = _flat(done.output)
        assert done.exit_code == 2, done.output
        assert f"{policy}: the policy file nests arrays or tables too deeply" in said, said
        assert "RecursionError" not in said and "入れ子が深すぎて" not in said  # one language
    assert not (tmp_path / "out").exists()


def test_a_deeply_nested_policy_is_said_in_japanese_by_default(tmp_path, monkeypatch):
    monkeypatch.setenv("RECON_LANG", "ja")
    policy = tmp_path / "policy.toml"
    policy.write_text(DEEP, encoding="utf-8")
    done = _invoke(["check", "--policy", str(policy)])
    said = _flat(done.output)
    assert done.exit_code == 2, done.output
    assert f"{policy}: ポリシーファイルの配列や表の入れ子が深すぎて読めません" in said, said
    assert "RecursionError" not in said and "too deeply" not in said


def test_the_shared_loader_refuses_a_deeply_nested_waivers_file(tmp_path):
    """`--waivers` reads through the same loader (recon/gate/waivers.py is wired at merge)."""
    waivers = tmp_path / "waivers.toml"
    waivers.write_text(DEEP, encoding="utf-8")
    with pytest.raises(InputError, match="the waivers file nests arrays or tables too deeply"):
        tomlfile.load(waivers, "--waivers", "waivers")
    with pytest.raises(InputError, match="waivers.toml: the waivers file nests"):
        tomlfile.loads(DEEP.encode(), "HEAD:waivers.toml", "waivers")


def test_a_deeply_nested_waivers_file_stops_the_gate_with_exit_2(tmp_path, monkeypatch):
    roster, filings = _inputs(tmp_path)
    waivers = tmp_path / "waivers.toml"
    waivers.write_text(DEEP, encoding="utf-8")
    monkeypatch.setenv("RECON_GATE_KEY", KEY)
    args = ["gate", *run_args(roster, filings, tmp_path / "out")[1:], "--waivers", str(waivers)]
    done = _invoke(args)
    said = _flat(done.output)
    assert done.exit_code == 2, done.output
    assert f"{waivers}: the waivers file nests arrays or tables too deeply" in said, said
    assert "RecursionError" not in said


def test_a_waivers_file_saved_with_a_byte_order_mark_is_read_by_the_gate(tmp_path, monkeypatch):
    roster, filings = _inputs(tmp_path)
    waivers = tmp_path / "waivers.toml"
    waivers.write_bytes(b"\xef\xbb\xbf# \xe5\x85\x8d\xe9\x99\xa4\n")  # a BOM, then a comment
    monkeypatch.setenv("RECON_GATE_KEY", KEY)
    args = ["gate", *run_args(roster, filings, tmp_path / "out")[1:], "--waivers", str(waivers)]
    done = _invoke(args)
    assert done.exit_code == 0, done.output


def test_a_policy_saved_with_a_byte_order_mark_is_read(tmp_path):
    roster, filings = _inputs(tmp_path)
    policy = tmp_path / "policy.toml"
    policy.write_bytes("\ufeff# 方針\ncertificate_max_years = 3\n".encode())
    out = tmp_path / "out"
    done = _invoke([*run_args(roster, filings, out), "--policy", str(policy)])
    assert done.exit_code == 0, done.output
    summary = (out / "summary.json").read_text(encoding="utf-8")
    assert '"certificate_max_years": 3' in summary


def test_the_shared_loader_reads_a_waivers_file_with_a_byte_order_mark(tmp_path):
    text = '[[waiver]]\ncheck = "match.name"\nreason = "理由"\n'
    plain, marked = tmp_path / "plain.toml", tmp_path / "marked.toml"
    plain.write_text(text, encoding="utf-8")
    marked.write_text(text, encoding="utf-8-sig")
    assert marked.read_bytes().startswith(b"\xef\xbb\xbf")
    assert tomlfile.load(marked, "--waivers", "waivers") == tomlfile.load(
        plain, "--waivers", "waivers"
    )
    assert tomlfile.loads(marked.read_bytes(), "HEAD:marked.toml", "waivers")["waiver"][0][
        "reason"
    ] == ("理由")


def test_a_byte_order_mark_only_at_the_start_is_dropped(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_bytes(b"certificate_max_years = 3\n\xef\xbb\xbf\n")  # BOM mid-file: not TOML
    done = _invoke(["check", "--policy", str(path)])
    assert done.exit_code == 2, done.output
    assert "line 2" in _flat(done.output)


def test_a_key_file_saved_with_a_byte_order_mark_is_the_same_key(tmp_path):
    roster, filings = _inputs(tmp_path)
    plain, marked = tmp_path / "plain.key", tmp_path / "marked.key"
    plain.write_text(KEY + "\n", encoding="utf-8")
    marked.write_text(KEY + "\r\n", encoding="utf-8-sig")  # as Notepad saves it
    assert keys.load_key(marked).fingerprint == keys.load_key(plain).fingerprint
    first = tmp_path / "first"
    args = run_args(roster, filings, first)[1:]
    made = _invoke(["gate", *args, "--key-file", str(plain)])
    assert made.exit_code == 0, made.output
    args = run_args(roster, filings, tmp_path / "second")[1:]
    again = _invoke(["gate", *args, "--key-file", str(marked), "--baseline", str(first)])
    assert again.exit_code == 0, again.output
    assert "another key" not in again.output


# --- a full disk -----------------------------------------------------------------------------


def _previous_report(out: Path) -> bytes:
    out.mkdir()
    (out / "members.csv").write_text("the previous report\n", encoding="utf-8")
    outdir.write_marker(out, outdir.REPORT, ["members.csv"])
    return (out / "members.csv").read_bytes()


# How each writer reports a full disk: polars without an errno, Python without a file name.
FULL_DISK = {
    "polars": OSError("No space left on device (os error 28)"),
    "python": OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)),
    "python with a file": OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "members.csv"),
    "quota": OSError(errno.EDQUOT, os.strerror(errno.EDQUOT)),
}


@pytest.mark.parametrize("how", FULL_DISK, ids=list(FULL_DISK))
def test_a_full_disk_names_the_output_folder_and_what_to_do(tmp_path, monkeypatch, how):
    roster, filings = _inputs(tmp_path)
    out = tmp_path / "out"
    before = _previous_report(out)
    real = pl.DataFrame.write_csv
    calls = threading.local()

    def fills_up(frame, file=None, *args, **kwargs):
        if isinstance(file, str | Path) and Path(file).parent.name.startswith(".out.tmp-"):
            calls.hit = True
            raise FULL_DISK[how]
        return real(frame, file, *args, **kwargs)

    monkeypatch.setattr(pl.DataFrame, "write_csv", fills_up)
    done = _invoke(run_args(roster, filings, out))
    said = _flat(done.output)
    assert getattr(calls, "hit", False), "no output was written through polars"
    assert done.exit_code == 2, done.output
    assert f"the disk filled up while writing {out}" in said, said
    assert "free some space, or pass --out on another disk with room" in said
    assert "ディスクがいっぱい" not in said  # the chosen language only
    if how == "python with a file":
        assert f"writing {out} (members.csv)" in said
    assert (out / "members.csv").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["filings.csv", "out", "roster.csv"]


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_file_the_system_refuses_is_said_in_the_operators_language(tmp_path, monkeypatch, lang):
    # As root the tests cannot be refused a folder: the refusal is raised where recon
    # writes members.csv, as the system would raise it.
    monkeypatch.setenv("RECON_LANG", lang)
    roster, filings = _inputs(tmp_path)
    out = tmp_path / "out"
    real = pl.DataFrame.write_csv

    def refused(frame, file=None, *args, **kwargs):
        if isinstance(file, str | Path) and Path(file).name == "members.csv":
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(file))
        return real(frame, file, *args, **kwargs)

    monkeypatch.setattr(pl.DataFrame, "write_csv", refused)
    done = _invoke(run_args(roster, filings, out))
    said = _flat(done.output)
    assert done.exit_code == 2, done.output
    want = "アクセスする権限がありません" if lang == "ja" else "permission denied"
    assert "members.csv: " + want in said, said
    assert "Errno" not in said and ("Permission denied" not in said or lang == "en")
    assert not out.exists()


SPILL_FULL = {
    "io": duckdb.IOException(
        'IO Error: Could not write file "duckdb_temp_storage-0.tmp": No space left on device'
    ),
    # As DuckDB 2.0 says it with --spill-dir on a 1 MB tmpfs, at 200,000 members and 120MB.
    "no room to offload": duckdb.OutOfMemoryException(
        "Out of Memory Error: failed to offload data block of size 256.0 KiB (800.0 KiB/921.5 KiB "
        "used).\nThis limit was set by the 'max_temp_directory_size' setting.\nBy default, this "
        "setting utilizes the available disk space on the drive where the 'temp_directory' is "
        "located.\nYou can adjust this setting, by using (for example) PRAGMA "
        "max_temp_directory_size='10GiB'\n\nPossible solutions:\n* Reducing the number of threads "
        "(SET threads=X)"
    ),
}


@pytest.mark.parametrize("how", SPILL_FULL, ids=list(SPILL_FULL))
def test_a_full_spill_folder_names_it_and_the_option(tmp_path, monkeypatch, how):
    roster, filings = _inputs(tmp_path)
    spill = tmp_path / "spill"
    spill.mkdir()

    def spill_fills_up(*args, **kwargs):
        raise SPILL_FULL[how]

    monkeypatch.setattr(stages, "run", spill_fills_up)
    args = ["check", "--roster", str(roster), "--filings", str(filings)]
    done = _invoke([*args, "--memory-limit", "1GB", "--spill-dir", str(spill)])
    said = _flat(done.output)
    assert done.exit_code == 2, done.output
    assert f"the disk holding {spill}, where DuckDB spills to disk, is full" in said, said
    assert "pass --spill-dir on a disk with room" in said


def test_an_unexpected_failure_is_still_exit_3(tmp_path, monkeypatch):
    """The mappings above are narrow: a real bug keeps its exit code."""
    roster, filings = _inputs(tmp_path)

    def bug(*args, **kwargs):
        raise RuntimeError("Query interrupted by a bug")  # not DuckDB's interruption

    monkeypatch.setattr(stages, "run", bug)
    done = _invoke(["check", "--roster", str(roster), "--filings", str(filings)])
    assert done.exit_code == 3, done.output
    assert "internal error (a bug, please report it): RuntimeError" in _flat(done.output)


def test_duckdb_s_interruption_is_130_wherever_it_surfaces(tmp_path, monkeypatch):
    roster, filings = _inputs(tmp_path)
    for raised in (RuntimeError("Query interrupted"), duckdb.InterruptException("INTERRUPT")):

        def interrupted(*args, _raised=raised, **kwargs):
            raise _raised

        monkeypatch.setattr(stages, "run", interrupted)
        done = _invoke(["check", "--roster", str(roster), "--filings", str(filings)])
        assert done.exit_code == 130, done.output
        assert "recon: interrupted" in done.output


@pytest.fixture(autouse=True)
def _english_texts(monkeypatch):
    # These tests read recon's English messages (`--lang en`); tests/test_lang.py
    # checks the Japanese default.
    monkeypatch.setenv("RECON_LANG", "en")
