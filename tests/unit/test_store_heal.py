"""The store heals (issue #13 item 5): per-table checksums that `--if-stale` checks, an
atomic swap (never a moment without a store), leftovers of dead builds cleaned, a full
disk said in one line, and a corrupt table never shown as a pyarrow traceback."""
from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import threading

import pandas as pd
import pytest

from geo import storefile
from geo.build import fingerprint, is_stale
from geo.errors import StoreMissing
from geo.paths import ROOT
from geo.store import load_store


def _tiny(dest, root, n=3):
    man = {"store_version": 1, "fingerprint": fingerprint(root)}
    storefile.write_store({"a": pd.DataFrame({"x": range(n)}), "b": pd.DataFrame({"y": ["p", "q"]})}, dest, man)
    return json.loads((dest / "manifest.json").read_text())


def test_manifest_holds_each_tables_checksum(tmp_path, real_source):
    man = _tiny(tmp_path / "store", real_source)
    for name in ("a", "b"):
        f = tmp_path / "store" / f"{name}.parquet"
        assert man["tables"][name]["sha256"] == storefile.sha256_file(f)
        assert man["tables"][name]["bytes"] == f.stat().st_size
    assert is_stale(real_source, tmp_path / "store") is None


@pytest.mark.parametrize("damage, reason", [
    ("truncate", "changed size"), ("flip", "checksum differs"), ("delete", "missing")])
def test_if_stale_sees_a_damaged_table(tmp_path, real_source, damage, reason):
    dest = tmp_path / "store"
    _tiny(dest, real_source)
    f = dest / "a.parquet"
    data = f.read_bytes()
    if damage == "truncate":
        f.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        f.write_bytes(data[:-9] + bytes([data[-9] ^ 0xFF]) + data[-8:])
    else:
        f.unlink()
    why = is_stale(real_source, dest)
    assert why is not None and reason in why and "table a" in why


def test_swap_never_leaves_a_moment_without_a_store(tmp_path, real_source):
    dest = tmp_path / "store"
    _tiny(dest, real_source)
    seen_missing, stop = [], threading.Event()

    def watch():
        while not stop.is_set():
            if not (dest / "manifest.json").exists():
                seen_missing.append(1)
    t = threading.Thread(target=watch)
    t.start()
    try:
        for i in range(40):
            _tiny(dest, real_source, n=i + 1)
    finally:
        stop.set()
        t.join()
    assert seen_missing == []
    assert len(pd.read_parquet(dest / "a.parquet")) == 40
    assert sorted(os.listdir(tmp_path)) == ["store"]        # old stores removed after the swap


def test_leftovers_of_dead_builds_are_cleaned(tmp_path, real_source):
    dest = tmp_path / "store"
    for left in ("store.tmp-abc123", "store.old-1700000000000"):
        (tmp_path / left).mkdir()
        (tmp_path / left / "lsoa.parquet").write_bytes(b"half")
    (tmp_path / "other").mkdir()                             # not ours: kept
    _tiny(dest, real_source)
    assert sorted(os.listdir(tmp_path)) == ["other", "store"]


def test_full_disk_is_one_line_and_the_old_store_stays(tmp_path, real_source, monkeypatch):
    dest = tmp_path / "store"
    _tiny(dest, real_source)
    before = (dest / "manifest.json").read_text()

    def full(self, *a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(pd.DataFrame, "to_parquet", full)
    with pytest.raises(storefile.StoreWriteError) as e:
        _tiny(dest, real_source)
    msg = str(e.value)
    assert "the disk is full" in msg and "MB free" in msg and "previous store is unchanged" in msg
    assert "\n" not in msg
    assert (dest / "manifest.json").read_text() == before
    assert sorted(os.listdir(tmp_path)) == ["store"]


def test_corrupt_table_is_a_message_and_make_store_rebuilds_it(tmp_path, store, real_source):
    dest = tmp_path / "store"
    shutil.copytree(store.path, dest)
    f = dest / "lsoa.parquet"
    f.write_bytes(f.read_bytes()[:1000])                     # truncated
    with pytest.raises(StoreMissing, match="cannot be read.*make store"):
        load_store(dest).lsoa
    env = {**os.environ, "LSC_STORE_DIR": str(dest)}
    r = subprocess.run([sys.executable, "-m", "geo", "report", "--by", "district", "--vintage", "2019"],
                       cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr and "pyarrow" not in r.stderr.lower()
    assert "lsoa" in r.stderr and "make store" in r.stderr
    # the advice works: --if-stale sees the damage (what `make store` runs)
    assert "table lsoa" in is_stale(real_source, dest)
