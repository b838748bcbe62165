import csv
from collections import Counter

import pytest

from civicgrid.demo import xuanwu
from civicgrid.regions.codes import parse_grid_code
from civicgrid.regions.validation import Entry, coverage_problems


def test_it_has_the_real_streets_and_communities_and_exactly_615_grids(demo_divisions):
    levels = Counter((d.level, d.statistical_only) for d in demo_divisions)
    assert levels[("district", False)] == 1
    assert levels[("street", False)] == 7
    assert levels[("community", False)] == 60
    assert levels[("grid", False)] == 615
    with xuanwu.DIVISIONS_FILE.open(encoding="utf-8") as fh:
        real = {row["code12"]: row["name"] for row in csv.DictReader(fh)}
    for d in demo_divisions:
        if d.level != "grid":
            assert real[d.code] == d.name


def test_every_community_has_grids_numbered_from_one_in_the_standard_format(demo_divisions):
    by_community = {}
    for d in demo_divisions:
        if d.level == "grid":
            community, seq = parse_grid_code(d.code)
            assert community == d.parent_code and len(d.code) == 14
            by_community.setdefault(community, []).append(seq)
    assert len(by_community) == 60
    for seqs in by_community.values():
        assert sorted(seqs) == list(range(1, len(seqs) + 1))
        assert len(seqs) >= 4


def test_only_the_district_outline_is_real(demo_divisions):
    for d in demo_divisions:
        if d.geometry is not None:
            assert d.synthetic == (d.level != "district")
    statistical = [d for d in demo_divisions if d.statistical_only]
    assert {d.kind for d in statistical} == {"development-zone", "virtual-community"}
    assert all(d.geometry is None for d in statistical)


def test_denser_places_get_smaller_grids(demo_divisions):
    grids = {d.code: d for d in demo_divisions if d.level == "grid"}
    xinjiekou = [g.geometry.area for g in grids.values() if g.code.startswith("320102003")]
    xuanwuhu = [g.geometry.area for g in grids.values() if g.code.startswith("320102010")]
    assert sum(xinjiekou) / len(xinjiekou) < sum(xuanwuhu) / len(xuanwuhu)


@pytest.mark.django_db
def test_it_passes_coverage_validation(demo_divisions):
    entries = {
        d.code: Entry(d.code, d.level, d.parent_code, d.geometry)
        for d in demo_divisions
        if d.geometry is not None
    }
    assert coverage_problems(entries) == []


def test_the_same_seed_gives_the_same_bytes(demo_divisions):
    again = xuanwu.build()  # a second, independent build
    assert xuanwu.to_geojson(again) == xuanwu.to_geojson(demo_divisions)


def test_grids_inside_a_community_read_north_to_south(demo_divisions):
    grids = [d for d in demo_divisions if d.parent_code == "320102009003"]
    first, last = grids[0].geometry.representative_point(), grids[-1].geometry.representative_point()
    assert first.y > last.y
