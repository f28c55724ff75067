"""The annual disengagement report of a company (年度脱离报告), in Chinese, as the California
DMV publishes them per manufacturer: the scorecard, each vehicle's figures, and each
disengagement with its time, place, initiator and circumstances. XLSX, CSV and PDF."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum
from django.utils import timezone, translation
from fpdf import FPDF
from fpdf.fonts import FontFace

from core.units import centimetres
from operators.models import Operator, Vehicle
from recorder.models import AdsEvent, EventType
from recorder.selectors import Disengagement, disengagement_list
from trips.models import Trip, TripDay

from .exports import Column, DocumentPDF, Sheet, table_csv, table_xlsx
from .money import km_from_metres
from .scorecard import Scorecard, scorecard, year_instants

INITIATOR = {True: "系统发起", False: "驾驶员发起"}
RECORDED = {"system": "系统", "driver": "驾驶员", "": "未记录"}
EVENT = {
    "takeover_request": "接管请求",
    "mrm_start": "最小风险策略开始",
    "mrm_end": "最小风险策略结束",
    "severe_failure": "严重失效",
    "collision": "碰撞",
    "deactivation": "系统退出",
}


@dataclass(frozen=True)
class VehicleRow:
    plate: str
    vin: str
    autonomous_km: Decimal
    system: int
    driver: int
    mrms: int
    collisions: int


@dataclass(frozen=True)
class Report:
    company: Operator
    year: int
    card: Scorecard
    vehicles: list[VehicleRow]
    disengagements: list[tuple[Disengagement, str]]  # with the vehicle's plate


def report_data(*, company: Operator, year: int) -> Report:
    """The report's content. Not scoped: the caller has found `company` through the user."""
    start, end = year_instants(year)
    card = scorecard(operator_id=company.pk, year=year)
    exits = disengagement_list(operator_id=company.pk, start=start, end=end)
    km = dict(
        TripDay.objects.filter(
            trip__operator_id=company.pk,
            trip__status=Trip.Status.ACCEPTED,
            day__year=year,
        )
        .values_list("trip__vehicle_id")
        .annotate(total=Sum("autonomous_m"))
        .order_by()
    )
    events = AdsEvent.objects.filter(vehicle__operator_id=company.pk, at__gte=start, at__lt=end)
    mrms = dict(
        events.filter(type=EventType.MRM_START)
        .values_list("vehicle_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    collisions = dict(
        events.filter(type=EventType.COLLISION)
        .values_list("vehicle_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    vehicles = Vehicle.objects.filter(operator=company).order_by("plate")
    plates = {v.pk: v.plate for v in vehicles}
    rows = []
    for vehicle in vehicles:
        mine = [d for d in exits if d.vehicle_id == vehicle.pk]
        system = sum(1 for d in mine if d.system_initiated)
        rows.append(
            VehicleRow(
                plate=vehicle.plate,
                vin=vehicle.vin,
                autonomous_km=km_from_metres(centimetres(km.get(vehicle.pk))).quantize(
                    Decimal("0.001")
                ),
                system=system,
                driver=len(mine) - system,
                mrms=mrms.get(vehicle.pk, 0),
                collisions=collisions.get(vehicle.pk, 0),
            )
        )
    return Report(company, year, card, rows, [(d, plates.get(d.vehicle_id, "")) for d in exits])


def _place(d: Disengagement) -> str:
    return f"{d.lat:.6f}, {d.lon:.6f}" if d.lat is not None and d.lon is not None else "—"


def _circumstances(d: Disengagement) -> str:
    before = []
    for part in filter(None, d.circumstances.split(", ")):
        kind, _, delay = part.partition(" ")
        seconds = delay.removeprefix("-").removesuffix(" s")
        before.append(f"{EVENT.get(kind, kind)}（退出前 {seconds} 秒）")
    text = "；".join(before)
    if d.note:
        text = f"{text}；{d.note}" if text else d.note
    return text or "—"


def _rate(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def _summary(report: Report) -> list[tuple[str, Any]]:
    card = report.card
    return [
        ("企业名称", report.company.name),
        ("统一社会信用代码", report.company.credit_code),
        ("年度", report.year),
        ("自动驾驶里程（公里）", f"{card.autonomous_km:,.3f}"),
        ("其中批准区域内（公里）", f"{card.zone_km:,.3f}"),
        ("脱离次数（系统发起）", card.system_disengagements),
        ("脱离次数（驾驶员发起）", card.driver_disengagements),
        ("每千公里脱离次数", _rate(card.per_1000_km)),
        ("其中系统发起（每千公里）", _rate(card.system_per_1000_km)),
        ("其中驾驶员发起（每千公里）", _rate(card.driver_per_1000_km)),
        ("最小风险策略次数", card.mrms),
        ("严重失效次数", card.severe_failures),
        ("碰撞次数", card.collisions),
        ("运行天数", card.active_days),
        ("运行车辆数", card.vehicles),
    ]


VEHICLE_COLUMNS = [
    Column("车牌号", width=12),
    Column("车辆识别代号", width=20),
    Column("自动驾驶里程（公里）", "km", 18),
    Column("系统发起脱离", "int"),
    Column("驾驶员发起脱离", "int"),
    Column("最小风险策略", "int"),
    Column("碰撞", "int", 8),
]
EXIT_COLUMNS = [
    Column("时间", width=20),
    Column("车牌号", width=12),
    Column("地点（纬度, 经度）", width=22),
    Column("发起方", width=10),
    Column("记录的发起方", width=12),
    Column("情形", width=40),
]
SUMMARY_COLUMNS = [Column("项目", width=24), Column("数值", width=24)]


def _vehicle_rows(report: Report) -> list[list[Any]]:
    return [
        [v.plate, v.vin, v.autonomous_km, v.system, v.driver, v.mrms, v.collisions]
        for v in report.vehicles
    ]


def _exit_rows(report: Report) -> list[list[Any]]:
    return [
        [
            timezone.localtime(d.at).strftime("%Y-%m-%d %H:%M:%S"),
            plate,
            _place(d),
            INITIATOR[d.system_initiated],
            RECORDED.get(d.recorded_initiator, d.recorded_initiator),
            _circumstances(d),
        ]
        for d, plate in report.disengagements
    ]


def report_csv(report: Report) -> bytes:
    """The disengagements, one a row (the per-vehicle figures are in the XLSX and PDF)."""
    return table_csv(EXIT_COLUMNS, _exit_rows(report))


def report_xlsx(report: Report) -> bytes:
    return table_xlsx(
        [
            Sheet("概况", SUMMARY_COLUMNS, _summary(report), total=False),
            Sheet("按车辆", VEHICLE_COLUMNS, _vehicle_rows(report)),
            Sheet("脱离明细", EXIT_COLUMNS, _exit_rows(report), total=False),
        ]
    )


def _table(
    pdf: FPDF, widths: Sequence[int], heading: Sequence[Column], rows: list[list[Any]]
) -> None:
    pdf.set_font("cjk", size=8)
    with pdf.table(
        col_widths=tuple(widths),
        headings_style=FontFace(emphasis="", fill_color=(230, 230, 230)),
    ) as table:
        table.row([str(column.label) for column in heading])
        for row in rows:
            table.row([str(value) for value in row])


def report_pdf(report: Report) -> bytes:
    # The report is published in Chinese (as the California DMV publishes its own in English):
    # the shared page furniture follows, whatever language the reader's pages are in.
    with translation.override("zh-hans"):
        return _report_pdf(report)


def _report_pdf(report: Report) -> bytes:
    pdf = DocumentPDF(f"自动驾驶脱离年度报告 {report.company.name} {report.year}")
    pdf.heading(f"{report.year} 年度自动驾驶脱离报告")
    pdf.set_font("cjk", size=11)
    pdf.cell(0, 7, report.company.name, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("cjk", size=9)
    with pdf.table(
        col_widths=(60, 120), text_align=("LEFT", "LEFT"), first_row_as_headings=False
    ) as table:
        for label, value in _summary(report):
            table.row([label, str(value)])
    pdf.ln(4)
    pdf.set_font("cjk", size=12)
    pdf.cell(0, 8, "按车辆", new_x="LMARGIN", new_y="NEXT")
    _table(pdf, (24, 36, 28, 22, 24, 24, 16), VEHICLE_COLUMNS, _vehicle_rows(report))
    pdf.ln(4)
    pdf.set_font("cjk", size=12)
    pdf.cell(0, 8, "脱离明细", new_x="LMARGIN", new_y="NEXT")
    if report.disengagements:
        _table(pdf, (30, 20, 34, 30, 20, 46), EXIT_COLUMNS, _exit_rows(report))
    else:
        pdf.set_font("cjk", size=9)
        pdf.cell(0, 6, "本年度无脱离记录。", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("cjk", size=8)
    pdf.multi_cell(
        0,
        4,
        "说明：脱离指自动驾驶系统退出、由驾驶员接管车辆控制；退出前规定时间内有接管请求的为系统"
        "发起，否则为驾驶员发起。数据来源：车辆自动驾驶数据记录系统（GB 44497-2024）事件。"
        f"生成于 {timezone.localtime(timezone.now()):%Y-%m-%d %H:%M}。",
    )
    return bytes(pdf.output())
