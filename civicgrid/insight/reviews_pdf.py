"""A review as a printable PDF (reportlab; decision 0012): the overview, a bar chart of the
streets' composite scores, the ranking tables, and for a quarter the monthly series, warnings,
whistles and the slow units. Chinese is drawn with reportlab's built-in CID font STSong-Light,
which PDF readers supply themselves, so no font file ships with the app or the PDF.
Built from ``reviews.review_view``: it holds only what the reader may see.
"""

from __future__ import annotations

import io

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, TableStyle

from civicgrid.insight.reviews_xlsx import FIGURES, SHEETS, indicator_names, percent

FONT = "STSong-Light"
# The rates printed in the ranking tables (a landscape A4 page holds about this many columns).
PRINTED = ("on_time_handling", "on_time_closure", "rework", "overdue_pending", "satisfaction")


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _styles():
    font = _font()
    return {
        "title": ParagraphStyle("title", fontName=font, fontSize=18, leading=24, spaceAfter=6),
        "h2": ParagraphStyle("h2", fontName=font, fontSize=13, leading=18, spaceBefore=10, spaceAfter=4),
        "body": ParagraphStyle("body", fontName=font, fontSize=9, leading=12),
    }


def _table(rows: list[list], widths=None) -> LongTable:
    table = LongTable([[str(c) for c in row] for row in rows], colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, 8),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#9aa5b1")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f6f8fa")]),
            ]
        )
    )
    return table


def _score_chart(rows: list[dict]) -> Drawing | None:
    scored = [r for r in rows if r["score"] is not None][:20]
    if not scored:
        return None
    drawing = Drawing(250 * mm, 62 * mm)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 12 * mm, 14 * mm, 230 * mm, 44 * mm
    chart.data = [[r["score"] for r in scored]]
    # Scores bunch near the top; start the axis below the lowest so the differences show.
    chart.valueAxis.valueMin = max(0, int(min(r["score"] for r in scored) // 10) * 10 - 10)
    chart.valueAxis.valueMax = 100
    chart.valueAxis.labels.fontName = FONT
    chart.categoryAxis.categoryNames = [r["name"][:8] for r in scored]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.angle = 30 if len(scored) > 8 else 0
    chart.categoryAxis.labels.dy = -6
    chart.bars[0].fillColor = colors.HexColor("#2f6fae")
    drawing.add(chart)
    return drawing


def _ranking(kind: str, rows: list[dict], codes: list[str]) -> list[list]:
    names = indicator_names(codes)
    head = ["排名", "编码", "名称", "上报", "结案", "超期", *[f"{n}%" for n in names], "综合评分", "等级"]
    out = [head]
    for r in rows:
        out.append(
            [
                "" if r["rank"] is None else r["rank"],
                r["code"],
                r["name"][:14],
                r["figures"].get("cases", 0),
                r["figures"].get("closed", 0),
                r["figures"].get("overdue", 0),
                *[percent(r["rates"].get(c)) for c in codes],
                "" if r["score"] is None else r["score"],
                r["grade"],
            ]
        )
    return out


def review_pdf(view: dict) -> bytes:
    styles = _styles()
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=view["title"],
    )
    story: list = [
        Paragraph(view["title"], styles["title"]),
        Paragraph(
            f"期间 {view['period_start']} 至 {view['period_end']}，生成于 {str(view['generated_at'])[:16]}",
            styles["body"],
        ),
    ]
    if view["areas"]:
        story.append(Paragraph("概览", styles["h2"]))
        head = ["范围", "综合评分", "等级", "排名", *[label for _k, label in FIGURES]]
        rows = [head]
        for area in view["areas"]:
            rank = f"{area['rank']}/{area['of']}" if area.get("rank") else ""
            rows.append(
                [area["name"], area["score"] or "", area["grade"], rank]
                + [area["figures"].get(k, 0) for k, _l in FIGURES]
            )
        story.append(_table(rows))
        for area in view["areas"]:
            top = area.get("top_minor", [])[:8]
            if top:
                story.append(Paragraph(f"{area['name']} 高发小类", styles["h2"]))
                story.append(
                    _table([["小类", "上报数"]] + [[f"{t['code']} {t['name']}", t["cases"]] for t in top])
                )
    if view["kind"] == "quarterly":
        _quarter(story, view, styles)
    chart = _score_chart(view["units"].get("street", []))
    if chart is not None:
        story += [Paragraph("街道综合评分", styles["h2"]), chart]
    codes = [c for c in PRINTED if c in view["indicators"]]
    for kind, title in SHEETS.items():
        rows = view["units"].get(kind)
        if rows:
            story.append(Paragraph(f"{title}排名（共 {len(rows)} 个）", styles["h2"]))
            story.append(_table(_ranking(kind, rows, codes)))
    if len(story) == 2:
        story.append(Paragraph("（无可见数据）", styles["body"]))
    doc.build(story)
    return out.getvalue()


def _quarter(story: list, view: dict, styles: dict) -> None:
    for area in view["areas"]:
        story.append(Paragraph(f"{area['name']} 月度走势", styles["h2"]))
        rows = [["月份", "综合评分", "等级", *[label for _k, label in FIGURES]]]
        for label, month in zip(view["months"], area.get("months", []), strict=False):
            rows.append(
                [label, month["score"] or "", month["grade"]]
                + [month["figures"].get(k, 0) for k, _l in FIGURES]
            )
        story.append(_table(rows))
    alerts = view["alerts"] + view["repeats"]
    story.append(
        Paragraph(
            f"预警（{sum(v for k, v in view['alert_counts'].items() if not k.startswith('severity'))} 条）",
            styles["h2"],
        )
    )
    if alerts:
        rows = [["类型", "级别", "日期", "说明"]]
        rows += [[a["kind"], a["severity"], a["day"], a["explanation"][:60]] for a in alerts]
        story.append(_table(rows))
    whistles = view["whistles"]
    story.append(Paragraph(f"吹哨 {whistles['total']} 次", styles["h2"]))
    if whistles["departments"]:
        rows = [["部门", "应报到", "按时报到", "迟到", "未报到", "按时报到率%"]]
        rows += [
            [d["name"], d["due"], d["on_time"], d["late"], d["missing"], percent(d["on_time_rate"])]
            for d in whistles["departments"]
        ]
        story.append(_table(rows))
    for kind in ("street", "department"):
        slow = view["slow"].get(kind, [])
        if slow:
            story.append(Paragraph(f"需督办的{SHEETS[kind]}（按期结案率最低）", styles["h2"]))
            rows = [["名称", "按期结案率%", "超期数", "综合评分"]]
            rows += [
                [
                    s["name"],
                    percent(s["rates"].get("on_time_closure")),
                    s["figures"].get("overdue", 0),
                    s["score"] or "",
                ]
                for s in slow
            ]
            story.append(_table(rows))
