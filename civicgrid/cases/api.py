"""/api/v1/cases: intake, lists, the case, its moves. Thin: parse, call a service, render.

Creating a case and making a move take ``multipart/form-data`` (fields + photos), so one request
carries the report and its files and is either all stored or not at all.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status
from ninja.security import django_auth

from civicgrid.accounts.reveal import pii_reveal
from civicgrid.accounts.scopes import request_scope
from civicgrid.accounts.tokens import TokenAuth
from civicgrid.audit.services import client_ip
from civicgrid.cases import duplicates, merging, presenters, selectors, services
from civicgrid.cases.models import AttachmentPurpose, CaseClass
from civicgrid.cases.schemas import (
    CaseIn,
    CaseListOut,
    CaseOut,
    ClassOut,
    CreatedOut,
    DuplicateOut,
    DuplicateStaffOut,
    FollowIn,
    FollowOut,
    InboxOut,
    MergeIn,
    MoveIn,
    RevealIn,
    SuggestionOut,
)
from civicgrid.cases.selectors import CaseFilter
from civicgrid.cases.taxonomy import suggest_classes
from civicgrid.cases.workflow import Actor
from civicgrid.errors import DomainError, OutOfScope
from civicgrid.responses import excel_response
from civicgrid.throttle import throttle_allows

router = Router(tags=["cases"])
# The bearer token first: django-ninja's session auth refuses a POST without a CSRF token before
# the next method is tried, so [django_auth, TokenAuth] turned every token POST into a 403.
# Without an Authorization header TokenAuth passes, and the session (with CSRF) decides.
READ = [TokenAuth("cases:read"), django_auth]
WRITE = [TokenAuth("cases:write"), django_auth]
LIST_MAX = 200
OPTIONAL_FILES = File(None)  # django-ninja's marker for optional multipart files
COUNT_CAP = selectors.COUNT_CAP


def actor_for(request) -> Actor:
    user = request.user
    return Actor(user_id=user.pk, scope=request_scope(request), name=str(user))


def submitter(request) -> str:
    """Whose idempotency keys these are: a replay by someone else is refused, not answered."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"session:{request.session.session_key or ''}"


def uploads(files: list[UploadedFile] | None, purpose: str) -> list[services.Upload]:
    out = []
    for f in files or []:
        if f.size is not None and f.size > settings.UPLOAD_MAX_BYTES:
            raise DomainError(
                "upload_too_large",
                _("A file is larger than the limit."),
                {"max_bytes": settings.UPLOAD_MAX_BYTES, "size": f.size},
                status=413,
            )
        out.append(services.Upload(name=f.name or "", data=f.read(), purpose=purpose))
    return out


@router.get("/classes", response=list[ClassOut], auth=None, summary="The taxonomy (大类 and 小类)")
def classes(request):
    rows = CaseClass.objects.filter(active=True).select_related("parent", "department").order_by("code")
    return [
        {
            "code": c.code,
            "name": c.name,
            "name_en": c.name_en,
            "family": c.family,
            "major": c.parent.code if c.parent else None,
            "register_rule": c.register_rule,
            "close_rule": c.close_rule,
            "limits": {u: c.limit_text(u) for u in ("normal", "urgent", "emergency")} if c.parent else {},
            "department": c.department.code if c.department else None,
            "self_resolvable": c.self_resolvable,
        }
        for c in rows
    ]


@router.get("/classes/suggest", response=list[SuggestionOut], auth=None, summary="Suggest classes for a text")
def classes_suggest(request, text: str):
    return [s.__dict__ | {"matched": list(s.matched)} for s in suggest_classes(text[:2000])]


@router.post("/", response={201: CreatedOut, 200: CreatedOut}, auth=WRITE, summary="Report a case")
def case_create(
    request,
    payload: Form[CaseIn],
    photos: list[UploadedFile] = OPTIONAL_FILES,
    before: list[UploadedFile] = OPTIONAL_FILES,
    after: list[UploadedFile] = OPTIONAL_FILES,
):
    data = services.CaseInput(
        **payload.dict(exclude={"idempotency_key"}),
        files=[
            *uploads(photos, AttachmentPurpose.REPORT),
            *uploads(before, AttachmentPurpose.BEFORE),
            *uploads(after, AttachmentPurpose.AFTER),
        ],
    )
    key = request.headers.get("Idempotency-Key") or payload.idempotency_key
    actor = actor_for(request)
    created = services.case_create(
        actor=actor, data=data, idempotency_key=key, submitted_by=submitter(request)
    )
    # A new case is answered as made (reading it back cost a fifth of the request). It is
    # answered even when it lies outside the reporter's own area (a grid worker just over the
    # boundary): it was made all the same; later reads follow the scope.
    case = created.case
    if created.replayed:
        try:
            case = selectors.case_get(scope=actor.scope, number=case.number)
        except OutOfScope:
            pass
    body = {
        "replayed": created.replayed,
        "case": presenters.case_detail(case, actor, events=created.events, attachments=created.attachments),
        "suggestions": [s.__dict__ | {"matched": list(s.matched)} for s in created.suggestions],
        # Found live, so a replay shows what is open now (public fields: the reporter may be anyone).
        "duplicates": [d.public() for d in duplicates.duplicates_of_case(case)],
    }
    return Status(200 if created.replayed else 201, body)


def duplicate_check_allowed(request) -> None:
    """The public duplicate check and follow are rate-limited per client address like /report/
    (a few checks per report: DUPLICATE_CHECK_RATE_LIMIT, default 6 × REPORT_RATE_LIMIT), so
    nobody can map the open cases by probing."""
    limit = settings.DUPLICATE_CHECK_RATE_LIMIT
    if not throttle_allows(
        f"duplicates:{client_ip(request) or 'unknown'}",
        limit=limit,
        seconds=settings.REPORT_RATE_WINDOW_MINUTES * 60,
    ):
        raise DomainError(
            "too_many_checks", _("Too many checks from this address; please try again later."), status=429
        )


@router.get(
    "/duplicates",
    response=list[DuplicateOut],
    auth=None,
    summary="Open cases that may already be this report (public fields only)",
)
def duplicates_check(
    request, lon: float, lat: float, crs: str = "wgs84", case_class: str = "", text: str = ""
):
    duplicate_check_allowed(request)
    found = duplicates.intake_candidates(lon=lon, lat=lat, crs=crs, case_class=case_class, text=text)
    return [d.public() for d in found]


@router.post(
    "/{number}/follow",
    response={201: FollowOut},
    auth=None,
    summary="Follow an open case the duplicate check offered, instead of reporting it again",
)
def case_follow(request, number: str, payload: FollowIn):
    duplicate_check_allowed(request)
    # Anonymous even for a signed-in browser: this endpoint has no CSRF check. Signed-in
    # residents follow on the report page, which has one.
    follower = merging.case_follow(number=number, user_id=None, **payload.dict())
    return Status(
        201,
        {
            "number": follower.case.number,
            "follow_code": follower.code,
            "url": request.build_absolute_uri(merging.follow_url(follower.code)),
        },
    )


@router.get(
    "/{number}/duplicates",
    response=list[DuplicateStaffOut],
    auth=READ,
    summary="Open cases in your scope that may be the same matter as this one",
)
def case_duplicates(request, number: str):
    scope = request_scope(request)
    case = selectors.case_get(scope=scope, number=number)
    return [d.staff() for d in duplicates.duplicates_of_case(case, scope=scope)]


@router.post(
    "/{number}/merge", response=CaseOut, auth=WRITE, summary="Merge this case into another (duplicate)"
)
def case_merge(request, number: str, payload: MergeIn):
    actor = actor_for(request)
    master = merging.case_merge(actor=actor, number=number, **payload.dict())
    return presenters.case_detail(selectors.case_get(scope=actor.scope, number=master.number), actor)


class ListQuery(Schema):
    state: str = ""
    case_class: str = ""
    region: str = ""
    channel: str = ""
    department: str = ""
    overdue: bool | None = None
    date_from: str | None = None
    date_to: str | None = None
    q: str = ""
    limit: int = 50
    offset: int = 0


def _parse_filters(query: ListQuery) -> CaseFilter:
    return CaseFilter.from_params(query.dict())


@router.get("/", response=CaseListOut, auth=READ, summary="Cases in your scope, newest first")
def case_list(request, query: Query[ListQuery]):
    if not 1 <= query.limit <= LIST_MAX or query.offset < 0:
        raise DomainError("bad_page", _("limit must be 1–%(n)d and offset ≥ 0.") % {"n": LIST_MAX})
    scope, filters = request_scope(request), _parse_filters(query)
    page = selectors.case_list(scope=scope, filters=filters)[query.offset : query.offset + query.limit]
    count = selectors.case_count(scope=scope, filters=filters)
    return {
        "count": min(count, COUNT_CAP),
        "count_capped": count > COUNT_CAP,
        "items": [presenters.case_summary(c) for c in page],
    }


@router.get("/export.xlsx", auth=READ, summary="The filtered list as an Excel file (at most 50,000 rows)")
def case_export(request, query: Query[ListQuery]):
    from civicgrid.cases.exports import cases_xlsx

    found = selectors.case_list(scope=request_scope(request), filters=_parse_filters(query))
    return excel_response(cases_xlsx(found), "cases.xlsx")


@router.get("/inbox", response=list[InboxOut], auth=READ, summary="Your to-do lists (待办) with counts")
def inbox(request):
    return [
        {"key": b.key, "label": str(b.label), "count": n}
        for b, n in selectors.inbox_counts(scope=request_scope(request))
    ]


@router.get("/inbox/{bucket}", response=CaseListOut, auth=READ, summary="One to-do list")
def inbox_list(request, bucket: str, limit: int = 50, offset: int = 0):
    found = selectors.inbox_query(scope=request_scope(request), bucket=bucket)
    count = found.order_by()[: COUNT_CAP + 1].count()
    return {
        "count": min(count, COUNT_CAP),
        "count_capped": count > COUNT_CAP,
        "items": [presenters.case_summary(c) for c in found[offset : offset + min(limit, LIST_MAX)]],
    }


@router.get("/{number}", response=CaseOut, auth=READ, summary="One case with its timeline and your moves")
def case_detail(request, number: str):
    actor = actor_for(request)
    return presenters.case_detail(selectors.case_get(scope=actor.scope, number=number), actor)


@router.post("/{number}/moves/{action}", response=CaseOut, auth=WRITE, summary="Make a move")
def case_move(
    request,
    response: HttpResponse,
    number: str,
    action: str,
    payload: Form[MoveIn],
    photos: list[UploadedFile] = OPTIONAL_FILES,
):
    actor = actor_for(request)
    # A phone's offline queue sends a move again when its answer was lost: with the same
    # Idempotency-Key the move is not made twice, and the case is answered as it is now.
    key = request.headers.get("Idempotency-Key", "")
    if services.move_replayed(number, key):
        response["Idempotent-Replay"] = "true"
    data = payload.dict(exclude={"version", "note", "lon", "lat"})
    data["co_departments"] = [c.strip() for c in payload.co_departments.split(",") if c.strip()]
    if payload.review_on:
        data["review_on"] = payload.review_on.isoformat()
    # A move's photos show the result when it reports one (feedback, resolved on the spot).
    purpose = (
        AttachmentPurpose.AFTER if action in ("feedback", "self_resolve") else AttachmentPurpose.PROGRESS
    )
    services.case_move(
        actor=actor,
        number=number,
        action=action,
        version=payload.version,
        note=payload.note,
        data=data,
        files=uploads(photos, purpose),
        lon=payload.lon,
        lat=payload.lat,
        client_key=key,
    )
    return presenters.case_detail(selectors.case_get(scope=actor.scope, number=number), actor)


@router.post(
    "/{number}/reveal", auth=READ, summary="See the reporter's name or phone (reason required, audited)"
)
def case_reveal(request, number: str, payload: RevealIn):
    if payload.field not in ("reporter_name", "reporter_phone"):
        raise DomainError("not_personal_data", _("Only reporter_name and reporter_phone can be revealed."))
    scope = request_scope(request)
    case = selectors.case_get(scope=scope, number=number)
    value = pii_reveal(scope=scope, user=request.user, obj=case, field=payload.field, reason=payload.reason)
    return {"field": payload.field, "value": value}
