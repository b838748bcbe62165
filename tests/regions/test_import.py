"""Importing a generation: every bad input located, nothing half-written, good files land."""

import copy
import json

import pytest

from civicgrid.regions import locator, services
from civicgrid.regions.models import Boundary, BoundaryGeneration, Region
from civicgrid.regions.selectors import grid_locate

from .helpers import dumps, feature, geometry, grid_collection, set_geometry

pytestmark = pytest.mark.django_db

A_COMMUNITY = "320102002001"


def _import(data, **kwargs):
    kwargs.setdefault("name", "redraw-2027")
    return services.generation_import(data=data, **kwargs)


def _kinds(report):
    return sorted(p.kind for p in report.problems)


def test_it_rejects_a_broken_file_with_every_problem_located_and_writes_nothing(demo):
    collection = grid_collection()
    codes = [
        f["properties"]["code"]
        for f in collection["features"]
        if f["properties"]["parent_code"] == A_COMMUNITY
    ]
    # 1. a gap: drop one grid
    collection["features"].remove(feature(collection, codes[0]))
    # 2. an overlap: grow a grid into its neighbours (also pushes it out of its community)
    set_geometry(collection, codes[2], geometry(collection, codes[2]).buffer(0.0008))
    # 3. a grid outside its community: move one far into another street
    moved = geometry(collection, codes[3])
    set_geometry(collection, codes[3], moved.buffer(0))  # keep shape, same place first
    far = feature(collection, "32010201000101")["geometry"]
    feature(collection, codes[3])["geometry"] = far
    # 4. a duplicate code
    twin = copy.deepcopy(feature(collection, codes[4]))
    collection["features"].append(twin)
    before = (BoundaryGeneration.objects.count(), Boundary.objects.count(), Region.objects.count())

    report = _import(dumps(collection), commit=True)

    assert not report.ok and not report.committed
    kinds = _kinds(report)
    assert "gap" in kinds and "overlap" in kinds and "outside_parent" in kinds and "duplicate_code" in kinds
    for problem in report.problems:
        assert problem.codes, problem
        assert problem.lon is not None and problem.lat is not None, problem
        assert problem.message
    gaps = [p for p in report.problems if p.kind == "gap" and p.codes[0] == A_COMMUNITY]
    assert gaps and gaps[0].area_m2 > 1000
    assert any(p.kind == "outside_parent" and p.codes == [codes[3], A_COMMUNITY] for p in report.problems)
    duplicate = next(p for p in report.problems if p.kind == "duplicate_code")
    assert duplicate.codes == [codes[4]] and duplicate.feature == len(collection["features"]) - 1
    assert (BoundaryGeneration.objects.count(), Boundary.objects.count(), Region.objects.count()) == before


@pytest.mark.parametrize(
    ("mutate", "kind"),
    [
        (lambda f: f.update(geometry={"type": "Point", "coordinates": [118.8, 32.05]}), "not_polygon"),
        (lambda f: f["properties"].pop("code"), "missing_code"),
        (lambda f: f["properties"].update(code="32010200209901", parent_code=None), "unknown_community"),
        (lambda f: f["properties"].update(code="3201020020010"), "bad_code_format"),
        (lambda f: f["properties"].update(population="many"), "bad_attribute"),
        (
            lambda f: f.update(
                geometry={
                    "type": "Polygon",
                    "coordinates": [
                        [[118.80, 32.05], [118.81, 32.06], [118.81, 32.05], [118.80, 32.06], [118.80, 32.05]]
                    ],
                }
            ),
            "invalid_geometry",
        ),
        (
            lambda f: f.update(
                geometry={
                    "type": "Polygon",
                    "coordinates": [[[y, x] for x, y in ring] for ring in f["geometry"]["coordinates"]],
                }
            ),
            "swapped_axes",
        ),
        (
            lambda f: f.update(
                geometry={
                    "type": "Polygon",
                    "coordinates": [
                        [[x * 100000, y * 100000] for x, y in ring] for ring in f["geometry"]["coordinates"]
                    ],
                }
            ),
            "projected_coordinates",
        ),
    ],
)
def test_each_kind_of_bad_feature_is_named(demo, mutate, kind):
    collection = grid_collection()
    target = collection["features"][5]
    target["geometry"] = {
        "type": "Polygon",
        "coordinates": [list(map(list, geometry(collection, target["properties"]["code"]).exterior.coords))],
    }
    mutate(target)
    report = _import(dumps(collection))
    assert kind in _kinds(report)
    named = next(p for p in report.problems if p.kind == kind)
    assert named.feature == 5
    assert not BoundaryGeneration.objects.filter(name="redraw-2027").exists()


def test_a_self_intersection_is_located_where_it_crosses(demo):
    collection = grid_collection()
    bowtie = [[118.80, 32.05], [118.81, 32.06], [118.81, 32.05], [118.80, 32.06], [118.80, 32.05]]
    collection["features"][0]["geometry"] = {"type": "Polygon", "coordinates": [bowtie]}
    problem = next(p for p in _import(dumps(collection)).problems if p.kind == "invalid_geometry")
    assert problem.lon == pytest.approx(118.805) and problem.lat == pytest.approx(32.055)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b'{"type": "FeatureCollection", "features": [', "invalid_json"),
        (b"\xff\xfe\x00", "invalid_json"),
        (b'{"type": "Feature"}', "not_feature_collection"),
        (b'{"type": "FeatureCollection", "features": []}', "no_features"),
    ],
)
def test_unreadable_files_are_reported_not_raised(demo, data, kind):
    report = _import(data)
    assert kind in _kinds(report)


def test_a_redrawn_generation_lands_as_a_draft_and_can_be_activated(demo):
    collection = grid_collection()
    codes = [
        f["properties"]["code"]
        for f in collection["features"]
        if f["properties"]["parent_code"] == A_COMMUNITY
    ]
    # Merge two grids into one and give it a new name: a real redraw.
    merged = geometry(collection, codes[0]).union(geometry(collection, codes[1]))
    set_geometry(collection, codes[0], merged)
    feature(collection, codes[0])["properties"]["name"] = "合并网格"
    collection["features"].remove(feature(collection, codes[1]))
    point = geometry(collection, codes[0]).representative_point()
    old = grid_locate(lon=point.x, lat=point.y)["grid"]["code"]

    dry = _import(dumps(collection))
    assert (
        dry.ok and not dry.committed and dry.copied_from_base == {"district": 1, "street": 7, "community": 60}
    )
    assert not BoundaryGeneration.objects.filter(name="redraw-2027").exists()

    report = _import(dumps(collection), commit=True, activate=True)
    assert report.ok and report.committed
    new = BoundaryGeneration.objects.get(name="redraw-2027")
    assert new.state == "active" and new.boundaries.filter(region__level="grid").count() == 614
    assert BoundaryGeneration.objects.get(name="xuanwu-demo").state == "retired"
    locator.forget()
    # The merged grid answers now; the old generation still answers as it did.
    assert grid_locate(lon=point.x, lat=point.y)["grid"]["code"] == codes[0]
    assert grid_locate(lon=point.x, lat=point.y, generation="xuanwu-demo")["grid"]["code"] == old
    assert Region.objects.get(code=codes[0]).name == "合并网格"


def test_property_names_can_be_mapped(demo):
    collection = grid_collection()
    for f in collection["features"]:
        f["properties"]["WGBM"] = f["properties"].pop("code")
    from civicgrid.regions.importer import PropertyMap

    assert "missing_code" in _kinds(_import(dumps(collection)))
    assert _import(dumps(collection), mapping=PropertyMap.from_pairs(["code=WGBM"])).ok


def test_it_refuses_a_name_already_taken(demo):
    report = _import(dumps(grid_collection()), name="xuanwu-demo")
    assert "generation_exists" in _kinds(report)


def test_activation_is_refused_for_a_generation_with_problems(demo):
    from civicgrid.errors import DomainError

    generation = BoundaryGeneration.objects.create(name="empty")
    with pytest.raises(DomainError) as caught:
        services.generation_activate(generation=generation)
    assert caught.value.code == "generation_has_problems"
    assert BoundaryGeneration.objects.get(name="xuanwu-demo").state == "active"


def test_export_reads_back_unchanged(demo):
    collection = grid_collection()
    text = json.dumps(collection)
    assert json.loads(text)["features"][0]["geometry"] == collection["features"][0]["geometry"]
    assert _import(text.encode()).ok
