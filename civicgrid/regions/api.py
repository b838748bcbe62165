"""API for the grid network: locate, convert, generations, regions. Thin: parse, call, render."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router
from ninja.files import UploadedFile
from ninja.responses import Status
from ninja.security import django_auth

from civicgrid.accounts.scopes import request_scope
from civicgrid.accounts.selectors import grid_people_or_404
from civicgrid.accounts.tokens import TokenAuth, token_user
from civicgrid.errors import DomainError, error_body
from civicgrid.geo import crs as geocrs
from civicgrid.regions import selectors, services
from civicgrid.regions.attributes import attributes_export
from civicgrid.regions.forms import MAX_UPLOAD_BYTES
from civicgrid.regions.importer import PropertyMap
from civicgrid.regions.models import Region
from civicgrid.regions.schemas import (
    ConvertBulkIn,
    ConvertOut,
    GenerationOut,
    LocateBulkIn,
    LocateOut,
    RegionDetailOut,
    RegionOut,
    StaffOut,
    ValidationOut,
)
from civicgrid.responses import excel_response

geo_router = Router(tags=["geo"])
regions_router = Router(tags=["regions"])


def _require_boundary_admin(request) -> None:
    # Changing boundaries is configuration: the system admin's (and whoever holds the model
    # permission), never the auditor's or the security admin's (三权分立).
    if not request.user.has_perm("regions.add_boundarygeneration"):
        raise DomainError("forbidden", _("Only administrators may change boundaries."), status=403)


@geo_router.get("/locate", response=LocateOut, summary="Which grid is at this point")
def locate(request, lon: float, lat: float, crs: str = "wgs84", generation: str | None = None):
    return selectors.grid_locate(lon=lon, lat=lat, crs=crs, generation=generation)


@geo_router.post("/locate", summary="Locate up to 10,000 points at once")
def locate_bulk(request, payload: LocateBulkIn):
    limit = settings.LOCATE_BULK_MAX
    if len(payload.points) > limit:
        raise DomainError(
            "too_many_points",
            _("At most %(n)d points per request.") % {"n": limit},
            {"limit": limit},
            status=413,
        )
    loaded, results = selectors.grid_locate_many(
        points=payload.points, crs=payload.crs, generation=payload.generation
    )
    failed = sum(1 for r in results if "error" in r)
    return {
        "generation": {"id": loaded.generation_id, "name": loaded.generation_name},
        "count": len(results),
        "located": len(results) - failed,
        "failed": failed,
        "results": results,
    }


def _convert_check(source: str, target: str) -> None:
    for value in (source, target):
        if value not in geocrs.CRS_CHOICES:
            raise DomainError(
                "bad_crs", _("Unknown coordinate system %(crs)s; use wgs84, gcj02 or bd09.") % {"crs": value}
            )


@geo_router.get("/convert", response=ConvertOut, summary="Convert a point between WGS-84, GCJ-02 and BD-09")
def convert(
    request,
    lon: float,
    lat: float,
    source: str = Query("wgs84", alias="from"),
    target: str = Query(..., alias="to"),
):
    _convert_check(source, target)
    x, y = geocrs.convert(lon, lat, source=source, target=target)
    return {"lon": round(x, 9), "lat": round(y, 9), "crs": target}


@geo_router.post("/convert", summary="Convert many points")
def convert_bulk(request, payload: ConvertBulkIn):
    _convert_check(payload.source, payload.target)
    if len(payload.points) > settings.LOCATE_BULK_MAX:
        raise DomainError(
            "too_many_points",
            _("At most %(n)d points per request.") % {"n": settings.LOCATE_BULK_MAX},
            status=413,
        )
    if not payload.points:
        return {"crs": payload.target, "points": []}
    lon, lat = zip(*payload.points, strict=True)
    x, y = geocrs.convert(list(lon), list(lat), source=payload.source, target=payload.target)
    return {
        "crs": payload.target,
        "points": [[round(a, 9), round(b, 9)] for a, b in zip(x.tolist(), y.tolist(), strict=True)],
    }


@geo_router.get("/generations", response=list[GenerationOut], summary="Boundary generations, newest first")
def generations(request):
    return list(selectors.generation_list())


@geo_router.get(
    "/generations/{generation}", response=GenerationOut, summary="One generation (id, name or 'active')"
)
def generation_detail(request, generation: str):
    return selectors.generation_get(generation)


@geo_router.get("/generations/{generation}/validation", response=ValidationOut, summary="Coverage problems")
def generation_validation(request, generation: str):
    gen = selectors.generation_get(generation)
    problems = services.generation_validate(generation=gen)
    return {"generation": gen, "ok": not problems, "problems": [p.as_dict() for p in problems]}


@geo_router.get("/generations/{generation}/geojson", summary="Export a generation as GeoJSON")
def generation_export(request, generation: str, level: str | None = None, crs: str = "wgs84"):
    gen = selectors.generation_get(generation)
    text = selectors.generation_export_text(generation=gen, level=level, crs=crs)
    return HttpResponse(text, content_type="application/geo+json; charset=utf-8")


@geo_router.post(
    "/generations",
    auth=[TokenAuth("generations:write"), django_auth],  # token first: see cases/api.py
    response={200: dict, 422: dict},
    summary="Import a generation (dry run unless commit)",
)
def generation_import(
    request,
    file: File[UploadedFile],
    name: Form[str],
    commit: Form[bool] = False,
    activate: Form[bool] = False,
    description: Form[str] = "",
):
    _require_boundary_admin(request)
    if file.size > MAX_UPLOAD_BYTES:
        raise DomainError("too_large", _("The file is larger than 50 MB."), status=413)
    report = services.generation_import(
        data=file.read(),
        name=name,
        mapping=PropertyMap(),
        commit=commit,
        activate=activate,
        description=description,
        source=file.name or "",
        by=request.user,
    )
    if not report.ok:
        message = _("%(n)d problems found; nothing was written.") % {"n": len(report.problems)}
        return Status(422, error_body("import_rejected", message, report.as_dict()))
    return Status(200, report.as_dict())


@geo_router.post(
    "/generations/{generation}/activate",
    auth=[TokenAuth("generations:write"), django_auth],  # token first: see cases/api.py
    response=GenerationOut,
)
def generation_activate(request, generation: str):
    _require_boundary_admin(request)
    return services.generation_activate(generation=selectors.generation_get(generation), by=request.user)


def _region_out(region: Region) -> dict:
    return {
        **{f: getattr(region, f) for f in RegionOut.model_fields if f != "parent_code"},
        "parent_code": region.parent.code if region.parent else None,
    }


@regions_router.get("", response=list[RegionOut], summary="Search regions by code prefix or name")
def region_list(request, q: str = "", level: str | None = None, parent: str | None = None, limit: int = 50):
    return [_region_out(r) for r in selectors.region_search(q=q, level=level, parent=parent, limit=limit)]


@regions_router.get("/export.xlsx", summary="Attributes of every region at a level, as Excel")
def region_export(request, level: str = "grid"):
    if level not in ("street", "community", "grid"):
        raise DomainError("bad_level", _("Unknown level %(level)s.") % {"level": level})
    return excel_response(attributes_export(level=level), f"{level}-attributes.xlsx")


@regions_router.get(
    "/{code}/people", response=list[StaffOut], summary="Who serves a grid now (in your scope)"
)
def region_people(request, code: str):
    token_user(request, scope="people:read")
    _grid, people = grid_people_or_404(scope=request_scope(request), code=code)
    return [
        {"post": s.post, "post_label": s.get_post_display(), "name": str(s.user), "since": s.start}
        for s in people
    ]


@regions_router.get("/{code}", response=RegionDetailOut, summary="One region with its place in the tree")
def region_detail(request, code: str, generation: str | None = None):
    region = selectors.region_get(code)
    ancestors, node = [], region.parent
    while node is not None:
        ancestors.insert(0, {"code": node.code, "name": node.name})
        node = node.parent
    boundary = selectors.region_boundary(region, generation)
    children = [{"code": c.code, "name": c.name} for c in region.children.order_by("code")]
    return {
        **_region_out(region),
        "ancestors": ancestors,
        "children": children,
        "area_m2": boundary.area_m2 if boundary else None,
        "synthetic": boundary.synthetic if boundary else None,
    }
