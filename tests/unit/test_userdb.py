"""The user-data store (geo/userdb.py), each test against SQLite and PostgreSQL: many
processes saving under one name at once all keep their version; an identical save is
recognised; a removal is undone; files the app wrote before the store are migrated once,
losslessly. PostgreSQL is a throwaway cluster (tests/pgcluster.py) unless
LSC_TEST_DATABASE_URL names one; it never skips."""
from __future__ import annotations

import hashlib
import multiprocessing as mp

import pytest

from geo import userdb
from tests.pgcluster import fresh_database, shared_server

N_PROCS = 8


@pytest.fixture(scope="session")
def pg_server():
    return shared_server()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'user' / userdb.DB_FILE}"
    return fresh_database(request.getfixturevalue("pg_server"))


@pytest.fixture
def db(db_url):
    d = userdb.UserDB(db_url)
    yield d
    d.engine.dispose()


def _save_worker(url, i, barrier, out):
    d = userdb.UserDB(url)                      # its own engine, as a separate app/CLI process
    content = f"id,name,category,postcode\nP-{i},Process {i} site,hospital,PR2 9HT\n".encode()
    barrier.wait(timeout=60)
    r = d.save("services", "shared name.csv", content, created_by=f"process {i}", rows=1)
    out.put((i, r.version, r.sha256, r.created, hashlib.sha256(content).hexdigest()))


def test_concurrent_saves_under_one_name_all_survive(db, db_url):
    ctx = mp.get_context("fork")
    barrier, out = ctx.Barrier(N_PROCS), ctx.Queue()
    procs = [ctx.Process(target=_save_worker, args=(db_url, i, barrier, out)) for i in range(N_PROCS)]
    for p in procs:
        p.start()
    got = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert all(created for _, _, _, created, _ in got)
    assert sorted(v for _, v, _, _, _ in got) == list(range(1, N_PROCS + 1))   # each its own version
    assert all(sha == want for _, _, sha, _, want in got)
    hist = db.history("services", "shared name.csv")
    assert [v.version for v in hist] == list(range(1, N_PROCS + 1))
    shas = {v.sha256 for v in hist}
    assert len(shas) == N_PROCS and shas == {sha for _, _, sha, _, _ in got}
    assert {v.created_by for v in hist} == {f"process {i}" for i in range(N_PROCS)}
    cur = db.current("services", "shared name.csv")
    assert cur.sha256 in shas and cur.version == N_PROCS
    assert hashlib.sha256(cur.content).hexdigest() == cur.sha256
    for v in hist:                              # every version's bytes are intact
        assert hashlib.sha256(db.version("services", "shared name.csv", v.version).content).hexdigest() == v.sha256
    [entry] = db.list("services")
    assert entry.versions == N_PROCS and entry.version == N_PROCS


def test_identical_save_is_recognised_and_adds_nothing(db):
    a = db.save("services", "sites.csv", b"id\n1\n", source_file="sites.csv", rows=1, meta={"k": 1})
    assert a.created and a.version == 1 and a.previous is None
    gen = db.generation()
    again = db.save("services", "sites.csv", b"id\n1\n")
    assert not again.created and again.version == 1 and "nothing new saved" in again.message
    assert db.generation() == gen and len(db.history("services", "sites.csv")) == 1
    b = db.save("services", "sites.csv", b"id\n2\n")
    assert b.created and b.version == 2 and b.previous == 1
    # equal to an older version (not the current one): a new version, the old one kept
    c = db.save("services", "sites.csv", b"id\n1\n")
    assert c.created and c.version == 3
    assert db.version("services", "sites.csv", 1).content == b"id\n1\n"
    assert db.version("services", "sites.csv", 1).meta == {"k": 1}
    assert db.current("services", "sites.csv").content == b"id\n1\n"
    # the same name under another kind is another item
    assert db.save("plan", "sites.csv", b"id\n1\n").version == 1


def test_removal_can_be_undone(db):
    db.save("services", "a.csv", b"A1")
    db.save("services", "a.csv", b"A2")
    db.save("services", "b.csv", b"B1")
    gen = db.generation()
    e = db.remove("services", "a.csv", by="tester")
    assert e.removed and e.removed_by == "tester" and db.generation() > gen
    assert db.current("services", "a.csv") is None
    assert [x.name for x in db.list("services")] == ["b.csv"]
    assert [x.name for x in db.list("services", removed=True)] == ["a.csv", "b.csv"]
    assert db.version("services", "a.csv", 1).content == b"A1"          # nothing deleted
    r = db.restore("services", "a.csv")
    assert not r.removed and db.current("services", "a.csv").content == b"A2"
    assert [x.name for x in db.list("services")] == ["a.csv", "b.csv"]
    # saving under a removed name brings it back, with its history
    db.remove("services", "b.csv")
    s = db.save("services", "b.csv", b"B1")
    assert s.restored and not s.created and db.current("services", "b.csv").content == b"B1"
    with pytest.raises(userdb.NotFound, match="no saved services named 'nope.csv'"):
        db.remove("services", "nope.csv")
    with pytest.raises(userdb.NotFound):
        db.version("services", "a.csv", 9)


@pytest.mark.parametrize("kind,name,content,message", [
    ("services", "", b"x", "needs a name"),
    ("services", "bad\x00name", b"x", "control characters"),
    ("services", "x" * 201, b"x", "longer than 200"),
    ("recipes", "n", b"x", "unknown kind 'recipes'"),
    ("services", "n", 12, "content must be bytes or text"),
])
def test_bad_input_is_refused_with_a_message(tmp_path, kind, name, content, message):
    d = userdb.UserDB(f"sqlite:///{tmp_path / 'u.sqlite'}")
    with pytest.raises(userdb.UserDBError, match=message):
        d.save(kind, name, content)
    assert d.list() == [] and d.generation() == 0


def test_default_store_lives_in_the_user_data_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("LSC_DATABASE_URL", raising=False)
    monkeypatch.setenv("LSC_USER_DATA_DIR", str(tmp_path / "mine"))
    assert userdb.database_url() == f"sqlite:///{tmp_path / 'mine' / 'userdata.sqlite'}"
    userdb.save("area", "My patch", "POLYGON((0 0,1 0,1 1,0 0))", created_by="me")
    assert (tmp_path / "mine" / "userdata.sqlite").exists()
    assert [e.name for e in userdb.list("area")] == ["My patch"]
    assert userdb.current("area", "My patch").content == b"POLYGON((0 0,1 0,1 1,0 0))"
    with userdb.open_store().engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    monkeypatch.setenv("LSC_DATABASE_URL", "postgresql://u:secret@db.example/lsc")
    assert userdb.database_url() == "postgresql+psycopg://u:secret@db.example/lsc"
    assert "secret" not in userdb.redacted(userdb.database_url())


# --- migration of the files the app wrote before the store ----------------------------

HEADER = "id,name,category,postcode,lat,lon,status,opened,closed,operator\n"


def _legacy_files(user_dir):
    """Lay out data/user/services/ exactly as the app wrote it (geo.services.save_user_records)."""
    from geo import services as sv
    rows = {"my sites.csv": "M-1,Mine,hospital,PR2 9HT,,,,,,\nM-2,Mine too,gp,FY3 8NR,,,,,,\n",
            "other.csv": "O-1,Other site,screening,PR7 1PP,,,,,,\n"}
    paths = []
    for fname, body in rows.items():
        res = sv.import_bytes((HEADER + body).encode(), fname)
        assert len(res.records) == body.count("\n"), res.summary()
        paths.append(sv.save_user_records(res.records, fname))
    res = sv.import_bytes((HEADER + "M-9,Again,hospital,PR2 9HT,,,,,,\n").encode(), "my sites.csv")
    paths.append(sv.save_user_records(res.records, "my sites.csv"))       # -> my_sites-2.csv
    (user_dir / "services" / "notes.txt").write_text("not a services file")   # never read by the app
    return paths


def test_migration_imports_app_files_once_losslessly(db, store, tmp_path, monkeypatch):
    monkeypatch.setenv("LSC_USER_DATA_DIR", str(tmp_path / "user"))
    paths = _legacy_files(tmp_path / "user")
    assert sorted(p.name for p in paths) == ["my_sites-2.csv", "my_sites.csv", "other.csv"]
    before = {p.name: p.read_bytes() for p in paths}
    done = db.migrate(tmp_path / "user")
    assert sorted(m.name for m in done) == sorted(before) and all(m.created and m.version == 1 for m in done)
    for name, data in before.items():                    # byte for byte, originals untouched
        v = db.current("services", name)
        assert v.content == data and v.meta["migrated_from"] == f"services/{name}"
        assert (tmp_path / "user" / "services" / name).read_bytes() == data
    marker = (tmp_path / "user" / "services" / userdb.MARKER).read_text()
    assert all(f"services/{n}" in marker for n in before) and "notes.txt" not in marker
    gen = db.generation()
    assert db.migrate(tmp_path / "user") == [] and db.generation() == gen        # once
    # a removed migrated file stays removed; a file changed later comes in as a new version
    db.remove("services", "other.csv")
    p = tmp_path / "user" / "services" / "my_sites.csv"
    p.write_bytes(before["my_sites.csv"] + b"M-3,Added later,gp,FY3 8NR,,,,,,,,,,,,,,\n")
    again = db.migrate(tmp_path / "user")
    assert [(m.name, m.version) for m in again] == [("my_sites.csv", 2)]
    assert db.current("services", "other.csv") is None
    assert db.version("services", "my_sites.csv", 1).content == before["my_sites.csv"]


def test_migrated_files_load_into_the_register_once(store, tmp_path, monkeypatch):
    """The services register reads saved files from the store only: migrated files
    appear once (not also from the folder), removal takes them out."""
    from geo import saved_services as ss
    monkeypatch.delenv("LSC_DATABASE_URL", raising=False)
    monkeypatch.setenv("LSC_USER_DATA_DIR", str(tmp_path / "user"))
    _legacy_files(tmp_path / "user")
    reg = ss.load_register()
    ups = reg.records[reg.records["source_file"].str.startswith("user data")]
    assert sorted(ups["id"]) == ["M-1", "M-2", "M-9", "O-1"]
    assert set(ups["source_file"]) == {"user data: my_sites.csv", "user data: my_sites-2.csv",
                                       "user data: other.csv"}
    from geo.access import compute_access                  # what `geo access` counts
    assert {"M-1", "M-9"} <= set(compute_access("hospital", store=store).sites["id"])
    userdb.remove("services", "other.csv")
    userdb.remove("services", "my_sites-2.csv")
    reg = ss.load_register()
    assert "O-1" not in set(reg.records["id"]) and "M-1" in set(reg.records["id"])
    sites = set(compute_access("hospital", store=store).sites["id"])
    assert "M-1" in sites and "M-9" not in sites


def test_missing_postgresql_fails_the_tests_with_the_reason(monkeypatch):
    """No PostgreSQL: the PostgreSQL tests fail saying how to get it (never skip)."""
    from tests import pgcluster
    monkeypatch.delenv("LSC_TEST_DATABASE_URL", raising=False)
    monkeypatch.setattr(pgcluster, "_program", lambda name: None)
    with pytest.raises(pytest.fail.Exception, match=r"initdb, pg_ctl\) not found: run scripts/ensure_postgres.sh"):
        with pgcluster.cluster():
            pass
