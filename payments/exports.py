"""The treasury payment file of a batch (XLSX and CSV) and the printable public notice
(PDF), in the glossary's words and subsidies' table and document shapes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from fpdf.fonts import FontFace

from subsidies import glossary as g
from subsidies.documents import year_head_lines
from subsidies.exports import (
    Column,
    DocumentPDF,
    Sheet,
    amount_in_words,
    date_range,
    km3,
    print_chain_heads,
    table_csv,
    table_xlsx,
)

from .models import PaymentBatch
from .selectors import PublicNoticeRow, notice_totals


def treasury_columns() -> list[Column]:
    return [
        Column(_("Payee"), "text", 26),
        Column(_("Unified social credit code"), "text", 22),
        Column(_("Bank"), "text", 26),
        Column(_("Account number"), "text", 24),
        Column(_("Statement amount (yuan)"), "yuan", 16),
        Column(_("Withheld for a clawback (yuan)"), "yuan", 16),
        Column(_("Amount paid (yuan)"), "yuan", 16),
        Column(g.DOCUMENT_NUMBER, "text", 24),
        Column(_("Purpose"), "text", 40),
    ]


def _treasury_rows(batch: PaymentBatch) -> Iterable[list[Any]]:
    for payment in batch.payments.select_related("statement").order_by("payee", "pk"):
        purpose = batch.purpose
        if payment.offset_yuan:
            purpose = _("%(purpose)s; %(offset)s yuan withheld for a clawback") % {
                "purpose": purpose,
                "offset": payment.offset_yuan,
            }
        yield [
            payment.payee,
            payment.credit_code,
            payment.bank_name,
            payment.bank_account,
            payment.amount_yuan,
            payment.offset_yuan,
            payment.paid_yuan,
            payment.statement.document_number,
            purpose,
        ]


def treasury_xlsx(batch: PaymentBatch) -> bytes:
    return table_xlsx(
        [Sheet(_("Treasury payments"), treasury_columns(), list(_treasury_rows(batch)))]
    )


def treasury_csv(batch: PaymentBatch) -> bytes:
    return table_csv(treasury_columns(), _treasury_rows(batch))


def notice_pdf(year: int, rows: list[PublicNoticeRow], how_to_object: str) -> bytes:
    """The public notice as it is posted: each statement, its period and how to object."""
    pdf = DocumentPDF(_("Public notice %(year)s") % {"year": year})
    pdf.heading(
        _("Public notice of the %(year)s autonomous-driving demonstration subsidies")
        % {"year": year}
    )
    pdf.set_font("cjk", size=8)
    widths = (34, 30, 20, 24, 36, 36)
    with pdf.table(
        col_widths=widths,
        text_align=("LEFT", "LEFT", "RIGHT", "RIGHT", "LEFT", "LEFT"),
        # The font has one weight: headings are shaded instead of bold.
        headings_style=FontFace(emphasis="", fill_color=(230, 230, 230)),
    ) as table:
        table.row(
            [
                g.statement_label("operator"),
                _("Unified social credit code"),
                g.statement_label("km"),
                g.statement_label("amount_yuan"),
                str(g.DOCUMENT_NUMBER),
                _("Notice period"),
            ]
        )
        for row in rows:
            table.row(
                [
                    row.operator_name,
                    row.credit_code,
                    f"{km3(row.km):,}",
                    f"{row.amount_yuan:,.2f}",
                    row.document_number,
                    date_range(row.starts_on, row.ends_on),
                ]
            )
        km, yuan = notice_totals(rows)
        table.row([str(g.TOTAL), "", f"{km3(km):,}", f"{yuan:,.2f}", "", ""])
    pdf.ln(3)
    pdf.set_font("cjk", size=9)
    pdf.multi_cell(0, 5, f"{g.TOTAL}：{amount_in_words(yuan)}", new_x="LMARGIN", new_y="NEXT")
    # Left-aligned: justified, the line before the page's address (Chinese has no spaces to
    # share out) was stretched across the width.
    pdf.multi_cell(0, 5, how_to_object, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=7)
    pdf.multi_cell(
        0,
        4,
        _("Printed %(at)s.") % {"at": timezone.localtime().strftime("%Y-%m-%d %H:%M")},
        new_x="LMARGIN",
        new_y="NEXT",
    )
    print_chain_heads(pdf, year_head_lines(year))
    return bytes(pdf.output())
