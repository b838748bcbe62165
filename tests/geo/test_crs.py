import numpy as np
import pytest

from civicgrid.geo import crs

# Reference values agreed by several independent libraries (shared/data/xuanwu/README.md).
WGS = (118.7930, 32.0720)
GCJ = (118.798191, 32.069927)
BD = (118.804615, 32.076287)


def test_it_matches_published_gcj02_and_bd09_values():
    assert crs.wgs84_to_gcj02(*WGS) == pytest.approx(GCJ, abs=2e-6)
    assert crs.wgs84_to_bd09(*WGS) == pytest.approx(BD, abs=2e-6)


def test_it_inverts_gcj02_to_well_under_a_millimetre():
    back = crs.gcj02_to_wgs84(*crs.wgs84_to_gcj02(*WGS))
    # 1e-8° is about 1 mm; the one-step inverse in common use is ~1e-5° off.
    assert back == pytest.approx(WGS, abs=1e-8)


def test_it_inverts_bd09_exactly_too():
    assert crs.bd09_to_wgs84(*crs.wgs84_to_bd09(*WGS)) == pytest.approx(WGS, abs=1e-8)


def test_it_converts_arrays_elementwise():
    lon = np.array([118.78, 118.80, 118.90])
    lat = np.array([32.02, 32.05, 32.10])
    gx, gy = crs.convert(lon, lat, source="wgs84", target="gcj02")
    assert gx.shape == (3,)
    for i in range(3):
        assert (gx[i], gy[i]) == pytest.approx(crs.wgs84_to_gcj02(lon[i], lat[i]))
    wx, wy = crs.convert(gx, gy, source="gcj02", target="wgs84")
    np.testing.assert_allclose(wx, lon, atol=1e-8)
    np.testing.assert_allclose(wy, lat, atol=1e-8)


def test_it_leaves_points_outside_china_unchanged():
    assert crs.wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)


def test_it_rejects_unknown_systems():
    with pytest.raises(ValueError, match="unknown CRS"):
        crs.convert(118.8, 32.0, source="wgs84", target="epsg3857")


def test_it_shifts_xuanwu_by_the_documented_offset():
    gx, gy = crs.wgs84_to_gcj02(*WGS)
    east_m = (gx - WGS[0]) * 111_320 * np.cos(np.radians(WGS[1]))
    north_m = (gy - WGS[1]) * 110_574
    assert 450 < east_m < 510 and -260 < north_m < -210
