"""Broken source files stop the build with a message naming file, column/row and problem,
and the previous store stays usable. Each case edits one file in a copy of the real source
folder (other files are symlinked to the real ones)."""
import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from geo.build import build, write_store
from geo.storefile import StoreWriteError
from geo.errors import SourceError
from geo.store import load_store

ENG = "imd/iod2019_lsoa11_england.csv"
LSOA_POLYS = "boundaries/lsoa2011_bsc_lsc.geojson"
W19 = "lookups/lsoa11_to_ward2019_lad2019_bestfit_ons_lsc.csv"


@pytest.fixture(scope="module")
def good(tmp_path_factory, real_source):
    """A good store built in a temp folder: the 'previous store' every bad build must leave alone."""
    dest = tmp_path_factory.mktemp("store") / "store"
    build(real_source, dest, log=lambda m: None)
    return dest, (dest / "manifest.json").read_text()


@pytest.fixture
def src(tmp_path, real_source):
    """A source folder of symlinks to the real files; tests replace single files."""
    root = tmp_path / "src"
    for f in real_source.rglob("*"):
        if f.is_file():
            t = root / f.relative_to(real_source)
            t.parent.mkdir(parents=True, exist_ok=True)
            t.symlink_to(f)
    return root


def replace(src: Path, rel: str, data) -> Path:
    p = src / rel
    p.unlink()
    if isinstance(data, bytes):
        p.write_bytes(data)
    else:
        p.write_text(data)
    return p


def assert_fails_and_store_intact(src, good, *, match, allow_changed=True):
    dest, manifest = good
    with pytest.raises(SourceError, match=match) as ei:
        build(src, dest, allow_changed=allow_changed, log=lambda m: None)
    assert (dest / "manifest.json").read_text() == manifest
    s = load_store(dest)
    assert len(s.lsoa) == 1049  # still readable
    assert not [p for p in dest.parent.iterdir() if ".tmp-" in p.name]  # no partial output left behind
    return str(ei.value)


def test_missing_file(src, good):
    (src / ENG).unlink()
    msg = assert_fails_and_store_intact(src, good, match="source file missing")
    assert ENG in msg


def test_truncated_file_detected_by_checksum(src, good, real_source):
    data = (real_source / ENG).read_bytes()
    replace(src, ENG, data[: len(data) // 2])
    msg = assert_fails_and_store_intact(src, good, match="sha256 differs", allow_changed=False)
    assert ENG in msg


def test_truncated_file_detected_by_content(src, good, real_source):
    data = (real_source / ENG).read_bytes()
    cut = data[: len(data) // 2]
    replace(src, ENG, cut)
    msg = assert_fails_and_store_intact(src, good, match="truncated")
    assert ENG in msg and "32,844" in msg


def test_corrupt_geojson(src, good):
    replace(src, LSOA_POLYS, b"\x00\x01garbage{not json")
    msg = assert_fails_and_store_intact(src, good, match="cannot be read as GeoJSON")
    assert LSOA_POLYS in msg


def test_wrong_crs_coordinates_are_metres(src, good, real_source):
    """Easting/northing written into a GeoJSON that (by default) claims WGS84."""
    import geopandas as gpd
    g = gpd.read_file(real_source / LSOA_POLYS).to_crs(27700).set_crs(4326, allow_override=True)
    p = src / LSOA_POLYS
    p.unlink()
    g.to_file(p, driver="GeoJSON")
    msg = assert_fails_and_store_intact(src, good, match="wrong CRS")
    assert LSOA_POLYS in msg


def test_other_declared_crs_is_reprojected_not_rejected(src, tmp_path, real_source):
    import geopandas as gpd
    g = gpd.read_file(real_source / LSOA_POLYS).to_crs(27700)
    p = src / LSOA_POLYS
    p.unlink()
    g.to_file(p, driver="GeoJSON")  # GDAL writes the EPSG:27700 crs member
    dest = tmp_path / "store"
    build(src, dest, allow_changed=True, log=lambda m: None)
    s = load_store(dest)
    assert s.lsoa.crs.to_epsg() == 4326
    assert -3.7 < s.lsoa.total_bounds[0] < -2.0


def test_renamed_column(src, good, real_source):
    df = pd.read_csv(real_source / ENG)
    df = df.rename(columns={"Index of Multiple Deprivation (IMD) Score": "IMD score"})
    replace(src, ENG, df.to_csv(index=False))
    msg = assert_fails_and_store_intact(src, good, match="required column")
    assert "Index of Multiple Deprivation (IMD) Score" in msg


def test_duplicate_codes(src, good, real_source):
    df = pd.read_csv(real_source / W19)
    df = pd.concat([df.iloc[:10], df.iloc[[3]], df.iloc[10:]])
    replace(src, W19, df.to_csv(index=False))
    msg = assert_fails_and_store_intact(src, good, match="duplicate code")
    assert "row 12" in msg and "LSOA11CD" in msg and W19 in msg


def test_codes_from_another_boundary_vintage(src, good, real_source):
    gj = json.loads((real_source / LSOA_POLYS).read_text())
    gj["features"][5]["properties"]["LSOA11CD"] = "E01035999"  # a 2021-only LSOA code
    replace(src, LSOA_POLYS, json.dumps(gj))
    msg = assert_fails_and_store_intact(src, good, match="boundary vintage mismatch")
    assert "E01035999" in msg


def test_non_numeric_value_names_row_and_column(src, good, real_source):
    df = pd.read_csv(real_source / ENG, dtype=str)
    df.loc[99, "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)"] = "ten"
    replace(src, ENG, df.to_csv(index=False))
    msg = assert_fails_and_store_intact(src, good, match="'ten' is not a number")
    assert "row 101" in msg and "Decile" in msg


def test_empty_file(src, good):
    replace(src, W19, "")
    assert_fails_and_store_intact(src, good, match="file is empty")


def test_failure_while_writing_leaves_previous_store(tmp_path, good, monkeypatch):
    dest = tmp_path / "store"
    shutil.copytree(good[0], dest)
    before = (dest / "manifest.json").read_text()

    class Boom(pd.DataFrame):
        def to_parquet(self, *a, **k):
            raise OSError("disk full")

    with pytest.raises(StoreWriteError, match="disk full.*previous store is unchanged"):
        write_store({"lsoa": pd.DataFrame({"a": [1]}), "boom": Boom({"a": [1]})}, dest, {"store_version": 1})
    assert (dest / "manifest.json").read_text() == before
    assert sorted(os.listdir(tmp_path)) == ["store"]
