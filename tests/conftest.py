"""Shared fixtures. The real store is built (if missing or stale) once per session
from the real source folder (../shared/data or $LSC_DATA_DIR)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from geo.paths import source_dir, store_dir

ROOT = Path(__file__).resolve().parent.parent

# In-process AppTest runs have no browser to report the map's first paint, so the app's
# map-first run would never be followed by the full page: draw the full page at once.
# (tests/app/test_first_paint.py turns it back on; the e2e servers run it as users get it.)
os.environ.setdefault("LSC_PROGRESSIVE", "0")
ARTIFACTS = ROOT / "artifacts"
# Fixtures that read the real source folder or the store built from it: a test using one
# (directly or through another fixture) is marked real_data. Tests that read the data
# some other way (a CLI run on the default store, source_dir()) carry the mark themselves.
REAL_DATA_FIXTURES = {"real_source", "store"}


E2E = Path(__file__).resolve().parent / "e2e"


def pytest_collection_modifyitems(config, items):
    for item in items:
        # every e2e test drives the app served (tests/e2e/harness.py Server) from the real store
        if REAL_DATA_FIXTURES & set(getattr(item, "fixturenames", ())) or E2E in Path(item.path).parents:
            item.add_marker(pytest.mark.real_data)


@pytest.fixture(scope="session")
def real_source() -> Path:
    p = source_dir()
    assert (p / "SOURCES.md").exists(), f"real source folder not found at {p} (set LSC_DATA_DIR)"
    return p


@pytest.fixture(scope="session")
def store(real_source):
    from geo.build import build, is_stale
    from geo.store import load_store
    dest = store_dir()
    if is_stale(real_source, dest):
        build(real_source, dest, log=lambda m: None)
    return load_store(dest)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def tiny_store(tmp_path_factory):
    """The synthetic store of tests/synthetic.py (no real data), loaded as the app loads one."""
    from geo.store import load_store
    from tests.synthetic import write_tiny_store
    return load_store(write_tiny_store(tmp_path_factory.mktemp("tiny") / "store"))
