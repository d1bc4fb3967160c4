"""Offline by construction (SPEC §9): the whole run, report included, needs no network."""

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from recon import pipeline
from recon.policy import load_policy
from recon.resources import shipped
from tests.conftest import AS_OF

ROOT = Path(__file__).resolve().parent.parent


def test_no_connection_is_even_attempted(tmp_path, monkeypatch):
    attempts = []

    def refuse(self, address, *args, **kwargs):
        attempts.append(address)
        raise OSError("network refused by test_offline")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(
        socket, "getaddrinfo", lambda *a, **k: attempts.append(a) or refuse(None, a)
    )
    sample = shipped("sample_data")
    result = pipeline.analyse(sample / "roster.csv", sample / "filings.csv", load_policy(), AS_OF)
    out = pipeline.write(result, tmp_path / "out")
    assert (out / "report.html").is_file()
    assert attempts == []


def test_whole_run_in_a_namespace_without_network(tmp_path):
    unshare = shutil.which("unshare")
    usable = (
        unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0
    )
    if not usable:
        if os.environ.get("CI"):
            pytest.fail("CI must be able to run `unshare -n` (root) to prove the run is offline")
        pytest.skip(
            "`unshare -n` is not permitted here (needs root); the in-process test still runs"
        )
    done = subprocess.run(
        [
            unshare,
            "-n",
            sys.executable,
            "-m",
            "recon",
            "run",
            "--as-of",
            "2025-06-30",
            "--out",
            str(tmp_path / "out"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "report.html").is_file()
