"""A non-editable install carries the SQL stages, the check catalog and the sample."""

import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(dist),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    return next(dist.glob("recon-*.whl"))


def test_wheel_carries_sql_checks_policy_and_sample(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    sql = sorted(p.name for p in (ROOT / "sql").glob("*.sql"))
    assert {f"recon/_shipped/sql/{s}" for s in sql} <= names
    assert {
        "recon/_shipped/checks/catalog.toml",
        "recon/_shipped/sample_data/roster.csv",
        "recon/_shipped/sample_data/filings.csv",
        "recon/policy.toml",
        "recon/variant_overrides.toml",
    } <= names


def test_installed_wheel_runs_the_sample_from_anywhere(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    # The dependencies come from the interpreter running the tests; only recon itself is
    # installed. `system_site_packages=True` would not do: from inside a virtual
    # environment (the README's setup) it sees the base interpreter, not this one. A
    # path file appends this interpreter's site folders after the new environment's own,
    # so the wheel installed there is found first and this checkout not at all (path
    # files inside the appended folders, such as an editable install's, are not read).
    inner_site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    outer = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    Path(inner_site, "outer-site.pth").write_text("\n".join(sorted(outer)) + "\n")
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--no-deps", "--ignore-installed", str(wheel)],
        check=True,
        capture_output=True,
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [python, "-m", "recon", "run", "--as-of", "2025-06-30"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    located = subprocess.run(
        [python, "-c", "import recon; print(recon.__file__)"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    ).stdout
    assert str(env_dir) in located  # the installed copy ran, not this checkout
    # One member row per roster row, and the header.
    roster_lines = (ROOT / "sample_data" / "roster.csv").read_bytes().count(b"\n")
    members = (work / "reports" / "latest" / "members.csv").read_bytes().count(b"\n")
    assert members == roster_lines
