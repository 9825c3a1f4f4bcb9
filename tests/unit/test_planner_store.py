"""Saved plans and planned schedules in the user-data store (geo/plan_store.py), on
SQLite and PostgreSQL (tests/pgcluster.py): save / list / load / remove / restore,
simultaneous saves under one name all kept, a schedule read back by the services
register as planned HARI bus stops with their dates."""
from __future__ import annotations

import threading

import pytest

from geo import plan_store as ps
from geo import planner as pl
from geo import userdb
from tests.pgcluster import fresh_database, shared_server

AREA = {"kind": "district", "code": "E06000009", "name": "Blackpool"}


@pytest.fixture(scope="session")
def pg_server():
    return shared_server()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    url = (f"sqlite:///{tmp_path / 'user' / userdb.DB_FILE}" if request.param == "sqlite"
           else fresh_database(request.getfixturevalue("pg_server")))
    d = userdb.UserDB(url)
    yield d
    d.engine.dispose()


def _result(n=3):
    stops = [pl.Stop(f"V{i}", f"Venue {i}", 53.80 + i / 100, -3.05, 331000, 436000 + 1000 * i, 10.0 - i,
                     postcode="FY1 1AA") for i in range(n)]
    return pl.PlanResult(stops=stops, total_weight=100, already_covered_weight=0, covered_weight=27,
                         optimal=True, gap=0.0, status="optimal", method="exact", greedy_covered_weight=27,
                         demand=None, radius_km=1.5, weight="core20", weight_label="Core20")


def test_save_list_load_remove_restore(db):
    doc = ps.plan_document({"k": 3, "reach": "km", "radius_km": 1.5, "first": "2027-03-01", "per_week": 2},
                           _result(), AREA)
    out = ps.save_plan("Blackpool spring", doc, created_by="alice", db=db)
    assert out.created and out.version == 1
    assert not ps.save_plan("Blackpool spring", doc, db=db).created        # same content: nothing new
    [e] = ps.list_plans(db=db)
    assert (e.name, e.rows, e.meta["area"], e.meta["k"]) == ("Blackpool spring", 3, "Blackpool", 3)
    back = ps.load_plan("Blackpool spring", db=db)
    assert [s["id"] for s in back["stops"]] == ["V0", "V1", "V2"] and back["inputs"]["first"] == "2027-03-01"
    assert back["saved"]["created_by"] == "alice"
    ps.remove_plan("Blackpool spring", db=db)
    assert ps.list_plans(db=db) == []
    with pytest.raises(userdb.NotFound):
        ps.load_plan("Blackpool spring", db=db)
    ps.restore_plan("Blackpool spring", db=db)
    assert ps.load_plan("Blackpool spring", db=db)["saved"]["version"] == 1


def test_simultaneous_saves_under_one_name_are_all_kept(db):
    n, out, barrier = 6, [], threading.Barrier(6)

    def go(i):
        barrier.wait()
        doc = ps.plan_document({"k": i + 1}, _result(i + 1), AREA)
        out.append(ps.save_plan("shared", doc, created_by=f"user{i}", db=db))
    ts = [threading.Thread(target=go, args=(i,)) for i in range(n)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    assert sorted(o.version for o in out) == list(range(1, n + 1))
    ks = sorted(ps.load_plan("shared", v, db=db)["inputs"]["k"] for v in range(1, n + 1))
    assert ks == list(range(1, n + 1))


def test_schedule_is_read_back_as_planned_hari_stops(db, store):
    from geo import saved_services as ss
    saved, res = ps.save_schedule(_result(3), "2027-03-01", 2, "Spring", created_by="bob", db=db)
    assert saved.name == "Spring (planned HARI schedule).csv" and saved.version == 1
    reg = ss.load_register(db=db)
    mine = reg.records[reg.records["source_file"] == f"user data: {saved.name}"]
    assert list(mine["event_date"]) == ["2027-03-01", "2027-03-04", "2027-03-08"]
    assert (mine["status"] == "planned").all() and (mine["category"] == "hari_bus").all()
    from geo.access import outreach_recency
    from geo.services import effective_status
    assert (effective_status(mine, "2027-01-01") == "planned").all()
    w = store.wards24
    rec = outreach_recency(w, reg.category("hari_bus"), "2027-01-01").set_index("wd24cd")
    assert "2027-03-01" in set(rec["next_stop_date"].dropna())
    with pytest.raises(Exception, match="no stops"):
        ps.save_schedule(pl.PlanResult([], 0, 0, 0, True, 0, "x", "exact", 0, None, 1.0), "2027-03-01", 1, "x",
                         db=db)
