"""Writes to cases: create (intake) and move. One transaction per call; nothing half-written."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.accounts.models import Department, Role
from civicgrid.cases import selectors, workflow
from civicgrid.cases.clock import parse_limit
from civicgrid.cases.models import (
    Attachment,
    AttachmentPurpose,
    Case,
    CaseClass,
    CaseCounter,
    CaseEvent,
    CaseState,
    CaseUnit,
    Channel,
    Satisfaction,
    Urgency,
)
from civicgrid.cases.taxonomy import suggest_classes
from civicgrid.cases.uploads import CleanFile, clean_upload
from civicgrid.cases.workflow import Action, Actor
from civicgrid.errors import DomainError
from civicgrid.notifications.services import notify
from civicgrid.regions.selectors import grid_locate

TITLE_MAX, DESCRIPTION_MAX, ADDRESS_MAX, NOTE_MAX = 100, 2000, 200, 2000
FILES_MAX = 9
# Who may take a report in by each channel (residents report on the public page, anyone may).
CHANNEL_ROLES = {
    Channel.GRID_WORKER: (Role.GRID_WORKER, Role.GRID_CHIEF),
    Channel.PHONE: (Role.OPERATOR, Role.SHIFT_LEAD, Role.STREET_OPERATOR, Role.COMMUNITY_STAFF),
    Channel.WALK_IN: (Role.OPERATOR, Role.SHIFT_LEAD, Role.STREET_OPERATOR, Role.COMMUNITY_STAFF),
    Channel.LEADER: (Role.OPERATOR, Role.SHIFT_LEAD, Role.STREET_OPERATOR),
    Channel.API: (Role.OPERATOR, Role.SHIFT_LEAD, Role.STREET_OPERATOR),
}
# Reports by staff who saw the matter themselves skip the on-site verification (核实).
VERIFIED_CHANNELS = frozenset({Channel.GRID_WORKER, Channel.LEADER})
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


@dataclass
class Upload:
    name: str
    data: bytes
    purpose: str = AttachmentPurpose.REPORT


@dataclass
class CaseInput:
    channel: str
    title: str = ""
    description: str = ""
    lon: float | None = None
    lat: float | None = None
    crs: str = "wgs84"
    address: str = ""
    case_class: str = ""
    urgency: str = Urgency.NORMAL
    reporter_name: str = ""
    reporter_phone: str = ""
    self_resolve: bool = False
    note: str = ""
    files: list[Upload] = field(default_factory=list)


@dataclass
class Created:
    case: Case
    replayed: bool
    suggestions: list


def _text(value: str, limit: int, name: str) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise DomainError(
            "text_too_long",
            _("%(field)s is longer than %(n)d characters.") % {"field": name, "n": limit},
            {"field": name, "max": limit, "length": len(value)},
        )
    return value


def _clean_files(files: list[Upload]) -> list[tuple[Upload, CleanFile]]:
    if len(files) > FILES_MAX:
        raise DomainError("too_many_files", _("At most %(n)d files.") % {"n": FILES_MAX}, {"max": FILES_MAX})
    return [(f, clean_upload(f.name, f.data, max_bytes=settings.UPLOAD_MAX_BYTES)) for f in files]


def _store(case: Case, event: CaseEvent | None, cleaned, *, by: int | None, at: datetime) -> None:
    """Write the cleaned bytes (content-addressed, so a retried write is harmless) and their rows."""
    rows = []
    for upload, clean in cleaned:
        row = Attachment(
            case=case,
            event=event,
            purpose=upload.purpose,
            kind=clean.kind,
            content_type=clean.content_type,
            size=clean.size,
            sha256=clean.sha256,
            width=clean.width,
            height=clean.height,
            gps_lon=clean.gps[0] if clean.gps else None,
            gps_lat=clean.gps[1] if clean.gps else None,
            uploaded_by_id=by,
            uploaded_at=at,
        )
        name = row.file.field.generate_filename(row, "x" + clean.extension)
        if not default_storage.exists(name):
            default_storage.save(name, ContentFile(clean.data))
        row.file.name = name
        rows.append(row)
    Attachment.objects.bulk_create(rows)


def next_number(district_code: str, day: date) -> str:
    """``320102-20261128-000123``: district, day, and that day's running number."""
    for _attempt in range(3):
        updated = CaseCounter.objects.filter(district_code=district_code, day=day).update(last=F("last") + 1)
        if updated:
            break
        try:
            with transaction.atomic():
                CaseCounter.objects.create(district_code=district_code, day=day, last=1)
            break
        except IntegrityError:  # another writer created today's counter first
            continue
    last = CaseCounter.objects.get(district_code=district_code, day=day).last
    return f"{district_code}-{day:%Y%m%d}-{last:06d}"


def tracking_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))


def _region_ids(codes: list[str]) -> dict[str, int]:
    from civicgrid.regions.models import Region

    return dict(Region.objects.filter(code__in=codes).values_list("code", "id"))


def _class(code: str) -> CaseClass | None:
    if not code:
        return None
    found = (
        CaseClass.objects.filter(code=code, active=True, parent__isnull=False)
        .select_related("department")
        .first()
    )
    if found is None:
        raise DomainError(
            "unknown_class", _("There is no case class %(c)s.") % {"c": code}, {"case_class": code}
        )
    return found


def _check_channel(channel: str, actor: Actor) -> str:
    """The role under which ``actor`` takes a report in by ``channel``."""
    if channel == Channel.RESIDENT:
        return Role.RESIDENT
    roles = CHANNEL_ROLES.get(channel)
    if roles is None:
        raise DomainError("unknown_channel", _("Reports cannot come in by %(c)s here.") % {"c": channel})
    role = next((r for r in roles if actor.scope.has_role(r)), None)
    if role is None:
        raise DomainError("channel_forbidden", _("You may not take reports in by this channel."), status=403)
    return role


def case_create(*, actor: Actor, data: CaseInput, idempotency_key: str, submitted_by: str) -> Created:
    """Take a report in: locate, classify, number, store, start the clock — or return the case an
    earlier submission with the same idempotency key made."""
    key = (idempotency_key or "").strip()
    if not 8 <= len(key) <= 80:
        raise DomainError(
            "idempotency_key_required", _("Every report needs an idempotency key of 8–80 characters.")
        )
    previous = Case.objects.filter(idempotency_key=key).first()
    if previous is not None:
        return _replayed(previous, submitted_by)
    role = _check_channel(data.channel, actor)
    title = _text(data.title, TITLE_MAX, "title")
    description = _text(data.description, DESCRIPTION_MAX, "description")
    if not title and not description:
        raise DomainError("text_required", _("Say what the matter is."))
    title = title or description[:30]
    if data.lon is None or data.lat is None:
        raise DomainError("location_required", _("Give the place (longitude and latitude)."))
    if data.urgency not in Urgency.values:
        raise DomainError("unknown_urgency", _("Unknown urgency %(u)s.") % {"u": data.urgency})
    place = grid_locate(lon=data.lon, lat=data.lat, crs=data.crs)
    case_class = _class(data.case_class)
    suggestions = suggest_classes(f"{title} {description}")
    cleaned = _clean_files(data.files)
    if data.self_resolve:
        if case_class is None or not case_class.self_resolvable:
            raise DomainError(
                "not_self_resolvable",
                _("Only classes marked for self-resolution may be resolved on the spot."),
            )
        purposes = {u.purpose for u, _c in cleaned}
        if not {AttachmentPurpose.BEFORE, AttachmentPurpose.AFTER} <= purposes:
            raise DomainError(
                "photos_required", _("Resolving on the spot needs a photo before and one after.")
            )
    ids = _region_ids([place[k]["code"] for k in ("grid", "community", "street", "district")])
    now = timezone.now()
    district_code = place["district"]["code"][:6]
    try:
        with transaction.atomic():
            case = Case(
                number=next_number(district_code, timezone.localdate(now)),
                channel=data.channel,
                case_class=case_class,
                urgency=data.urgency,
                title=title,
                description=description,
                address=_text(data.address, ADDRESS_MAX, "address"),
                lon=place["wgs84"]["lon"],
                lat=place["wgs84"]["lat"],
                generation_id=place["generation"]["id"],
                grid_id=ids[place["grid"]["code"]],
                community_id=ids[place["community"]["code"]],
                street_id=ids[place["street"]["code"]],
                district_id=ids[place["district"]["code"]],
                reporter_id=actor.user_id if role == Role.RESIDENT else None,
                reporter_name=_text(data.reporter_name, 64, "reporter_name"),
                reporter_phone=_text(data.reporter_phone, 32, "reporter_phone"),
                tracking_code=tracking_code(),
                idempotency_key=key,
                submitted_by=submitted_by[:64],
            )
            initial = CaseState.REPORTED if data.channel in VERIFIED_CHANNELS else CaseState.VERIFYING
            event = workflow.start_case(case, at=now, actor=actor, role=role, initial=initial, note=data.note)
            event.data["suggested"] = [s.code for s in suggestions]
            if data.crs != "wgs84":
                event.data["input"] = {"crs": data.crs, "lon": data.lon, "lat": data.lat}
            case.save()
            event.save()
            _store(case, event, cleaned, by=actor.user_id, at=now)
            if data.self_resolve:
                _move_locked(case, Action.SELF_RESOLVE, actor, note=data.note, at=now)
            _after_change(case, event)
    except IntegrityError:
        # Two submissions with one key raced; the other one won and made the case.
        previous = Case.objects.filter(idempotency_key=key).first()
        if previous is None:
            raise
        return _replayed(previous, submitted_by)
    return Created(case, False, suggestions)


def _replayed(previous: Case, submitted_by: str) -> Created:
    if previous.submitted_by != submitted_by[:64]:
        raise DomainError(
            "idempotency_key_reused",
            _("This idempotency key was already used for another submission."),
            status=409,
        )
    return Created(previous, True, [])


def _move_data(case: Case, action: str, raw: dict) -> dict:
    """Check and resolve what a move carries (codes → ids); the case's fields set here are part
    of the same transaction as the move."""
    if action == Action.REGISTER:
        if raw.get("case_class"):
            case.case_class = _class(raw["case_class"])
        if raw.get("urgency"):
            if raw["urgency"] not in Urgency.values:
                raise DomainError("unknown_urgency", _("Unknown urgency %(u)s.") % {"u": raw["urgency"]})
            case.urgency = raw["urgency"]
        if case.case_class is None:
            raise DomainError("class_required", _("Choose the case class before registering."))
        return {"case_class": case.case_class.code, "urgency": case.urgency}
    if action == Action.DISPATCH:
        suggested, reason = selectors.dispatch_suggest(case)
        code = raw.get("department") or (suggested.code if suggested else "")
        codes = [code, *raw.get("co_departments", [])]
        found = {d.code: d for d in Department.objects.filter(code__in=codes, active=True)}
        missing = [c for c in codes if c not in found]
        if not code or missing:
            raise DomainError(
                "unknown_department",
                _("Choose an active department to send the case to."),
                {"unknown": missing},
            )
        co = [found[c].pk for c in dict.fromkeys(codes[1:]) if c != code]
        return {
            "department": found[code].pk,
            "department_code": code,
            "co_departments": co,
            "suggested": suggested.code if suggested else None,
            "rule": reason,
            "override": suggested is None or suggested.code != code,
        }
    if action == Action.RATE:
        if raw.get("satisfaction") not in Satisfaction.values:
            raise DomainError("bad_rating", _("Rate as satisfied, basically satisfied or dissatisfied."))
        return {"satisfaction": raw["satisfaction"], "comment": _text(raw.get("comment", ""), 500, "comment")}
    if action == Action.FOLLOW_UP:
        satisfaction = raw.get("satisfaction", "")
        if satisfaction and satisfaction not in Satisfaction.values:
            raise DomainError("bad_rating", _("Rate as satisfied, basically satisfied or dissatisfied."))
        return {
            "contacted": bool(raw.get("contacted")),
            "resolved": bool(raw.get("resolved")),
            "satisfaction": satisfaction,
        }
    if action == Action.EXTEND_REQUEST:
        try:
            return {"limit": parse_limit(str(raw.get("limit", ""))).as_dict()}
        except ValueError as exc:
            raise DomainError("bad_limit", str(exc)) from None
    if action == Action.SUSPEND:
        try:
            review = date.fromisoformat(str(raw.get("review_on", "")))
        except ValueError:
            raise DomainError("bad_date", _("Give the review date as YYYY-MM-DD.")) from None
        if review <= timezone.localdate():
            raise DomainError("bad_date", _("The review date must lie in the future."))
        return {"review_on": review.isoformat()}
    return {}


def _move_locked(
    case: Case,
    action: str,
    actor: Actor,
    *,
    note: str = "",
    raw: dict | None = None,
    at: datetime | None = None,
    lon: float | None = None,
    lat: float | None = None,
) -> workflow.MoveResult:
    move, role = workflow.check_move(case, action, actor, note=note)
    data = _move_data(case, action, raw or {})
    at = at or timezone.now()
    seen = case.version
    result = workflow.apply_move(
        case, move, actor=actor, role=role, at=at, seq=seen + 1, note=note, data=data, lon=lon, lat=lat
    )
    fields = [f for f in MOVE_FIELDS]
    # Optimistic concurrency: only the writer who saw version ``seen`` may write.
    written = Case.objects.filter(pk=case.pk, version=seen).update(**{f: getattr(case, f) for f in fields})
    if not written:
        raise DomainError(
            "stale_version", _("Someone else changed this case meanwhile; reload it."), status=409
        )
    result.event.save()
    if result.units:
        CaseUnit.objects.filter(case=case).delete()
        CaseUnit.objects.bulk_create(
            [CaseUnit(case=case, department_id=d, lead=lead) for d, lead in result.units]
        )
    return result


MOVE_FIELDS = [
    "state",
    "version",
    "case_class_id",
    "urgency",
    "department_id",
    "self_resolved",
    "rework_count",
    "return_count",
    "extension_count",
    "registered_at",
    "dispatched_at",
    "closed_at",
    "stage",
    "stage_seq",
    "stage_started_at",
    "stage_deadline",
    "stage_warn_at",
    "due_at",
    "clock_working",
    "paused_at",
    "pending_extension",
    "review_on",
    "late_stages",
    "satisfaction",
    "rating_comment",
    "rated_at",
    "followup",
    "updated_at",
]


def case_move(
    *,
    actor: Actor,
    number: str,
    action: str,
    version: int | None,
    note: str = "",
    data: dict | None = None,
    files: list[Upload] | None = None,
    lon: float | None = None,
    lat: float | None = None,
    case: Case | None = None,
) -> Case:
    """Make one move. Refusals change nothing: 404 outside scope, 409 from this state or on a stale
    version, 403 for this person, 400 for bad input."""
    note = _text(note, NOTE_MAX, "note")
    cleaned = _clean_files(files or [])
    with transaction.atomic():
        if case is None:
            case = selectors.case_get(scope=actor.scope, number=number, for_update=True)
        if version is not None and version != case.version:
            raise DomainError(
                "stale_version",
                _("Someone else changed this case meanwhile; reload it."),
                {"version": case.version},
                status=409,
            )
        result = _move_locked(case, action, actor, note=note, raw=data, lon=lon, lat=lat)
        _store(case, result.event, cleaned, by=actor.user_id, at=result.event.at)
        _after_change(case, result.event)
    return case


# Who hears of a move, and with which message kind.
_NEWS = {
    Action.REPORT: "case.new",
    Action.VERIFY: "case.verified",
    Action.REGISTER: "case.registered",
    Action.DISPATCH: "case.dispatched",
    Action.RETURN: "case.returned",
    Action.FEEDBACK: "case.feedback",
    Action.CHECK_FAIL: "case.rework",
    Action.CHECK_PASS: "case.checked",
    Action.EXTEND_REQUEST: "case.extension",
    Action.SELF_RESOLVE: "case.checked",
}


def _after_change(case: Case, event: CaseEvent) -> None:
    """Tell the people the case now waits for; tell the reporter when it is closed."""
    kind = _NEWS.get(event.action)
    link = f"/cases/{case.number}/"
    if kind:
        notify(
            user_ids=selectors.stage_owner_ids(case),
            kind=kind,
            case=case,
            link=link,
            title=_("%(number)s %(title)s: %(state)s")
            % {"number": case.number, "title": case.title, "state": CaseState(case.state).label},
            body=event.note,
        )
    if event.action == Action.CLOSE and case.reporter_id:
        notify(
            user_ids=[case.reporter_id],
            kind="case.closed",
            case=case,
            link=f"/track/{case.tracking_code}/",
            title=_("Your report %(number)s has been dealt with — please rate it.") % {"number": case.number},
        )


def sla_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Send each due warning and overdue notice once per stage. Runs every minute (Huey); reads the
    database only, so a restart loses nothing and a second worker sends nothing twice."""
    now = now or timezone.now()
    sent = {"warning": 0, "overdue": 0}
    open_states = list(selectors.STAGE_STATES)
    for kind, time_field, seq_field in (
        ("warning", "stage_warn_at", "warned_seq"),
        ("overdue", "stage_deadline", "overdue_seq"),
    ):
        due = Case.objects.filter(
            **{f"{time_field}__lte": now, f"{seq_field}__lt": F("stage_seq")},
            paused_at__isnull=True,
            state__in=open_states,
        ).select_related("department")
        for case in due.iterator(chunk_size=500):
            with transaction.atomic():
                # Claim the notice first: only one sweeper wins the conditional update.
                claimed = Case.objects.filter(
                    pk=case.pk, stage_seq=case.stage_seq, **{seq_field: getattr(case, seq_field)}
                )
                if not claimed.update(**{seq_field: case.stage_seq}):
                    continue
                message = (
                    _("%(number)s is overdue (%(stage)s).")
                    if kind == "overdue"
                    else _("%(number)s is close to its deadline (%(stage)s).")
                ) % {"number": case.number, "stage": case.get_stage_display()}
                notify(
                    user_ids=selectors.stage_owner_ids(case),
                    kind=f"case.{kind}",
                    case=case,
                    link=f"/cases/{case.number}/",
                    title=message,
                    body=case.title,
                )
                sent[kind] += 1
    return sent


def suspension_reviews(*, today: date | None = None) -> int:
    """Remind the shift leads of suspended cases (挂账) whose review date has come; once a day."""
    today = today or timezone.localdate()
    due = Case.objects.filter(state=CaseState.SUSPENDED, review_on__lte=today).select_related("department")
    count = 0
    for case in due.iterator(chunk_size=500):
        notify(
            user_ids=_shift_leads(case),
            kind="case.review",
            case=case,
            link=f"/cases/{case.number}/",
            title=_("%(number)s is suspended and due for review.") % {"number": case.number},
            body=case.title,
        )
        count += 1
    return count


def _shift_leads(case: Case) -> list[int]:
    from civicgrid.accounts.models import RoleAssignment

    return list(
        RoleAssignment.objects.filter(role=Role.SHIFT_LEAD, region_id=case.district_id).values_list(
            "user_id", flat=True
        )
    )
