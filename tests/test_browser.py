"""report.html in a real headless Chromium, offline, as the staff open it from disk.

Chromium is driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`),
so nothing is downloaded and no port is opened. Debian's `chromium` and
`fonts-noto-cjk` are needed (`.ci/run` installs them); without them the tests
skip on a developer's machine and fail in CI.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import datetime as dt
import fcntl
import io
import json
import os
import select
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2025-06-30"
CJK_FONTS = ("Noto Sans CJK JP", "Hiragino", "Yu Gothic", "Meiryo")


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    message = "Chromium is not installed: apt-get install chromium fonts-noto-cjk"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


class Chromium:
    """A headless Chromium and one page, spoken to as JSON messages on fds 3 and 4."""

    def __init__(self, executable: str, profile: Path):
        to_browser = os.pipe()
        from_browser = os.pipe()
        # Kept above 4 so that placing them on 3 and 4 in the child cannot clobber one another.
        child_in = fcntl.fcntl(to_browser[0], fcntl.F_DUPFD_CLOEXEC, 10)
        child_out = fcntl.fcntl(from_browser[1], fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_browser[0])
        os.close(from_browser[1])

        def on_fds_3_and_4():
            os.dup2(child_in, 3)
            os.dup2(child_out, 4)

        self.process = subprocess.Popen(
            [
                executable,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--lang=ja",
                f"--user-data-dir={profile}",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            preexec_fn=on_fds_3_and_4,
            close_fds=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(child_in)
        os.close(child_out)
        self._write, self._read = to_browser[1], from_browser[0]
        self._buffer = b""
        self._id = 0
        self.events: list[dict] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network", "DOM", "CSS"):
            self.page(f"{domain}.enable")
        self.page("Emulation.setDeviceMetricsOverride", width=1280, height=900,
                  deviceScaleFactor=1, mobile=False)  # fmt: skip

    def call(self, method: str, session: str | None = None, **params) -> dict:
        self._id += 1
        message = {"id": self._id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        while True:
            answer = self._next()
            if answer.get("id") == self._id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer["result"]
            self.events.append(answer)

    def page(self, method: str, **params) -> dict:
        return self.call(method, self.session, **params)

    def _next(self, timeout: float = 30) -> dict:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._read], [], [], timeout)
            if not ready:
                raise TimeoutError("Chromium did not answer")
            chunk = os.read(self._read, 1 << 20)
            if not chunk:
                raise EOFError("Chromium closed the pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def open(self, url: str) -> None:
        self.events.clear()
        self.page("Page.navigate", url=url)
        deadline = time.monotonic() + 30
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            assert time.monotonic() < deadline, "the page did not finish loading"
            self.events.append(self._next())

    def js(self, expression: str):
        got = self.page("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in got, got["exceptionDetails"]
        return got["result"].get("value")

    def click(self, selector: str) -> None:
        """A real mouse click in the middle of the element, as a person would."""
        box = self.js(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.page(
                "Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left",
                clickCount=1,
            )  # fmt: skip

    def problems(self) -> list[str]:
        """Console errors, uncaught exceptions and failed loads since the page was opened."""
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                found.append(params["exceptionDetails"].get("text", "exception"))
            elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
                found.append(f"console.{params['type']}")
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                found.append(params["entry"]["text"])
        return found

    def requested(self) -> list[str]:
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e.get("method") == "Network.requestWillBeSent"
        ]

    def screenshot(self, path: Path) -> Path:
        shot = self.page("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def close(self) -> None:
        with contextlib.suppress(EOFError, TimeoutError, OSError):  # it may close first
            self.call("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._write)
        os.close(self._read)


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """The bundled sample's report, in Japanese and in English."""
    outs = {}
    for lang in ("ja", "en"):
        out = tmp_path_factory.mktemp("browser") / lang
        done = subprocess.run(
            [sys.executable, "-m", "recon", "run", "--as-of", AS_OF, "--out", str(out),
             "--lang", lang],
            capture_output=True, text=True, cwd=ROOT,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        outs[lang] = out / "report.html"
    return outs


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium = Chromium(_chromium(), tmp_path_factory.mktemp("profile"))
    yield chromium
    chromium.close()


def test_the_report_opens_offline_with_no_errors_and_the_verdict_first(browser, reports):
    browser.open(reports["ja"].as_uri())
    assert browser.problems() == []
    assert all(url.startswith(("file:", "data:")) for url in browser.requested())
    verdict = browser.js(
        "(() => { const v = document.getElementById('verdict');"
        " const r = v.getBoundingClientRect();"
        " return [v.innerText, r.top, r.height, getComputedStyle(v).visibility]; })()"
    )
    text, top, height, visibility = verdict
    summary = json.loads((reports["ja"].parent / "summary.json").read_text(encoding="utf-8"))
    errors = summary["findings"]["by_severity"]["error"]
    assert errors > 0 and text.startswith("発送不可") and f"エラー {errors} 件" in text
    assert 0 <= top < 200 and height > 20 and visibility == "visible"  # above the fold


def test_the_action_lists_are_visible_and_name_the_members(browser, reports):
    browser.open(reports["ja"].as_uri())
    lists = browser.js(
        "[...document.querySelectorAll('h3[id^=list-]')].map(h => [h.id, h.offsetHeight > 0])"
    )
    assert [key for key, shown in lists if shown] == [
        "list-confirm_members",
        "list-confirm_hr",
        "list-confirm_society",
        "list-overseas_households",
        "list-no_my_number",
        "list-certificates",
    ]
    members = browser.js(
        "[...document.querySelectorAll('#table-confirm_members tbody tr')].map(r => r.innerText)"
    )
    # The page lists the whole list (the sample's is under the page's 500 rows): as the CSV.
    listed = csv.reader(io.StringIO(
        (reports["ja"].parent / "confirm_members.csv").read_text(encoding="utf-8-sig")
    ))  # fmt: skip
    assert len(members) == len(list(listed)) - 1 > 0
    assert any("1201-1006-01" in row for row in members)
    assert "エラー" in members[0]  # the people with errors come first


def test_clicking_a_column_heading_sorts_the_table(browser, reports):
    browser.open(reports["ja"].as_uri())
    column = (
        "[...document.querySelectorAll('#table-confirm_members tbody tr')]"
        ".map(r => r.cells[1].innerText)"
    )
    before = browser.js(column)
    browser.click("#table-confirm_members thead th:nth-child(2)")
    ascending = browser.js(column)
    assert ascending != before and ascending == sorted(before)
    browser.click("#table-confirm_members thead th:nth-child(2)")
    assert browser.js(column) == sorted(before, reverse=True)
    assert browser.problems() == []


def test_typing_in_the_filter_hides_the_other_rows(browser, reports):
    browser.open(reports["ja"].as_uri())
    browser.click("input[data-filter=table-confirm_members]")
    browser.page("Input.insertText", text="3405-2007")
    shown = browser.js(
        "[...document.querySelectorAll('#table-confirm_members tbody tr')]"
        ".filter(r => !r.hidden).map(r => r.cells[1].innerText)"
    )
    assert shown and all(s.startswith("3405-2007") for s in shown)


def test_japanese_renders_in_a_cjk_font_and_the_screenshot_shows_it(browser, reports, tmp_path):
    browser.open(reports["ja"].as_uri())
    document = browser.page("DOM.getDocument")["root"]["nodeId"]
    verdict = browser.page("DOM.querySelector", nodeId=document, selector="#verdict")["nodeId"]
    fonts = browser.page("CSS.getPlatformFontsForNode", nodeId=verdict)["fonts"]
    used = {f["familyName"] for f in fonts if f["glyphCount"]}
    assert any(name.startswith(CJK_FONTS) for name in used), f"no CJK font: {used}"
    shot = browser.screenshot(tmp_path / "report-ja.png")
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1280, 900)
    assert len(data) > 50_000  # text, tiles and charts, not a blank page


def test_the_english_report_opens_as_cleanly(browser, reports, tmp_path):
    browser.open(reports["en"].as_uri())
    assert browser.problems() == []
    assert browser.js("document.getElementById('verdict').innerText").startswith("Blocked by")
    browser.screenshot(tmp_path / "report-en.png")


@pytest.fixture(scope="module")
def gate_report(tmp_path_factory):
    """The sample's report from `recon gate` with a waivers file: one holds, one is stale."""
    folder = tmp_path_factory.mktemp("gate")
    waivers = folder / "waivers.toml"
    waivers.write_text(
        '[[waiver]]\ncheck = "match.birth_date"\nmember_id = "1201-1006-01"\n'
        'reason = "<script>alert(1)</script> 戸籍で確認済み"\napproved_by = "適用課 佐藤"\n'
        # Within a certificate's five years of today: a waiver may not hold longer.
        f"expires_on = {dt.date.today() + dt.timedelta(days=365)}\n\n"
        '[[waiver]]\ncheck = "match.sex"\nmember_id = "1201-9999-00"\n'
        'reason = "old"\napproved_by = "適用課 佐藤"\nexpires_on = 2025-01-31\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECON_", "GITHUB_"))}
    done = subprocess.run(
        [sys.executable, "-m", "recon", "gate", "--as-of", AS_OF, "--out", str(folder / "out"),
         "--waivers", str(waivers)],
        capture_output=True, text=True, cwd=ROOT, env=env,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr  # the sample has errors, all new
    return folder / "out" / "report.html"


def test_the_gate_report_shows_its_waivers_and_runs_none_of_their_text(
    browser, gate_report, tmp_path
):
    browser.open(gate_report.as_uri())
    assert browser.problems() == []
    browser.click('nav a[href="#waivers"]')
    rows = browser.js(
        "[...document.querySelectorAll('#table-waivers tbody tr')]"
        ".map(r => [r.innerText, r.offsetHeight > 0])"
    )
    assert [shown for _, shown in rows] == [True, True]
    assert "<script>alert(1)</script> 戸籍で確認済み" in rows[0][0] and "有効" in rows[0][0]
    assert "1201-9999-00" in rows[1][0] and "期限切れ" in rows[1][0]
    assert browser.js("document.querySelectorAll('script').length") == 1
    browser.screenshot(tmp_path / "report-waivers.png")


@pytest.mark.parametrize(
    "lang, bundled, gx_words",
    [("ja", "同梱サンプル", "行すべて適合"), ("en", "bundled sample", "rows pass")],
)
def test_the_checks_read_by_title_and_gx_in_words(browser, reports, lang, bundled, gx_words):
    """Rendered from the templates: the style and script run under the page's CSP
    (a hash that did not match would leave the table unsortable and print an error)."""
    browser.open(reports[lang].as_uri())
    assert browser.problems() == []
    first = browser.js(
        "(() => { const c = document.querySelector('#table-checks tbody td');"
        " return [c.innerText, getComputedStyle(c.querySelector('small.code')).fontSize,"
        " getComputedStyle(c).fontSize]; })()"
    )
    said, code_size, cell_size = first
    assert not said.startswith("input.") and "input.missing_column" in said  # title, then code
    assert float(code_size.removesuffix("px")) < float(cell_size.removesuffix("px"))
    page = browser.js("document.body.innerText")
    assert bundled in page and gx_words in page and "0.0%)" not in page
    # The script ran: a click sorts the checks table.
    order = browser.js(
        "(() => { const th = document.querySelector('#table-checks th');"
        " th.click(); return th.getAttribute('aria-sort'); })()"
    )
    assert order == "ascending"


@pytest.mark.parametrize(
    "lang, decisions, notice",
    [("ja", "判定とその理由", "資格情報のお知らせ"), ("en", "Decisions", "Notice")],
)
def test_clicking_a_member_opens_its_explanation(browser, reports, lang, decisions, notice):
    """A member of the employer's list, clicked: its explanation opens, with its decisions."""
    browser.open(reports[lang].as_uri())
    link = "#table-confirm_members tbody tr:first-child a[href^='#explain-']"
    target = browser.js(f"document.querySelector({json.dumps(link)}).getAttribute('href')")
    member_id = browser.js(f"document.querySelector({json.dumps(link)}).innerText")
    shown = (
        f"(() => {{ const d = document.querySelector('{target}');"
        " return [d.open, d.innerText]; })()"
    )
    is_open, _ = browser.js(shown)
    assert is_open is False  # closed until asked for
    browser.click(link)
    deadline = time.monotonic() + 5  # hashchange is dispatched after the click returns
    while not browser.js(shown)[0] and time.monotonic() < deadline:
        time.sleep(0.05)
    is_open, said = browser.js(shown)
    assert is_open is True and browser.js("location.hash") == target
    assert member_id in said and decisions in said and notice in said
    assert "my_number_status" in said and "must_confirm" in said  # the codes beside the words
    # A second member's link opens its own explanation as well.
    second = "#table-confirm_members tbody tr:nth-child(2) a[href^='#explain-']"
    browser.js(f"document.querySelector({json.dumps(second)}).click()")
    opened = "[...document.querySelectorAll('details.explain[open]')].map(d => '#' + d.id)"
    deadline = time.monotonic() + 5  # hashchange is dispatched after the click returns
    while len(browser.js(opened)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    second_target = browser.js(f"document.querySelector({json.dumps(second)}).getAttribute('href')")
    assert sorted(browser.js(opened)) == sorted([target, second_target])
    assert browser.problems() == []
