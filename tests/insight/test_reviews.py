"""月点评 and 季调度: a month frozen with ranked rows per unit, figures that stay put when cases move
later, the workbook and the PDF, the periodic run, and who sees which rows of a review (page,
workbook, PDF, API) — a street its street, a department its department, a resident nothing."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from civicgrid.accounts.models import Department
from civicgrid.accounts.tokens import api_token_create
from civicgrid.audit.models import AuditRecord
from civicgrid.errors import DomainError
from civicgrid.insight import review_views, reviews, rollups
from civicgrid.insight.models import Alert, AlertKind, Review, ReviewKind
from civicgrid.insight.reviews import SYSTEM, period_parse, review_generate, review_view
from civicgrid.regions.models import Region

from ..cases.conftest import actor, local
from ..cases.steps import (
    GRID_A,
    GRID_A2,
    GRID_B,
    GW_A,
    GW_B,
    STREET_A,
    STREET_B,
    Frozen,
    S,
    do,
    doer,
    error_of,
    handler_of,
    signed_in,
    walk,
)

MARCH = period_parse(ReviewKind.MONTHLY, "2026-03")
Q1 = period_parse(ReviewKind.QUARTERLY, "2026-Q1")
STREET_A_CODE, STREET_B_CODE = "320102002000", "320102010000"


@pytest.fixture
def month(idemo, monkeypatch):
    """Five cases of March 2026 in three grids of two streets, rolled up on 2 April: in street A
    one closed, one being handled past its deadline, one dispatched; in street B one closed (by
    another department), one registered."""
    clock = Frozen(monkeypatch, local(2026, 3, 9, 9, 0))
    closed = walk(S.CLOSED, grid=GRID_A)
    late = walk(S.HANDLING, grid=GRID_A)
    walk(S.DISPATCHED, grid=GRID_A2, case_class="E0101")
    other = walk(S.HANDLING, grid=GRID_B, case_class="E0302")
    do(handler_of(other), other, "feedback")
    do(GW_B, other, "check_pass")
    do(doer("close", other), other, "close")
    walk(S.REGISTERED, grid=GRID_B)
    clock.to(local(2026, 4, 2, 9, 0))
    rollups.rebuild()
    return {"clock": clock, "closed": closed, "late": late, "other": other}


def _codes(rows: list[dict]) -> set[str]:
    return {r["code"] for r in rows}


def test_it_freezes_a_month_with_every_kind_of_unit_ranked(month):
    review, made = review_generate(period=MARCH)
    assert made and review.kind == ReviewKind.MONTHLY and str(review.period_end) == "2026-03-31"
    units = review.payload["units"]
    assert _codes(units["street"]) == {STREET_A_CODE, STREET_B_CODE}
    assert _codes(units["grid"]) == {GRID_A, GRID_A2, GRID_B}
    assert {r["code"] for r in units["department"]} >= {
        Department.objects.get(pk=month["other"].department_id).code
    }
    for rows in units.values():
        ranks = [r["rank"] for r in rows if r["rank"] is not None]
        assert ranks == sorted(ranks) and ranks[0] == 1 and all(r["of"] == len(ranks) for r in rows)
        scores = [r["score"] for r in rows if r["score"] is not None]
        assert scores == sorted(scores, reverse=True)
    district = review.payload["areas"]["0"]
    assert district["figures"]["cases"] == 5 and district["figures"]["closed"] == 2
    assert len(review.payload["days"]) == 31 and sum(district["trend"]["cases"]) == 5
    street_b = str(Region.objects.get(code=STREET_B_CODE).pk)
    assert review.payload["areas"][street_b]["figures"]["cases"] == 2
    assert sum(t["cases"] for t in district["top_minor"]) == 5
    assert AuditRecord.objects.filter(action="insight.review_generate", object_id=str(review.pk)).exists()


def test_archived_figures_do_not_change_after_later_moves(month):
    review, _made = review_generate(period=MARCH)
    frozen = review.payload
    late = month["late"]
    do(handler_of(late), late, "feedback")
    do(GW_A, late, "check_pass")
    do(doer("close", late), late, "close")
    rollups.refresh()
    again, made = review_generate(period=MARCH)
    reviews.reviews_due(today=local(2026, 4, 3, 9, 0).date())
    review.refresh_from_db()
    assert not made and again.pk == review.pk and review.payload == frozen
    assert review.payload["areas"]["0"]["figures"]["closed"] == 2
    # Made again on purpose, it does count the move (so the freeze above was not for nothing).
    remade, made = review_generate(period=MARCH, replace=True)
    assert made and remade.pk == review.pk and remade.payload["areas"]["0"]["figures"]["closed"] == 3


def test_a_period_not_over_or_misspelt_is_refused(month):
    with pytest.raises(DomainError) as refused:
        review_generate(period=period_parse(ReviewKind.MONTHLY, "2026-04"))
    assert refused.value.code == "period_not_over"
    for kind, text in (("monthly", "2026-13"), ("monthly", "March"), ("quarterly", "2026-Q5")):
        with pytest.raises(DomainError) as refused:
            period_parse(kind, text)
        assert refused.value.code == "bad_period"
    with pytest.raises(DomainError) as refused:
        period_parse("daily", "2026-03")
    assert refused.value.code == "bad_review_kind"
    assert Review.objects.count() == 0


def test_the_periodic_run_makes_last_month_and_last_quarter_once(month):
    made = reviews.reviews_due(today=local(2026, 4, 1, 3, 20).date())
    assert {(r.kind, str(r.period_start)) for r in made} == {
        ("monthly", "2026-03-01"),
        ("quarterly", "2026-01-01"),
    }
    assert reviews.reviews_due(today=local(2026, 4, 2, 3, 20).date()) == []
    assert Review.objects.count() == 2


def test_the_quarterly_pack_holds_months_warnings_whistles_and_slow_units(month):
    grid_a, grid_b = Region.objects.get(code=GRID_A), Region.objects.get(code=GRID_B)
    for grid, kind in ((grid_a, AlertKind.SPIKE), (grid_b, AlertKind.REPEAT)):
        Alert.objects.create(
            kind=kind,
            key=f"test:{grid.code}",
            severity=2,
            day=local(2026, 3, 9, 9, 0).date(),
            street=grid.parent.parent,
            grid=grid,
            observed=5,
            expected=1.2,
            explanation=f"test {grid.code}",
            link=f"region={grid.code}",
            created_at=local(2026, 3, 9, 9, 0),
            updated_at=local(2026, 3, 9, 9, 0),
        )
    review, _made = review_generate(period=Q1)
    view = review_view(review, SYSTEM)
    assert view["months"] == ["2026-01", "2026-02", "2026-03"]
    assert [m["figures"]["cases"] for m in view["areas"][0]["months"]] == [0, 0, 5]
    assert view["alert_counts"][AlertKind.SPIKE] == 1 and view["alert_counts"][AlertKind.REPEAT] == 1
    assert len(view["alerts"]) == 1 and len(view["repeats"]) == 1
    assert view["whistles"]["total"] == 0
    assert _codes(view["slow"]["street"]) <= {STREET_A_CODE, STREET_B_CODE} and view["slow"]["street"]
    # A street sees its own warnings only.
    street_a = review_view(review, actor(STREET_A).scope)
    assert [a["explanation"] for a in street_a["alerts"]] == [f"test {GRID_A}"]
    assert street_a["repeats"] == [] and street_a["alert_counts"] == {"spike": 1, "severity_2": 1}
    assert street_a["alerts"][0]["href"] == f"/cases/list/?region={GRID_A}"
    assert [a["name"] for a in street_a["areas"]] == [Region.objects.get(code=STREET_A_CODE).name]


# -- files -------------------------------------------------------------------------------------------


def _workbook(response):
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml")
    return load_workbook(io.BytesIO(response.content), read_only=True)


def _sheet_rows(book, title: str) -> list[tuple]:
    return list(book[title].iter_rows(values_only=True))


def test_the_monthly_workbook_opens_with_its_sheets_and_ranked_rows(month, client):
    review, _made = review_generate(period=MARCH)
    book = _workbook(signed_in(client, "operator").get(f"/command/reviews/{review.pk}.xlsx"))
    assert book.sheetnames[:5] == ["概览", "街道", "社区", "网格", "部门"]
    streets = _sheet_rows(book, "街道")
    assert streets[0][0] == "排名" and len(streets) == 3
    assert {row[1] for row in streets[1:]} == {STREET_A_CODE, STREET_B_CODE}
    assert [row[0] for row in streets[1:]] == sorted(row[0] for row in streets[1:])
    assert {row[1] for row in _sheet_rows(book, "网格")[1:]} == {GRID_A, GRID_A2, GRID_B}
    record = AuditRecord.objects.filter(action="export.xlsx", object_type="insight.review").get()
    assert record.object_id == str(review.pk) and record.detail["rows"] > 0


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page[^s]", pdf))


def test_the_pdf_is_a_pdf_with_pages(month, client):
    review, _made = review_generate(period=MARCH)
    response = signed_in(client, "operator").get(f"/command/reviews/{review.pk}.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and _pages(response.content) >= 1
    assert b"STSong-Light" in response.content  # the Chinese CID font, no font file embedded
    assert AuditRecord.objects.filter(action="export.pdf", object_id=str(review.pk)).exists()
    quarter, _made = review_generate(period=Q1)
    pdf = signed_in(client, "operator").get(f"/command/reviews/{quarter.pk}.pdf").content
    assert pdf.startswith(b"%PDF") and _pages(pdf) >= 1


# -- scope ---------------------------------------------------------------------------------------------


def test_a_street_operator_sees_only_their_streets_rows_on_the_page_and_in_the_workbook(month, client):
    review, _made = review_generate(period=MARCH)
    signed_in(client, STREET_A)
    page = client.get(f"/command/reviews/{review.pk}/").content.decode()
    shown = set(re.findall(r'data-code="(\d+)"', page))
    assert {STREET_A_CODE, GRID_A, GRID_A2} <= shown
    assert not shown & {STREET_B_CODE, GRID_B}
    assert f'href="/cases/list/?region={GRID_A}&amp;date_from=2026-03-01&amp;date_to=2026-03-31"' in page
    book = _workbook(client.get(f"/command/reviews/{review.pk}.xlsx"))
    assert {row[1] for row in _sheet_rows(book, "街道")[1:]} == {STREET_A_CODE}
    assert {row[1] for row in _sheet_rows(book, "网格")[1:]} == {GRID_A, GRID_A2}
    assert len(_sheet_rows(book, "部门")) == 1  # headers only: departments are not a street's
    overview = [row[0] for row in _sheet_rows(book, "概览")[5:6]]
    assert overview == [Region.objects.get(code=STREET_A_CODE).name]  # not the district's totals
    # The street keeps its rank among all streets.
    rank = next(r for r in review.payload["units"]["street"] if r["code"] == STREET_A_CODE)["rank"]
    assert next(row for row in _sheet_rows(book, "街道")[1:])[0] == rank


def test_the_pdf_is_drawn_from_the_readers_rows_only(month, client, monkeypatch):
    review, _made = review_generate(period=MARCH)
    seen = []
    real = review_views.review_pdf
    monkeypatch.setattr(review_views, "review_pdf", lambda view: seen.append(view) or real(view))
    response = signed_in(client, STREET_B).get(f"/command/reviews/{review.pk}.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    units = seen[0]["units"]
    assert _codes(units["street"]) == {STREET_B_CODE} and _codes(units["grid"]) == {GRID_B}
    assert units["department"] == [] and not seen[0]["whole_district"]


def test_the_api_gives_a_department_its_own_row_and_a_street_its_street(month, client):
    review, _made = review_generate(period=MARCH)
    other = month["other"]
    handler = handler_of(other)
    body = signed_in(client, handler).get(f"/api/v1/insight/reviews/{review.pk}").json()
    own = Department.objects.get(pk=other.department_id).code
    assert _codes(body["units"]["department"]) == {own}
    assert body["units"]["street"] == [] and body["units"]["grid"] == [] and body["areas"] == []
    body = signed_in(client, STREET_B).get(f"/api/v1/insight/reviews/{review.pk}").json()
    assert _codes(body["units"]["street"]) == {STREET_B_CODE} and _codes(body["units"]["grid"]) == {GRID_B}
    listed = client.get("/api/v1/insight/reviews").json()
    assert [r["id"] for r in listed] == [review.pk]


def test_a_token_with_insight_read_reads_the_archive(month, client):
    review, _made = review_generate(period=MARCH)
    from civicgrid.accounts.models import User

    _token, secret = api_token_create(
        user=User.objects.get(username="operator"), name="t", scopes=["insight:read"]
    )
    signed_in(client, None)
    body = client.get(f"/api/v1/insight/reviews/{review.pk}", HTTP_AUTHORIZATION=f"Bearer {secret}").json()
    assert len(body["units"]["street"]) == 2 and body["whole_district"]


@pytest.mark.parametrize("who", ["resident1", "auditor"])
def test_residents_and_auditors_see_no_review(month, client, who):
    review, _made = review_generate(period=MARCH)
    signed_in(client, who)
    error_of(client.get(f"/api/v1/insight/reviews/{review.pk}"), 403, "reviews_forbidden")
    error_of(client.get("/api/v1/insight/reviews"), 403, "reviews_forbidden")
    for url in ("", ".xlsx", ".pdf"):
        path = f"/command/reviews/{review.pk}{'/' if not url else url}"
        assert client.get(path).status_code == 403
    assert client.get("/command/reviews/").status_code == 403
    assert not AuditRecord.objects.filter(action__startswith="export.", object_type="insight.review").exists()


def test_only_the_command_centre_makes_a_review_on_demand(month, client):
    signed_in(client, STREET_A)
    response = client.post("/command/reviews/generate", {"kind": "monthly", "period": "2026-03"})
    assert response.status_code == 403 and Review.objects.count() == 0
    signed_in(client, "operator")
    response = client.post("/command/reviews/generate", {"kind": "monthly", "period": "2026-03"})
    review = Review.objects.get(kind="monthly")
    assert response.status_code == 302 and response["Location"] == f"/command/reviews/{review.pk}/"
    assert review.generated_by.username == "operator"
    response = client.post("/command/reviews/generate", {"kind": "monthly", "period": "2026-04"})
    assert response.status_code == 302 and Review.objects.count() == 1  # not over: refused, told
    page = client.get("/command/reviews/")
    assert page.status_code == 200 and f'data-review="{review.pk}"'.encode() in page.content


def test_a_weekly_run_is_listed_for_the_command_centre_only(month, client):
    review, _made = review_generate(period=MARCH)
    weekly = Review.objects.create(
        kind=ReviewKind.WEEKLY,
        period_start=local(2026, 3, 30, 0, 0).date(),
        period_end=local(2026, 4, 5, 0, 0).date(),
        title="w",
        payload={"people": 3},
        generated_at=local(2026, 3, 30, 8, 0),
    )
    assert {r.pk for r in reviews.review_list(scope=actor("operator").scope)} == {review.pk, weekly.pk}
    assert {r.pk for r in reviews.review_list(scope=actor(STREET_A).scope)} == {review.pk}
    signed_in(client, STREET_A)
    error_of(client.get(f"/api/v1/insight/reviews/{weekly.pk}"), 404, "review_not_found")


def test_the_pages_of_a_quarter_and_the_archive_render_for_the_command_centre(month, client):
    quarter, _made = review_generate(period=Q1)
    monthly, _made = review_generate(period=MARCH)
    signed_in(client, "operator")
    page = client.get(f"/command/reviews/{quarter.pk}/")
    assert page.status_code == 200 and page.context["view"]["kind"] == "quarterly"
    assert [m for m, _row in page.context["months"][0][1]] == ["2026-01", "2026-02", "2026-03"]
    assert b'id="review-chart-data"' in page.content and b'id="review-whistles"' in page.content
    archive = client.get("/command/reviews/")
    assert [r.pk for r in archive.context["by_year"][2026]] == [monthly.pk, quarter.pk]
    assert archive.context["may_generate"] and b'id="review-generate"' in archive.content
    assert b'id="review-generate"' not in signed_in(client, STREET_A).get("/command/reviews/").content


def test_the_command_makes_a_month_and_says_so_the_second_time(month):
    out = io.StringIO()
    call_command("reviews", "monthly", "--month", "2026-03", stdout=out)
    call_command("reviews", "monthly", "--month", "2026-03", stdout=out)
    call_command("reviews", "quarterly", "--quarter", "2026-Q1", stdout=out)
    lines = out.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == ["made", "archived already", "made"]
    assert Review.objects.count() == 2
    with pytest.raises(CommandError, match="bad_period"):
        call_command("reviews", "monthly", "--month", "2026-3x", stdout=out)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler's pdftotext is not installed")
def test_the_pdf_text_names_the_readers_street_and_not_the_other(month, client):
    review, _made = review_generate(period=MARCH)
    pdf = signed_in(client, STREET_A).get(f"/command/reviews/{review.pk}.pdf").content
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    own, other = (Region.objects.get(code=c).name for c in (STREET_A_CODE, STREET_B_CODE))
    assert own in text and GRID_A in text
    assert other not in text and GRID_B not in text
