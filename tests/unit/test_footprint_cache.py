"""Footprint tables cached in the store folder (geo/footprint_cache.py): what is read
back equals what the runtime computes, for LSC, Northamptonshire and North East and
North Cumbria (the largest ICB); a damaged cached table is computed again and
rewritten; nothing is cached for another store."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from geo import footprint as F
from geo import footprint_cache as C

CODES = {"E54000048": ("lsoa25",), "E54000059": C.TABLES, "E54000050": C.TABLES}


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """The cache in a temp folder (the worktree's store stays as it is)."""
    monkeypatch.setattr(C, "folder", lambda store, code: tmp_path / C.FOLDER / code)
    return tmp_path / C.FOLDER


def _view(store, code):
    return F.LscView(store) if code == F.LSC_CODE else F.IcbView(store, code)


def _same(a, b, name):
    """Same columns, dtypes, values and CRS, and byte-identical geometry (WKB: a few
    source polygons are invalid, where a topological equality test says False even for
    the very same coordinates)."""
    assert list(a.columns) == list(b.columns), name
    assert len(a) == len(b) > 0, name
    assert a.crs == b.crs and a.geometry.name == b.geometry.name, name
    pd.testing.assert_frame_equal(pd.DataFrame(a.drop(columns=a.geometry.name)),
                                  pd.DataFrame(b.drop(columns=b.geometry.name)), check_exact=True, obj=name)
    assert list(a.geometry.to_wkb()) == list(b.geometry.to_wkb()), name


@pytest.mark.parametrize("code", list(CODES))
def test_cached_tables_equal_what_the_runtime_computes(store, cache_dir, code, monkeypatch):
    fresh = _view(store, code)
    computed = {name: getattr(fresh, name) for name in CODES[code]}
    for name in CODES[code]:
        assert C.check(store, code, name) is None, name         # written as computed
        assert (cache_dir / code / f"{name}.parquet").is_file()
    # a new view (a restarted server) reads them back without the England-wide LSOA
    # tables (only the small ICB list, for the name)
    real = F.national

    def no_national(s, name):
        if name != "icb":
            raise AssertionError(f"recomputed from {name} instead of read from the cache")
        return real(s, name)

    def no_links(*a):
        raise AssertionError("recomputed instead of read from the cache")
    monkeypatch.setattr(F, "national", no_national)
    monkeypatch.setattr(F, "best_fit_links", no_links)
    again = _view(store, code)
    for name in CODES[code]:
        _same(getattr(again, name), computed[name], f"{code} {name}")


def test_lsoa_counts_of_the_cached_footprints(store, cache_dir):
    """Published: Northamptonshire 443 LSOA 2021, North East and North Cumbria 1,889."""
    for code, n in (("E54000059", 443), ("E54000050", 1889)):
        F.IcbView(store, code).lsoa25
        assert len(F.IcbView(store, code).lsoa25) == n
        meta = json.loads((cache_dir / code / "lsoa25.json").read_text())
        assert meta["rows"] == n and meta["geo"] is True


@pytest.mark.parametrize("damage, reason", [
    ("flip", "checksum differs"), ("truncate", "changed size"), ("delete", "missing"),
    ("sidecar", "another store")])
def test_a_damaged_cached_table_is_computed_again_and_rewritten(store, cache_dir, damage, reason):
    code = "E54000059"
    want = F.IcbView(store, code).wards24
    f = cache_dir / code / "wards24.parquet"
    data = f.read_bytes()
    if damage == "flip":
        f.write_bytes(data[:-9] + bytes([data[-9] ^ 0xFF]) + data[-8:])
    elif damage == "truncate":
        f.write_bytes(data[: len(data) // 2])
    elif damage == "delete":
        f.unlink()
    else:                                    # written for another store (or older code)
        meta = f.with_suffix(".json")
        m = json.loads(meta.read_text())
        m["store"] = "v0-0000000000000000"
        meta.write_text(json.dumps(m))
    assert reason in (C.check(store, code, "wards24") or "")
    assert C.load(store, code, "wards24") is None
    got = F.IcbView(store, code).wards24
    _same(got, want, "healed wards24")
    assert C.check(store, code, "wards24") is None            # rewritten, sound again
    assert f.read_bytes() == data


def test_an_unwritable_cache_only_means_computing(store, tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setattr(C, "folder", lambda s, code: blocker / code)
    v = F.IcbView(store, "E54000059")
    assert len(v.lsoa25) == 443
    assert C.check(store, "E54000059", "lsoa25") is not None


def test_prewarm_caches_every_table(store, cache_dir):
    """What `geo build` does for England (prewarm), on Northamptonshire: every table
    cached and sound, 443 LSOA 2021, its districts (LAD 2024) and sub-ICB places."""
    C.prewarm(store, ["E54000059"])
    for name in C.TABLES:
        assert C.check(store, "E54000059", name) is None, name
    l25 = C.load(store, "E54000059", "lsoa25")
    assert len(l25) == 443 and l25["lsoa21cd"].is_unique and l25.crs.to_epsg() == 4326
    d = C.load(store, "E54000059", "districts")
    assert set(d["lad19cd"]) == set(l25["lad24cd"])
