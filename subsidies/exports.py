"""Statement exports: PDF (Chinese, embedded font), XLSX and CSV per trip line, and the
public-notice list (公示). Headers and sheet names are the glossary's words
(subsidies/glossary.py) in the active language: Chinese by default, English with the
language switch. XLSX columns have widths and number formats (km to 3 decimals, yuan to 2),
a frozen header and a total row; CSV carries a UTF-8 byte-order mark for Excel.

Text cells that a spreadsheet would run as a formula (= + - @, tab, CR) get a leading
apostrophe, in CSV and XLSX alike.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.fonts import FontFace
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from . import glossary as g
from .documents import statement_head_lines, year_head_lines
from .models import Statement
from .money import capital_yuan, km_from_metres
from .selectors import DrillDownLine, NoticeRow, SummaryRow

FONT = Path(__file__).resolve().parent / "fonts" / "NotoSansSC-Regular-GB2312.otf"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
KM_3 = Decimal("0.001")
FORMATS = {"km": "#,##0.000", "yuan": "#,##0.00", "m": "#,##0.00", "int": "0"}


def safe_text(value: str) -> str:
    """Neutralise spreadsheet formula injection in a text cell."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _cell(value: Any) -> Any:
    return safe_text(value) if isinstance(value, str) else value


def km3(km: Decimal) -> Decimal:
    """Kilometres as every page and file shows them: 3 decimals (display only)."""
    return Decimal(km).quantize(KM_3, rounding=ROUND_HALF_UP)


def _yuan(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def amount_in_words(amount: Decimal) -> str:
    """人民币 + capitals + (¥ figures), as a voucher reads."""
    return _("RMB %(words)s (¥%(figures)s)") % {
        "words": capital_yuan(amount),
        "figures": _yuan(amount),
    }


def date_range(first: Any, last: Any) -> str:
    """Two days as documents print them (the embedded font has no en dash)."""
    return _("%(first)s to %(last)s") % {"first": first, "last": last}


def _local(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


# ---- tables: one shape for XLSX and CSV ------------------------------------------------


@dataclass(frozen=True)
class Column:
    label: Any  # a lazy translation: the glossary's word
    kind: str = "text"  # text, km, yuan, m, int
    width: int = 14


@dataclass(frozen=True)
class Sheet:
    title: Any
    columns: Sequence[Column]
    rows: Iterable[Sequence[Any]]
    total: bool = True  # a total row under km and yuan columns


def _typed(column: Column, value: Any) -> Any:
    if column.kind == "km" and isinstance(value, Decimal):
        return km3(value)
    return value


def table_csv(columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([str(c.label) for c in columns])
    for row in rows:
        writer.writerow([_cell(_typed(c, v)) for c, v in zip(columns, row, strict=True)])
    # A byte-order mark so that spreadsheet programs read the Chinese as UTF-8.
    return ("\ufeff" + out.getvalue()).encode()


def table_xlsx(sheets: Sequence[Sheet]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for spec in sheets:
        sheet = book.create_sheet(str(spec.title)[:31])
        sheet.append([str(c.label) for c in spec.columns])
        totals = [Decimal(0) if c.kind in ("km", "yuan", "m") else None for c in spec.columns]
        count = 0
        for row in spec.rows:
            count += 1
            values = []
            for index, (column, raw) in enumerate(zip(spec.columns, row, strict=True)):
                value = _typed(column, raw)
                total = totals[index]
                if total is not None and isinstance(value, Decimal):
                    totals[index] = total + value  # exact, in Decimal
                # Decimals go in as numbers (exact to the fen at these magnitudes) for sums.
                values.append(_cell(float(value) if isinstance(value, Decimal) else value))
            sheet.append(values)
        if spec.total and count and any(t is not None for t in totals):
            sheet.append(
                [
                    str(g.TOTAL) if i == 0 else (float(t) if t is not None else None)
                    for i, t in enumerate(totals)
                ]
            )
        for index, column in enumerate(spec.columns, start=1):
            letter = get_column_letter(index)
            sheet.column_dimensions[letter].width = column.width
            if column.kind in FORMATS:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                    cell.number_format = FORMATS[column.kind]
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# ---- statements ------------------------------------------------------------------------


def line_columns() -> list[Column]:
    return [
        Column(_("Statement"), "int", 10),
        Column(_("Unified social credit code"), "text", 22),
        Column(_("Year"), "int", 8),
        Column(_("Day"), "text", 12),
        Column(_("Trip"), "int", 10),
        Column(_("External id"), "text", 18),
        Column(_("Number plate"), "text", 12),
        Column(_("Trip started at"), "text", 18),
        Column(g.statement_label("eligible_m"), "m", 16),
        Column(g.statement_label("km"), "km", 16),
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


def summary_pairs(statement: Statement) -> list[tuple[str, Any]]:
    """The statement's figures as (glossary word, value), for the PDF and the workbook."""
    s = statement
    period = date_range(s.counted_from, s.counted_to) if s.counted_from else "—"
    return [
        (str(g.DOCUMENT_NUMBER), s.document_number or "—"),
        (g.statement_label("kind"), s.get_kind_display()),
        (g.statement_label("operator"), s.operator.name),
        (str(_("Unified social credit code")), s.operator.credit_code),
        (g.statement_label("year"), s.year),
        (str(g.POLICY_BASIS), g.policy_basis(s.policy)),
        (str(_("Kilometres counted")), period),
        (g.statement_label("km"), km3(s.km)),
        (g.statement_label("trip_count"), s.trip_count),
        (g.statement_label("grade"), s.grade or "—"),
        (g.statement_label("rate_yuan_per_km"), s.rate_yuan_per_km),
        (g.statement_label("gross_yuan"), s.gross_yuan),
        (g.statement_label("cap_yuan"), s.cap_yuan),
        (g.statement_label("cap_reduction_yuan"), s.cap_reduction_yuan),
        (g.statement_label("year_total_yuan"), s.year_total_yuan),
        (g.statement_label("previously_issued_yuan"), s.previously_issued_yuan),
        (g.statement_label("amount_yuan"), s.amount_yuan),
        (str(g.AMOUNT_IN_WORDS), amount_in_words(s.amount_yuan)),
        (g.statement_label("reason"), s.get_reason_display()),
        (g.statement_label("status"), s.get_status_display()),
        (str(g.ISSUED_ON), s.issued_on.isoformat() if s.issued_on else "—"),
    ]


def _glossary_sheet() -> Sheet:
    return Sheet(
        _("Glossary"),
        [Column(_("Term"), "text", 22), Column(_("Meaning"), "text", 90)],
        [[str(term), str(meaning)] for term, meaning in g.GLOSSARY],
        total=False,
    )


def statement_csv(statement: Statement, lines: Iterable[DrillDownLine]) -> bytes:
    return table_csv(line_columns(), _line_rows(statement, lines))


def statement_xlsx(statement: Statement, lines: Iterable[DrillDownLine]) -> bytes:
    return table_xlsx(
        [
            Sheet(
                _("Statement"),
                [Column(_("Item"), "text", 26), Column(_("Value"), "text", 60)],
                [[label, value] for label, value in summary_pairs(statement)],
                total=False,
            ),
            Sheet(_("Trip lines"), line_columns(), _line_rows(statement, lines)),
            _glossary_sheet(),
        ]
    )


# ---- the public-notice list ------------------------------------------------------------


def notice_columns() -> list[Column]:
    return [
        Column(g.statement_label("operator"), "text", 24),
        Column(_("Unified social credit code"), "text", 22),
        Column(g.statement_label("year"), "int", 8),
        Column(g.statement_label("km"), "km", 16),
        Column(g.statement_label("grade"), "text", 8),
        Column(g.statement_label("amount_yuan"), "yuan", 16),
        Column(str(g.AMOUNT_IN_WORDS), "text", 44),
        Column(g.ISSUED_ON, "text", 12),
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
            amount_in_words(row.amount_yuan),
            row.issued_on.isoformat() if row.issued_on else "",
        ]


def public_notice_csv(rows: Iterable[NoticeRow]) -> bytes:
    return table_csv(*_notice_table(rows))


def public_notice_xlsx(rows: Iterable[NoticeRow]) -> bytes:
    columns, body = _notice_table(rows)
    return table_xlsx([Sheet(_("Public notice"), columns, body)])


def _notice_table(rows: Iterable[NoticeRow]) -> tuple[list[Column], list[list[Any]]]:
    """The notice's columns and rows, with the hash-chain heads at the year's newest issue in
    a last column (the same on every row, so that each row read alone still carries them;
    `manage.py verify_document` checks them)."""
    listed = list(rows)
    heads = " ; ".join(year_head_lines(listed[0].year)) if listed else ""
    columns = [*notice_columns(), Column(_("Chain heads at issue"), "text", 60)]
    return columns, [[*row, heads] for row in _notice_rows(listed)]


# ---- PDF -------------------------------------------------------------------------------


class DocumentPDF(FPDF):
    """An A4 document in Chinese with the embedded font and page numbers."""

    def __init__(self, title: str) -> None:
        super().__init__(format="A4")
        self.add_font("cjk", fname=str(FONT))
        self.set_title(title)
        self.set_creator("yangquan-av")
        self.set_auto_page_break(auto=True, margin=18)
        self.add_page()

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("cjk", size=8)
        self.set_text_color(120)
        self.cell(0, 6, _("Page %(n)s") % {"n": self.page_no()}, align="C")

    def heading(self, text: str, size: int = 16) -> None:
        self.set_font("cjk", size=size)
        self.cell(0, 10, text, align="C", new_x="LMARGIN", new_y="NEXT")


# ---- the hash-chain heads at issue (subsidies/documents.py) ------------------------------


def print_chain_heads(pdf: FPDF, lines: Sequence[str]) -> None:
    """The ledger and audit hash-chain heads at issue, one line each (subsidies/documents.py),
    checked later with `manage.py verify_document`; nothing before issue."""
    if not lines:
        return
    pdf.set_font("cjk", size=7)
    pdf.cell(
        0, 4, str(_("Hash-chain heads at issue (for verification):")), new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font("courier", size=7)  # a core font: any PDF reader extracts it as plain text
    for line in lines:
        pdf.cell(0, 4, line, new_x="LMARGIN", new_y="NEXT")


# ---- the statement PDF -------------------------------------------------------------------


def statement_pdf(
    statement: Statement, by_month: Sequence[SummaryRow], by_vehicle: Sequence[SummaryRow]
) -> bytes:
    """The statement as finance files it: document number, figures, amount in words, the
    people who acted, a box for the seal, trip summaries and the glossary."""
    pdf = DocumentPDF(f"{_('Subsidy statement')} {statement.operator.name} {statement.year}")
    pdf.heading(_("Yangquan intelligent connected vehicle demonstration subsidy statement"))
    _pdf_subtitle(pdf, statement)
    _pdf_figures(pdf, statement)
    _pdf_signatures(pdf, statement)
    _pdf_summaries(pdf, by_month, by_vehicle)
    _pdf_glossary(pdf)
    print_chain_heads(pdf, statement_head_lines(statement))
    return bytes(pdf.output())


def _pdf_subtitle(pdf: FPDF, statement: Statement) -> None:
    pdf.set_font("cjk", size=10)
    number = statement.document_number or _("(not issued)")
    pdf.cell(
        0,
        6,
        f"{g.DOCUMENT_NUMBER}：{number}　{g.statement_label('status')}："
        f"{statement.get_status_display()}",
        align="C",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(3)


def _pdf_figures(pdf: FPDF, statement: Statement) -> None:
    rows = [
        (label, _pdf_value(value))
        for label, value in summary_pairs(statement)
        if label not in (str(g.DOCUMENT_NUMBER), g.statement_label("status"))
    ]
    with pdf.table(
        col_widths=(45, 135), text_align=("LEFT", "LEFT"), first_row_as_headings=False
    ) as table:
        for label, value in rows:
            table.row([label, value])


def _pdf_signatures(pdf: FPDF, statement: Statement) -> None:
    """Lines for 经办人, 审核人 and 负责人 with the names of those who acted, and an empty
    box where the office stamps its seal (the system draws no seal)."""
    pdf.ln(4)
    top = pdf.get_y()
    pdf.set_font("cjk", size=10)
    for title, name in (
        (g.HANDLED_BY, g.person(statement.issued_by)),
        (g.REVIEWED_BY, g.person(statement.approved_by)),
        (g.HEAD, ""),
    ):
        pdf.cell(24, 9, f"{title}：")
        pdf.cell(56, 9, name, border="B", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(24, 9, f"{g.ISSUED_ON}：")
    pdf.cell(
        56,
        9,
        statement.issued_on.isoformat() if statement.issued_on else "",
        border="B",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    box_x = pdf.w - pdf.r_margin - 50
    pdf.set_draw_color(120)
    pdf.rect(box_x, top, 50, 36)
    pdf.set_xy(box_x, top + 30)
    pdf.set_font("cjk", size=8)
    pdf.set_text_color(120)
    pdf.cell(50, 5, str(g.SEAL_BOX), align="C")
    pdf.set_text_color(0)
    pdf.set_draw_color(0)
    pdf.set_xy(pdf.l_margin, max(pdf.get_y(), top + 38))


def _pdf_summaries(
    pdf: FPDF, by_month: Sequence[SummaryRow], by_vehicle: Sequence[SummaryRow]
) -> None:
    for title, summary, heading in (
        (_("By month"), by_month, _("Month")),
        (_("By vehicle"), by_vehicle, _("Number plate")),
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
            table.row([heading, _("Trips"), g.statement_label("km")])
            for row in summary:
                table.row([row.key, str(row.trips), f"{km3(row.km):,}"])


def _pdf_glossary(pdf: FPDF) -> None:
    pdf.ln(4)
    pdf.set_font("cjk", size=8)
    for term, meaning in g.GLOSSARY:
        pdf.multi_cell(0, 4, f"{term}：{meaning}", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(
        0,
        4,
        _(
            "Amount = rounded half up to the fen (min(eligible km × rate, annual cap)). "
            "Generated %(at)s."
        )
        % {"at": _local(timezone.now())},
        new_x="LMARGIN",
        new_y="NEXT",
    )


def _pdf_value(value: Any) -> str:
    if isinstance(value, Decimal):
        return _yuan(value) if value.as_tuple().exponent == -2 else f"{value:,}"
    return "—" if value is None or value == "" else str(value)
