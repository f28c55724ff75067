"""Payment batches: only statements whose notice has closed, one batch per statement, the
treasury file, and four eyes between sending and marking paid."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from openpyxl import load_workbook

from core.errors import ApplicationError
from payments import exports, services
from payments.integrity import payments_check
from payments.models import Payment
from subsidies.integrity import ledger_check
from subsidies.models import LedgerEntry, Statement
from tests.conftest import World
from tests.payments.conftest import NATIONAL_DAY_ISSUE, Office, approved, issue, with_bank

pytestmark = [pytest.mark.django_db, pytest.mark.after_statement]


@pytest.fixture
def closed(world: World, office: Office) -> Statement:
    """30,000.00 yuan issued 2025-09-30 under 阳财建〔2025〕11号; its notice closed 2025-10-14."""
    with_bank(world.company_a)
    return issue(
        office, approved(world, office), number="阳财建〔2025〕11号", on=NATIONAL_DAY_ISSUE
    )


def test_a_statement_still_on_notice_cannot_join_a_batch(world: World, office: Office) -> None:
    with_bank(world.company_a)
    on_notice = issue(office, approved(world, office), number="阳财建〔2026〕1号")
    with pytest.raises(ApplicationError, match="公示期至") as refused:
        services.batch_create(actor=office.approver, statements=[on_notice])
    assert refused.value.field == "statements"


def test_a_company_without_confirmed_bank_details_cannot_be_paid(
    world: World, office: Office
) -> None:
    statement = issue(
        office, approved(world, office), number="阳财建〔2025〕12号", on=NATIONAL_DAY_ISSUE
    )
    with pytest.raises(ApplicationError, match="收款账户"):
        services.batch_create(actor=office.approver, statements=[statement])


def test_a_statement_is_in_at_most_one_batch(office: Office, closed: Statement) -> None:
    services.batch_create(actor=office.approver, statements=[closed])
    with pytest.raises(ApplicationError, match="另一拨付批次"):
        services.batch_create(actor=office.approver, statements=[closed])


def test_the_database_refuses_a_second_payment_of_a_statement(
    office: Office, closed: Statement
) -> None:
    batch = services.batch_create(actor=office.approver, statements=[closed])
    first = Payment.objects.get(statement=closed)
    with pytest.raises(IntegrityError), transaction.atomic():
        connection.cursor().execute(
            "INSERT INTO payments_payment (batch_id, statement_id, payee, credit_code, "
            "bank_name, bank_account, amount_yuan, offset_yuan, bank_reference) "
            "VALUES (%s, %s, 'x', 'x', 'x', 'x', 1, 0, '')",
            [batch.pk, first.statement_id],
        )


def test_whoever_sent_the_batch_cannot_mark_it_paid(office: Office, closed: Statement) -> None:
    batch = services.batch_create(actor=office.approver, statements=[closed])
    batch = services.batch_issue(actor=office.approver, batch=batch)
    with pytest.raises(ApplicationError, match="另一名财政人员登记拨付"):
        services.batch_mark_paid(
            actor=office.approver, batch=batch, references={closed.pk: "ICBC20251020001"}
        )


def test_a_paid_batch_records_each_bank_reference_and_reconciles_with_the_ledger(
    world: World, office: Office, closed: Statement
) -> None:
    # Two officers suffice: the issuer of the statement sends the batch, the approver pays.
    batch = services.batch_create(actor=office.issuer, statements=[closed], purpose="2024 年度补贴")
    batch = services.batch_issue(actor=office.issuer, batch=batch)
    batch = services.batch_mark_paid(
        actor=office.approver, batch=batch, references={closed.pk: "ICBC20251020001"}
    )
    closed.refresh_from_db()
    assert (batch.status, closed.status) == ("paid", Statement.Status.PAID)
    payment = Payment.objects.get(statement=closed)
    assert payment.bank_reference == "ICBC20251020001"
    ledger = LedgerEntry.objects.get(statement=closed, kind=LedgerEntry.Kind.PAYMENT)
    # 30,000.00 paid = 30,000.00 accrued
    assert ledger.amount_yuan == payment.amount_yuan == Decimal("30000.00")
    assert payments_check() == []
    assert ledger_check().broken == []


def test_the_treasury_workbook_is_in_chinese_with_formats_a_frozen_header_and_a_total(
    office: Office, closed: Statement
) -> None:
    batch = services.batch_create(
        actor=office.approver, statements=[closed], purpose="2024 年度补贴"
    )
    sheet = load_workbook(io.BytesIO(exports.treasury_xlsx(batch)))["国库支付清单"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == (
        "收款人",
        "统一社会信用代码",
        "开户银行",
        "账号",
        "结算金额（元）",
        "抵扣追回款（元）",
        "实付金额（元）",
        "文号",
        "用途",
    )
    assert rows[1][:4] == (
        "甲公司",
        closed.operator.credit_code,
        "中国工商银行阳泉分行",
        "0505001109024567890",  # in full in the treasury file; masked on pages
    )
    assert rows[1][4:8] == (30000.0, 0.0, 30000.0, "阳财建〔2025〕11号")
    assert rows[2][0] == "合计"
    assert rows[2][6] == 30000.0
    assert sheet.freeze_panes == "A2"
    assert sheet["E2"].number_format == "#,##0.00"
    assert sheet.column_dimensions["A"].width == 26


def test_the_treasury_csv_has_chinese_headers_and_a_byte_order_mark(
    office: Office, closed: Statement
) -> None:
    batch = services.batch_create(actor=office.approver, statements=[closed])
    content = exports.treasury_csv(batch)
    assert content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    assert (rows[0]["收款人"], rows[0]["实付金额（元）"], rows[0]["文号"]) == (
        "甲公司",
        "30000.00",
        "阳财建〔2025〕11号",
    )
