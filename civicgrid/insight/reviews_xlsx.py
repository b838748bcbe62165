"""A review as an Excel workbook: 概览 (the overview), one ranked sheet per kind of unit (街道, 社区,
网格, 部门) and, for a quarter, 预警 and 吹哨. Built from ``reviews.review_view``, so it holds only
what the reader may see. Sheet and column names are Chinese like the case list's export: the
workbook is for offices, whatever the page's language.
"""

from __future__ import annotations

import io

from django.conf import settings
from django.utils import translation
from openpyxl import Workbook

from civicgrid.insight.indicators import INDICATORS
from civicgrid.insight.reviews import case_link

SHEETS = {"street": "街道", "community": "社区", "grid": "网格", "department": "部门"}
PARENT = {"street": "所属区", "community": "所属街道", "grid": "所属社区", "department": ""}
FIGURES = [
    ("cases", "上报数"),
    ("registered", "立案数"),
    ("dispatched", "派遣数"),
    ("closed", "结案数"),
    ("closed_on_time", "按期结案数"),
    ("reworked", "返工数"),
    ("open", "在办数"),
    ("overdue", "超期数"),
]


def indicator_names(codes: list[str]) -> list[str]:
    with translation.override(settings.LANGUAGE_CODE):
        return [str(INDICATORS[c].name) for c in codes if c in INDICATORS]


def percent(value) -> float | str:
    return "" if value is None else round(100 * value, 1)


def unit_headers(kind: str, codes: list[str]) -> list[str]:
    head = ["排名", "编码", "名称"] + ([PARENT[kind]] if PARENT[kind] else [])
    tail = ["综合评分", "等级", "12345三率综合", "等级"]
    if kind == "grid":
        tail += ["“网格+”指数", "等级"]
    return head + [label for _key, label in FIGURES] + [f"{n}(%)" for n in indicator_names(codes)] + tail


def unit_line(kind: str, row: dict, codes: list[str]) -> list:
    head = ["" if row["rank"] is None else row["rank"], row["code"], row["name"]]
    if PARENT[kind]:
        head.append(row["parent"])
    tail = [_blank(row["score"]), row["grade"], _blank(row["hotline"]), row["hotline_grade"]]
    if kind == "grid":
        tail += [_blank(row["index"]), row["index_grade"]]
    figures = [row["figures"].get(key, 0) for key, _label in FIGURES]
    return head + figures + [percent(row["rates"].get(c)) for c in codes if c in INDICATORS] + tail


def _blank(value):
    return "" if value is None else value


def review_xlsx(view: dict) -> tuple[bytes, int]:
    """The workbook and the number of unit rows in it."""
    codes = [c for c in view["indicators"] if c in INDICATORS]
    book = Workbook(write_only=True)
    overview = book.create_sheet("概览")
    overview.append([view["title"]])
    overview.append(["期间", view["period"], str(view["period_start"]), str(view["period_end"])])
    overview.append(["生成时间", str(view["generated_at"])[:19]])
    overview.append([])
    overview.append(["范围", "综合评分", "等级", "排名"] + [label for _k, label in FIGURES])
    for area in view["areas"]:
        rank = f"{area['rank']}/{area['of']}" if area.get("rank") else ""
        overview.append(
            [area["name"], _blank(area["score"]), area["grade"], rank]
            + [area["figures"].get(k, 0) for k, _l in FIGURES]
        )
    for area in view["areas"]:
        overview.append([])
        overview.append([f"{area['name']} 高发大类", "上报数"])
        for item in area.get("top_major", []):
            overview.append([f"{item['code']} {item['name']}", item["cases"]])
        overview.append([f"{area['name']} 高发小类", "上报数"])
        for item in area.get("top_minor", []):
            overview.append([f"{item['code']} {item['name']}", item["cases"]])
    count = 0
    for kind, title in SHEETS.items():
        if kind not in view["units"]:
            continue
        sheet = book.create_sheet(title)
        sheet.append(unit_headers(kind, codes))
        for row in view["units"][kind]:
            sheet.append(unit_line(kind, row, codes))
            count += 1
    _trend_sheet(book, view)
    if view["kind"] == "quarterly":
        _quarter_sheets(book, view)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), count


def _trend_sheet(book, view: dict) -> None:
    sheet = book.create_sheet("趋势")
    if view["kind"] == "quarterly":
        sheet.append(["范围", "月份", "综合评分"] + [label for _k, label in FIGURES])
        for area in view["areas"]:
            for label, month in zip(view["months"], area.get("months", []), strict=False):
                figures = [month["figures"].get(k, 0) for k, _l in FIGURES]
                sheet.append([area["name"], label, _blank(month["score"]), *figures])
        return
    sheet.append(["范围", "日期", "上报数", "结案数"])
    for area in view["areas"]:
        trend = area.get("trend", {})
        for i, day in enumerate(view["days"]):
            cases, closed = trend.get("cases", []), trend.get("closed", [])
            sheet.append(
                [area["name"], day, cases[i] if i < len(cases) else 0, closed[i] if i < len(closed) else 0]
            )


def _quarter_sheets(book, view: dict) -> None:
    sheet = book.create_sheet("预警")
    sheet.append(["类型", "级别", "日期", "说明", "观测", "期望", "案件列表"])
    for alert in view["alerts"] + view["repeats"]:
        sheet.append(
            [
                alert["kind"],
                alert["severity"],
                alert["day"],
                alert["explanation"],
                alert["observed"],
                alert["expected"],
                case_link(alert["link"]),
            ]
        )
    sheet = book.create_sheet("吹哨")
    whistles = view["whistles"]
    sheet.append(["吹哨总数", whistles["total"]])
    sheet.append(["街道", "名称", "合计"])
    for street in whistles["by_street"]:
        sheet.append([street["street"], street["name"], street["total"]])
    sheet.append([])
    sheet.append(["部门", "名称", "被召集", "应报到", "按时报到", "迟到", "未报到", "按时报到率(%)"])
    for d in whistles["departments"]:
        sheet.append(
            [
                d["department"],
                d["name"],
                d["summoned"],
                d["due"],
                d["on_time"],
                d["late"],
                d["missing"],
                percent(d["on_time_rate"]),
            ]
        )
