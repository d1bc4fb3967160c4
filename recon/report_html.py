"""report.html: one self-contained page that opens from disk with no network (SPEC §8, §9).

Rendering only: `recon.report` decides what the page says and hands over
already-masked frames; this module escapes every value it prints. Charts are
inline SVG, the sorting and filtering script is inline, and a Content
Security Policy lets the page load nothing and run no script but its own.
"""

from __future__ import annotations

import base64
import hashlib
import html
from typing import TYPE_CHECKING, NamedTuple

from recon.errors import InvariantError
from recon.findings import SEVERITY_RANK
from recon.texts import text
from recon.wording import word

if TYPE_CHECKING:
    from recon.report import ActionList, CheckRow, ReportData, WaiverList

_TEXT = {
    "ja": {
        "title": "recon 突合レポート",
        "ready": "発送可能：発送を止めるエラーはありません",
        "blocked": "発送不可：エラー {n} 件を解消してください",
        "run_at": "実行日時",
        "as_of": "基準日",
        "version": "ツール",
        "policy": "適用ポリシー",
        "show": "表示する",
        "inputs": "入力ファイル",
        "file": "ファイル",
        "path": "場所",
        "rows": "行数",
        "roster": "加入者台帳",
        "filings": "事業主届出",
        "nav": {
            "summary": "概要",
            "actions": "対応が必要な人",
            "checks": "チェック結果",
            "files": "出力ファイル",
        },
        "tiles": {
            "active": "在籍加入者",
            "notices": "お知らせ送付",
            "certificates": "資格確認書",
            "must_confirm": "確認が必要",
            "envelopes": "封筒（うち発送可）",
            "errors": "エラー",
            "warnings": "警告",
            "overseas": "海外居住の割合",
        },
        "of": "/ {n} 人",
        "charts": {
            "notice": "お知らせの送付時期",
            "certificate_reasons": "資格確認書の交付理由",
            "delivery": "送付先",
            "findings": "チェック別の指摘件数",
            "overseas": "在籍加入者の居住地",
        },
        "domestic": "国内",
        "abroad": "海外",
        "lists": {
            "confirm_members": "本人に確認する（事業主経由）",
            "confirm_hr": "グローバル人事課に確認する（海外世帯の送付先）",
            "confirm_society": "健保組合が台帳を直す",
            "overseas_households": "海外居住の世帯と送付先",
            "no_my_number": "個人番号のない加入者（日本で住民登録なし・制度開始前に出国）",
            "certificates": "資格確認書の交付対象",
        },
        "lists_note": "エラーのある人から順に並んでいます。見出しをクリックすると並べ替え、"
        "検索欄で絞り込めます。",
        "cap": "{n} 件中 {cap} 件を表示。全件は {csv} にあります。",
        "all_in": "全 {n} 件（{csv}）",
        "filter": "絞り込み",
        "none": "該当なし",
        "columns": {
            "household_id": "世帯",
            "member_id": "加入者",
            "relation_text": "続柄",
            "priority": "優先度",
            "confirm_reasons_text": "確認すること",
            "findings": "指摘の内容",
            "delivery_text": "送付先",
            "overseas_type_text": "海外赴任区分",
            "members": "人数",
            "member_ids": "世帯の加入者",
            "overseas_members": "海外居住",
            "with_documents": "書類あり",
            "certificate_reasons_text": "交付理由",
            "certificate_valid_until": "有効期限",
        },
        "check": "チェック",
        "severity": "重大度",
        "result": "結果",
        "count": "件数",
        "action": "対応",
        "status": {"pass": "合格", "fail": "不合格", "noted": "記録"},
        "gx": "Great Expectations による検証：{n} 項目中 {failed} 項目が不合格。",
        "data_docs": "Data Docs（検証結果の詳細）",
        "private": "このフォルダとファイルは作成したユーザーだけが読み書きできます（フォルダ 0700、"
        "ファイル 0600）。個人番号は末尾4桁のみで、全桁はどのファイルにもありません。"
        "個人情報を含むため、組合の特定個人情報の取扱規程に従って保管・削除してください。",
        "files": {
            "members.csv": "加入者ごとの判定（全員）",
            "findings.csv": "指摘の一覧（全件）",
            "summary.json": "集計と入力ファイルの記録",
            "mailing.csv": "封筒ごとの同封書類（発送用）",
            "confirm_members.csv": "本人への確認リスト（事業主向け）",
            "confirm_hr.csv": "送付先の確認リスト（グローバル人事課向け）",
            "confirm_society.csv": "台帳の修正リスト（健保組合向け）",
            "overseas_households.csv": "海外居住の世帯",
            "no_my_number.csv": "個人番号のない加入者",
            "certificates.csv": "資格確認書の交付対象",
        },
        "privacy": "個人番号は末尾4桁のみ表示しています（********1234）。",
        "waivers": {
            "title": "免除",
            "intro": "recon gate が使った免除ファイル {source}（{n} 件）。"
            "免除は期限の日まで、該当する指摘でゲートを止めません。"
            "期限は {day}（今日と基準日の遅い方）で判定しました。",
            "csv": "同じ一覧：{csv}",
            "none": "免除ファイルに免除はありません。",
            "columns": {
                "check": "チェック",
                "member": "加入者（または指摘ID）",
                "field": "項目",
                "reason": "理由",
                "approved_by": "承認者",
                "expires_on": "期限",
                "status": "状態",
                "matched": "該当する指摘",
            },
        },
    },
    "en": {
        "title": "recon reconciliation report",
        "ready": "Ready to mail: no blocking errors",
        "blocked": "Blocked by {n} errors: fix them before mailing",
        "blocked_one": "Blocked by 1 error: fix it before mailing",
        "run_at": "Run at",
        "as_of": "As of",
        "version": "Tool",
        "policy": "Policy in force",
        "show": "show",
        "inputs": "Input files",
        "file": "File",
        "path": "Path",
        "rows": "Rows",
        "roster": "Roster",
        "filings": "Employer filings",
        "nav": {
            "summary": "Summary",
            "actions": "Who must act",
            "checks": "Checks",
            "files": "Files",
        },
        "tiles": {
            "active": "Active members",
            "notices": "Notices to mail",
            "certificates": "Certificates",
            "must_confirm": "Must confirm",
            "envelopes": "Envelopes (ready)",
            "errors": "Errors",
            "warnings": "Warnings",
            "overseas": "Living overseas",
        },
        "of": "/ {n}",
        "charts": {
            "notice": "Members by notice wave",
            "certificate_reasons": "Certificates by reason",
            "delivery": "Members by delivery route",
            "findings": "Findings by check",
            "overseas": "Active members by residence",
        },
        "domestic": "Japan",
        "abroad": "overseas",
        "lists": {
            "confirm_members": "Members to confirm (through the employer)",
            "confirm_hr": "Global HR to confirm (overseas households' addresses)",
            "confirm_society": "Society to fix the roster",
            "overseas_households": "Overseas households and their routes",
            "no_my_number": "Members with no My Number (never registered, left before 2015)",
            "certificates": "Certificates to issue",
        },
        "lists_note": "People with errors come first. Click a heading to sort; type in the box "
        "to filter.",
        "cap": "First {cap} of {n} shown; all of them are in {csv}.",
        "all_in": "All {n} ({csv})",
        "filter": "Filter",
        "none": "none",
        "columns": {
            "household_id": "Household",
            "member_id": "Member",
            "relation_text": "Relation",
            "priority": "Priority",
            "confirm_reasons_text": "To confirm",
            "findings": "Findings",
            "delivery_text": "Mailed to",
            "overseas_type_text": "Overseas type",
            "members": "Members",
            "member_ids": "Members of the household",
            "overseas_members": "Overseas",
            "with_documents": "With documents",
            "certificate_reasons_text": "Reasons",
            "certificate_valid_until": "Valid until",
        },
        "check": "Check",
        "severity": "Severity",
        "result": "Result",
        "count": "Count",
        "action": "What to do",
        "status": {"pass": "pass", "fail": "fail", "noted": "noted"},
        "gx": "Great Expectations validation: {failed} of {n} expectations failed.",
        "data_docs": "Data Docs (validation details)",
        "private": "This folder and its files are readable and writable by the user who "
        "created them only (folder 0700, files 0600). My Numbers appear as their last four "
        "digits only; no file holds a full one. The files hold personal data: keep and "
        "delete them under the society's rules for specific personal information.",
        "files": {
            "members.csv": "decisions for every member",
            "findings.csv": "every finding",
            "summary.json": "counts and the record of the inputs",
            "mailing.csv": "one row per envelope with the documents inside",
            "confirm_members.csv": "members to confirm (for the employer)",
            "confirm_hr.csv": "addresses to confirm (for global HR)",
            "confirm_society.csv": "roster entries to fix (for the society)",
            "overseas_households.csv": "overseas households",
            "no_my_number.csv": "members with no My Number",
            "certificates.csv": "certificates to issue",
        },
        "privacy": "My Numbers are shown by their last four digits only (********1234).",
        "waivers": {
            "title": "Waivers",
            "intro": "The waivers file recon gate used: {source} ({n}). A waiver keeps the "
            "findings it matches from failing the gate until its expiry date, judged on {day} "
            "(the later of today and the run's as-of date).",
            "csv": " The same list: {csv}",
            "none": "The waivers file holds no waiver.",
            "columns": {
                "check": "Check",
                "member": "Member (or finding id)",
                "field": "Field",
                "reason": "Reason",
                "approved_by": "Approved by",
                "expires_on": "Expires on",
                "status": "State",
                "matched": "Findings matched",
            },
        },
    },
}

_CSS = """
:root{--ok:#1e7e34;--bad:#b00020;--warn:#a15c00;--info:#35608f;--line:#d6d6d6}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1200px;padding:1.5rem;color:#222;line-height:1.5;
font-family:"Hiragino Sans","Hiragino Kaku Gothic ProN","Yu Gothic","YuGothic","Meiryo",
"Noto Sans CJK JP","Noto Sans JP",sans-serif}
h1{font-size:1.5rem;margin:0 0 .5rem}h2{border-bottom:2px solid #333;padding-bottom:.2rem;
margin-top:2.5rem}h3{margin:1.75rem 0 .25rem}
.verdict{font-size:1.5rem;font-weight:bold;padding:.8rem 1.2rem;border-radius:6px;
margin:.5rem 0 1rem}
.verdict.ready{background:#e6f4ea;color:var(--ok)}
.verdict.blocked{background:#fde8e8;color:var(--bad)}
.meta{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem;margin:0}
.meta dt{font-weight:bold}.meta dd{margin:0}
nav{position:sticky;top:0;background:#fff;border-bottom:1px solid var(--line);padding:.4rem 0;
z-index:1}
nav a{margin-right:1.2rem}
table{border-collapse:collapse;margin:.4rem 0 1rem;font-size:.92rem}
td,th{border:1px solid var(--line);padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3;white-space:nowrap}
table.sortable th{cursor:pointer;user-select:none}
table.sortable th::after{content:" \\2195";color:#999}
table.sortable th[aria-sort=ascending]::after{content:" \\25B2";color:#333}
table.sortable th[aria-sort=descending]::after{content:" \\25BC";color:#333}
.id{white-space:nowrap}.num{text-align:right;font-variant-numeric:tabular-nums}
.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.8rem;word-break:break-all}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:.6rem;
margin:1rem 0}
.tile{border:1px solid var(--line);border-radius:6px;padding:.5rem .8rem}
.tile b{display:block;font-size:1.6rem}.tile small{color:#555}
.tile.bad b{color:var(--bad)}.tile.warn b{color:var(--warn)}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:0 2rem}
figure{margin:.5rem 0}table.chart{margin:0}table.chart td{border:none;padding:.1rem .4rem}
table.chart td:first-child{min-width:10em}
.pass{color:var(--ok)}.fail{color:var(--bad);font-weight:bold}.noted{color:var(--info)}
.sev-error{color:var(--bad);font-weight:bold}.sev-warning{color:var(--warn)}.sev-info{color:var(--info)}
.detail{display:block;color:#555;font-size:.85rem}
.filter{margin:.2rem 0;padding:.2rem .4rem;width:18rem;font:inherit}
.note{color:#555}
"""

# Sorting compares numbers as numbers and text in the page's language; the
# filter hides the rows that do not contain what is typed.
_JS = """
(function () {
  var lang = document.documentElement.lang;
  function key(cell) {
    var v = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent;
    var n = Number(v);
    return v.trim() !== "" && !isNaN(n) ? n : v;
  }
  function compare(x, y) {
    if (typeof x === "number" && typeof y === "number") return x - y;
    if (typeof x === "number") return -1;
    if (typeof y === "number") return 1;
    return x.localeCompare(y, lang);
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, i) {
      th.tabIndex = 0;
      function sort() {
        var up = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", up ? "ascending" : "descending");
        var body = table.tBodies[0];
        Array.prototype.slice.call(body.rows)
          .sort(function (a, b) {
            var c = compare(key(a.cells[i]), key(b.cells[i]));
            return up ? c : -c;
          })
          .forEach(function (row) { body.appendChild(row); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter") sort(); });
    });
  });
  document.querySelectorAll("input[data-filter]").forEach(function (input) {
    var table = document.getElementById(input.getAttribute("data-filter"));
    input.addEventListener("input", function () {
      var q = input.value.toLowerCase();
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        row.hidden = q !== "" && row.textContent.toLowerCase().indexOf(q) < 0;
      });
    });
  });
})();
"""

_SEVERITY_COLOUR = {"error": "#b00020", "warning": "#d08a00", "info": "#35608f"}
_BAR_COLOUR = "#4a7ab5"
_SORT_RANK = {**SEVERITY_RANK, "": len(SEVERITY_RANK)}


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _csp_hash(source: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


# Where sections that only some runs have (the gate's waivers) go: between the
# checks and the files, with their link in the navigation. Comments cannot come
# from the data, whose every `<` is escaped.
NAV_SLOT = "<!--recon:nav-->"
SECTION_SLOT = "<!--recon:sections-->"


class Section(NamedTuple):
    """A section added to a written page: its anchor, its heading, its escaped HTML."""

    anchor: str
    title: str
    body: str


def add_section(page: str, section: Section) -> str:
    """The page with `section` in its slot, after any added before it."""
    if page.count(NAV_SLOT) != 1 or page.count(SECTION_SLOT) != 1:
        raise InvariantError("report.html has no single slot for an added section")
    link = f'<a href="#{_e(section.anchor)}">{_e(section.title)}</a>'
    heading = f'<h2 id="{_e(section.anchor)}">{_e(section.title)}</h2>'
    page = page.replace(NAV_SLOT, link + NAV_SLOT)
    return page.replace(SECTION_SLOT, f"{heading}\n{section.body}\n{SECTION_SLOT}")


class Cell(NamedTuple):
    """A value with a CSS class for its cell, and the key it sorts by when not its text."""

    value: object
    css: str
    sort: object = None


def _cell(value: object) -> str:
    if isinstance(value, Cell):
        sort = "" if value.sort is None else f' data-sort="{_e(value.sort)}"'
        return f'<td class="{value.css}"{sort}>{_e(value.value)}</td>'
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f'<td class="num">{_e(value)}</td>'
    return f"<td>{_e(value)}</td>"


def _table(headers: list[str], rows: list[list[object]], table_id: str = "", css: str = "") -> str:
    head = "".join(f'<th scope="col">{_e(h)}</th>' for h in headers)
    body = "".join(f"<tr>{''.join(_cell(v) for v in row)}</tr>" for row in rows)
    ident = f' id="{table_id}"' if table_id else ""
    return (
        f'<table{ident} class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )


def render(data: ReportData, lang: str = "ja") -> str:
    t = _TEXT[lang]
    s = data.summary
    errors = s["findings"]["by_severity"].get("error", 0)
    csp = (
        "default-src 'none'; img-src data:; "
        f"style-src {_csp_hash(_CSS)}; script-src {_csp_hash(_JS)}"
    )
    parts = [
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(t['title'])}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(t['title'])}</h1>",
        f'<p id="verdict" class="verdict {s["verdict"]}">'
        f"{_e(_verdict(s['verdict'], errors, t))}</p>",
        *_no_filings(s, lang),
        _header(s, t),
        "<nav>"
        + "".join(f'<a href="#{k}">{_e(v)}</a>' for k, v in t["nav"].items() if k != "files")
        + NAV_SLOT
        + f'<a href="#files">{_e(t["nav"]["files"])}</a></nav>',
        f'<h2 id="summary">{_e(t["nav"]["summary"])}</h2>',
        _tiles(data, t),
        _charts(data, t, lang),
        f'<h2 id="actions">{_e(t["nav"]["actions"])}</h2>',
        f'<p class="note">{_e(t["lists_note"])} {_e(t["privacy"])}</p>',
        *(_action_list(a, t, lang) for a in data.lists),
        f'<h2 id="checks">{_e(t["nav"]["checks"])}</h2>',
        _gx_line(data, t),
        _checks_table(data.checks, t, lang),
        SECTION_SLOT,
        f'<h2 id="files">{_e(t["nav"]["files"])}</h2>',
        _files(data, t),
        f"<script>{_JS}</script></body></html>",
    ]
    return "\n".join(parts)


def _no_filings(s: dict, lang: str) -> list[str]:
    if s["inputs"]["filings"]["rows"]:
        return []
    return [f'<p id="no-filings" class="note">{_e(text("read.no_filings.report", lang))}</p>']


def _verdict(verdict: str, errors: int, t: dict) -> str:
    if verdict == "blocked" and errors == 1 and "blocked_one" in t:
        return t["blocked_one"]
    return t[verdict].format(n=errors)


def _header(s: dict, t: dict) -> str:
    policy = _table(["", ""], [[k, v] for k, v in s["policy"].items()])
    inputs = _table(
        [t["file"], t["path"], t["rows"], "SHA-256"],
        [
            [t[name], f["path"], f["rows"], Cell(f["sha256"], "mono")]
            for name, f in s["inputs"].items()
        ],
    )
    rows = [
        (t["run_at"], _e(s["run_at"])),
        (t["as_of"], _e(s["as_of"])),
        (t["version"], f"{_e(s['tool']['name'])} {_e(s['tool']['version'])}"),
        (t["policy"], f"<details><summary>{_e(t['show'])}</summary>{policy}</details>"),
        (t["inputs"], inputs),
    ]
    return '<dl class="meta">' + "".join(f"<dt>{_e(k)}</dt><dd>{v}</dd>" for k, v in rows) + "</dl>"


def _tile(label: str, value: object, sub: str = "", css: str = "") -> str:
    small = f"<small>{_e(sub)}</small>" if sub else ""
    return f'<div class="tile {css}"><b>{_e(value)}</b>{_e(label)} {small}</div>'


def _flag(count: int, css: str) -> str:
    return css if count else ""


def _tiles(data: ReportData, t: dict) -> str:
    s, m = data.summary, data.summary["members"]
    tt = t["tiles"]
    errors = s["findings"]["by_severity"].get("error", 0)
    warnings = s["findings"]["by_severity"].get("warning", 0)
    notices = sum(v for k, v in m["notice"].items() if k != "none")
    share = m["overseas_active"] / m["active"] if m["active"] else 0.0
    return (
        '<div class="tiles">'
        + _tile(tt["active"], f"{m['active']:,}", t["of"].format(n=f"{m['total']:,}"))
        + _tile(tt["notices"], f"{notices:,}")
        + _tile(tt["certificates"], f"{m['certificate'].get('yes', 0):,}")
        + _tile(tt["must_confirm"], f"{m['must_confirm']:,}", css=_flag(m["must_confirm"], "warn"))
        + _tile(tt["envelopes"], f"{data.envelopes:,}", f"({data.envelopes_ready:,})")
        + _tile(tt["errors"], f"{errors:,}", css=_flag(errors, "bad"))
        + _tile(tt["warnings"], f"{warnings:,}", css=_flag(warnings, "warn"))
        + _tile(tt["overseas"], f"{share:.1%}", f"({m['overseas_active']:,})")
        + "</div>"
    )


def _bar(value: int, largest: int, colour: str) -> str:
    width = round(200 * value / largest) if largest else 0
    return (
        f'<svg width="200" height="14" role="img" aria-label="{value}">'
        f'<rect width="200" height="14" fill="#eef1f5"/>'
        f'<rect width="{width}" height="14" fill="{colour}"/></svg>'
    )


def _chart(title: str, rows: list[tuple[str, int, str]]) -> str:
    largest = max((v for _, v, _ in rows), default=0)
    body = "".join(
        f"<tr><td>{_e(label)}</td><td>{_bar(value, largest, colour)}</td>"
        f'<td class="num">{value:,}</td></tr>'
        for label, value, colour in rows
    )
    if not rows:
        body = "<tr><td>—</td></tr>"
    caption = f"<figcaption><b>{_e(title)}</b></figcaption>"
    return f'<figure>{caption}<table class="chart">{body}</table></figure>'


def _charts(data: ReportData, t: dict, lang: str) -> str:
    m = data.summary["members"]
    tc = t["charts"]

    def coded(kind: str, counts: dict[str, int]) -> list[tuple[str, int, str]]:
        return [(word(kind, k, lang), v, _BAR_COLOUR) for k, v in counts.items()]

    findings = [
        (code, c["count"], _SEVERITY_COLOUR[c["severity"]])
        for code, c in data.summary["findings"]["by_check"].items()
        if c["count"]
    ]
    abroad = m["overseas_active"]
    residence = [
        (t["domestic"], m["active"] - abroad, _BAR_COLOUR),
        (t["abroad"], abroad, _SEVERITY_COLOUR["info"]),
    ]
    return (
        '<div class="charts">'
        + _chart(tc["notice"], coded("notice", m["notice"]))
        + _chart(tc["certificate_reasons"], coded("certificate_reasons", m["certificate_reasons"]))
        + _chart(tc["delivery"], coded("delivery", m["delivery"]))
        + _chart(tc["overseas"], residence)
        + _chart(tc["findings"], findings)
        + "</div>"
    )


def _list_cell(column: str, value: object, lang: str) -> object:
    if column in ("household_id", "member_id"):
        return Cell(value, "id")
    if column == "priority":
        text = word("severity", value, lang) if value else ""
        return Cell(text, f"sev-{value}", _SORT_RANK.get(value, 3))
    return value


def _action_list(a: ActionList, t: dict, lang: str) -> str:
    title = t["lists"][a.key]
    csv = f'<a href="{_e(a.csv)}">{_e(a.csv)}</a>'
    parts = [f'<h3 id="list-{a.key}">{_e(title)} ({a.total:,})</h3>']
    if a.total == 0:
        return parts[0] + f"<p>{_e(t['none'])}</p>"
    # The templates hold no markup, so escaping them first lets the link in unescaped.
    template = t["cap"] if a.total > a.shown.height else t["all_in"]
    note = _e(template).format(cap=f"{a.shown.height:,}", n=f"{a.total:,}", csv=csv)
    table_id = f"table-{a.key}"
    parts.append(
        f'<p class="note">{note} <input class="filter" type="search" data-filter="{table_id}" '
        f'placeholder="{_e(t["filter"])}" aria-label="{_e(t["filter"])}"></p>'
    )
    headers = [t["columns"].get(c, c) for c in a.shown.columns]
    rows = [
        [_list_cell(c, v, lang) for c, v in zip(a.shown.columns, row, strict=True)]
        for row in a.shown.iter_rows()
    ]
    parts.append(_table(headers, rows, table_id, "sortable"))
    return "\n".join(parts)


def _gx_line(data: ReportData, t: dict) -> str:
    gx = data.summary.get("gx")
    if gx is None:
        return ""
    line = _e(t["gx"].format(n=gx["expectations"], failed=gx["failed"]))
    if data.data_docs:
        line += f' <a href="{_e(data.data_docs)}">{_e(t["data_docs"])}</a>'
    return f"<p>{line}</p>"


def _checks_table(checks: tuple[CheckRow, ...], t: dict, lang: str) -> str:
    rows = []
    for c in checks:
        detail = f'<span class="detail">{_e(c.detail)}</span>' if c.detail else ""
        rows.append(
            f'<tr><td data-sort="{_e(c.code)}"><b>{_e(c.code)}</b> {_e(c.title)}{detail}</td>'
            f'<td class="sev-{c.severity}" data-sort="{_SORT_RANK[c.severity]}">'
            f"{_e(word('severity', c.severity, lang))}</td>"
            f'<td class="{c.status}">{_e(t["status"][c.status])}</td>'
            f'<td class="num">{_e("" if c.count is None else c.count)}</td>'
            f"<td>{_e(c.action)}</td></tr>"
        )
    headers = [t["check"], t["severity"], t["result"], t["count"], t["action"]]
    head = "".join(f'<th scope="col">{_e(h)}</th>' for h in headers)
    return (
        f'<input class="filter" type="search" data-filter="table-checks" '
        f'placeholder="{_e(t["filter"])}" aria-label="{_e(t["filter"])}">'
        f'<table id="table-checks" class="sortable"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _files(data: ReportData, t: dict) -> str:
    items = [
        f'<li><a href="{_e(name)}">{_e(name)}</a> — {_e(about)}</li>'
        for name, about in t["files"].items()
    ]
    if data.data_docs:
        link = f'<a href="{_e(data.data_docs)}">{_e(data.data_docs)}</a>'
        items.append(f"<li>{link} — {_e(t['data_docs'])}</li>")
    return f"<ul>{''.join(items)}</ul>" + f'<p class="note">{_e(t["private"])}</p>'


_WAIVER_CSS = {"active": "pass", "expired": "fail", "unused": "noted"}
_WAIVER_SORT = {"expired": 0, "unused": 1, "active": 2}


def waivers_section(w: WaiverList, lang: str = "ja") -> Section:
    """The gate's waivers: each with its reason, approver, expiry and state."""
    t = _TEXT[lang]["waivers"]
    intro = _e(t["intro"].format(source=w.source, n=w.rows.height, day=w.judged_on))
    if w.csv:
        # The template holds no markup, so escaping it first lets the link in unescaped.
        intro += _e(t["csv"]).format(csv=f'<a href="{_e(w.csv)}">{_e(w.csv)}</a>')
    parts = [f'<p class="note">{intro}</p>']
    if w.rows.height == 0:
        parts.append(f"<p>{_e(t['none'])}</p>")
        return Section("waivers", t["title"], "\n".join(parts))
    c = t["columns"]
    headers = [c[k] for k in c]
    rows = [
        [
            Cell(r["check"], "id"),
            Cell(r["member"], "id"),
            r["field"],
            r["reason"],
            r["approved_by"],
            Cell(r["expires_on"], "id"),
            Cell(
                r["status_text"], _WAIVER_CSS.get(r["status"], ""), _WAIVER_SORT.get(r["status"], 3)
            ),
            r["matched"],
        ]
        for r in w.rows.iter_rows(named=True)
    ]
    parts.append(_table(headers, rows, "table-waivers", "sortable"))
    return Section("waivers", t["title"], "\n".join(parts))
