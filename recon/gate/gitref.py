"""The input files as they were at a git revision (`--baseline-ref`).

Read-only: `git rev-parse` and `git cat-file` only. The files' bytes are read
from git's output straight into memory and never written to disk: they hold
My Numbers in plain form, and a copy in a temporary folder would outlive a
`kill -9`. `--filters` applies the repository's smudge filters (Git LFS, line
endings) as a checkout would.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from recon.errors import InputError
from recon.pipeline import Content
from recon.texts import os_reason, text


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except OSError as exc:
        raise InputError(text("gate.gitref.no_git", reason=os_reason(exc))) from None


def _top(path: Path) -> Path:
    folder = next(p for p in path.parents if p.is_dir())  # the file may be gone from the tree
    done = _git(["rev-parse", "--show-toplevel"], folder)
    if done.returncode != 0:
        raise InputError(text("gate.gitref.not_a_repository", path=path))
    return Path(done.stdout.decode().strip()).resolve()


def _has_commits(top: Path) -> bool:
    return _git(["rev-list", "-n", "1", "--all"], top).stdout.strip() != b""


def files_at(ref: str, paths: dict[str, Path | None]) -> dict[str, Content | None]:
    """Each path's content at `ref`, in memory; None where it did not exist.

    `paths` maps a role (roster, filings, waivers) to a file in the working tree;
    a None path stays None.
    """
    found: dict[str, Content | None] = {}
    checked: set[Path] = set()
    for role, path in paths.items():
        if path is None:
            found[role] = None
            continue
        path = path.resolve()
        top = _top(path)
        if top not in checked:
            commit = _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], top)
            if commit.returncode != 0 and not _has_commits(top):
                # The first commit of a repository (a pre-commit hook on `HEAD`): nothing
                # was accepted before it, so there is no baseline and every finding is new.
                return {role: None for role in paths}
            if commit.returncode != 0:
                raise InputError(text("gate.gitref.no_revision", ref=ref, top=top))
            checked.add(top)
        relative = path.relative_to(top).as_posix()
        spec = f"{ref}:{relative}"
        if _git(["cat-file", "-e", spec], top).returncode != 0:
            found[role] = None
            continue
        blob = _git(["cat-file", "--filters", spec], top)
        if blob.returncode != 0:
            # git's own words (a smudge filter's failure, say): only git knows them. Its
            # last line is the verdict; what a filter printed before it may quote the file.
            lines = blob.stderr.decode(errors="replace").strip().splitlines() or [""]
            said = lines[-1][:200]
            raise InputError(text("gate.gitref.unreadable", ref=ref, path=relative, git=said))
        found[role] = Content(Path(spec), blob.stdout)
    return found
