"""The statement PDF and the printable notice, read back with poppler (pdftotext) and
rendered to images (pdftoppm) for people to look at; the images go to
artifacts/screenshots/ (docs/user-guide/finance.md shows copies)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from django.test import Client

from subsidies import exports
from subsidies.models import Statement
from subsidies.selectors import statement_by_month, statement_by_vehicle
from tests.conftest import World
from tests.payments.conftest import NATIONAL_DAY_ISSUE, Office, approved, issue
from tests.web.conftest import SCREENSHOTS

pytestmark = [pytest.mark.django_db, pytest.mark.after_statement]

PDFTOTEXT, PDFTOPPM = shutil.which("pdftotext"), shutil.which("pdftoppm")
needs_poppler = pytest.mark.skipif(
    PDFTOTEXT is None or PDFTOPPM is None, reason="poppler-utils (bin/test installs it)"
)


def _text(pdf: Path) -> str:
    assert PDFTOTEXT is not None
    return subprocess.run(  # noqa: S603 - our own file
        [PDFTOTEXT, "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout


def _picture(pdf: Path, name: str) -> Path:
    assert PDFTOPPM is not None
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    stem = SCREENSHOTS / name
    subprocess.run(  # noqa: S603 - our own file
        [PDFTOPPM, "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(stem)],
        check=True,
    )
    return stem.with_suffix(".png")


@pytest.fixture
def issued(world: World, office: Office) -> Statement:
    return issue(
        office, approved(world, office), number="阳财建〔2025〕41号", on=NATIONAL_DAY_ISSUE
    )


@needs_poppler
def test_the_statement_pdf_carries_the_number_the_people_the_seal_box_and_the_words(
    issued: Statement, office: Office, tmp_path: Path
) -> None:
    pdf = tmp_path / "statement.pdf"
    pdf.write_bytes(
        exports.statement_pdf(
            issued, statement_by_month(statement=issued), statement_by_vehicle(statement=issued)
        )
    )
    text = _text(pdf)
    assert "阳财建〔2025〕41号" in text
    assert "盖章处" in text
    for role, person in (("经办人", office.issuer.username), ("审核人", office.approver.username)):
        assert role in text
        assert person in text
    assert "负责人" in text
    assert "人民币叁万元整（¥30,000.00）" in text
    assert text.count("第八条") == 1  # the policy basis once
    assert "财政局 已出具" not in text  # no imitation seal
    assert "合规里程（公里）" in text  # the web's word, not 有效里程
    assert _picture(pdf, "finance-statement-pdf").stat().st_size > 5_000


@needs_poppler
def test_the_printable_notice_lists_periods_and_totals_km_and_yuan(
    issued: Statement, tmp_path: Path
) -> None:
    pdf = tmp_path / "notice.pdf"
    pdf.write_bytes(Client().get("/public-notice/2024/pdf/").content)
    text = _text(pdf)
    assert "2025-10-09" in text  # the period (the cell wraps it)
    assert "2025-10-14" in text
    assert "10,000.000" in text  # km, in the row and the total
    assert "合计" in text
    assert "异议" in text
    assert "http://testserver/public-notice/2024/" in text  # where to object, printed
    assert "/api/" not in text
    assert _picture(pdf, "public-notice-pdf").stat().st_size > 5_000
