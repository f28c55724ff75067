"""Statement exports: PDF (Chinese, embedded font), XLSX and CSV per trip line, and the
public-notice list (公示). Machine-read columns have English keys; people read Chinese.

Text cells that a spreadsheet would run as a formula (= + - @, tab, CR) get a leading
apostrophe, in CSV and XLSX alike.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.utils import timezone
from fpdf import FPDF
from fpdf.fonts import FontFace
from openpyxl import Workbook

from .documents import statement_head_lines, year_head_lines
from .models import Statement
from .money import capital_yuan, km_from_metres
from .selectors import DrillDownLine, NoticeRow, SummaryRow

FONT = Path(__file__).resolve().parent / "fonts" / "NotoSansSC-Regular-GB2312.otf"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

KIND = {"regular": "常规结算", "adjustment": "调整结算"}
STATUS = {
    "draft": "草稿",
    "approved": "已审核",
    "issued": "已出具",
    "paid": "已拨付",
    "void": "已作废",
}
REASON = {
    "not_eligible": "当年未同时落户并获准参与示范应用，不予补贴",
    "outside_window": "里程不在政策有效期内",
    "paid_years_used": "已享受补贴满规定年数",
    "no_grade": "尚未评定示范应用效果等级（待评定）",
    "zero_rate": "示范应用效果等级对应补贴标准为零",
    "no_kilometres": "无有效里程",
    "capped": "按里程计算超过年度上限，按上限补贴",
    "computed": "有效里程 × 补贴标准",
}


def safe_text(value: str) -> str:
    """Neutralise spreadsheet formula injection in a text cell."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _cell(value: Any) -> Any:
    return safe_text(value) if isinstance(value, str) else value


def _yuan(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def _local(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


LINE_COLUMNS = [
    "statement_id",
    "operator_credit_code",
    "year",
    "day",
    "trip_id",
    "external_id",
    "vehicle_plate",
    "trip_started_at",
    "eligible_m",
    "eligible_km",
]


def _line_rows(statement: Statement, lines: Iterable[DrillDownLine]) -> Iterable[list[Any]]:
    for line in lines:
        yield [
            statement.pk,
            statement.operator.credit_code,
            statement.year,
            line.day.isoformat(),
            line.trip_id,
            line.trip.external_id,
            line.trip.vehicle.plate,
            _local(line.trip.started_at),
            line.eligible_m,
            km_from_metres(line.eligible_m),
        ]


def _csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    # A byte-order mark so that spreadsheet programs read the Chinese as UTF-8.
    return ("\ufeff" + out.getvalue()).encode()


def _xlsx(sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, columns, rows in sheets:
        sheet = book.create_sheet(title)
        sheet.append(list(columns))
        for row in rows:
            # Decimals go in as numbers (exact to the fen at these magnitudes) for sums.
            sheet.append([_cell(float(v) if isinstance(v, Decimal) else v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _summary_pairs(statement: Statement) -> list[tuple[str, str, Any]]:
    policy = statement.policy
    return [
        ("statement_id", "结算单编号", statement.pk),
        ("kind", "类型", KIND[statement.kind]),
        ("operator_name", "企业名称", statement.operator.name),
        ("operator_credit_code", "统一社会信用代码", statement.operator.credit_code),
        ("year", "年度", statement.year),
        ("policy", "政策依据", f"{policy.name}（第{policy.version}版 {policy.reference}）"),
        (
            "counted_period",
            "里程计入区间",
            f"{statement.counted_from} 至 {statement.counted_to}"
            if statement.counted_from
            else "—",
        ),
        ("eligible_km", "有效里程（公里）", statement.km),
        ("trip_count", "计入行程数", statement.trip_count),
        ("grade", "示范应用效果等级", statement.grade or "未评定"),
        ("rate_yuan_per_km", "补贴标准（元/公里）", statement.rate_yuan_per_km),
        ("gross_yuan", "按里程计算（元）", statement.gross_yuan),
        ("cap_yuan", "年度上限（元）", statement.cap_yuan),
        ("cap_reduction_yuan", "上限扣减（元）", statement.cap_reduction_yuan),
        ("year_total_yuan", "本年度补贴合计（元）", statement.year_total_yuan),
        ("previously_issued_yuan", "此前已出具（元）", statement.previously_issued_yuan),
        ("amount_yuan", "本单金额（元）", statement.amount_yuan),
        ("amount_capital", "本单金额（大写）", capital_yuan(statement.amount_yuan)),
        ("reason", "说明", REASON[statement.reason]),
        ("status", "状态", STATUS[statement.status]),
        ("issued_at", "出具时间", _local(statement.issued_at)),
    ]


def statement_csv(statement: Statement, lines: Iterable[DrillDownLine]) -> bytes:
    return _csv(LINE_COLUMNS, _line_rows(statement, lines))


def statement_xlsx(statement: Statement, lines: Iterable[DrillDownLine]) -> bytes:
    summary = [(key, label, value) for key, label, value in _summary_pairs(statement)]
    return _xlsx(
        [
            ("statement", ["key", "项目", "value"], summary),
            ("lines", LINE_COLUMNS, _line_rows(statement, lines)),
        ]
    )


NOTICE_COLUMNS = [
    "operator_name",
    "operator_credit_code",
    "year",
    "eligible_km",
    "grade",
    "amount_yuan",
    "amount_capital",
    "issued_on",
]


def _notice_rows(rows: Iterable[NoticeRow]) -> Iterable[list[Any]]:
    for row in rows:
        yield [
            row.operator_name,
            row.credit_code,
            row.year,
            row.eligible_km,
            row.grade,
            row.amount_yuan,
            capital_yuan(row.amount_yuan),
            row.issued_on.isoformat() if row.issued_on else "",
        ]


def public_notice_csv(rows: Iterable[NoticeRow]) -> bytes:
    return _csv(*_with_chain_heads(list(rows)))


def public_notice_xlsx(rows: Iterable[NoticeRow]) -> bytes:
    return _xlsx([("notice", *_with_chain_heads(list(rows)))])


class _StatementPDF(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("cjk", size=8)
        self.set_text_color(120)
        self.cell(0, 6, f"第 {self.page_no()} 页", align="C")


def statement_pdf(
    statement: Statement, by_month: Sequence[SummaryRow], by_vehicle: Sequence[SummaryRow]
) -> bytes:
    """The statement as finance files it: figures, 大写, trip summaries and the issue stamp."""
    pdf = _StatementPDF(format="A4")
    pdf.add_font("cjk", fname=str(FONT))
    pdf.set_title(f"补贴结算单 {statement.operator.name} {statement.year}")
    pdf.set_creator("yangquan-av")
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    pdf.set_font("cjk", size=16)
    pdf.cell(
        0, 10, "阳泉市智能网联汽车示范应用资金补贴结算单", align="C", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font("cjk", size=10)
    pdf.cell(
        0,
        6,
        f"{KIND[statement.kind]}　编号 {statement.pk}　状态：{STATUS[statement.status]}",
        align="C",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(3)
    rows = [
        (label, _pdf_value(value))
        for key, label, value in _summary_pairs(statement)
        if key not in ("statement_id", "kind", "status")
    ]
    with pdf.table(
        col_widths=(45, 135), text_align=("LEFT", "LEFT"), first_row_as_headings=False
    ) as table:
        for label, value in rows:
            table.row([label, value])
    _stamp(pdf, statement)
    _chain_heads(pdf, statement)  # tamper evidence: docs/security.md, verify_document
    for title, summary, heading in (
        ("按月汇总", by_month, "月份"),
        ("按车辆汇总", by_vehicle, "车牌号"),
    ):
        pdf.ln(4)
        pdf.set_font("cjk", size=12)
        pdf.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=9)
        with pdf.table(
            col_widths=(60, 40, 80),
            text_align=("LEFT", "RIGHT", "RIGHT"),
            # The font has one weight: headings are shaded instead of bold.
            headings_style=FontFace(emphasis="", fill_color=(230, 230, 230)),
        ) as table:
            table.row([heading, "行程数", "有效里程（公里）"])
            for row in summary:
                table.row([row.key, str(row.trips), f"{row.km:,f}"])
    pdf.ln(4)
    pdf.set_font("cjk", size=8)
    pdf.multi_cell(
        0,
        4,
        "依据：对落户阳泉且共同参与示范应用的智能驾驶企业，根据累计测试里程和示范应用效果给予"
        "最高3元/公里的资金补贴，单个企业享受补贴金额不超过30万元/年，累计不超过3年。"
        "金额 = 四舍五入至分（min(有效里程 × 补贴标准, 年度上限)）。"
        f"生成于 {_local(timezone.now())}。",
    )
    return bytes(pdf.output())


def _pdf_value(value: Any) -> str:
    if isinstance(value, Decimal):
        return _yuan(value) if value.as_tuple().exponent == -2 else f"{value:,f}"
    return "—" if value is None or value == "" else str(value)


def _stamp(pdf: FPDF, statement: Statement) -> None:
    """A red issue stamp under the figures once issued; a grey 草稿 mark before."""
    x, y = pdf.w - pdf.r_margin - 46, pdf.get_y() + 3
    issued = statement.status in Statement.ISSUED_STATUSES
    colour = (200, 30, 30) if issued else (150, 150, 150)
    pdf.set_draw_color(*colour)
    pdf.set_text_color(*colour)
    pdf.set_line_width(0.8)
    pdf.ellipse(x, y, 44, 30)
    pdf.set_font("cjk", size=12)
    pdf.set_xy(x, y + 7)
    pdf.cell(44, 7, "财政局 已出具" if issued else "草稿 未出具", align="C")
    pdf.set_font("cjk", size=8)
    pdf.set_xy(x, y + 15)
    pdf.cell(44, 6, _local(statement.issued_at)[:10] if issued else "", align="C")
    pdf.set_text_color(0)
    pdf.set_draw_color(0)
    pdf.set_line_width(0.2)
    pdf.set_xy(pdf.l_margin, y + 32)


# ---- the hash-chain heads at issue (subsidies/documents.py) ------------------------------


def _chain_heads(pdf: FPDF, statement: Statement) -> None:
    """The ledger and audit chain heads at the statement's issue, one line each, checked
    later with `manage.py verify_document`."""
    lines = statement_head_lines(statement)
    if not lines:
        return
    pdf.set_font("cjk", size=7)
    pdf.cell(0, 4, "出具时账本与审计记录哈希链（用于核验）：", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("courier", size=7)  # a core font: any PDF reader extracts it as plain text
    for line in lines:
        pdf.cell(0, 4, line, new_x="LMARGIN", new_y="NEXT")


def _with_chain_heads(rows: Sequence[NoticeRow]) -> tuple[list[str], list[list[Any]]]:
    """The notice's columns and rows, with the chain heads at the year's newest issue in a
    last column (the same on every row, so each row read alone still carries them)."""
    heads = " ; ".join(year_head_lines(rows[0].year)) if rows else ""
    return [*NOTICE_COLUMNS, "chain_heads"], [[*row, heads] for row in _notice_rows(rows)]
