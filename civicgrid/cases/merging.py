"""One matter, one case: merging duplicates into a master, and following a case one did not report.

A merged duplicate is voided through the workflow (the "merge" move, with an event on both
timelines) and points at its master (``Case.master``). Its reporter becomes a follower of the
master (``CaseFollower`` with ``linked_case``), so everyone who reported the matter hears of
the master's progress: the master's own reporter as before, and every follower — merged
reporters and residents who chose to follow instead of filing again. A follower's link shows the
public progress page and never grants the reporter's moves (rating).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.audit.services import audit_record
from civicgrid.cases import duplicates, selectors, services, workflow
from civicgrid.cases.models import Case, CaseEvent, CaseFollower, CaseState
from civicgrid.cases.numbering import tracking_code
from civicgrid.cases.versioning import check_version
from civicgrid.cases.workflow import MERGE_MOVES, Action, Actor
from civicgrid.errors import DomainError
from civicgrid.notifications.services import notify

# The master's moves its followers hear of (the stage owners hear of every move already).
FOLLOWER_NEWS = {
    Action.REGISTER: "case.progress",
    Action.DISPATCH: "case.progress",
    Action.FEEDBACK: "case.progress",
    Action.CLOSE: "case.closed",
    Action.VOID: "case.closed",
}


def follow_code() -> str:
    """A follow link's secret. Eleven characters with an F, so it can never be a (ten-character)
    tracking code: /track/<code>/ tells the two apart by the lookup, not by trust."""
    return "F" + tracking_code()


def follow_url(code: str) -> str:
    return f"/track/{code}/"


def _locked_pair(first: Case, second: Case) -> tuple[Case, Case]:
    """Both rows again, locked in id order: two operators merging A into B and B into A at once
    must not deadlock (PostgreSQL), and each decides on the rows as they are now."""
    # of=self: PostgreSQL refuses FOR UPDATE on the nullable side of the class's join.
    rows = {
        c.pk: c
        for c in Case.objects.select_for_update(of=("self",))
        .filter(pk__in=[first.pk, second.pk])
        .order_by("pk")
        .select_related("case_class")
    }
    return rows[first.pk], rows[second.pk]


def case_merge(
    *,
    actor: Actor,
    number: str,
    master: str,
    version: int | None,
    note: str = "",
    cross_class: bool = False,
) -> Case:
    """Merge case ``number`` (the duplicate, at ``version``) into ``master``. Refusals change
    nothing: 404 outside scope, 409 stale or not open, 403 for this person, 400 bad input."""
    note = services.clean_text(note, services.NOTE_MAX, "note")
    number, master = (number or "").strip(), (master or "").strip()
    if not master:
        raise DomainError("master_required", _("Choose the case to merge this one into."))
    if number == master:
        raise DomainError("merge_into_self", _("A case cannot be merged into itself."))
    with transaction.atomic():
        dup = selectors.case_get(scope=actor.scope, number=number)
        main = selectors.case_get(scope=actor.scope, number=master)
        dup, main = _locked_pair(dup, main)
        check_version(dup, version)
        _check_master(main)
        mismatch = bool(dup.case_class_id and main.case_class_id and dup.case_class_id != main.case_class_id)
        if mismatch and not cross_class:
            raise DomainError(
                "class_mismatch",
                _("The two cases are of different classes; confirm that they are the same matter."),
                {"case_class": dup.case_class.code, "master_class": main.case_class.code},
            )
        merge, merge_role = workflow.check_move(dup, Action.MERGE, actor, moves=MERGE_MOVES)
        merge_in, in_role = workflow.check_move(main, Action.MERGE_IN, actor, moves=MERGE_MOVES)
        at = timezone.now()
        text = note or _("Merged into %(number)s (same matter).") % {"number": main.number}
        seen = dup.version
        result = workflow.apply_move(
            dup,
            merge,
            actor=actor,
            role=merge_role,
            at=at,
            seq=seen + 1,
            note=text,
            data={"master": main.number, "cross_class": mismatch},
        )
        services.move_save(dup, seen, result, master_id=main.pk)
        dup.master = main
        seen_main = main.version
        result_in = workflow.apply_move(
            main,
            merge_in,
            actor=actor,
            role=in_role,
            at=at,
            seq=seen_main + 1,
            note=note,
            data={"linked": dup.number, "cross_class": mismatch},
        )
        services.move_save(main, seen_main, result_in)
        moved = _carry_over(dup, main)
        follower = _follow_for_reporter(dup, main, at)
        audit_record(
            action="case.merge",
            object_type="cases.case",
            object_id=dup.number,
            detail={"master": main.number, "cross_class": mismatch, "carried_over": moved},
        )
        if dup.reporter_id:
            notify(
                user_ids=[dup.reporter_id],
                kind="case.merged",
                case=main,
                link=follow_url(follower.code),
                title=_("Your report %(number)s concerns the same matter as %(master)s; follow it there.")
                % {"number": dup.number, "master": main.number},
            )
    return main


def _check_master(main: Case) -> None:
    if main.master_id is not None:
        raise DomainError(
            "master_merged",
            _("%(number)s was itself merged into another case; merge into that one.")
            % {"number": main.number},
            {"master": main.master.number},
            status=409,
        )
    if not main.is_open:
        raise DomainError(
            "master_not_open",
            _("%(number)s is %(state)s; merge only into an open case.")
            % {"number": main.number, "state": CaseState(main.state).label},
            {"state": main.state},
            status=409,
        )


def _carry_over(dup: Case, main: Case) -> int:
    """A duplicate that was itself a master hands its linked cases and followers on, so nobody
    is left following a voided case. Returns how many rows moved."""
    moved = Case.objects.filter(master=dup).update(master=main)
    # Someone the master already reaches (its reporter, a follower) keeps their old link, which
    # now shows the master, but hears of each move once: that row loses its user.
    taken = set(CaseFollower.objects.filter(case=main, user__isnull=False).values_list("user_id", flat=True))
    taken |= {main.reporter_id} - {None}
    CaseFollower.objects.filter(case=dup, user_id__in=taken).update(user=None)
    return moved + CaseFollower.objects.filter(case=dup).update(case=main)


def _follow_for_reporter(dup: Case, main: Case, at) -> CaseFollower:
    """The duplicate's reporter follows the master. The row carries the user only when that
    reaches someone new (not the master's own reporter, not an existing follower)."""
    user_id = dup.reporter_id
    if user_id and (
        user_id == main.reporter_id or CaseFollower.objects.filter(case=main, user_id=user_id).exists()
    ):
        user_id = None
    return CaseFollower.objects.create(
        case=main, user_id=user_id, code=follow_code(), linked_case=dup, created_at=at
    )


def case_follow(
    *,
    number: str,
    user_id: int | None,
    lon: float | None,
    lat: float | None,
    crs: str = "wgs84",
    case_class: str = "",
    text: str = "",
) -> CaseFollower:
    """Follow ``number`` instead of reporting the same matter again. Only a case the duplicate
    check offers for this place, class and text can be followed, so a number alone (guessable)
    opens nothing."""
    offered = duplicates.intake_candidates(lon=lon, lat=lat, crs=crs, case_class=case_class, text=text)
    found = next((c for c in offered if c.number == (number or "").strip()), None)
    if found is None:
        raise DomainError(
            "not_offered", _("That case is not among the reports found for this place."), status=404
        )
    case = Case.objects.get(pk=found.id)
    if user_id is not None:
        if case.reporter_id == user_id:
            raise DomainError(
                "own_report", _("You reported this case yourself; follow it by its link."), status=409
            )
        existing = CaseFollower.objects.filter(case=case, user_id=user_id).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            follower = CaseFollower.objects.create(
                case=case, user_id=user_id, code=follow_code(), created_at=timezone.now()
            )
            audit_record(
                action="case.follow",
                object_type="cases.case",
                object_id=case.number,
                detail={"signed_in": user_id is not None},
            )
    except IntegrityError:  # the same person following twice at once: the other request won
        return CaseFollower.objects.get(case=case, user_id=user_id)
    return follower


def follower_by_code(code: str) -> CaseFollower | None:
    code = (code or "").strip().upper().replace("-", "")
    if len(code) != 11 or not code.startswith("F"):  # a tracking code has ten characters
        return None
    return (
        CaseFollower.objects.select_related("case__case_class", "case__community").filter(code=code).first()
    )


def followers_notify(case: Case, event: CaseEvent) -> None:
    """Tell the master's followers (merged reporters, residents who followed) of its progress.
    Residents without an account keep their follow link, which shows the same progress."""
    kind = FOLLOWER_NEWS.get(event.action)
    if kind is None:
        return
    rows = CaseFollower.objects.filter(case=case, user__isnull=False).values_list("user_id", "code")
    label = CaseState(case.state).label
    for user_id, code in rows:
        notify(
            user_ids=[user_id],
            kind=kind,
            case=case,
            link=follow_url(code),
            title=_("The report you follow, %(number)s %(title)s: %(state)s")
            % {"number": case.number, "title": case.title, "state": label},
            body=event.note if event.action in (Action.FEEDBACK, Action.VOID) else "",
        )


def merged_into(case: Case) -> dict | None:
    """For a merged case's own follow page: the master's number and the reporter's follow link."""
    if case.master_id is None:
        return None
    follower = CaseFollower.objects.filter(linked_case=case).only("code", "case_id").first()
    number = Case.objects.filter(pk=case.master_id).values_list("number", flat=True).first()
    return {"number": number, "url": follow_url(follower.code) if follower else ""}
