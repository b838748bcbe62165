"""Writes for enforcement inspections: tasks (create, assign, cancel), recording an inspection
with its answers and photos, and raising a case from a failed checkpoint in one step — at record
time or later. One transaction per call; every change on the audit trail; every refusal a
``DomainError`` with a code.

Who may do what (docs/enforcement.md):
- record an inspection: an enforcement officer or a grid worker whose scope covers the grid
  (执法队员进网格); with a task, only one of its assignees;
- create, assign and cancel tasks: the command centre, street operators and enforcement officers
  over the grid;
- raise a case: whoever may report by the "inspection" channel (``cases.services.CHANNEL_ROLES``)
  and can see the inspection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.accounts.models import GridPost, GridStaffing, Role, RoleAssignment, User
from civicgrid.accounts.scopes import scope_for
from civicgrid.audit.services import audit_record
from civicgrid.cases.models import AttachmentPurpose, Case, Channel
from civicgrid.cases.services import (
    DESCRIPTION_MAX,
    FILES_MAX,
    TITLE_MAX,
    CaseInput,
    Upload,
    case_create,
    clean_text,
)
from civicgrid.cases.taxonomy import suggest_classes
from civicgrid.cases.uploads import CleanFile, clean_upload
from civicgrid.cases.workflow import Actor
from civicgrid.enforcement import selectors
from civicgrid.enforcement.models import (
    AnswerResult,
    Checkpoint,
    EnforcementItem,
    Inspection,
    InspectionAnswer,
    InspectionPhoto,
    InspectionTask,
    TaskState,
)
from civicgrid.errors import DomainError, NotFound
from civicgrid.geo.crs import to_wgs84
from civicgrid.regions.models import Level, Region
from civicgrid.regions.selectors import grid_locate

NOTE_MAX, ANSWER_NOTE_MAX, TASK_NOTE_MAX, KEY_MAX = 1000, 500, 500, 64
# A phone's clock may run a little ahead; an inspection further in the future is refused.
CLOCK_SKEW = timedelta(minutes=10)


# --- tasks ----------------------------------------------------------------------------------------


def _grid(code: str) -> Region:
    grid = Region.objects.filter(code=(code or "").strip(), level=Level.GRID).select_related("parent").first()
    if grid is None:
        raise DomainError("unknown_grid", _("There is no grid %(c)s.") % {"c": code}, {"grid": code})
    return grid


def _item(code: str) -> EnforcementItem:
    item = EnforcementItem.objects.filter(code=(code or "").strip(), active=True).first()
    if item is None:
        raise DomainError(
            "unknown_item", _("There is no active enforcement item %(c)s.") % {"c": code}, {"item": code}
        )
    return item


def _require_task_role(actor: Actor, grid: Region) -> None:
    scope = actor.scope
    if not selectors.may_create_tasks(scope) or not (scope.everything or grid.pk in scope.region_ids):
        raise DomainError("task_forbidden", _("You may not give inspection tasks in this grid."), status=403)


def user_may_inspect(user: User, grid: Region) -> bool:
    """Whether ``user`` may record inspections in ``grid`` (and so be given its tasks)."""
    scope = scope_for(user)
    return scope.has_role(*selectors.INSPECTOR_ROLES) and (scope.everything or grid.pk in scope.region_ids)


def default_assignees(grid: Region) -> list[User]:
    """The grid's current full-time workers and the enforcement officers over its street,
    community or the grid itself: the pair a task goes to unless someone is named."""
    today = timezone.localdate()
    community = grid.parent
    areas = [grid.pk, community.pk, community.parent_id] if community else [grid.pk]
    officers = (
        RoleAssignment.objects.filter(
            role=Role.ENFORCEMENT_OFFICER, region_id__in=areas, valid_from__lte=today
        )
        .exclude(valid_until__lt=today)
        .values("user_id")
    )
    workers = (
        GridStaffing.objects.filter(grid=grid, post=GridPost.FULL_TIME, start__lte=today)
        .exclude(end__lt=today)
        .values("user_id")
    )
    people = User.objects.filter(Q(pk__in=officers) | Q(pk__in=workers), is_active=True)
    return list(people.order_by("username"))


def _assignees(grid: Region, usernames: list[str] | None) -> list[User]:
    names = [u.strip() for u in usernames or [] if u and u.strip()]
    if not names:
        found = default_assignees(grid)
        if not found:
            raise DomainError(
                "assignees_required",
                _("Nobody works in grid %(g)s yet; name who does the task.") % {"g": grid.name},
            )
        return found
    users = {u.username: u for u in User.objects.filter(username__in=names, is_active=True)}
    unknown = [n for n in names if n not in users]
    if unknown:
        raise DomainError(
            "unknown_user",
            _("There is no active user %(u)s.") % {"u": ", ".join(unknown)},
            {"unknown": unknown},
        )
    refused = [n for n in dict.fromkeys(names) if not user_may_inspect(users[n], grid)]
    if refused:
        raise DomainError(
            "assignee_not_eligible",
            _("A task goes to enforcement officers or grid workers of the grid, not %(u)s.")
            % {"u": ", ".join(refused)},
            {"refused": refused},
        )
    return [users[n] for n in dict.fromkeys(names)]


def _due(value: date | str) -> date:
    try:
        due = value if isinstance(value, date) else date.fromisoformat(str(value).strip())
    except ValueError:
        raise DomainError("bad_date", _("Give dates as YYYY-MM-DD.")) from None
    if due < timezone.localdate():
        raise DomainError("bad_date", _("A task is due today or later."))
    return due


def task_create(
    *,
    actor: Actor,
    item: str,
    grid: str,
    due: date | str,
    assignees: list[str] | None = None,
    note: str = "",
) -> InspectionTask:
    """Give an inspection task; without named assignees it goes to ``default_assignees``."""
    region = _grid(grid)
    _require_task_role(actor, region)
    found = _item(item)
    people = _assignees(region, assignees)
    due_on = _due(due)
    note = clean_text(note, TASK_NOTE_MAX, "note")
    with transaction.atomic():
        task = InspectionTask.objects.create(
            item=found, grid=region, due=due_on, note=note, created_by_id=actor.user_id
        )
        task.assignees.set(people)
        audit_record(
            action="enforcement.task_create",
            object_type="enforcement.inspectiontask",
            object_id=task.pk,
            detail={
                "item": found.code,
                "grid": region.code,
                "due": due_on,
                "assignees": [u.username for u in people],
            },
        )
    return task


def _task_for_change(actor: Actor, task_id: int) -> InspectionTask:
    task = selectors.task_get(scope=actor.scope, task_id=task_id, for_update=True)
    _require_task_role(actor, task.grid)
    if task.state != TaskState.OPEN:
        raise DomainError("task_closed", _("The task is no longer open."), status=409)
    return task


def task_assign(*, actor: Actor, task_id: int, assignees: list[str]) -> InspectionTask:
    """Give an open task to other people (the list replaces the old one)."""
    with transaction.atomic():
        task = _task_for_change(actor, task_id)
        if not any(a.strip() for a in assignees or []):
            raise DomainError("assignees_required", _("Name who does the task."))
        people = _assignees(task.grid, assignees)
        task.assignees.set(people)
        audit_record(
            action="enforcement.task_assign",
            object_type="enforcement.inspectiontask",
            object_id=task.pk,
            detail={"assignees": [u.username for u in people]},
        )
    return task


def task_cancel(*, actor: Actor, task_id: int, reason: str) -> InspectionTask:
    reason = clean_text(reason, TASK_NOTE_MAX, "reason", required=True)
    with transaction.atomic():
        task = _task_for_change(actor, task_id)
        task.state = TaskState.CANCELLED
        task.note = f"{task.note}\n{reason}".strip()[:TASK_NOTE_MAX]
        task.save(update_fields=["state", "note"])
        audit_record(
            action="enforcement.task_cancel",
            object_type="enforcement.inspectiontask",
            object_id=task.pk,
            detail={"reason": reason},
        )
    return task


# --- inspections ----------------------------------------------------------------------------------


@dataclass
class AnswerInput:
    checkpoint: int
    result: str
    note: str = ""
    raise_case: bool = False


@dataclass
class InspectionInput:
    item: str
    grid: str
    answers: list[AnswerInput]
    lon: float | None = None
    lat: float | None = None
    accuracy: float | None = None
    crs: str = "wgs84"
    note: str = ""
    client_key: str = ""
    task: int | None = None
    at: datetime | None = None


@dataclass
class Recorded:
    inspection: Inspection
    replayed: bool
    cases: list[str] = field(default_factory=list)


def _check_answers(item: EnforcementItem, answers: list[AnswerInput]) -> tuple[list, dict[int, Checkpoint]]:
    """The answers must cover each of the item's active checkpoints exactly once."""
    checkpoints = {c.pk: c for c in item.checkpoints.filter(active=True).select_related("case_class")}
    ids = [a.checkpoint for a in answers]
    unknown = sorted({i for i in ids if i not in checkpoints})
    if unknown:
        raise DomainError(
            "unknown_checkpoint",
            _("These are not checkpoints of %(item)s: %(ids)s") % {"item": item.code, "ids": unknown},
            {"unknown": unknown},
        )
    doubled = sorted({i for i in ids if ids.count(i) > 1})
    if doubled:
        raise DomainError("duplicate_answer", _("A checkpoint is answered twice."), {"duplicates": doubled})
    missing = [pk for pk in checkpoints if pk not in ids]
    if missing:
        raise DomainError(
            "answers_incomplete",
            _("Answer every checkpoint (pass, fail or not applicable)."),
            {"missing": missing},
        )
    for a in answers:
        if a.result not in AnswerResult.values:
            raise DomainError(
                "bad_result",
                _("Answer pass, fail or na, not %(r)s.") % {"r": a.result},
                {"checkpoint": a.checkpoint, "results": AnswerResult.values},
            )
        if a.raise_case and a.result != AnswerResult.FAIL:
            raise DomainError(
                "not_failed", _("Only a failed checkpoint raises a case."), {"checkpoint": a.checkpoint}
            )
    cleaned = [(a, clean_text(a.note, ANSWER_NOTE_MAX, "note")) for a in answers]
    return cleaned, checkpoints


def _position(data: InspectionInput, grid: Region) -> tuple[float, float]:
    if data.lon is None or data.lat is None:
        raise DomainError("location_required", _("Give the place (longitude and latitude)."))
    try:
        lon, lat = (float(v) for v in to_wgs84(float(data.lon), float(data.lat), data.crs or "wgs84"))
    except (TypeError, ValueError):
        raise DomainError("bad_coordinates", _("Not a longitude/latitude pair.")) from None
    try:
        place = grid_locate(lon=lon, lat=lat)
    except DomainError as exc:  # outside the district: a bad request, not a missing resource
        raise DomainError(exc.code, exc.message, exc.detail, status=422) from None
    if place["grid"]["code"] != grid.code:
        raise DomainError(
            "outside_grid",
            _("You are in grid %(here)s, not in %(grid)s.")
            % {"here": place["grid"]["name"], "grid": grid.name},
            {"grid": grid.code, "located": place["grid"]["code"]},
            status=422,
        )
    return lon, lat


def _accuracy(value) -> float | None:
    if value in (None, ""):
        return None
    try:
        accuracy = float(value)
    except (TypeError, ValueError):
        accuracy = -1.0
    if not 0 <= accuracy < 100_000:
        raise DomainError("bad_accuracy", _("The accuracy is a distance in metres."))
    return accuracy


def _when(at: datetime | None, now: datetime) -> datetime:
    if at is None:
        return now
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    if at > now + CLOCK_SKEW:
        raise DomainError("bad_time", _("The inspection cannot lie in the future."))
    return at


def _photos(files: list[Upload]) -> list[tuple[Upload, CleanFile]]:
    if len(files) > FILES_MAX:
        raise DomainError("too_many_files", _("At most %(n)d files.") % {"n": FILES_MAX}, {"max": FILES_MAX})
    cleaned = []
    for f in files:
        clean = clean_upload(f.name, f.data, max_bytes=settings.UPLOAD_MAX_BYTES)
        if clean.kind != "image":
            raise DomainError("upload_type", _("Only photos (JPEG, PNG or WEBP) can be attached."))
        cleaned.append((f, clean))
    return cleaned


def _store_photos(inspection: Inspection, cleaned, at: datetime) -> None:
    rows = []
    for _upload, clean in cleaned:
        row = InspectionPhoto(inspection=inspection, uploaded_at=at, **clean.row_fields())
        clean.save_for(row)
        rows.append(row)
    InspectionPhoto.objects.bulk_create(rows)


def _task(actor: Actor, task_id: int | None, item: EnforcementItem, grid: Region) -> InspectionTask | None:
    if task_id is None:
        return None
    task = InspectionTask.objects.select_for_update().filter(pk=task_id).first()
    if task is None or not task.assignees.filter(pk=actor.user_id).exists():
        raise DomainError("not_assigned", _("This task is not given to you."), {"task": task_id}, status=403)
    if task.state == TaskState.CANCELLED:
        raise DomainError("task_cancelled", _("The task was cancelled."), {"task": task_id}, status=409)
    if task.item_id != item.pk or task.grid_id != grid.pk:
        raise DomainError(
            "task_mismatch",
            _("The task is for %(item)s in grid %(grid)s.")
            % {"item": task.item.code, "grid": task.grid.code},
            {"task": task_id, "item": task.item.code, "grid": task.grid.code},
        )
    return task


def _raised(inspection: Inspection) -> list[str]:
    return list(
        InspectionAnswer.objects.filter(inspection=inspection, case__isnull=False)
        .order_by("checkpoint__seq")
        .values_list("case__number", flat=True)
    )


def inspection_record(
    *, actor: Actor, data: InspectionInput, photos: list[Upload] | None = None, submitted_by: str
) -> Recorded:
    """Record an inspection; each failed answer with ``raise_case`` raises its case in the same
    transaction. The same ``client_key`` again (a phone's queue re-sending) answers the first."""
    key = clean_text(data.client_key, KEY_MAX, "client_key")
    if key:
        earlier = Inspection.objects.filter(inspector_id=actor.user_id, client_key=key).first()
        if earlier is not None:
            return Recorded(earlier, True, _raised(earlier))
    if not actor.scope.has_role(*selectors.INSPECTOR_ROLES):
        raise DomainError(
            "inspection_forbidden", _("Only enforcement officers and grid workers inspect."), status=403
        )
    grid = _grid(data.grid)
    if not (actor.scope.everything or grid.pk in actor.scope.region_ids):
        raise DomainError("inspection_forbidden", _("You do not inspect in this grid."), status=403)
    item = _item(data.item)
    answers, checkpoints = _check_answers(item, data.answers)
    lon, lat = _position(data, grid)
    accuracy = _accuracy(data.accuracy)
    note = clean_text(data.note, NOTE_MAX, "note")
    now = timezone.now()
    at = _when(data.at, now)
    cleaned = _photos(photos or [])
    try:
        with transaction.atomic():
            task = _task(actor, data.task, item, grid)
            inspection = Inspection.objects.create(
                task=task, item=item, grid=grid, inspector_id=actor.user_id, at=at, lon=lon, lat=lat,
                accuracy_m=accuracy, note=note, client_key=key,
                failed=sum(a.result == AnswerResult.FAIL for a, _n in answers),
            )  # fmt: skip
            rows = InspectionAnswer.objects.bulk_create(
                [
                    InspectionAnswer(
                        inspection=inspection, checkpoint_id=a.checkpoint, result=a.result, note=n
                    )
                    for a, n in answers
                ]
            )
            _store_photos(inspection, cleaned, now)
            if task is not None and task.state == TaskState.OPEN:
                task.state = TaskState.DONE
                task.save(update_fields=["state"])
            uploads = [Upload(name="photo" + c.extension, data=c.data) for _u, c in cleaned]
            numbers = []
            for (a, _n), row in zip(answers, rows, strict=True):
                if a.raise_case:
                    case = _raise_case(actor, row, checkpoints[a.checkpoint], uploads, submitted_by)
                    numbers.append(case.number)
            audit_record(
                action="enforcement.inspection_record",
                object_type="enforcement.inspection",
                object_id=inspection.pk,
                detail={
                    "item": item.code,
                    "grid": grid.code,
                    "task": task.pk if task else None,
                    "failed": inspection.failed,
                    "photos": len(cleaned),
                    "cases": numbers,
                },
            )
    except IntegrityError:
        # The same key sent twice at once: the other request recorded it.
        earlier = (
            Inspection.objects.filter(inspector_id=actor.user_id, client_key=key).first() if key else None
        )
        if earlier is None:
            raise
        return Recorded(earlier, True, _raised(earlier))
    return Recorded(inspection, False, numbers)


def _case_text(inspection: Inspection, answer: InspectionAnswer, checkpoint: Checkpoint) -> tuple[str, str]:
    item = inspection.item
    title = f"{item.name}：{checkpoint.text}"
    if len(title) > TITLE_MAX:
        title = title[: TITLE_MAX - 1] + "…"
    lines = [
        _("Enforcement item %(code)s %(name)s") % {"code": item.code, "name": item.name},
        _("Failed checkpoint: %(text)s") % {"text": checkpoint.text},
    ]
    if answer.note:
        lines.append(_("Finding: %(note)s") % {"note": answer.note})
    if inspection.note:
        lines.append(_("Inspection note: %(note)s") % {"note": inspection.note})
    return title, "\n".join(lines)[:DESCRIPTION_MAX]


def _raise_case(
    actor: Actor, answer: InspectionAnswer, checkpoint: Checkpoint, uploads: list[Upload], submitted_by: str
) -> Case:
    """Make the case of a failed answer (inside the caller's transaction) and link it."""
    inspection = answer.inspection
    title, description = _case_text(inspection, answer, checkpoint)
    chosen = checkpoint.case_class or inspection.item.case_class
    code = chosen.code if chosen is not None and chosen.active else ""
    if not code:
        suggested = suggest_classes(f"{inspection.item.name} {checkpoint.text} {answer.note}", limit=1)
        code = suggested[0].code if suggested else ""
    created = case_create(
        actor=actor,
        data=CaseInput(
            channel=Channel.INSPECTION,
            title=title,
            description=description,
            lon=inspection.lon,
            lat=inspection.lat,
            case_class=code,
            files=[Upload(name=u.name, data=u.data, purpose=AttachmentPurpose.REPORT) for u in uploads],
        ),
        # One case per failed answer, whatever retries happen in between.
        idempotency_key=f"inspection-{inspection.pk}-{checkpoint.pk}",
        submitted_by=submitted_by,
    )
    answer.case = created.case
    answer.save(update_fields=["case"])
    return created.case


def inspection_case_raise(*, actor: Actor, inspection_id: int, checkpoint_id: int, submitted_by: str) -> Case:
    """Raise the case of a failed checkpoint of an inspection recorded earlier (one step)."""
    with transaction.atomic():
        inspection = selectors.inspection_get(scope=actor.scope, inspection_id=inspection_id)
        # Locked so that two clicks make one case, not a second one on a replayed key.
        answer = (
            InspectionAnswer.objects.select_for_update(of=("self",))
            .filter(inspection=inspection, checkpoint_id=checkpoint_id)
            .select_related("checkpoint__case_class", "case")
            .first()
        )
        if answer is None:
            raise NotFound(
                "checkpoint_not_answered",
                _("Checkpoint %(id)s is not answered in this inspection.") % {"id": checkpoint_id},
            )
        if answer.result != AnswerResult.FAIL:
            raise DomainError(
                "not_failed",
                _("Only a failed checkpoint raises a case."),
                {"checkpoint": checkpoint_id},
                status=409,
            )
        if answer.case_id is not None:
            raise DomainError(
                "case_already_raised",
                _("This checkpoint already raised case %(n)s.") % {"n": answer.case.number},
                {"number": answer.case.number},
                status=409,
            )
        answer.inspection = inspection
        uploads = []
        for photo in inspection.photos.all():
            with photo.file.open("rb") as handle:
                uploads.append(Upload(name=photo.file.name, data=handle.read()))
        case = _raise_case(actor, answer, answer.checkpoint, uploads, submitted_by)
        audit_record(
            action="enforcement.case_raise",
            object_type="enforcement.inspection",
            object_id=inspection.pk,
            detail={"checkpoint": checkpoint_id, "case": case.number},
        )
    return case
