"""report.html: one self-contained page, no network (SPEC §8, §9).

Rendering only: it receives the summary and already-masked frames and escapes
every value it prints.
"""

from __future__ import annotations

import html
from typing import NamedTuple

import polars as pl

from recon.findings import catalog

# Long lists are cut in the page; the full lists are in members.csv and findings.csv.
LIST_CAP = 500

_TEXT = {
    "ja": {
        "title": "recon 突合レポート",
        "ready": "発送可能：ブロックするエラーはありません",
        "blocked": "発送不可：エラー {n} 件",
        "as_of": "基準日",
        "inputs": "入力ファイル",
        "rows": "行数",
        "checks": "チェック結果",
        "check": "チェック",
        "severity": "重大度",
        "count": "件数",
        "result": "結果",
        "action": "対応",
        "pass": "合格",
        "fail": "不合格",
        "members": "加入者の判定",
        "confirm": "確認が必要な加入者",
        "by": {
            "member": "本人（事業主経由）",
            "hr": "グローバル人事課（送付先）",
            "society": "健保組合（台帳修正）",
        },
        "cap": "最初の {cap} 件を表示（全 {n} 件は members.csv を参照）",
        "none": "該当なし",
        "conservation": "件数保存（全行の計上）",
    },
    "en": {
        "title": "recon reconciliation report",
        "ready": "Ready to mail: no blocking errors",
        "blocked": "Blocked by {n} errors",
        "as_of": "As of",
        "inputs": "Input files",
        "rows": "rows",
        "checks": "Checks",
        "check": "Check",
        "severity": "Severity",
        "count": "Count",
        "result": "Result",
        "action": "What to do",
        "pass": "pass",
        "fail": "fail",
        "members": "Decisions",
        "confirm": "Members who must confirm",
        "by": {
            "member": "Member (through the employer)",
            "hr": "Global HR (mailing address)",
            "society": "Society (fix the roster)",
        },
        "cap": "First {cap} shown (all {n} in members.csv)",
        "none": "none",
        "conservation": "Conservation (every row accounted for)",
    },
}

_CSS = """
body{margin:2rem;color:#222;font-family:"Hiragino Sans","Hiragino Kaku Gothic ProN",
"Yu Gothic","Meiryo","Noto Sans CJK JP",sans-serif}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}
td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}
th{background:#f3f3f3}.verdict{font-size:1.4rem;padding:.75rem 1rem;border-radius:6px}
.ready{background:#e6f4ea}.blocked{background:#fde8e8}
.fail{color:#b00020;font-weight:bold}.pass{color:#1e7e34}
.num{text-align:right}
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


class Cell(NamedTuple):
    """A value with a CSS class for its cell."""

    value: object
    css: str


def _cell(value: object) -> str:
    if isinstance(value, Cell):
        return f'<td class="{value.css}">{_e(value.value)}</td>'
    return f"<td>{_e(value)}</td>"


def _table(headers: list[str], rows: list[list[object]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(f"<tr>{''.join(_cell(v) for v in row)}</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render(
    summary: dict, findings: pl.DataFrame, to_confirm: pl.DataFrame, lang: str = "ja"
) -> str:
    t = _TEXT[lang]
    errors = summary["findings"]["by_severity"].get("error", 0)
    verdict = summary["verdict"]
    parts = [
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">',
        f"<title>{_e(t['title'])}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(t['title'])}</h1>",
        f'<p class="verdict {verdict}">{_e(t[verdict].format(n=errors))}</p>',
        f"<p>{_e(t['as_of'])}: {_e(summary['as_of'])} · recon {_e(summary['tool']['version'])}</p>",
        f"<h2>{_e(t['inputs'])}</h2>",
        _table(
            ["", t["rows"], "SHA-256"],
            [[name, f["rows"], f["sha256"]] for name, f in summary["inputs"].items()],
        ),
        f"<p>{_e(t['conservation'])}: {_e(summary['conservation'])}</p>",
        f"<h2>{_e(t['checks'])}</h2>",
        _checks_table(summary, t, lang),
    ]
    if "members" in summary:
        parts += [f"<h2>{_e(t['members'])}</h2>", _decisions(summary["members"])]
        parts += [f"<h2>{_e(t['confirm'])}</h2>", _confirm_lists(to_confirm, t)]
    parts.append("</body></html>")
    return "\n".join(parts)


def _checks_table(summary: dict, t: dict, lang: str) -> str:
    rows = []
    for check in catalog():
        count = summary["findings"]["by_check"][check.code]["count"]
        failed = count > 0 and check.severity != "info"
        title, action = (
            (check.title_ja, check.action_ja) if lang == "ja" else (check.title_en, check.action_en)
        )
        rows.append(
            [
                f"{check.code} — {title}",
                check.severity,
                Cell(count, "num"),
                Cell(t["fail"], "fail") if failed else Cell(t["pass"], "pass"),
                action,
            ]
        )
    return _table([t["check"], t["severity"], t["count"], t["result"], t["action"]], rows)


def _decisions(members: dict) -> str:
    keys = (
        "my_number_status",
        "notice",
        "certificate",
        "certificate_reasons",
        "delivery",
        "confirm_by",
    )
    rows = [
        [key, value, Cell(count, "num")] for key in keys for value, count in members[key].items()
    ]
    return _table(["", "", ""], rows)


def _confirm_lists(to_confirm: pl.DataFrame, t: dict) -> str:
    parts = []
    for who in ("member", "hr", "society"):
        group = to_confirm.filter(pl.col("confirm_by").str.split(";").list.contains(who))
        parts.append(f"<h3>{_e(t['by'][who])} ({group.height})</h3>")
        if group.height == 0:
            parts.append(f"<p>{_e(t['none'])}</p>")
            continue
        if group.height > LIST_CAP:
            parts.append(f"<p>{_e(t['cap'].format(cap=LIST_CAP, n=group.height))}</p>")
        shown = group.sort("household_id", "member_id").head(LIST_CAP)
        parts.append(_table(shown.columns, [list(r) for r in shown.iter_rows()]))
    return "\n".join(parts)
