"""A batch chunk by chunk: ``prepare_chunk`` checks, places and builds every row of a chunk as if
it were new (no writes: forked worker processes can do it), then ``write_chunk`` decides against
the database which rows are new, changed or unchanged and writes them in one transaction.

Building is most of an import's CPU (the case and its first event by ``cases.services``, the
encrypted caller, the table rows), so a large batch builds on every core while this process
writes, as the demo's bulk loader does; the rows written are the same either way. A row built
for an order that turns out to exist already is dropped: the changed ones are updated here.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.cases.models import Case
from civicgrid.cases.numbering import next_numbers
from civicgrid.hotline import importer
from civicgrid.hotline.importer import _CASES, _EVENTS, _LINES, _ORDERS, ChunkResult, Context, Line
from civicgrid.hotline.models import HotlineOrder, OrderState, Outcome
from civicgrid.hotline.rows import OrderRow, Rejection, parse_row

CHUNK = 1000
PARALLEL_FROM = 20_000  # below this, forking costs more than it saves


@dataclass
class Built:
    """One checked row as the writer inserts it if its order is new."""

    row: int
    order: OrderRow
    fingerprint: str
    order_row: tuple | None = None  # case id still None; None: the order was stored already
    case_row: tuple | None = None  # case number still ""; None: it waits in triage
    event_row: tuple | None = None  # case id still None
    reason: tuple[str, str] = ("", "")  # why it waits in triage


@dataclass
class Prepared:
    now: datetime
    last_row: int
    rejected: list[Line]
    built: list[Built]


def _index(table, name: str) -> int:
    return [attname for _f, attname, _a in table.columns].index(name)


def prepare_chunk(ctx: Context, items: list[tuple[int, dict]], *, batch_id: int) -> Prepared:
    """Check, place and build the rows ``items`` ((row number, raw row)); writes nothing. Orders
    stored already are not built (a re-sent batch costs little): the writer compares or updates them."""
    now = timezone.now()
    rejected, parsed = [], []
    for row_no, raw in items:
        r = parse_row(raw, now=now)
        if isinstance(r, Rejection):
            rejected.append(Line(row_no, r.external_number, Outcome.REJECTED, code=r.code, message=r.message))
        else:
            parsed.append((row_no, r))
    stored = set(
        HotlineOrder.objects.filter(external_number__in=[r.external_number for _n, r in parsed])
        .order_by()
        .values_list("external_number", flat=True)
    )
    fresh = [(n, r) for n, r in parsed if r.external_number not in stored]
    built = {b.row: b for b in build_rows(ctx, fresh, batch_id=batch_id, at=now)}
    for row_no, r in parsed:
        if row_no not in built:
            built[row_no] = Built(row_no, r, importer.fingerprint(ctx, r))
    return Prepared(now, items[-1][0], rejected, [built[n] for n, _r in parsed])


def build_rows(
    ctx: Context, parsed: list[tuple[int, OrderRow]], *, batch_id: int, at: datetime
) -> list[Built]:
    """The table rows of new orders and, for the placed ones, their cases and first events."""
    placements = importer.place_orders(ctx, [r for _n, r in parsed])
    orders, cases, events, placed_at = [], [], [], []
    for i, (_row_no, r) in enumerate(parsed):
        terms = importer.order_terms(r, ctx)
        placement = placements[r.external_number]
        placed = placement.place is not None
        if placed:
            case, event = importer.build_case(ctx, r, placement, terms, at=at)
            cases.append(case)
            events.append(event)
            placed_at.append(i)
        values = importer.order_values(r, terms, at=at)
        orders.append(
            importer.new_order_row(values, batch_id=batch_id, at=at, placed=placed, placement=placement)
        )
    order_rows = _ORDERS.rows(orders)
    built = [
        Built(
            row_no, r, orders[i].fingerprint, order_rows[i], reason=(orders[i].reason_code, orders[i].reason)
        )
        for i, (row_no, r) in enumerate(parsed)
    ]
    for i, case_row, event_row in zip(placed_at, _CASES.rows(cases), _EVENTS.rows(events), strict=True):
        built[i].case_row, built[i].event_row = case_row, event_row
    return built


def _with(row: tuple, index: int, value) -> tuple:
    return (*row[:index], value, *row[index + 1 :])


def write_chunk(
    ctx: Context,
    batch_id: int,
    prepared: Prepared,
    seen: dict[str, int],
    record: Callable[[ChunkResult, int], None],
) -> ChunkResult:
    """One transaction: the chunk's new orders and cases, the changed ones updated, its report
    lines, and ``record(result, last row)`` (the batch's progress). ``seen`` (order number → first
    row in this batch) grows only when the chunk commits."""
    result = ChunkResult(lines=list(prepared.rejected))
    fresh: dict[str, int] = {}
    kept = []
    for b in prepared.built:
        first = seen.get(b.order.external_number) or fresh.get(b.order.external_number)
        if first is not None:
            message = _("Order number already in row %(row)d of this batch.") % {"row": first}
            result.lines.append(
                Line(
                    b.row,
                    b.order.external_number,
                    Outcome.REJECTED,
                    code="duplicate_in_batch",
                    message=message,
                )
            )
            continue
        fresh[b.order.external_number] = b.row
        kept.append(b)
    with transaction.atomic():
        _write(ctx, batch_id, kept, result, prepared.now)
        result.lines.sort(key=lambda line: line.row)
        record(result, prepared.last_row)
    seen.update(fresh)
    return result


def _write(ctx: Context, batch_id: int, kept: list[Built], result: ChunkResult, now: datetime) -> None:
    # Plain values, not models: loading an order would decrypt its caller and build its case,
    # and a re-sent batch is mostly unchanged orders (only the changed ones are loaded below).
    existing = {
        row[0]: row
        for row in HotlineOrder.objects.filter(external_number__in=[b.order.external_number for b in kept])
        .order_by()
        .values_list("external_number", "pk", "fingerprint", "caller_fingerprint", "case__number")
    }
    new, changed, unbuilt = [], [], []
    for b in kept:
        found = existing.get(b.order.external_number)
        if found is None and b.order_row is None:
            unbuilt.append(b)  # stored when built, gone now: orders are never deleted, but never lose one
        elif found is None:
            new.append(b)
        elif found[2] == b.fingerprint and b.order.caller_fingerprint in (None, found[3]):
            result.lines.append(Line(b.row, b.order.external_number, Outcome.UNCHANGED, found[4] or ""))
        else:
            changed.append((b, found[1]))
    if unbuilt:
        new += build_rows(ctx, [(b.row, b.order) for b in unbuilt], batch_id=batch_id, at=now)
    placed = [b for b in new if b.case_row is not None]
    numbers = next_numbers(ctx.district_code, timezone.localdate(now), len(placed)) if placed else []
    number_at, event_case_at = _index(_CASES, "number"), _index(_EVENTS, "case_id")
    _CASES.insert([_with(b.case_row, number_at, n) for b, n in zip(placed, numbers, strict=True)])
    ids = dict(Case.objects.filter(number__in=numbers).values_list("number", "id")) if numbers else {}
    _EVENTS.insert([_with(b.event_row, event_case_at, ids[n]) for b, n in zip(placed, numbers, strict=True)])
    case_of = {b.row: n for b, n in zip(placed, numbers, strict=True)}
    order_case_at = _index(_ORDERS, "case_id")
    _ORDERS.insert([_with(b.order_row, order_case_at, ids.get(case_of.get(b.row))) for b in new])
    for b in new:
        if b.row in case_of:
            result.lines.append(Line(b.row, b.order.external_number, Outcome.CREATED, case_of[b.row]))
        else:
            code, message = b.reason
            result.lines.append(
                Line(b.row, b.order.external_number, Outcome.TRIAGED, code=code, message=message)
            )
    if changed:
        orders = HotlineOrder.objects.select_related("case").in_bulk([pk for _b, pk in changed])
        waiting = [b.order for b, pk in changed if orders[pk].state == OrderState.TRIAGED]
        retry = importer.place_orders(ctx, waiting)
        for b, pk in changed:
            placement = retry.get(b.order.external_number)
            result.lines.append(
                importer.update_order(ctx, batch_id, b.row, b.order, orders[pk], placement, now)
            )
    names = [name for _f, name, _a in _LINES.columns]
    _LINES.insert(
        [
            tuple(
                {
                    "batch_id": batch_id,
                    "row": line.row,
                    "external_number": line.external_number[:64],
                    "outcome": line.outcome,
                    "case_number": line.case_number,
                    "code": line.code,
                    "message": line.message[:300],
                }[name]
                for name in names
            )
            for line in result.lines
        ]
    )


# --- the whole batch ------------------------------------------------------------------------------

# The forked workers' job, inherited when they are forked.
_job: tuple[Context, int] | None = None


def _prepare_in_worker(items: list[tuple[int, dict]]) -> Prepared:
    ctx, batch_id = _job
    return prepare_chunk(ctx, items, batch_id=batch_id)


def worker_count(rows: int) -> int:
    """Processes that build while this one writes: one per core for large batches (setting
    HOTLINE_IMPORT_WORKERS overrides; 1: all here). Forking needs Linux, no open transaction, and
    the main thread: a process forked from one thread of many (a Huey thread worker) may inherit
    a lock another thread held, so there the batch is built in place."""
    wanted = settings.HOTLINE_IMPORT_WORKERS
    if not wanted:
        wanted = (os.cpu_count() or 1) if rows >= PARALLEL_FROM else 1
    on_main_thread = threading.current_thread() is threading.main_thread()
    if sys.platform != "linux" or connection.in_atomic_block or not on_main_thread:
        return 1
    return max(1, int(wanted))


def _prepared(ctx: Context, batch_id: int, chunks: list[list], workers: int) -> Iterator[Prepared]:
    global _job
    if workers == 1:
        for items in chunks:
            yield prepare_chunk(ctx, items, batch_id=batch_id)
        return
    connections.close_all()  # no worker may share this process's connection
    _job = (ctx, batch_id)
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            yield from pool.imap(_prepare_in_worker, chunks)
    finally:
        _job = None


def import_rows(
    ctx: Context,
    batch_id: int,
    rows: list[dict],
    *,
    start: int = 0,
    chunk: int | None = None,
    record: Callable[[ChunkResult, int], None] = lambda result, done: None,
    committed: Callable[[int], None] = lambda done: None,
) -> None:
    """Import ``rows`` from index ``start`` (rows before it are committed already: their order
    numbers are read again so that a duplicate after a resume is still caught). ``record`` runs
    inside each chunk's transaction, ``committed(rows done)`` after it."""
    chunk = chunk or CHUNK
    seen: dict[str, int] = {}
    stamp = timezone.now()
    for i, raw in enumerate(rows[:start], start=1):
        r = parse_row(raw, now=stamp)
        if isinstance(r, OrderRow):
            seen.setdefault(r.external_number, i)
    chunks = [list(enumerate(rows[b : b + chunk], start=b + 1)) for b in range(start, len(rows), chunk)]
    for prepared in _prepared(ctx, batch_id, chunks, worker_count(len(rows) - start)):
        for attempt in range(2):
            try:
                write_chunk(ctx, batch_id, prepared, seen, record)
                break
            except IntegrityError:
                # Another import wrote some of these orders meanwhile: read them again once.
                if attempt:
                    raise
        committed(prepared.last_row)
