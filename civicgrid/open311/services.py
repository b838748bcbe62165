"""``POST requests``: an Open311 form post checked field by field, placed, and made into a case
through ``cases.services.case_create`` (numbering, clock, notifications as for any channel),
with the spec's token stored next to it — all in one transaction, so a refused or failed post
leaves nothing behind (``case_saved``), and a replay (same Idempotency-Key) answers the first case.
"""

from __future__ import annotations

import math
import re
import secrets
import threading
import uuid
from contextvars import ContextVar
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from shapely.ops import unary_union

from civicgrid.accounts.models import ApiToken
from civicgrid.accounts.scopes import scope_for
from civicgrid.cases import services as case_services
from civicgrid.cases.models import Case, Channel, Level, Urgency
from civicgrid.cases.workflow import Actor
from civicgrid.errors import DomainError
from civicgrid.open311 import selectors
from civicgrid.open311.models import ServiceRequest
from civicgrid.regions import locator

DESCRIPTION_MAX = 4_000  # the spec's limit; cases keep at most cases.services.DESCRIPTION_MAX
ID_MAX = 64
# A tag, not any "<": residents write "<3" and "温度<0度".
_HTML_TAG = re.compile(r"</?[A-Za-z!][^>]*>")
# Community names carry their committee's title, which addresses leave out.
_OFFICE_SUFFIX = re.compile(r"(居民委员会|居委会|办事处)$")
_ATTRIBUTE = re.compile(r"^attribute\[([A-Za-z0-9_.-]{1,32})\](\[\])?$")


@dataclass
class Posted:
    case: Case
    token: str
    account_id: str
    replayed: bool


def _field(params, name: str, limit: int) -> str:
    value = (params.get(name) or "").strip()
    if len(value) > limit:
        raise DomainError(
            "text_too_long",
            _("%(field)s is longer than %(n)d characters.") % {"field": name, "n": limit},
            {"field": name, "max": limit},
        )
    return value


def _attributes(params) -> dict[str, str]:
    """attribute[code]=value pairs, each checked against the service definition (its keys, not
    its translated labels: this runs on every post)."""
    definitions = selectors.attribute_keys()
    found = {}
    for name in params:
        if not name.startswith("attribute"):
            continue
        match = _ATTRIBUTE.match(name)
        if match is None:
            raise DomainError("bad_attribute", _("Malformed attribute field %(f)s.") % {"f": name[:48]})
        code = match[1]
        if code not in definitions:
            raise DomainError("unknown_attribute", _("This service has no attribute %(c)s.") % {"c": code})
        values = params.getlist(name) if hasattr(params, "getlist") else [params[name]]
        if match[2] or len(values) != 1:  # attribute[x][]= is for multivaluelist; ours are single
            raise DomainError("bad_attribute", _("Attribute %(c)s takes one value.") % {"c": code})
        keys = definitions[code][1]
        if values[0] not in keys:
            raise DomainError(
                "bad_attribute_value",
                _("Attribute %(c)s has no value %(v)s.") % {"c": code, "v": values[0][:32]},
                {"attribute": code, "allowed": sorted(keys)},
            )
        found[code] = values[0]
    for code, (required, _keys) in definitions.items():
        if required and code not in found:
            raise DomainError("attribute_required", _("Attribute %(c)s is required.") % {"c": code})
    return found


def _coordinate(params, name: str, low: float, high: float) -> float | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and low <= value <= high):
        raise DomainError(
            "bad_coordinates", _("%(f)s is not a WGS-84 coordinate.") % {"f": name}, {"field": name}
        )
    return value


# (the loaded index, {street code: point}): a committed generation's streets never move, so a
# street's point is computed once per loaded index (a new index object starts afresh).
_street_points: list = [None, {}]
_street_lock = threading.Lock()


def _region_point(code: str) -> tuple[float, float] | None:
    """A point inside a grid, community or street of the active generation, by its code."""
    loaded = locator.loaded_index()
    for i, place in enumerate(loaded.places):
        if place["grid"]["code"] == code:
            point = loaded.index.geometries[i].representative_point()
            return round(point.x, 7), round(point.y, 7)
    community = locator.community_point(code)
    if community is not None:
        return community
    with _street_lock:
        if _street_points[0] is not loaded:
            _street_points[:] = [loaded, {}]
        known = _street_points[1]
        if code not in known:
            inside = [
                g
                for g, p in zip(loaded.index.geometries, loaded.places, strict=True)
                if p["street"]["code"] == code
            ]
            if not inside:
                return None
            point = unary_union(inside).representative_point()
            known[code] = (round(point.x, 7), round(point.y, 7))
        return known[code]


def _named_place(text: str) -> tuple[float, float] | None:
    """The community or street the address names ("梅园新村社区", "玄武门街道"); the longest name
    wins, so an address in 玄武门社区 is not placed merely in the street around it."""
    loaded = locator.loaded_index()
    aliases: dict[str, str] = {}
    for place in loaded.places:
        for level in ("community", "street"):
            name, code = place[level]["name"], place[level]["code"]
            aliases[name] = code
            short = _OFFICE_SUFFIX.sub("", name)  # 梅园新村社区居委会 → 梅园新村社区
            if len(short) >= 3:
                aliases.setdefault(short, code)
    hits = sorted((a for a in aliases if a in text), key=len, reverse=True)
    return _region_point(aliases[hits[0]]) if hits else None


def _place(params) -> tuple[float, float, str]:
    """(lon, lat, address): the spec's lat+long, else an address_id (a region code) or an
    address_string naming a community or street; the grid worker verifies every post on site."""
    lat = _coordinate(params, "lat", -90, 90)
    lon = _coordinate(params, "long", -180, 180)
    address = _field(params, "address_string", case_services.ADDRESS_MAX)
    address_id = _field(params, "address_id", ID_MAX)
    if (lat is None) != (lon is None):
        raise DomainError("location_incomplete", _("Give both lat and long."))
    if lat is not None:
        return lon, lat, address
    if address_id:
        point = _region_point(address_id)
        if point is None:
            raise DomainError(
                "unknown_address_id",
                _("address_id %(a)s is not a grid, community or street code.") % {"a": address_id},
            )
        return point[0], point[1], address
    if address:
        point = _named_place(address)
        if point is None:
            raise DomainError(
                "address_not_placed",
                _("The address names no community or street of this district; give lat and long."),
            )
        return point[0], point[1], address
    raise DomainError("location_required", _("Give a location: lat and long, address_string or address_id."))


def _person(params) -> tuple[str, str, str]:
    """(name, phone, e-mail) for the encrypted reporter fields; 姓 before 名, as written in Chinese."""
    first, last = _field(params, "first_name", 32), _field(params, "last_name", 32)
    name = f"{last}{first}" if _is_cjk(last + first) else " ".join(p for p in (first, last) if p)
    return name, _field(params, "phone", 32), _field(params, "email", 254)


def _is_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@dataclass
class _Pending:
    """What the post adds to the case, written by ``case_saved`` inside case_create's transaction."""

    api_token: ApiToken
    jurisdiction: selectors.Jurisdiction
    account_id: str
    device_id: str
    email: str
    media_url: str
    row: ServiceRequest | None = None


_pending: ContextVar[_Pending | None] = ContextVar("open311_pending", default=None)


def case_saved(sender, instance: Case, created: bool, **kwargs) -> None:
    """post_save of Case (connected in apps.py): while ``open311_post`` runs case_create, write
    the token row in case_create's own transaction, right after the case.

    Why not wrap case_create in a transaction of our own: on SQLite a transaction takes the
    database's write lock at BEGIN, so the wrapper would hold it through case_create's reads
    (locating, the class, the classifier) that case_create deliberately does before its own
    transaction, and two workers would wait on each other (bench/bench_open311.py: 0.75× the
    native API's rate, p95 1.7×). Raising here rolls the case back with everything else."""
    pending = _pending.get()
    if pending is None or not created or pending.row is not None:
        return
    if instance.district_id != pending.jurisdiction.region_id:
        # The point lies in another district this server also serves: nothing is kept.
        raise DomainError("outside_jurisdiction", _("The location is outside jurisdiction_id."))
    pending.row = ServiceRequest.objects.create(
        case=instance,
        token=secrets.token_hex(12),
        api_token=pending.api_token,
        account_id=pending.account_id,
        device_id=pending.device_id,
        email=pending.email,
        media_url=pending.media_url,
        created_at=timezone.now(),
    )


def open311_post(
    *, api_token: ApiToken, params, jurisdiction: selectors.Jurisdiction, idempotency_key: str = ""
) -> Posted:
    """Make the case a valid post asks for in ``jurisdiction``, or raise a DomainError saying
    what is wrong (and keep nothing)."""
    code = _field(params, "service_code", 16)
    if not code:
        raise DomainError("service_code_required", _("Give the service_code."))
    service = selectors.service_get(code)
    attributes = _attributes(params)
    description = _field(params, "description", DESCRIPTION_MAX)
    if _HTML_TAG.search(description):
        raise DomainError("html_not_allowed", _("The description must be plain text, without HTML."))
    lon, lat, address = _place(params)
    name, phone, email = _person(params)
    media_url = _field(params, "media_url", 500)
    if media_url and not media_url.startswith(("https://", "http://")):
        raise DomainError("bad_media_url", _("media_url must be an http(s) URL."))
    pending = _Pending(
        api_token=api_token,
        jurisdiction=jurisdiction,
        account_id=_field(params, "account_id", ID_MAX),
        device_id=_field(params, "device_id", ID_MAX),
        email=email,
        media_url=media_url,
    )
    user = api_token.user
    actor = Actor(user_id=user.pk, scope=scope_for(user), name=str(user))
    data = case_services.CaseInput(
        channel=Channel.OPEN311,
        title="" if description else service["service_name"],
        description=description,
        lon=lon,
        lat=lat,
        address=address,
        case_class=service["service_code"],
        urgency=attributes.get("urgency", Urgency.NORMAL),
        level=attributes.get("level", Level.STREET),  # civicgrid.routing picks the first tier from it
        reporter_name=name,
        reporter_phone=phone,
    )
    key = (idempotency_key or "").strip() or f"open311-{uuid.uuid4().hex}"
    token = _pending.set(pending)
    try:
        created = case_services.case_create(
            actor=actor, data=data, idempotency_key=key, submitted_by=f"user:{user.pk}"
        )
    except DomainError as error:
        if error.status == 404:  # a point in no grid of ours: for the spec, a bad argument
            error.status = 400
        raise
    finally:
        _pending.reset(token)
    case = created.case
    if created.replayed:
        earlier = ServiceRequest.objects.filter(case=case).values_list("token", "account_id").first()
        if earlier is None:  # the key was first used on another channel: not ours to answer
            raise DomainError(
                "idempotency_key_reused", _("This Idempotency-Key was used for another report."), status=409
            )
        return Posted(case, earlier[0], earlier[1], replayed=True)
    return Posted(case, pending.row.token, pending.account_id, replayed=False)
