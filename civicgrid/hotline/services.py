"""Writes for the hotline: receive a batch, run it, place or reject an order from the triage queue.

Who: the roles ``cases.services.CHANNEL_ROLES`` allows for the hotline channel (operators and
shift leads). Every refusal of a file is recorded as a batch in state "refused" (with the reason)
and on the audit trail; each batch's import is one audit record with its counts.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.accounts.models import User
from civicgrid.accounts.scopes import scope_for
from civicgrid.audit.models import AuditResult
from civicgrid.audit.services import audit_record
from civicgrid.cases.workflow import Actor
from civicgrid.errors import DomainError
from civicgrid.hotline import formats, importer, pipeline
from civicgrid.hotline.importer import ChunkResult, Context, hotline_role
from civicgrid.hotline.models import BatchStatus, HotlineBatch, HotlineOrder, OrderState
from civicgrid.hotline.selectors import order_get

log = logging.getLogger(__name__)
REASON_MAX = 300


def upload_max_bytes() -> int:
    """A day of a city's orders is tens of megabytes; the default allows 100,000 rows as CSV."""
    return settings.HOTLINE_UPLOAD_MAX_MB * 1024 * 1024


def actor_of(user: User) -> Actor:
    return Actor(user_id=user.pk, scope=scope_for(user), name=str(user))


def _role(actor: Actor) -> str:
    role = hotline_role(actor.scope)
    if role is None:
        raise DomainError(
            "hotline_forbidden", _("Only operators and shift leads handle hotline orders."), status=403
        )
    return role


def _refuse(batch: HotlineBatch, error: DomainError) -> DomainError:
    """Record the refusal on the batch and the audit trail; the caller raises what is returned."""
    batch.status, batch.finished_at = BatchStatus.REFUSED, timezone.now()
    batch.error_code, batch.error_message = error.code, error.message[:500]
    with transaction.atomic():
        batch.save()
        audit_record(
            action="hotline.batch_refused",
            result=AuditResult.FAILURE,
            actor=batch.created_by,
            object_type="hotline.hotlinebatch",
            object_id=batch.pk,
            detail={"code": error.code, "file_name": batch.file_name},
        )
    error.detail = {**error.detail, "batch": batch.pk}
    return error


def batch_receive(
    *, user: User, name: str, data: bytes, again: bool = False, size: int | None = None
) -> HotlineBatch:
    """Take a file in: check who sends it, its type, its size and whether it came before; store
    it and return the queued batch (``batch_run`` imports it). ``again``: import a file already
    imported once more (every unchanged order then counts as unchanged). ``size``: an upload's
    size, so that a file too large is refused without being read (``data`` may then be empty)."""
    actor = actor_of(user)
    try:
        _role(actor)
    except DomainError:
        audit_record(
            action="hotline.batch_refused",
            result=AuditResult.DENIED,
            actor=user,
            object_type="hotline.hotlinebatch",
            detail={"code": "hotline_forbidden"},
        )
        raise
    name = (name or "orders").replace("\\", "/").rsplit("/", 1)[-1][:200]
    digest = hashlib.sha256(data).hexdigest()
    batch = HotlineBatch(
        file_name=name,
        format="json",
        sha256=digest,
        created_by=user,
        created_at=timezone.now(),
        status=BatchStatus.QUEUED,
    )
    try:
        batch.format = formats.format_of(name)
    except DomainError as exc:
        raise _refuse(batch, exc) from None
    if (len(data) if size is None else size) > upload_max_bytes():
        raise _refuse(
            batch,
            DomainError(
                "file_too_large",
                _("The file is larger than %(n)d MB; split it.") % {"n": upload_max_bytes() // 2**20},
                status=413,
            ),
        )
    earlier = (
        HotlineBatch.objects.filter(sha256=digest)
        .exclude(status__in=[BatchStatus.REFUSED, BatchStatus.FAILED])
        .order_by("id")
        .first()
    )
    if earlier is not None and not again:
        batch.duplicate_of = earlier
        raise _refuse(
            batch,
            DomainError(
                "duplicate_batch",
                _("This file was imported already as batch #%(id)d on %(at)s.")
                % {"id": earlier.pk, "at": timezone.localtime(earlier.created_at).strftime("%Y-%m-%d %H:%M")},
                {"earlier": earlier.pk},
                status=409,
            ),
        )
    batch.stored_as = f"hotline/{digest[:2]}/{digest}.{batch.format}"
    if not default_storage.exists(batch.stored_as):
        default_storage.save(batch.stored_as, ContentFile(data))
    batch.save()
    return batch


def _progress_line(batch: HotlineBatch, done: int, started: float) -> str:
    percent = done * 100 // batch.total if batch.total else 100
    return f"orders {done:,} / {batch.total:,} ({percent}%) … {time.perf_counter() - started:.1f} s"


def batch_run(*, batch_id: int, progress: Callable[[str], None] = lambda line: None) -> HotlineBatch:
    """Import a received batch, or resume one that stopped: chunk by chunk, each chunk committed
    with its report lines and the batch's counts. A finished batch is returned as it is."""
    started = time.perf_counter()
    with transaction.atomic():
        batch = HotlineBatch.objects.select_for_update().select_related("created_by").get(pk=batch_id)
        if batch.finished:
            return batch
        batch.status, batch.started_at = BatchStatus.RUNNING, batch.started_at or timezone.now()
        batch.save(update_fields=["status", "started_at"])
    try:
        actor = actor_of(batch.created_by)
        ctx = Context(actor, _role(actor))
        with default_storage.open(batch.stored_as, "rb") as f:
            data = f.read()
        try:
            rows = formats.read_orders(batch.file_name, data)
        except DomainError as exc:
            raise _refuse(batch, exc) from None
        HotlineBatch.objects.filter(pk=batch.pk).update(total=len(rows))
        batch.total = len(rows)
        shown = [batch.done * 20 // max(1, batch.total)]

        def record(result: ChunkResult, done: int) -> None:
            counts = result.counts()
            HotlineBatch.objects.filter(pk=batch.pk).update(
                done=done, **{k: F(k) + v for k, v in counts.items()}
            )

        def committed(done: int) -> None:
            if done * 20 // batch.total > shown[0] or done == batch.total:
                shown[0] = done * 20 // batch.total
                progress(_progress_line(batch, done, started))

        pipeline.import_rows(ctx, batch.pk, rows, start=batch.done, record=record, committed=committed)
    except DomainError as exc:
        batch.refresh_from_db()
        if batch.status != BatchStatus.REFUSED:
            _fail(batch, exc.code, exc.message)
        raise
    except Exception as exc:
        log.exception("hotline batch %s failed", batch_id)
        _fail(HotlineBatch.objects.get(pk=batch_id), "import_failed", str(exc))
        raise
    with transaction.atomic():
        batch = HotlineBatch.objects.select_for_update().get(pk=batch_id)
        batch.status, batch.finished_at = BatchStatus.DONE, timezone.now()
        batch.save(update_fields=["status", "finished_at"])
        audit_record(
            action="hotline.import",
            actor=batch.created_by,
            object_type="hotline.hotlinebatch",
            object_id=batch.pk,
            detail={"file_name": batch.file_name, "rows": batch.total, **batch.counts()},
        )
    progress(
        f"done in {time.perf_counter() - started:.1f} s: "
        + ", ".join(f"{k} {v:,}" for k, v in batch.counts().items())
    )
    return batch


def _fail(batch: HotlineBatch, code: str, message: str) -> None:
    """A batch that stopped part-way: what is committed stays; running it again resumes."""
    HotlineBatch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.FAILED,
        error_code=code[:40],
        error_message=message[:500],
        finished_at=timezone.now(),
    )
    audit_record(
        action="hotline.import",
        result=AuditResult.FAILURE,
        actor=batch.created_by,
        object_type="hotline.hotlinebatch",
        object_id=batch.pk,
        detail={"code": code, "rows_done": batch.done},
    )


def batch_resume(*, user: User, batch_id: int) -> HotlineBatch:
    """Queue a failed batch again, or one whose process died while importing (it continues after
    its last committed row; chunks a stray second run also writes fail on the unique keys)."""
    _role(actor_of(user))
    updated = HotlineBatch.objects.filter(
        pk=batch_id, status__in=[BatchStatus.FAILED, BatchStatus.RUNNING]
    ).update(status=BatchStatus.QUEUED, error_code="", error_message="", finished_at=None)
    if not updated:
        raise DomainError("not_resumable", _("Only a failed batch can be run again."), status=409)
    return HotlineBatch.objects.get(pk=batch_id)


# --- the triage queue -----------------------------------------------------------------------------


def order_place(*, actor: Actor, order_id: int, place: str) -> HotlineOrder:
    """Place an order waiting in triage at a known place (``community:<code>`` or
    ``landmark:<id>``): its case is made as the import makes it."""
    role = _role(actor)
    ctx = Context(actor, role)
    known = ctx.gazetteer.get(place)
    if known is None:
        raise DomainError("unknown_place", _("Choose a community or landmark from the list."))
    with transaction.atomic():
        order = order_get(scope=actor.scope, order_id=order_id, for_update=True)
        if order.state != OrderState.TRIAGED:
            raise DomainError("not_in_triage", _("This order is not waiting for a place."), status=409)
        placement = importer.place_known(ctx, known)
        if placement.place is None:
            raise DomainError(placement.code, placement.message)
        now = timezone.now()
        row = importer.order_row(order)
        case, event = importer.build_case(ctx, row, placement, importer.order_terms(row, ctx), at=now)
        importer.write_cases(ctx, [(case, event)], at=now)
        order.case, order.state, order.placed_by = case, OrderState.PLACED, placement.placed_by
        order.reason_code, order.reason, order.updated_at = "", "", now
        order.save()
        audit_record(
            action="hotline.place",
            actor=User.objects.get(pk=actor.user_id),
            object_type="hotline.hotlineorder",
            object_id=order.pk,
            detail={"order": order.external_number, "case": case.number, "place": placement.placed_by},
        )
    return order


def order_reject(*, actor: Actor, order_id: int, reason: str) -> HotlineOrder:
    """Reject an order from triage (not this district's, no matter to handle), saying why."""
    _role(actor)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("reason_required", _("Say why the order is rejected."))
    if len(reason) > REASON_MAX:
        raise DomainError(
            "text_too_long", _("The reason is longer than %(n)d characters.") % {"n": REASON_MAX}
        )
    with transaction.atomic():
        order = order_get(scope=actor.scope, order_id=order_id, for_update=True)
        if order.state != OrderState.TRIAGED:
            raise DomainError("not_in_triage", _("This order is not waiting for a place."), status=409)
        order.state, order.reason_code, order.reason = OrderState.REJECTED, "rejected_by_operator", reason
        order.updated_at = timezone.now()
        order.save()
        audit_record(
            action="hotline.reject",
            actor=User.objects.get(pk=actor.user_id),
            object_type="hotline.hotlineorder",
            object_id=order.pk,
            detail={"order": order.external_number},
        )
    return order
