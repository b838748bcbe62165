import shapely

from civicgrid.geo.coverage import GAP, OUTSIDE_PARENT, OVERLAP, geodesic_area_m2, validate_children

PARENT = shapely.box(118.80, 32.00, 118.82, 32.01)
LEFT = shapely.box(118.80, 32.00, 118.81, 32.01)
RIGHT = shapely.box(118.81, 32.00, 118.82, 32.01)


def test_a_clean_tiling_has_no_problems():
    assert validate_children("P", PARENT, ["A", "B"], [LEFT, RIGHT]) == []


def test_it_locates_a_gap_with_its_area():
    narrow = shapely.box(118.811, 32.00, 118.82, 32.01)  # leaves a 0.001° strip
    [problem] = validate_children("P", PARENT, ["A", "B"], [LEFT, narrow])
    assert problem.kind == GAP
    assert problem.codes[0] == "P" and {"A", "B"} <= set(problem.codes)
    assert abs(problem.area_m2 - geodesic_area_m2(shapely.box(118.81, 32.00, 118.811, 32.01))) < 1
    assert 118.81 < problem.lon < 118.811 and 32.0 < problem.lat < 32.01


def test_it_locates_an_overlap_between_siblings():
    wide = shapely.box(118.809, 32.00, 118.82, 32.01)
    [problem] = validate_children("P", PARENT, ["A", "B"], [LEFT, wide])
    assert problem.kind == OVERLAP and problem.codes == ["A", "B"]
    assert problem.area_m2 > 1000
    assert 118.809 < problem.lon < 118.81


def test_it_finds_a_child_reaching_outside_its_parent():
    overhang = shapely.box(118.81, 32.00, 118.83, 32.01)
    [problem] = validate_children("P", PARENT, ["A", "B"], [LEFT, overhang])
    assert problem.kind == OUTSIDE_PARENT and problem.codes == ["B", "P"]
    assert problem.lon > 118.82


def test_it_ignores_slivers_below_the_tolerance():
    almost = shapely.box(118.8100001, 32.00, 118.82, 32.01)  # ~1 cm strip, ~10 m²
    assert validate_children("P", PARENT, ["A", "B"], [LEFT, almost], tolerance_m2=20) == []
    assert len(validate_children("P", PARENT, ["A", "B"], [LEFT, almost], tolerance_m2=1)) == 1


def test_a_parent_with_no_children_is_one_big_gap():
    [problem] = validate_children("P", PARENT, [], [])
    assert problem.kind == GAP and problem.area_m2 > 1_000_000


def test_slivers_from_subtracting_matching_polygons_are_not_gaps():
    # A long, many-vertex shared edge: parent minus children leaves only numerical dust, which
    # measures square metres geodesically but nothing as drawn.
    xs = [118.80 + i * 0.0002 for i in range(101)]
    wiggle = [(x, 32.005 + 0.0003 * ((i * 7919) % 13) / 13) for i, x in enumerate(xs)]
    south = shapely.Polygon([(118.80, 32.00), (118.82, 32.00), *reversed(wiggle)])
    north = shapely.Polygon([*wiggle, (118.82, 32.01), (118.80, 32.01)])
    parent = shapely.union_all([south, north])
    assert validate_children("P", parent, ["N", "S"], [north, south]) == []
