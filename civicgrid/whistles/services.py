"""Writes to whistles: blow, report in, record a meeting, close. One transaction per call, every
change on the audit trail, every refusal a ``DomainError`` with a code (and refusals of a blow
recorded too, so a whistle to a department that does not exist leaves a trace, not a row).
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.accounts.models import Department, Role, RoleAssignment
from civicgrid.audit.models import AuditResult
from civicgrid.audit.services import audit_record
from civicgrid.cases import limits as case_limits
from civicgrid.cases import selectors as case_selectors
from civicgrid.cases.clock import Limit, parse_limit
from civicgrid.cases.services import case_move, clean_text
from civicgrid.cases.workflow import Action, Actor
from civicgrid.errors import DomainError
from civicgrid.geo.crs import to_wgs84
from civicgrid.notifications.services import notify
from civicgrid.regions.models import Level, Region
from civicgrid.whistles import selectors
from civicgrid.whistles.models import (
    DEFAULT_LIMITS,
    MeetingRecord,
    MeetingTask,
    Summons,
    Whistle,
    WhistleKind,
    WhistleLimit,
    WhistleState,
)

TITLE_MAX, TEXT_MAX, PLACE_MAX, NAMES_MAX, TASK_MAX = 100, 2000, 200, 300, 300
DEPARTMENTS_MAX = 20
# Who may blow, and over which region: street operators for their street, community staff for
# their community, the command centre (held over the district) for any street or community.
COMMAND = (Role.OPERATOR, Role.SHIFT_LEAD)
OWN_LEVEL = {Role.STREET_OPERATOR: Level.STREET, Role.COMMUNITY_STAFF: Level.COMMUNITY}
BLOWERS = (*COMMAND, *OWN_LEVEL)


def report_in_limit(kind: str) -> Limit:
    """The kind's report-in limit: the back office's row, else ``DEFAULT_LIMITS`` (cached a few
    seconds per process like the case limits, so an edit reaches every worker)."""

    def build():
        table = {k: str(v) for k, v in DEFAULT_LIMITS.items()}
        table.update(dict(WhistleLimit.objects.values_list("kind", "limit")))
        return {k: parse_limit(v) for k, v in table.items()}

    return case_limits.cached("whistle_limits", build)[kind]


def _ancestors(region: Region) -> list[int]:
    chain, parent = [region.pk], region.parent_id
    while parent is not None:
        chain.append(parent)
        parent = Region.objects.filter(pk=parent).values_list("parent_id", flat=True).first()
    return chain


def blowing_role(user_id: int | None, region: Region) -> str | None:
    """The role under which the user may blow (and record meetings, and close) for ``region``.

    Read from today's role assignments rather than the scope, because the scope is the union of
    all of a person's roles: a street operator who is also community staff elsewhere must not
    blow for that other street."""
    if user_id is None or region.level not in (Level.STREET, Level.COMMUNITY):
        return None
    today = timezone.localdate()
    held = RoleAssignment.objects.filter(
        user_id=user_id, role__in=BLOWERS, region_id__in=_ancestors(region), valid_from__lte=today
    ).exclude(valid_until__lt=today)
    found = set()
    for role, region_id in held.values_list("role", "region_id"):
        if role in COMMAND or (region_id == region.pk and OWN_LEVEL[role] == region.level):
            found.add(role)
    return next((r for r in BLOWERS if r in found), None)


def blowing_regions(user_id: int | None) -> list[Region]:
    """The streets and communities the user may blow for directly (the form's choices)."""
    today = timezone.localdate()
    held = (
        RoleAssignment.objects.filter(user_id=user_id, role__in=BLOWERS, valid_from__lte=today)
        .exclude(valid_until__lt=today)
        .select_related("region")
    )
    regions: dict[int, Region] = {}
    for ra in held:
        if ra.role in COMMAND:
            under = Region.objects.filter(
                level__in=[Level.STREET, Level.COMMUNITY],
                statistical_only=False,
                pk__in=_subtree(ra.region_id),
            )
            regions.update({r.pk: r for r in under})
        elif ra.region.level == OWN_LEVEL[ra.role]:
            regions[ra.region_id] = ra.region
    return sorted(regions.values(), key=lambda r: r.code)


def _subtree(region_id: int) -> frozenset[int]:
    from civicgrid.accounts.scopes import region_subtrees

    return region_subtrees({region_id})[0]


def _departments(codes: list[str], lead: str) -> tuple[list[Department], Department]:
    codes = [c.strip() for c in codes if c and c.strip()]
    if not codes:
        raise DomainError("departments_required", _("Summon at least one department."))
    if len(codes) > DEPARTMENTS_MAX:
        raise DomainError(
            "too_many_departments",
            _("Summon at most %(n)d departments.") % {"n": DEPARTMENTS_MAX},
            {"max": DEPARTMENTS_MAX},
        )
    doubled = sorted({c for c in codes if codes.count(c) > 1})
    if doubled:
        raise DomainError(
            "duplicate_departments",
            _("Each department is summoned once: %(c)s named twice.") % {"c": ", ".join(doubled)},
            {"duplicates": doubled},
        )
    found = {d.code: d for d in Department.objects.filter(code__in=codes, active=True)}
    missing = [c for c in codes if c not in found]
    if missing:
        raise DomainError(
            "unknown_department",
            _("There is no active department %(c)s.") % {"c": ", ".join(missing)},
            {"unknown": missing},
        )
    lead = (lead or "").strip() or (codes[0] if len(codes) == 1 else "")
    if not lead:
        raise DomainError("lead_required", _("Choose the lead department among those summoned."))
    if lead not in found:
        raise DomainError(
            "lead_not_summoned",
            _("The lead department %(c)s is not among those summoned.") % {"c": lead},
            {"lead": lead, "summoned": codes},
        )
    return [found[c] for c in codes], found[lead]


def handler_ids(department_ids) -> list[int]:
    """The handlers of these departments whose role runs today."""
    today = timezone.localdate()
    return list(
        RoleAssignment.objects.filter(
            role=Role.DEPARTMENT_HANDLER, department_id__in=list(department_ids), valid_from__lte=today
        )
        .exclude(valid_until__lt=today)
        .values_list("user_id", flat=True)
        .distinct()
    )


def _link(whistle: Whistle) -> str:
    return f"/whistles/{whistle.number}/"


@contextlib.contextmanager
def refusals_recorded(action: str, **detail):
    """Put a refused write on the audit trail (outside its rolled-back transaction), then refuse."""
    try:
        yield
    except DomainError as exc:
        audit_record(
            action=action,
            result=AuditResult.DENIED if exc.status in (403, 404) else AuditResult.FAILURE,
            object_type="whistles.whistle",
            object_id=detail.pop("number", ""),
            detail={"code": exc.code, **detail},
        )
        raise


@dataclass
class WhistleInput:
    kind: str
    departments: list[str]
    lead: str = ""
    region: str = ""  # the blowing street or community (code); empty: found from the case or the person
    case: str = ""  # the case's number; empty: a standalone matter
    title: str = ""
    description: str = ""
    place: str = ""


@dataclass
class Blown:
    whistle: Whistle
    replayed: bool
    summonses: list[Summons] = field(default_factory=list)


def _blowing_region(actor: Actor, data: WhistleInput, case) -> tuple[Region, str]:
    if data.region:
        region = Region.objects.filter(code=data.region.strip()).first()
        if region is None:
            raise DomainError("unknown_region", _("There is no region %(c)s.") % {"c": data.region})
        candidates = [region]
        if case is not None and region.pk not in (case.street_id, case.community_id):
            raise DomainError(
                "region_not_of_case",
                _("Blow for the case's own street or community."),
                {"region": region.code},
            )
    elif case is not None:
        candidates = [case.street, case.community]
    else:
        candidates = blowing_regions(actor.user_id)[:1]
    for region in candidates:
        role = blowing_role(actor.user_id, region)
        if role:
            return region, role
    raise DomainError("whistle_forbidden", _("You may not blow a whistle for this area."), status=403)


def whistle_blow(*, actor: Actor, data: WhistleInput, idempotency_key: str, submitted_by: str) -> Blown:
    """Blow a whistle: summon the departments, set their report-in deadline, note it on the case
    and tell the departments' handlers — or return the whistle this key already made."""
    with refusals_recorded(
        "whistle.refused", kind=data.kind, departments=list(data.departments), case=data.case
    ):
        return _blow(
            actor=actor, data=data, key=(idempotency_key or "").strip(), submitted_by=submitted_by[:64]
        )


def _blow(*, actor: Actor, data: WhistleInput, key: str, submitted_by: str) -> Blown:
    if not 8 <= len(key) <= 80:
        raise DomainError(
            "idempotency_key_required", _("Every whistle needs an idempotency key of 8–80 characters.")
        )
    earlier = Whistle.objects.filter(idempotency_key=key).first()
    if earlier is not None:
        return _replayed(earlier, submitted_by)
    if data.kind not in WhistleKind.values:
        raise DomainError(
            "unknown_kind",
            _("Unknown kind of whistle %(k)s.") % {"k": data.kind},
            {"kinds": WhistleKind.values},
        )
    departments, lead = _departments(data.departments, data.lead)
    case = None
    if data.case:
        case = case_selectors.case_get(scope=actor.scope, number=data.case.strip())
        if not case.is_open:
            raise DomainError(
                "case_closed", _("Case %(n)s is no longer open.") % {"n": case.number}, status=409
            )
    region, role = _blowing_region(actor, data, case)
    if case is not None:
        title, description = case.title, case.description
        place = clean_text(data.place, PLACE_MAX, "place") or case.address or case.grid.name
    else:
        title = clean_text(data.title, TITLE_MAX, "title", required=True)
        description = clean_text(data.description, TEXT_MAX, "description")
        place = clean_text(data.place, PLACE_MAX, "place")
    limit = report_in_limit(data.kind)
    now = timezone.now()
    deadline = case_limits.calendar().add(now, limit)
    try:
        with transaction.atomic():
            whistle = Whistle.objects.create(
                number=uuid.uuid4().hex[:24],  # replaced below, once the row has its id
                kind=data.kind,
                region=region,
                street_id=region.pk if region.level == Level.STREET else region.parent_id,
                blown_by_id=actor.user_id,
                blown_as=role,
                case=case,
                title=title,
                description=description,
                place=place,
                lead=lead,
                limit=limit.label(),
                opened_at=now,
                idempotency_key=key,
                submitted_by=submitted_by,
            )
            # The id makes the number unique without a counter row every blow would wait on.
            whistle.number = f"CS{timezone.localdate(now):%Y%m%d}{whistle.pk:05d}"
            whistle.save(update_fields=["number"])
            summonses = Summons.objects.bulk_create(
                [Summons(whistle=whistle, department=d, deadline=deadline) for d in departments]
            )
            if case is not None:
                note = _(
                    "Whistle %(number)s (%(kind)s) blown: %(departments)s to report in by %(deadline)s."
                ) % {
                    "number": whistle.number,
                    "kind": whistle.get_kind_display(),
                    "departments": "、".join(d.name for d in departments),
                    "deadline": timezone.localtime(deadline).strftime("%Y-%m-%d %H:%M"),
                }
                case_move(actor=actor, number=case.number, action=Action.NOTE, version=None, note=note)
            audit_record(
                action="whistle.blow",
                object_type="whistles.whistle",
                object_id=whistle.number,
                detail={
                    "kind": whistle.kind,
                    "region": region.code,
                    "departments": [d.code for d in departments],
                    "lead": lead.code,
                    "case": case.number if case else None,
                    "deadline": deadline,
                },
            )
            notify(
                user_ids=handler_ids(d.pk for d in departments),
                kind="whistle.summoned",
                case=case,
                link=_link(whistle),
                title=_("%(kind)s %(number)s: report in by %(deadline)s") % {
                    "kind": whistle.get_kind_display(),
                    "number": whistle.number,
                    "deadline": timezone.localtime(deadline).strftime("%m-%d %H:%M"),
                },
                body=f"{region.name}: {title}",
            )  # fmt: skip
    except IntegrityError:
        # Two submissions with one key raced; the other one made the whistle.
        earlier = Whistle.objects.filter(idempotency_key=key).first()
        if earlier is None:
            raise
        return _replayed(earlier, submitted_by)
    return Blown(whistle, False, summonses)


def _replayed(earlier: Whistle, submitted_by: str) -> Blown:
    if earlier.submitted_by != submitted_by:
        raise DomainError(
            "idempotency_key_reused",
            _("This idempotency key was already used for another whistle."),
            status=409,
        )
    return Blown(earlier, True)


def _point(lon, lat, crs: str) -> tuple[float | None, float | None]:
    if lon in (None, "") and lat in (None, ""):
        return None, None
    try:
        lon, lat = to_wgs84(float(lon), float(lat), crs or "wgs84")
    except (TypeError, ValueError):
        raise DomainError("bad_coordinates", _("Not a longitude/latitude pair.")) from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise DomainError("bad_coordinates", _("Not a longitude/latitude pair."))
    return float(lon), float(lat)


def _open_whistle(actor: Actor, number: str) -> Whistle:
    whistle = selectors.whistle_get(scope=actor.scope, number=number, for_update=True)
    if not whistle.is_open:
        raise DomainError("whistle_closed", _("Whistle %(n)s is closed.") % {"n": number}, status=409)
    return whistle


def summons_report_in(
    *,
    actor: Actor,
    number: str,
    department: str = "",
    attendees: str,
    where: str = "",
    lon=None,
    lat=None,
    crs: str = "wgs84",
    note: str = "",
) -> Summons:
    """A summoned department reports in (报到): who came, and where; the time is the server's,
    because the report-in is made on arrival and its punctuality is what is measured."""
    with refusals_recorded("whistle.report_in_refused", number=number, department=department):
        attendees = clean_text(attendees, NAMES_MAX, "attendees", required=True)
        where = clean_text(where, PLACE_MAX, "where")
        note = clean_text(note, TEXT_MAX, "note")
        lon, lat = _point(lon, lat, crs)
        with transaction.atomic():
            whistle = _open_whistle(actor, number)
            summons = _own_summons(actor, whistle, (department or "").strip())
            if summons.reported:
                raise DomainError(
                    "already_reported",
                    _("%(d)s has already reported in.") % {"d": summons.department.name},
                    status=409,
                )
            now = timezone.now()
            late = summons.late or now > summons.deadline
            # Only the first report-in wins, whoever else is submitting the same form meanwhile.
            written = Summons.objects.filter(pk=summons.pk, reported_at__isnull=True).update(
                reported_at=now, reported_by_id=actor.user_id, attendees=attendees, where=where,
                lon=lon, lat=lat, note=note, late=late,
            )  # fmt: skip
            if not written:
                raise DomainError(
                    "already_reported", _("This department has already reported in."), status=409
                )
            summons.refresh_from_db()
            audit_record(
                action="whistle.report_in",
                object_type="whistles.whistle",
                object_id=whistle.number,
                detail={"department": summons.department.code, "late": late, "at": now},
            )
            title = (
                _("%(d)s reported in late to %(number)s")
                if late
                else _("%(d)s reported in to %(number)s on time")
            ) % {"d": summons.department.name, "number": whistle.number}
            notify(
                user_ids=[whistle.blown_by_id],
                kind="whistle.reported",
                case=whistle.case,
                link=_link(whistle),
                title=title,
                body=attendees,
            )
    return summons


def _own_summons(actor: Actor, whistle: Whistle, code: str) -> Summons:
    if not actor.scope.has_role(Role.DEPARTMENT_HANDLER):
        raise DomainError(
            "report_in_forbidden", _("Only a summoned department's handler reports in."), status=403
        )
    summonses = list(whistle.summonses.select_related("department").select_for_update(of=("self",)))
    if code:
        found = next((s for s in summonses if s.department.code == code), None)
        if found is None:
            raise DomainError(
                "not_summoned",
                _("%(c)s is not summoned by this whistle.") % {"c": code},
                {"department": code},
            )
        if found.department_id not in actor.scope.department_ids:
            raise DomainError(
                "not_your_department", _("You may report in only for your own department."), status=403
            )
        return found
    own = [s for s in summonses if s.department_id in actor.scope.department_ids]
    if not own:
        raise DomainError("not_your_department", _("Your department is not summoned."), status=403)
    if len(own) > 1:
        raise DomainError(
            "department_required",
            _("Say which of your departments reports in."),
            {"departments": [s.department.code for s in own]},
        )
    return own[0]


@dataclass
class TaskInput:
    department: str
    task: str
    due: date | str


def _require_blower(actor: Actor, whistle: Whistle, code: str, message: str) -> None:
    if blowing_role(actor.user_id, whistle.region) is None:
        raise DomainError(code, message, status=403)


def meeting_record_add(
    *,
    actor: Actor,
    number: str,
    held_at: datetime | None,
    place: str = "",
    attendees: str,
    agreed: str,
    tasks: list[TaskInput] | None = None,
) -> MeetingRecord:
    """Record the on-site meeting (现场会): who was there, what was agreed, who does what by when."""
    with refusals_recorded("whistle.meeting_refused", number=number):
        place = clean_text(place, PLACE_MAX, "place")
        attendees = clean_text(attendees, 500, "attendees", required=True)
        agreed = clean_text(agreed, TEXT_MAX, "agreed", required=True)
        with transaction.atomic():
            whistle = _open_whistle(actor, number)
            _require_blower(
                actor, whistle, "meeting_forbidden", _("Only the whistle's side records its meetings.")
            )
            now = timezone.now()
            held_at = held_at or now
            if timezone.is_naive(held_at):  # a form's local time
                held_at = timezone.make_aware(held_at)
            if held_at < whistle.opened_at.replace(second=0, microsecond=0) or held_at > now:
                raise DomainError("bad_time", _("The meeting is held between the whistle and now."))
            summoned = {
                s.department.code: s.department for s in whistle.summonses.select_related("department")
            }
            rows = [_task(t, summoned, timezone.localdate(held_at)) for t in tasks or []]
            meeting = MeetingRecord.objects.create(
                whistle=whistle, held_at=held_at, place=place, attendees=attendees, agreed=agreed,
                recorded_by_id=actor.user_id, recorded_at=now,
            )  # fmt: skip
            for row in rows:
                row.meeting = meeting
            MeetingTask.objects.bulk_create(rows)
            audit_record(
                action="whistle.meeting",
                object_type="whistles.whistle",
                object_id=whistle.number,
                detail={"meeting": meeting.pk, "tasks": [(r.department.code, r.due) for r in rows]},
            )
            if rows:
                notify(
                    user_ids=handler_ids({r.department_id for r in rows}),
                    kind="whistle.task",
                    case=whistle.case,
                    link=_link(whistle),
                    title=_("Tasks for your department from %(number)s") % {"number": whistle.number},
                    body=agreed[:500],
                )
    return meeting


def _task(t: TaskInput, summoned: dict[str, Department], held_on: date) -> MeetingTask:
    department = summoned.get((t.department or "").strip())
    if department is None:
        raise DomainError(
            "task_department_not_summoned",
            _("A task goes to a department the whistle summoned, not %(c)s.") % {"c": t.department},
            {"department": t.department, "summoned": sorted(summoned)},
        )
    text = clean_text(t.task, TASK_MAX, "task", required=True)
    try:
        due = t.due if isinstance(t.due, date) else date.fromisoformat(str(t.due).strip())
    except ValueError:
        raise DomainError("bad_date", _("Give dates as YYYY-MM-DD.")) from None
    if due < held_on:
        raise DomainError("bad_date", _("A task is due on or after the meeting."))
    return MeetingTask(department=department, task=text, due=due)


def whistle_close(*, actor: Actor, number: str, result: str) -> Whistle:
    """Close a standalone whistle with its result; a case's whistle closes with the case."""
    with refusals_recorded("whistle.close_refused", number=number):
        result = clean_text(result, TEXT_MAX, "result", required=True)
        with transaction.atomic():
            whistle = _open_whistle(actor, number)
            if whistle.case_id is not None:
                raise DomainError(
                    "closes_with_case", _("This whistle closes when its case is closed."), status=409
                )
            _require_blower(actor, whistle, "close_forbidden", _("Only the whistle's side closes it."))
            now = timezone.now()
            Whistle.objects.filter(pk=whistle.pk, state=WhistleState.OPEN).update(
                state=WhistleState.CLOSED, closed_at=now, closed_by_id=actor.user_id, result=result
            )
            whistle.refresh_from_db()
            audit_record(action="whistle.close", object_type="whistles.whistle", object_id=whistle.number)
            notify(
                user_ids=handler_ids(whistle.summonses.values_list("department_id", flat=True)),
                kind="whistle.closed",
                link=_link(whistle),
                title=_("Whistle %(number)s is closed") % {"number": whistle.number},
                body=result[:500],
            )
    return whistle
