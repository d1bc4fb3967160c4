"""Plain words for the codes of members.csv (SPEC §6), in Japanese and English.

The report and its CSV exports show these words next to, never instead of,
the codes: the codes are the interface, the words are for the people who act.
"""

from __future__ import annotations

import polars as pl

WORDS: dict[str, dict[str, dict[str, str]]] = {
    "notice": {
        "ja": {"wave1": "第1弾", "wave2": "第2弾", "on_enrolment": "加入時", "none": "なし"},
        "en": {
            "wave1": "wave 1",
            "wave2": "wave 2",
            "on_enrolment": "on enrolment",
            "none": "none",
        },
    },
    "certificate_reasons": {
        "ja": {
            "no_filing": "個人番号の届出なし",
            "invalid_my_number": "届出の個人番号が使えない（誤り・重複・不一致）",
            "emigrated_before_2015": "マイナンバー制度開始前に国外転出",
            "never_registered": "日本で住民登録したことがない",
            "card_none": "マイナンバーカード未取得",
            "card_lost": "カード紛失",
            "card_renewing": "カード更新中",
            "card_returned": "カード返納",
            "opted_out": "保険証利用登録を解除",
            "cert_expired": "電子証明書の有効期限切れ",
            "not_registered": "保険証利用登録なし",
            "needs_assistance": "要配慮者（本人の申請）",
        },
        "en": {
            "no_filing": "no My Number filed",
            "invalid_my_number": "filed number not usable (invalid, duplicate or mismatched)",
            "emigrated_before_2015": "left Japan before the My Number system",
            "never_registered": "never registered as a resident in Japan",
            "card_none": "has no My Number card",
            "card_lost": "card lost",
            "card_renewing": "card being renewed",
            "card_returned": "card returned",
            "opted_out": "opted out of insurance use",
            "cert_expired": "card's certificate expired",
            "not_registered": "card not registered for insurance use",
            "needs_assistance": "needs assistance (on request)",
        },
    },
    "confirm_reasons": {
        "ja": {
            "my_number_problem": "個人番号の誤り・重複・不一致",
            "mismatch": "台帳と届出で本人情報が異なる",
            "no_filing": "個人番号の届出なし",
            "overseas": "海外居住：お知らせの内容を確認",
            "emigrated_before_2015": "マイナンバー制度開始前に国外転出",
            "never_registered": "日本で住民登録したことがない",
            "hr_confirm_address": "国内の送付先をグローバル人事課が確認",
            "filing_problem": "届出の値が読み取れない（事業主が再届出）",
            "roster_problem": "台帳の記載誤り（健保組合が修正）",
        },
        "en": {
            "my_number_problem": "My Number invalid, duplicated or conflicting",
            "mismatch": "roster and filing disagree about the person",
            "no_filing": "no My Number filed",
            "overseas": "lives overseas: check the notice's contents",
            "emigrated_before_2015": "left Japan before the My Number system",
            "never_registered": "never registered as a resident in Japan",
            "hr_confirm_address": "global HR confirms the domestic mailing address",
            "filing_problem": "a filed value cannot be read (the employer re-files)",
            "roster_problem": "roster entry to be fixed by the society",
        },
    },
    "confirm_by": {
        "ja": {"member": "本人（事業主経由）", "hr": "グローバル人事課", "society": "健保組合"},
        "en": {"member": "member (through the employer)", "hr": "global HR", "society": "society"},
    },
    "delivery": {
        "ja": {
            "household": "世帯の住所",
            "designated_address": "国内指定住所",
            "undeliverable": "送付先なし",
            "none": "送付なし",
        },
        "en": {
            "household": "household address",
            "designated_address": "designated domestic address",
            "undeliverable": "no address",
            "none": "nothing to send",
        },
    },
    "overseas_type": {
        "ja": {"posted_alone": "単身赴任", "single": "単身", "family_accompanied": "家族帯同"},
        "en": {
            "posted_alone": "posted alone",
            "single": "single",
            "family_accompanied": "family accompanied",
        },
    },
    "relation": {
        "ja": {
            "self": "本人",
            "spouse": "配偶者",
            "child": "子",
            "parent": "父母",
            "other": "その他",
        },
        "en": {
            "self": "self",
            "spouse": "spouse",
            "child": "child",
            "parent": "parent",
            "other": "other",
        },
    },
    "my_number_status": {
        "ja": {
            "linked": "紐付け済み",
            "missing": "届出なし",
            "invalid": "番号の誤り",
            "conflict": "複数の番号",
            "duplicate": "他の加入者と重複",
            "mismatch": "本人情報の不一致",
        },
        "en": {
            "linked": "linked",
            "missing": "not filed",
            "invalid": "invalid number",
            "conflict": "conflicting numbers",
            "duplicate": "filed for another member too",
            "mismatch": "identity mismatch",
        },
    },
    "certificate": {"ja": {"yes": "交付", "no": "なし"}, "en": {"yes": "yes", "no": "no"}},
    "severity": {
        "ja": {"error": "エラー", "warning": "警告", "info": "情報"},
        "en": {"error": "error", "warning": "warning", "info": "info"},
    },
    # The states of `recon.gate.waivers.report_rows` and their notes.
    "waiver_status": {
        "ja": {
            "active": "有効：該当する指摘でゲートを止めない",
            "expired": "期限切れ：該当する指摘は再びゲートを止める",
            "unused": "該当する指摘なし：削除できます",
        },
        "en": {
            "active": "in force: its findings do not fail the gate",
            "expired": "expired: its findings count again",
            "unused": "matches no finding: can be removed",
        },
    },
    "waiver_note": {
        "ja": {"unknown check code": "不明なチェックコード"},
        "en": {"unknown check code": "unknown check code"},
    },
}

_JOIN = {"ja": "、", "en": "; "}


def word(kind: str, code: str, lang: str) -> str:
    """The word for one code; an unknown code is shown as itself."""
    return WORDS[kind][lang].get(code, code)


def word_expr(column: str, kind: str, lang: str) -> pl.Expr:
    """A column of single codes as words; an unknown code is shown as itself."""
    return pl.col(column).replace(WORDS[kind][lang])


def words_expr(column: str, kind: str, lang: str) -> pl.Expr:
    """A `;`-separated code column as words, joined the way the language lists things."""
    mapping = WORDS[kind][lang]
    return (
        pl.col(column)
        .fill_null("")
        .str.split(";")
        .list.eval(pl.element().filter(pl.element() != "").replace(mapping))
        .list.join(_JOIN[lang])
    )
