"""Where recon may write: only into what it made itself, never over an input or a stranger's file.

`recon run --out .` once replaced the folder that held the roster. The rules now:

- An output folder (`--out`) is replaced atomically only when recon made it: it
  holds `.recon-output`, a small JSON file naming the tool and every file recon
  wrote there. A folder that does not exist, or exists and is empty, may be
  used. Any other folder, any existing file, any input (roster, filings,
  policy, waivers, key file, the gate's baseline), any folder holding an input,
  a path under a file, and the folder the command runs in (or one holding it)
  is refused with exit 2, after symlinks and `..` are resolved.
- A file recon wrote into its folder may be changed by the user; a file that
  recon did not write (dropped in later) makes the folder refused, so that it
  is never lost silently.
- A symlink given as `--out` is followed, never replaced: the folder it points
  at is replaced (under the same rules) and the link keeps pointing at it.
- `--junit` / `--summary` overwrite only a file that carries recon's mark (a
  comment in its first lines, `CI_MARK`); they may not be an input or lie
  inside `--out`, which the next run replaces.
- `recon sample --out` writes its files only where no file stands, or over the
  files its own earlier run listed in the folder's marker.

Staging (`.NAME.tmp-PID-…`) and retired (`.NAME.old-PID-x`) folders sit beside
the output folder and are found by listing the parent and comparing names, not
by glob patterns, so `[`, `*` and `?` in a name are plain characters. What a
process that is gone left behind is removed by the next run (a retired report
whose replacement never arrived is put back first).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from recon import __version__
from recon.errors import InputError
from recon.texts import text

MARKER = ".recon-output"
REPORT = "report"  # an output folder of `recon run` / `recon gate`
SAMPLE = "sample"  # a folder `recon sample` wrote into
CI_MARK = "written by recon gate; recon overwrites this file only while this line is here"
_MARKER_BYTES = 1 << 20  # a marker larger than this is not one recon wrote
_MARK_BYTES = 1024  # where in a CI file the mark must stand
_SHOWN = 3  # file names quoted in a message

Inputs = Mapping[str, Path | None]  # option (e.g. "--roster") -> the path it was given


# --- what a path is ------------------------------------------------------------------


def real(path: Path) -> Path:
    """The path with `~`, symlinks and `..` resolved (what the system would write to)."""
    return Path(os.path.realpath(path.expanduser()))


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _listing(folder: Path) -> set[str]:
    """Every file and folder under `folder`, as relative POSIX paths; symlinks not followed."""
    found: set[str] = set()
    for parent, dirs, files in os.walk(folder):
        base = Path(parent).relative_to(folder)
        found.update((base / name).as_posix() for name in (*dirs, *files))
    return found


def _t(key: str, /, **values: object) -> str:
    return text(f"outdir.{key}", **values)


def _names(names: Iterable[str]) -> str:
    """The first few names, and how many more."""
    ordered = sorted(names)
    shown = ", ".join(ordered[:_SHOWN])
    more = len(ordered) - _SHOWN
    return shown if more <= 0 else _t("more", shown=shown, more=more)


def read_marker(folder: Path) -> dict | None:
    """The folder's marker if recon wrote it: {tool, version, kind, files}; else None.

    Its content is checked, not only its name: a stray file called `.recon-output`
    must not turn a folder of someone's files into one recon may replace.
    """
    path = folder / MARKER
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > _MARKER_BYTES:
            return None
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict) or document.get("tool") != "recon":
        return None
    files = document.get("files")
    if document.get("kind") not in (REPORT, SAMPLE) or not isinstance(files, list):
        return None
    if not all(isinstance(f, str) for f in files):
        return None
    return document


def write_marker(folder: Path, kind: str, files: Iterable[str]) -> None:
    document = {
        "tool": "recon",
        "version": __version__,
        "kind": kind,
        "note": "recon made this folder and may replace it; files not listed here stop it.",
        "files": sorted(set(files) - {MARKER}),
    }
    written = json.dumps(document, ensure_ascii=False, indent=1) + "\n"
    (folder / MARKER).write_text(written, encoding="utf-8")


def _refuse_inputs(target: Path, given: Path, option: str, inputs: Inputs, example: str) -> None:
    for role, path in inputs.items():
        if path is None:
            continue
        input_path = real(path)
        said = {"option": option, "given": given, "role": role, "path": path, "example": example}
        if target == input_path:
            raise InputError(_t("same_as_input", **said))
        if _inside(input_path, target):
            raise InputError(_t("holds_input", **said))


def _refuse_a_loop(target: Path, given: Path, option: str, example: str) -> None:
    """A path still a link once resolved is a loop of links: it leads to no folder."""
    if target.is_symlink():
        raise InputError(_t("link_loop", option=option, given=given, example=example))


def _refuse_under_a_file(target: Path, given: Path, option: str, example: str) -> None:
    """A path whose nearest existing ancestor is a file (or a loop of links) cannot be made."""
    for ancestor in target.parents:
        if os.path.lexists(ancestor):
            _refuse_a_loop(ancestor, given, option, example)
            if not ancestor.is_dir():
                raise InputError(
                    _t("under_a_file", option=option, given=given, file=ancestor, example=example)
                )
            return


# --- the output folder of run and gate ---------------------------------------------

OUT_EXAMPLE = "reports/latest"


def report_folder(out: Path, inputs: Inputs) -> Path:
    """The real folder `--out` names, once it is sure recon may replace it (else exit 2).

    It may not exist yet, be empty, or be a folder recon made whose every file
    recon wrote. Called before the long run (to fail at once) and again just
    before the swap.
    """
    target = real(out)
    _refuse_inputs(target, out, "--out", inputs, OUT_EXAMPLE)
    if not os.path.lexists(target):
        _refuse_under_a_file(target, out, "--out", OUT_EXAMPLE)
        return target
    _refuse_a_loop(target, out, "--out", OUT_EXAMPLE)
    if not target.is_dir():
        raise InputError(_t("existing_file", out=out, example=OUT_EXAMPLE))
    if _holds_working_folder(target):
        raise InputError(_t("working_folder", out=out, example=OUT_EXAMPLE))
    present = set(os.listdir(target))
    if not present:
        return target
    marker = read_marker(target)
    if marker is None or marker["kind"] != REPORT:
        raise InputError(
            _t("not_ours", out=out, names=_names(present), marker=MARKER, example=OUT_EXAMPLE)
        )
    foreign = _listing(target) - set(marker["files"]) - {MARKER}
    if foreign:
        raise InputError(_t("foreign_files", out=out, names=_names(foreign)))
    return target


def _holds_working_folder(folder: Path) -> bool:
    """Whether the process's working folder is `folder` or lies inside it.

    The swap renames the old folder away and removes it: a shell standing in it
    (`recon run --out .` in an empty folder) would be left in a deleted folder.
    """
    try:
        here = real(Path.cwd())
    except OSError:  # already gone: nothing left to pull away
        return False
    return _inside(here, folder)


def replace(
    out: Path,
    inputs: Inputs,
    fill: Callable[[Path], None],
    interrupted: Callable[[], bool] = lambda: False,
) -> Path:
    """Fill a fresh staging folder beside `out`, mark it, and swap it in for `out`.

    Any exception (Ctrl-C, SIGTERM, a full disk, a refusal) rolls back: the
    previous folder stays or is put back and the staging folder is removed.
    `interrupted()` is asked once the folder is complete, before the swap.
    Folders are owner-only (0700) and files 0600: they hold personal data.
    """
    target = report_folder(out, inputs)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(target)
    ours = f"{os.getpid()}-"
    retired = target.with_name(f".{target.name}.old-{ours}x")
    staging: Path | None = None
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-{ours}", dir=target.parent))
        fill(staging)
        write_marker(staging, REPORT, _listing(staging))
        _owner_only(staging)
        if interrupted():
            raise KeyboardInterrupt
        report_folder(out, inputs)  # the folder may have changed during the run
        if os.path.lexists(target):
            os.rename(target, retired)
        os.rename(staging, target)
    except BaseException:
        if os.path.lexists(retired) and not os.path.lexists(target):
            os.rename(retired, target)
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(retired, ignore_errors=True)
    return target


def _owner_only(folder: Path) -> None:
    for parent, _, files in os.walk(folder):  # each folder is a `parent` in turn
        os.chmod(parent, 0o700)
        for name in files:
            os.chmod(os.path.join(parent, name), 0o600)


# PID, then mkdtemp's random letters (or `x`): nothing of another folder's name fits.
_LEFT = re.compile(r"(\d+)-[a-z0-9_]+")


def _dead(parent: Path, prefix: str) -> list[Path]:
    """Our folders and files in `parent` named `prefix` + PID + `-…` whose process is gone.

    Names are compared as text (never a glob), so `[`, `*` or `?` in them are plain.
    """
    try:
        names = sorted(os.listdir(parent))
    except OSError:
        return []
    found = []
    for name in names:
        if not name.startswith(prefix):
            continue
        left = _LEFT.fullmatch(name[len(prefix) :])
        path = parent / name
        if left is not None and not alive(int(left.group(1))) and _own_entry(path):
            found.append(path)
    return found


def remove_dead(parent: Path, prefix: str) -> None:
    """Remove what a killed run (SIGKILL, power loss) left; a live run's is kept."""
    for path in _dead(parent, prefix):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def remove_leftovers(target: Path) -> None:
    """The staging and retired folders a killed run left beside `target`.

    A retired report whose replacement never arrived is put back first: the
    process died between the two renames of the swap.
    """
    for path in _dead(target.parent, f".{target.name}.old-"):
        if path.is_dir() and not os.path.lexists(target):
            os.rename(path, target)
        else:
            shutil.rmtree(path, ignore_errors=True)
    remove_dead(target.parent, f".{target.name}.tmp-")


def _own_entry(path: Path) -> bool:
    """A folder or plain file of this user: never a symlink, never someone else's."""
    try:
        info = path.lstat()
    except OSError:
        return False
    return (stat.S_ISDIR(info.st_mode) or stat.S_ISREG(info.st_mode)) and (
        info.st_uid == os.getuid()
    )


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --- the gate's CI files -------------------------------------------------------------

CI_EXAMPLES = {"--junit": "reports/gate-junit.xml", "--summary": "reports/gate-summary.md"}


def ci_file(path: Path, option: str, inputs: Inputs, out: Path | None) -> Path:
    """The real file `--junit` / `--summary` may be written to, or exit 2.

    Only a file that carries `CI_MARK` near its top (one recon wrote) is
    overwritten; a symlink is followed, so the file it points at is replaced.
    """
    target = real(path)
    example = CI_EXAMPLES.get(option, "reports/gate-file")
    _refuse_inputs(target, path, option, inputs, example)
    said = {"option": option, "path": path, "example": example}
    if out is not None and _inside(target, real(out)):
        raise InputError(_t("ci_inside_out", out=out, **said))
    if not os.path.lexists(target):
        _refuse_under_a_file(target, path, option, example)
        return target
    _refuse_a_loop(target, path, option, example)
    if target.is_dir():
        raise InputError(_t("ci_is_folder", **said))
    if not carries_mark(target):
        raise InputError(_t("ci_not_ours", **said))
    return target


def carries_mark(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(_MARK_BYTES)
    except OSError:
        return False
    return CI_MARK.encode("utf-8") in head


def with_mark(text: str) -> str:
    """The CI file's text with `CI_MARK` as a comment near its top (XML or Markdown)."""
    comment = f"<!-- {CI_MARK} -->\n"
    if text.startswith("<?xml"):
        declaration, _, rest = text.partition("\n")
        return f"{declaration}\n{comment}{rest}"
    return comment + text


# --- recon sample ----------------------------------------------------------------------

SAMPLE_EXAMPLE = "sample-data"


def sample_folder(out: Path, names: Iterable[str]) -> Path:
    """The real folder `recon sample` may write `names` into; marks them as its own.

    A name may be written where nothing stands, or over a file an earlier
    `recon sample` listed in the folder's marker; never through a symlink.
    """
    target = real(out)
    names = sorted(names)
    if os.path.lexists(target):
        _refuse_a_loop(target, out, "--out", SAMPLE_EXAMPLE)
        if not target.is_dir():
            raise InputError(_t("sample_existing_file", out=out, example=SAMPLE_EXAMPLE))
    if not os.path.lexists(target):
        _refuse_under_a_file(target, out, "--out", SAMPLE_EXAMPLE)
    marker = read_marker(target) if target.is_dir() else None
    if marker is not None and marker["kind"] != SAMPLE:
        raise InputError(_t("sample_in_report", out=out, example=SAMPLE_EXAMPLE))
    ours = set(marker["files"]) if marker is not None else set()
    taken = [
        n
        for n in names
        if os.path.lexists(target / n)
        and (n not in ours or (target / n).is_symlink() or not (target / n).is_file())
    ]
    if taken:
        raise InputError(_t("sample_taken", out=out, names=_names(taken), example=SAMPLE_EXAMPLE))
    target.mkdir(parents=True, exist_ok=True)
    # Marked before writing: a run stopped halfway leaves files the next run may replace.
    write_marker(target, SAMPLE, ours | set(names))
    return target
