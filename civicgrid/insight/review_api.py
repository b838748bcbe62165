"""/api/v1/insight/reviews — the archive of monthly reviews and quarterly packs, and one review's
frozen figures as the reader may see them (``reviews.review_view``: their scope's rows).

``GET /api/v1/insight/reviews?kind=monthly|quarterly`` lists the archive; ``GET
/api/v1/insight/reviews/{id}`` gives one review. Tokens need ``insight:read``. Thin: parse, call
``insight.reviews``, shape.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Router, Schema
from ninja.security import django_auth

from civicgrid.accounts.scopes import request_scope
from civicgrid.accounts.tokens import TokenAuth
from civicgrid.insight import reviews

router = Router(tags=["insight"])
READ = [TokenAuth("insight:read"), django_auth]


class ReviewOut(Schema):
    id: int
    kind: str
    title: str
    period_start: date
    period_end: date
    generated_at: datetime


class ReviewDetailOut(ReviewOut):
    period: str
    whole_district: bool
    indicators: list[str]
    days: list[str]
    months: list[str]
    areas: list[dict[str, Any]]
    units: dict[str, list[dict[str, Any]]]
    quarter: dict[str, Any] | None = None


@router.get("", response=list[ReviewOut], auth=READ, summary="The archive of reviews")
def review_list(request, kind: str = ""):
    return list(reviews.review_list(scope=request_scope(request), kind=kind))


@router.get("/{review_id}", response=ReviewDetailOut, auth=READ, summary="One review's frozen figures")
def review_detail(request, review_id: int):
    scope = request_scope(request)
    view = reviews.review_view(reviews.review_get(scope=scope, review_id=review_id), scope)
    quarter_keys = ("alert_counts", "alerts", "repeats", "whistles", "slow")
    if view["kind"] == "quarterly":
        view["quarter"] = {k: view.pop(k) for k in quarter_keys}
    return view
