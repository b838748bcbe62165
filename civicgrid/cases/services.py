"""Writes to cases: create (intake) and move. One transaction per call; nothing half-written."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.accounts.models import Department, Role
from civicgrid.cases import limits, selectors, workflow
from civicgrid.cases.clock import parse_limit
from civicgrid.cases.models import (
    Attachment,
    AttachmentPurpose,
    Case,
    CaseClass,
    CaseEvent,
    CaseState,
    CaseUnit,
    Channel,
    Level,
    Satisfaction,
    Urgency,
)
from civicgrid.cases.news import after_change
from civicgrid.cases.numbering import next_number, tracking_code
from civicgrid.cases.taxonomy import suggest_classes
from civicgrid.cases.uploads import CleanFile, clean_upload
from civicgrid.cases.versioning import check_version, write_versioned
from civicgrid.cases.workflow import Action, Actor
from civicgrid.errors import DomainError
from civicgrid.geo.cells import cell_of
from civicgrid.regions import locator
from civicgrid.regions.models import Region
from civicgrid.regions.selectors import grid_locate
from civicgrid.routing.services import route_new_case

TITLE_MAX, DESCRIPTION_MAX, ADDRESS_MAX, NOTE_MAX = 100, 2000, 200, 2000
FILES_MAX = 9
# Who may take a report in by each channel (residents report on the public page, anyone may).
CHANNEL_ROLES = {
    Channel.GRID_WORKER: (Role.GRID_WORKER, Role.GRID_CHIEF),
    Channel.PHONE: (Role.OPERATOR, Role.SHIFT_LEAD, Role.STREET_OPERATOR, Role.COMMUNITY_STAFF),
    Channel.WALK_IN: (Role.OPERATOR, Role.SHIFT_LEAD, Role.STREET_OPERATOR, Role.COMMUNITY_STAFF),
    Channel.LEADER: (Role.OPERATOR, Role.SHIFT_LEAD, Role.STREET_OPERATOR),
    Channel.API: (Role.OPERATOR, Role.SHIFT_LEAD, Role.STREET_OPERATOR),
    # The integration's user (an Open311 API key, a hotline import, the device webhook).
    Channel.OPEN311: (Role.OPERATOR, Role.SHIFT_LEAD, Role.STREET_OPERATOR),
    Channel.HOTLINE: (Role.OPERATOR, Role.SHIFT_LEAD),
    Channel.SENSOR: (Role.OPERATOR, Role.SHIFT_LEAD),
    # A failed checkpoint of an enforcement inspection (civicgrid.enforcement; 执法队员进网格:
    # grid workers inspect too).
    Channel.INSPECTION: (Role.ENFORCEMENT_OFFICER, Role.GRID_WORKER),
}
# The channels the new-case page offers: not the API (a token's), nor inspections (a case raised
# from a failed checkpoint of an inspection record, civicgrid.enforcement).
PAGE_CHANNELS = [c for c in CHANNEL_ROLES if c not in (Channel.API, Channel.INSPECTION)]
# Reports by staff who saw the matter themselves skip the on-site verification (核实).
VERIFIED_CHANNELS = frozenset({Channel.GRID_WORKER, Channel.LEADER, Channel.INSPECTION})


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
    level: str = Level.STREET  # 四级四事: picks the first tier (civicgrid.routing)
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
    # A new case's events and attachments as written (None: read them), so that answering
    # with the case reads nothing back.
    events: list | None = None
    attachments: list | None = None


def clean_text(value: str, limit: int, name: str, *, required: bool = False) -> str:
    """``value`` stripped; refused when longer than ``limit`` (or empty, when ``required``)."""
    value = (value or "").strip()
    if required and not value:
        raise DomainError("text_required", _("%(field)s is required.") % {"field": name}, {"field": name})
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


def _check_resolution_photos(case: Case, cleaned) -> None:
    """Resolving a report already in on the spot needs the same evidence as at intake: the matter
    before (a before photo, or the report's own) and a photo of the result sent with the move."""
    purposes = {upload.purpose for upload, _clean in cleaned}
    before = AttachmentPurpose.BEFORE in purposes or (
        case.attachments.filter(purpose__in=[AttachmentPurpose.REPORT, AttachmentPurpose.BEFORE]).exists()
    )
    if not before or not purposes - {AttachmentPurpose.BEFORE}:
        raise DomainError("photos_required", _("Resolving on the spot needs a photo before and one after."))


def _store(case: Case, event: CaseEvent | None, cleaned, *, by: int | None, at: datetime) -> list[Attachment]:
    """Write the cleaned bytes (content-addressed, so a retried write is harmless) and their rows."""
    rows = []
    for upload, clean in cleaned:
        row = Attachment(
            case=case,
            event=event,
            purpose=upload.purpose,
            kind=clean.kind,
            uploaded_by_id=by,
            uploaded_at=at,
            **clean.row_fields(),
        )
        clean.save_for(row)
        rows.append(row)
    Attachment.objects.bulk_create(rows)
    return rows


def _region_ids(place: dict) -> dict[str, int]:
    """The ids of the place's regions: known to the loaded grid index (no query)."""
    codes = [place[k]["code"] for k in ("grid", "community", "street", "district")]
    known = locator.loaded_index(place["generation"]["id"]).region_ids
    if all(c in known for c in codes):
        return {c: known[c] for c in codes}
    return dict(Region.objects.filter(code__in=codes).order_by().values_list("code", "id"))


def _keyed(key: str) -> Case | None:
    """The case made under this idempotency key, if any (asked only after a replay hit the unique
    index). Not first(): the key is unique, and first() sorts by Case's ordering for nothing."""
    return next(iter(Case.objects.filter(idempotency_key=key).order_by()[:1]), None)


def _class(code: str) -> CaseClass | None:
    if not code:
        return None
    found = limits.cached("minor_classes", _minor_classes).get(code)
    if found is None:
        raise DomainError(
            "unknown_class", _("There is no case class %(c)s.") % {"c": code}, {"case_class": code}
        )
    return found


def _minor_classes() -> dict[str, CaseClass]:
    """The active 小类 by code with their departments, read once per process for a few seconds
    (``limits.cached``; a class saved in this process drops it at once, cases/apps.py): looking
    one up per report was a fifth of an Open311 post's time (bench/bench_open311.py)."""
    rows = CaseClass.objects.filter(active=True, parent__isnull=False).select_related("department")
    return {c.code: c for c in rows}


def _check_channel(channel: str, actor: Actor) -> str:
    """The role under which ``actor`` takes a report in by ``channel``."""
    if channel == Channel.RESIDENT:
        return Role.RESIDENT
    roles = CHANNEL_ROLES.get(channel)
    if roles is None:
        raise DomainError(
            "unknown_channel",
            _("Reports cannot come in by %(c)s here.")
            % {"c": Channel(channel).label if channel in Channel.values else channel},
        )
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
    # A replayed key is not looked up first: almost every key is new, and the unique index finds
    # a replay anyway (IntegrityError below; the replay's work is rolled back).
    role = _check_channel(data.channel, actor)
    title = clean_text(data.title, TITLE_MAX, "title")
    description = clean_text(data.description, DESCRIPTION_MAX, "description")
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
    ids = _region_ids(place)
    now = timezone.now()
    district_code = place["district"]["code"][:6]
    try:
        with transaction.atomic():
            case, event = case_build(
                data=data,
                actor=actor,
                role=role,
                title=title,
                description=description,
                place=place,
                region_ids=ids,
                case_class=case_class,
                suggested=[s.code for s in suggestions],
                number=next_number(district_code, timezone.localdate(now)),
                code=tracking_code(),
                key=key,
                submitted_by=submitted_by,
                at=now,
            )
            case.save()
            event.save()
            _known_places(case, place, ids)
            attachments = _store(case, event, cleaned, by=actor.user_id, at=now)
            if data.self_resolve:
                _move_locked(case, Action.SELF_RESOLVE, actor, note=data.note, at=now)
            after_change(case, event)
    except IntegrityError:
        # Two submissions with one key raced; the other one won and made the case.
        previous = _keyed(key)
        if previous is None:
            raise
        return _replayed(previous, submitted_by)
    if data.self_resolve:
        return Created(case, False, suggestions)  # the move added events: read them
    return Created(case, False, suggestions, events=[event], attachments=attachments)


def _known_places(case: Case, place: dict, ids: dict[str, int]) -> None:
    """Give the new case its places as located (code and name), and no co-departments yet, so
    that presenting it reads none of them back."""
    for level in ("grid", "community", "street", "district"):
        known = place[level]
        setattr(case, level, Region(pk=ids[known["code"]], code=known["code"], name=known["name"]))
    case.co_department_ids, case.co_department_codes = [], []


def case_build(
    *,
    data: CaseInput,
    actor: Actor,
    role: str,
    title: str,
    description: str,
    place: dict,
    region_ids: dict[str, int],
    case_class: CaseClass | None,
    suggested: list[str],
    number: str,
    code: str,
    key: str,
    submitted_by: str,
    at: datetime,
) -> tuple[Case, CaseEvent]:
    """The new case and its first event in memory, from checked input: what ``case_create`` saves,
    and what the demo's bulk loader saves in thousands."""
    case = Case(
        number=number,
        channel=data.channel,
        case_class=case_class,
        major_class_id=case_class.parent_id if case_class else None,
        urgency=data.urgency,
        title=title,
        description=description,
        address=clean_text(data.address, ADDRESS_MAX, "address"),
        lon=place["wgs84"]["lon"],
        lat=place["wgs84"]["lat"],
        cell=cell_of(place["wgs84"]["lon"], place["wgs84"]["lat"]),
        generation_id=place["generation"]["id"],
        grid_id=region_ids[place["grid"]["code"]],
        community_id=region_ids[place["community"]["code"]],
        street_id=region_ids[place["street"]["code"]],
        district_id=region_ids[place["district"]["code"]],
        reporter_id=actor.user_id if role == Role.RESIDENT else None,
        reporter_name=clean_text(data.reporter_name, 64, "reporter_name"),
        reporter_phone=clean_text(data.reporter_phone, 32, "reporter_phone"),
        tracking_code=code,
        idempotency_key=key,
        submitted_by=submitted_by[:64],
    )
    initial = CaseState.REPORTED if data.channel in VERIFIED_CHANNELS else CaseState.VERIFYING
    # A case for a grassroots tier goes straight to its owners' hands (docs/decisions/0005).
    routed = route_new_case(case, level=data.level, at=at, resolving=data.self_resolve)
    event = workflow.start_case(
        case, at=at, actor=actor, role=role, initial=CaseState.HANDLING if routed else initial, note=data.note
    )
    if routed:
        event.data["tier"] = routed
    event.data["suggested"] = suggested
    if data.crs != "wgs84":
        event.data["input"] = {"crs": data.crs, "lon": data.lon, "lat": data.lat}
    return case, event


def _replayed(previous: Case, submitted_by: str) -> Created:
    if previous.submitted_by != submitted_by[:64]:
        raise DomainError(
            "idempotency_key_reused",
            _("This idempotency key was already used for another submission."),
            status=409,
        )
    return Created(previous, True, [])


class Lookups:
    """Where a move's codes are resolved: the database, each time. The demo's bulk loader passes a
    subclass answering from what it read once, so both go through the same ``_move_data``."""

    def case_class(self, code: str) -> CaseClass | None:
        return _class(code)

    def dispatch_suggest(self, case: Case) -> tuple[Department | None, str]:
        return selectors.dispatch_suggest(case)

    def departments(self, codes: list[str]) -> dict[str, Department]:
        return {d.code: d for d in Department.objects.filter(code__in=codes, active=True)}


DATABASE = Lookups()


def _move_data(case: Case, action: str, raw: dict, *, at: datetime, lookups: Lookups = DATABASE) -> dict:
    """Check and resolve what a move carries (codes → ids); the case's fields set here are part
    of the same transaction as the move, made at ``at``."""
    if action == Action.REGISTER:
        if raw.get("case_class"):
            case.case_class = lookups.case_class(raw["case_class"])
            case.major_class_id = case.case_class.parent_id if case.case_class else None
        if raw.get("urgency"):
            if raw["urgency"] not in Urgency.values:
                raise DomainError("unknown_urgency", _("Unknown urgency %(u)s.") % {"u": raw["urgency"]})
            case.urgency = raw["urgency"]
        if case.case_class is None:
            raise DomainError("class_required", _("Choose the case class before registering."))
        return {"case_class": case.case_class.code, "urgency": case.urgency}
    if action == Action.DISPATCH:
        suggested, reason = lookups.dispatch_suggest(case)
        code = raw.get("department") or (suggested.code if suggested else "")
        codes = [code, *raw.get("co_departments", [])]
        found = lookups.departments(codes)
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
        return {
            "satisfaction": raw["satisfaction"],
            "comment": clean_text(raw.get("comment", ""), 500, "comment"),
        }
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
        if review <= timezone.localdate(at):
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
    client_key: str | None = None,
) -> workflow.MoveResult:
    seen = case.version
    result = move_build(case, action, actor, note=note, raw=raw, at=at or timezone.now(), lon=lon, lat=lat)
    result.event.client_key = client_key
    move_save(case, seen, result)
    return result


def _move_replayed(case: Case, client_key: str, actor: Actor) -> bool:
    by = CaseEvent.objects.filter(case=case, client_key=client_key).values_list("actor_id", flat=True).first()
    if by is None:
        return False
    if by != actor.user_id:
        raise DomainError(
            "idempotency_key_reused",
            _("This idempotency key was already used by someone else."),
            status=409,
        )
    return True


def move_replayed(number: str, client_key: str) -> bool:
    """Whether a move with this key is already on the case (the API's replay header)."""
    return bool(client_key) and CaseEvent.objects.filter(case__number=number, client_key=client_key).exists()


def move_save(case: Case, seen: int, result: workflow.MoveResult, **extra) -> None:
    """Write a move made in memory (and ``extra`` fields, e.g. a merge's master) — only if the case
    is still at version ``seen``."""
    write_versioned(case, seen, {f: getattr(case, f) for f in MOVE_FIELDS} | extra)
    result.event.save()
    if result.units:
        CaseUnit.objects.filter(case=case).delete()
        CaseUnit.objects.bulk_create(
            [CaseUnit(case=case, department_id=d, lead=lead) for d, lead in result.units]
        )


def move_build(
    case: Case,
    action: str,
    actor: Actor,
    *,
    at: datetime,
    note: str = "",
    raw: dict | None = None,
    lon: float | None = None,
    lat: float | None = None,
    lookups: Lookups = DATABASE,
) -> workflow.MoveResult:
    """Check and make one move on the case in memory (``_move_locked`` then writes it; the demo's
    bulk loader writes thousands at once)."""
    move, role = workflow.check_move(case, action, actor, note=note)
    data = _move_data(case, action, raw or {}, at=at, lookups=lookups)
    return workflow.apply_move(
        case,
        move,
        actor=actor,
        role=role,
        at=at,
        seq=case.version + 1,
        note=note,
        data=data,
        lon=lon,
        lat=lat,
    )


MOVE_FIELDS = [
    "state",
    "version",
    "case_class_id",
    "major_class_id",
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
    "tier_deadline",
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
    client_key: str = "",
) -> Case:
    """Make one move. Refusals change nothing: 404 outside scope, 409 from this state or on a stale
    version, 403 for this person, 400 for bad input. A ``client_key`` already used on this case by
    this person is a replay: the case is answered as it is, and nothing moves again."""
    note = clean_text(note, NOTE_MAX, "note")
    cleaned = _clean_files(files or [])
    client_key = clean_text(client_key, 64, "idempotency_key")
    with transaction.atomic():
        if case is None:
            case = selectors.case_get(scope=actor.scope, number=number, for_update=True)
        if client_key and _move_replayed(case, client_key, actor):
            return case
        check_version(case, version)
        result = _move_locked(
            case, action, actor, note=note, raw=data, lon=lon, lat=lat, client_key=client_key or None
        )
        if action == Action.SELF_RESOLVE:
            _check_resolution_photos(case, cleaned)
        _store(case, result.event, cleaned, by=actor.user_id, at=result.event.at)
        after_change(case, result.event)
    return case
