"""Pages of the grid network: the map, a grid's page, and the admin's validation views."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET

from civicgrid.accounts.scopes import request_scope
from civicgrid.accounts.selectors import grid_people
from civicgrid.errors import DomainError
from civicgrid.regions import selectors, services
from civicgrid.regions.forms import GenerationUploadForm
from civicgrid.regions.models import BoundaryGeneration, Level


def grid_map(request):
    try:
        generation = selectors.generation_get(request.GET.get("generation"))
    except DomainError:
        generation = None
    config = {
        "dataUrl": request.build_absolute_uri("/map/grids.geojson"),
        "locateUrl": "/api/v1/geo/locate",
        "regionsUrl": "/api/v1/regions",
        "tileUrl": settings.TILE_URL,
        "tileCrs": settings.TILE_CRS,
        "tileAttribution": settings.TILE_ATTRIBUTION,
        "generation": generation.id if generation else None,
        # The card asks for a grid's people only when someone is signed in (404 otherwise).
        "signedIn": request.user.is_authenticated,
    }
    return render(request, "regions/map.html", {"generation": generation, "config": config})


@require_GET
@gzip_page
def grid_map_data(request):
    """Districts, streets, communities and grids for the map, in the tiles' CRS."""
    generation = selectors.generation_get(request.GET.get("generation"))
    crs = settings.TILE_CRS if settings.TILE_URL else "wgs84"
    text = selectors.generation_geojson_text(generation=generation, crs=crs)
    response = HttpResponse(text, content_type="application/geo+json; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    return response


def grid_page(request, code: str):
    region = selectors.region_get(code)
    boundary = selectors.region_boundary(region)
    ancestors, node = [], region.parent
    while node is not None:
        ancestors.insert(0, node)
        node = node.parent
    return render(
        request,
        "regions/region.html",
        {
            "region": region,
            "boundary": boundary,
            "ancestors": ancestors,
            "children": region.children.order_by("code"),
            "people": grid_people(scope=request_scope(request), grid=region)
            if region.level == Level.GRID
            else [],
        },
    )


@login_required
@permission_required("regions.view_boundarygeneration", raise_exception=True)
def generation_problems(request, generation_id: int):
    generation = get_object_or_404(BoundaryGeneration, id=generation_id)
    problems = services.generation_validate(generation=generation)
    return render(
        request,
        "admin/regions/problems.html",
        {
            "generation": generation,
            "problems": problems,
            "problems_data": [p.as_dict() for p in problems],
            "context_data": selectors.generation_geojson(generation=generation, level=Level.COMMUNITY),
            "title": _("Coverage of %(name)s") % {"name": generation.name},
        },
    )


@login_required
@permission_required("regions.add_boundarygeneration", raise_exception=True)
def generation_upload(request):
    """Upload a GeoJSON file: a dry run shows every problem on a map; commit writes a draft."""
    report = None
    form = GenerationUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        report = services.generation_import(
            data=form.cleaned_data["file"].read(),
            name=form.cleaned_data["name"],
            commit=form.cleaned_data["commit"],
            description=form.cleaned_data["description"],
            source=form.cleaned_data["file"].name,
            by=request.user,
        )
        if report.committed:
            messages.success(request, _("Generation %(name)s imported as a draft.") % form.cleaned_data)
            return redirect("admin:regions_boundarygeneration_change", report.generation_id)
    base = selectors.generation_list().filter(state="active").first()
    return render(
        request,
        "admin/regions/upload.html",
        {
            "form": form,
            "report": report,
            "problems_data": [p.as_dict() for p in report.problems] if report else [],
            "context_data": selectors.generation_geojson(generation=base, level=Level.COMMUNITY)
            if base
            else None,
            "title": _("Import a boundary generation"),
        },
    )
