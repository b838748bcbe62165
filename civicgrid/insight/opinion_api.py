"""/api/v1/insight/opinion: opinion monitoring's figures (docs/opinion.md).

``GET /api/v1/insight/opinion/?week=YYYY-MM-DD&street=CODE`` gives the week's texts and negative
share, top terms, rising topics, the negative share over the 52 weeks up to it and the watch-list
hits, for the district (no street; district staff only) or one street in the reader's scope.
Thin: parse, call ``opinion_view``, shape. Tokens need the ``insight:read`` scope.
"""

from __future__ import annotations

from datetime import date, datetime

from ninja import Router, Schema
from ninja.security import django_auth

from civicgrid.accounts.scopes import request_scope
from civicgrid.accounts.tokens import TokenAuth
from civicgrid.insight.opinion_read import OpinionView, opinion_view

router = Router(tags=["insight"])
READ = [TokenAuth("insight:read"), django_auth]


class StreetOut(Schema):
    code: str
    name: str


class TermOut(Schema):
    term: str
    texts: int
    share: float


class RisingOut(TermOut):
    base_texts: int
    base_share: float
    ratio: float


class TrendOut(Schema):
    week: date
    texts: int
    negative: int
    share: float | None


class HitOut(Schema):
    day: date
    term: str
    street: str | None
    texts: int
    severity: int
    status: str
    explanation: str
    link: str


class StreetWeekOut(Schema):
    street: StreetOut
    texts: int
    negative: int
    share: float | None
    top_terms: list[str]


class OpinionOut(Schema):
    week: date
    street: StreetOut | None
    streets: list[StreetOut]
    computed_at: datetime | None
    texts: int
    negative: int
    negative_share: float | None
    top_terms: list[TermOut]
    rising: list[RisingOut]
    trend: list[TrendOut]
    hits: list[HitOut]
    by_street: list[StreetWeekOut]  # the district's view only (no street asked for)


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def opinion_out(view: OpinionView) -> dict:
    return {
        "week": view.week,
        "street": {"code": view.street.code, "name": view.street.name} if view.street else None,
        "streets": [{"code": s.code, "name": s.name} for s in view.readable.streets],
        "computed_at": view.computed_at,
        "texts": view.texts,
        "negative": view.negative,
        "negative_share": _r(view.negative_share),
        "top_terms": [{"term": t.term, "texts": t.texts, "share": _r(t.share)} for t in view.top],
        "rising": [
            {
                "term": r.term,
                "texts": r.texts,
                "share": _r(r.share),
                "base_texts": r.base_texts,
                "base_share": _r(r.base_share),
                "ratio": round(r.ratio, 2),
            }
            for r in view.rising
        ],
        "trend": [
            {"week": p.week, "texts": p.texts, "negative": p.negative, "share": _r(p.share)}
            for p in view.trend
        ],
        "hits": [
            {
                "day": a.day,
                "term": a.term,
                "street": a.street.code if a.street else None,
                "texts": int(a.observed),
                "severity": a.severity,
                "status": a.status,
                "explanation": a.explanation,
                "link": a.link,
            }
            for a in view.hits
        ],
        "by_street": [
            {
                "street": {"code": s.street.code, "name": s.street.name},
                "texts": s.texts,
                "negative": s.negative,
                "share": _r(s.share),
                "top_terms": s.top,
            }
            for s in view.streets
        ],
    }


@router.get("/", response=OpinionOut, auth=READ, summary="A week's opinion figures in your scope")
def opinion_week(request, week: str = "", street: str = ""):
    return opinion_out(opinion_view(scope=request_scope(request), week=week, street=street))
