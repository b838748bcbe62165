"""Importing a batch of hotline orders: check every row, place it, build its case with the services'
own ``case_build`` and write a chunk of orders at a time.

100,000 orders must go in within three minutes (~560 a second; ``case_create`` makes ~300), so
a chunk's cases, first events, orders and report lines are written in bulk (``civicgrid.bulk.Table``,
COPY on PostgreSQL) in one transaction together with the batch's progress: a failure loses
nothing already committed, and running the batch again resumes after the last committed row.
Nothing is doubled: orders are unique by the hotline's number, and each case carries the
idempotency key ``hotline:<number>``. Case numbers come from the same per-day counter as
``case_create``, reserved as a block inside the chunk's transaction (the counter row stays locked
until the commit, so concurrent intakes wait a moment and never get a number twice).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import NamedTuple

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.bulk import Table
from civicgrid.cases import services
from civicgrid.cases.models import Case, CaseEvent, CaseState, Channel
from civicgrid.cases.numbering import next_numbers, tracking_code
from civicgrid.cases.services import CaseInput
from civicgrid.cases.taxonomy import suggest_classes
from civicgrid.cases.workflow import Action, Actor
from civicgrid.errors import DomainError
from civicgrid.geo import crs as geocrs
from civicgrid.hotline import config
from civicgrid.hotline.models import HotlineBatchLine, HotlineOrder, OrderState, Outcome
from civicgrid.hotline.places import Gazetteer, Known
from civicgrid.hotline.rows import OrderRow
from civicgrid.regions import locator
from civicgrid.regions.models import Region
from civicgrid.regions.selectors import grid_locate_many

SUBMITTER = "hotline"  # Case.submitted_by of every imported case
KEY_PREFIX = "hotline:"
TITLE_MAX = 30
_CASES, _EVENTS = Table(Case, with_pk=False), Table(CaseEvent, with_pk=False)
_ORDERS, _LINES = Table(HotlineOrder, with_pk=False), Table(HotlineBatchLine, with_pk=False)


@dataclass
class Line:
    row: int
    external_number: str
    outcome: str
    case_number: str = ""
    code: str = ""
    message: str = ""


@dataclass
class Placement:
    """Where an order goes: a place (``grid_locate`` answer and the WGS-84 point), or why not."""

    place: dict | None = None
    lon: float = 0.0
    lat: float = 0.0
    placed_by: str = ""
    code: str = ""
    message: str = ""


@dataclass
class ChunkResult:
    lines: list[Line] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(Outcome.values, 0)
        for line in self.lines:
            out[line.outcome] += 1
        return out


class Context:
    """What an import reads once: the grid index, the gazetteer, the configuration, the actor."""

    def __init__(self, actor: Actor, role: str):
        self.actor, self.role = actor, role
        loaded = locator.loaded_index()
        self.generation = {"id": loaded.generation_id, "name": loaded.generation_name}
        self.region_ids = dict(loaded.region_ids) or dict(Region.objects.values_list("code", "id"))
        self.district_code = loaded.places[0]["district"]["code"][:6]
        self.gazetteer = Gazetteer()
        self.mappings = config.class_mappings()
        self._suggested: dict[str, list[str]] = {}

    def suggested(self, text: str) -> list[str]:
        found = self._suggested.get(text)
        if found is None:
            found = [s.code for s in suggest_classes(text)]
            if len(self._suggested) < 100_000:
                self._suggested[text] = found
        return found


def hotline_role(scope) -> str | None:
    """The role under which someone takes hotline orders in (cases.services.CHANNEL_ROLES)."""
    return next((r for r in services.CHANNEL_ROLES[Channel.HOTLINE] if scope.has_role(r)), None)


# --- placing --------------------------------------------------------------------------------------


def place_orders(ctx: Context, rows: list[OrderRow]) -> dict[str, Placement]:
    """Place each order: by its coordinates, else by the place its address names."""
    out: dict[str, Placement] = {}
    points: dict[str, list[tuple[OrderRow, float, float, str]]] = {}
    for r in rows:
        if r.has_point:
            points.setdefault(r.crs, []).append((r, r.lon, r.lat, "coordinates"))
            continue
        if not r.address:
            out[r.external_number] = Placement(
                code="no_place", message=_("Neither coordinates nor an address: choose the place.")
            )
            continue
        known = ctx.gazetteer.match(r.address)
        if known is None:
            out[r.external_number] = Placement(
                code="address_unmatched",
                message=_("The address names no known street, community or landmark: choose the place."),
            )
            continue
        points.setdefault("wgs84", []).append((r, known.lon, known.lat, known.placed_by))
    for crs, group in points.items():
        _loaded, found = grid_locate_many(points=[(lon, lat) for _r, lon, lat, _b in group], crs=crs)
        wlon, wlat = geocrs.to_wgs84([g[1] for g in group], [g[2] for g in group], crs)
        for i, (r, _lon, _lat, placed_by) in enumerate(group):
            result = found[i]
            if "error" in result:
                error = result["error"]
                out[r.external_number] = Placement(code=error["code"], message=str(error["message"])[:300])
            else:
                out[r.external_number] = Placement(
                    place={
                        "generation": ctx.generation,
                        "wgs84": {"lon": round(float(wlon[i]), 8), "lat": round(float(wlat[i]), 8)},
                        **result,
                    },
                    lon=round(float(wlon[i]), 8),
                    lat=round(float(wlat[i]), 8),
                    placed_by=placed_by,
                )
    return out


def place_known(ctx: Context, known: Known) -> Placement:
    """An operator's choice from the triage page (a community or landmark)."""
    _loaded, found = grid_locate_many(points=[(known.lon, known.lat)], crs="wgs84")
    if "error" in found[0]:
        return Placement(code=found[0]["error"]["code"], message=str(found[0]["error"]["message"])[:300])
    return Placement(
        place={"generation": ctx.generation, "wgs84": {"lon": known.lon, "lat": known.lat}, **found[0]},
        lon=known.lon,
        lat=known.lat,
        placed_by=f"manual:{known.placed_by}",
    )


# --- building -------------------------------------------------------------------------------------


def _title(r: OrderRow) -> str:
    first = r.content.splitlines()[0] if r.content else ""
    return first[:TITLE_MAX]


def order_terms(r: OrderRow, ctx: Context) -> Terms:
    """The class mapping, feedback kind and feedback deadline of an order."""
    mapping = ctx.mappings.get(r.hotline_class)
    kind = config.limit_kind_for(given=r.limit_kind, urgency=r.urgency, mapping=mapping)
    deadline = config.feedback_deadline(received_at=r.received_at, requested=r.feedback_by, kind=kind)
    return Terms(mapping, kind, deadline)


def fingerprint(ctx: Context, r: OrderRow) -> str:
    mapping = ctx.mappings.get(r.hotline_class)
    return r.fingerprint(config.limit_kind_for(given=r.limit_kind, urgency=r.urgency, mapping=mapping))


def order_row(order: HotlineOrder) -> OrderRow:
    """A stored order as a checked row (for placing it from the triage page)."""
    reveal = lambda v: v.reveal() if hasattr(v, "reveal") else (v or "")  # noqa: E731
    return OrderRow(
        external_number=order.external_number,
        received_at=order.received_at,
        content=order.content,
        address=order.address,
        lon=order.lon,
        lat=order.lat,
        crs=order.crs,
        hotline_class=order.hotline_class,
        urgency=order.urgency,
        feedback_by=order.feedback_requested_at,
        limit_kind=order.limit_kind,
        caller_name=reveal(order.caller_name),
        caller_phone=reveal(order.caller_phone),
        facts="",
        caller_fingerprint=order.caller_fingerprint,
    )


def _note(r: OrderRow, deadline: datetime) -> str:
    return _("12345 order %(n)s (received %(at)s); feedback due %(due)s.") % {
        "n": r.external_number,
        "at": timezone.localtime(r.received_at).strftime("%Y-%m-%d %H:%M"),
        "due": timezone.localtime(deadline).strftime("%Y-%m-%d %H:%M"),
    }


def build_case(
    ctx: Context, r: OrderRow, placement: Placement, terms: Terms, *, at: datetime
) -> tuple[Case, CaseEvent]:
    """The order's case and first event in memory, exactly as ``case_create`` would make them
    (numbered by ``write_cases``)."""
    mapping, kind, deadline = terms
    coordinates = placement.placed_by == "coordinates"
    data = CaseInput(
        channel=Channel.HOTLINE,
        title=_title(r),
        description=r.content[: services.DESCRIPTION_MAX],
        lon=r.lon if coordinates else placement.lon,
        lat=r.lat if coordinates else placement.lat,
        crs=r.crs if coordinates else "wgs84",
        address=r.address,
        urgency=r.urgency,
        reporter_name=r.caller_name or "",
        reporter_phone=r.caller_phone or "",
        note=_note(r, deadline),
    )
    case, event = services.case_build(
        data=data,
        actor=ctx.actor,
        role=ctx.role,
        title=data.title,
        description=data.description,
        place=placement.place,
        region_ids=ctx.region_ids,
        case_class=mapping.case_class if mapping else None,
        suggested=ctx.suggested(r.content),
        number="",
        code=tracking_code(),
        key=KEY_PREFIX + r.external_number,
        submitted_by=SUBMITTER,
        at=at,
    )
    event.data["hotline"] = {
        "order": r.external_number,
        "limit_kind": kind,
        "feedback_deadline": deadline.isoformat(),
        "placed_by": placement.placed_by,
    }
    return case, event


def write_cases(ctx: Context, built: list[tuple[Case, CaseEvent]], *, at: datetime) -> None:
    """Number and insert the cases and their first events; give each its database id."""
    if not built:
        return
    numbers = next_numbers(ctx.district_code, timezone.localdate(at), len(built))
    for (case, _event), number in zip(built, numbers, strict=True):
        case.number = number
    _CASES.insert(_CASES.rows([c for c, _e in built]))
    ids = dict(Case.objects.filter(number__in=numbers).values_list("number", "id"))
    for case, event in built:
        case.pk = ids[case.number]
        case._state.adding = False
        event.case_id = case.pk
    _EVENTS.insert(_EVENTS.rows([e for _c, e in built]))


class Terms(NamedTuple):
    mapping: config.Mapping | None
    kind: str
    deadline: datetime


def order_values(r: OrderRow, terms: Terms, *, at: datetime) -> dict:
    """The order's fields from a checked row (the caller only when the file has the columns)."""
    values = {
        "external_number": r.external_number,
        "received_at": r.received_at,
        "content": r.content,
        "address": r.address,
        "lon": r.lon,
        "lat": r.lat,
        "crs": r.crs,
        "hotline_class": r.hotline_class,
        "urgency": r.urgency,
        "feedback_requested_at": r.feedback_by,
        "limit_kind": terms.kind,
        "feedback_deadline": terms.deadline,
        "fingerprint": r.fingerprint(terms.kind),
        "updated_at": at,
    }
    if r.caller_fingerprint is not None:
        values |= {
            "caller_name": r.caller_name,
            "caller_phone": r.caller_phone,
            "caller_fingerprint": r.caller_fingerprint,
        }
    return values


def new_order_row(values: dict, *, batch_id: int, at: datetime, placed: bool, placement: Placement):
    """A new order as the bulk writer reads it: a plain object with every column's attribute
    (a model instance per order cost a tenth of the import); its case id is set by the writer."""
    return SimpleNamespace(
        **({"caller_name": "", "caller_phone": "", "caller_fingerprint": ""} | values),
        batch_id=batch_id,
        created_at=at,
        state=OrderState.PLACED if placed else OrderState.TRIAGED,
        placed_by=placement.placed_by if placed else "",
        reason_code="" if placed else placement.code,
        reason="" if placed else placement.message,
        case_id=None,
    )


# --- a changed order ------------------------------------------------------------------------------


def update_order(
    ctx: Context, batch_id: int, row_no: int, r: OrderRow, order: HotlineOrder, placement, now
) -> Line:
    """A changed order: update it and its case (text, urgency, caller) with a note on the case's
    timeline; a case never moves backwards, and a closed case is left as it is."""
    terms = order_terms(r, ctx)
    try:
        with transaction.atomic():
            for name, value in order_values(r, terms, at=now).items():
                setattr(order, name, value)
            order.batch_id = batch_id
            message, code = "", ""
            if order.state == OrderState.TRIAGED and placement is not None and placement.place is not None:
                case, event = build_case(ctx, r, placement, terms, at=now)
                write_cases(ctx, [(case, event)], at=now)
                order.case, order.state, order.placed_by = case, OrderState.PLACED, placement.placed_by
                order.reason_code = order.reason = ""
                message = _("Placed now; case created.")
            elif order.state == OrderState.TRIAGED and placement is not None:
                order.reason_code, order.reason = placement.code, placement.message
                code, message = placement.code, placement.message
            elif order.case_id:
                code, message = _update_case(ctx, order.case, r, terms.deadline)
            order.save()
    except DomainError as exc:
        return Line(row_no, r.external_number, Outcome.REJECTED, code=exc.code, message=exc.message[:300])
    number = order.case.number if order.case_id else ""
    return Line(row_no, r.external_number, Outcome.UPDATED, number, code, message)


def _update_case(ctx: Context, case: Case, r: OrderRow, deadline: datetime) -> tuple[str, str]:
    case = Case.objects.select_for_update().get(pk=case.pk)
    if not case.is_open:
        return "case_closed", _("The case is %(state)s: only the order was updated.") % {
            "state": CaseState(case.state).label
        }
    changes = {
        "title": _title(r),
        "description": r.content[: services.DESCRIPTION_MAX],
        "address": r.address,
    }
    if r.caller_fingerprint is not None:
        changes |= {"reporter_name": r.caller_name, "reporter_phone": r.caller_phone}
    what = sorted(k for k, v in changes.items() if getattr(case, k) != v)
    if r.urgency != case.urgency:
        what.append("urgency")
        case.urgency = r.urgency  # written by the note's move below (MOVE_FIELDS)
    Case.objects.filter(pk=case.pk).update(**changes)
    note = _("12345 order %(n)s updated (%(what)s); feedback due %(due)s.") % {
        "n": r.external_number,
        "what": ", ".join(what) or _("time or place"),
        "due": timezone.localtime(deadline).strftime("%Y-%m-%d %H:%M"),
    }
    services.case_move(
        actor=ctx.actor, number=case.number, action=Action.NOTE, version=None, note=note, case=case
    )
    return "", ""
