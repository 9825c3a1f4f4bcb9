"""`python -m geo services` contract (people script it): check's JSON shape and exit
codes for a good and a refused file, save/list/remove/restore on the user-data store
(SQLite in LSC_USER_DATA_DIR, and PostgreSQL through LSC_DATABASE_URL)."""
from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys

import pytest

from geo.paths import ROOT
from tests.pgcluster import fresh_database, shared_server

GOOD = ("id,name,category,postcode,lat,lon\n"
        "C-1,Good site,hospital,PR2 9HT,,\n"
        "C-2,Another,gp,FY3 8NR,,\n"
        "C-3,,hospital,PR2 9HT,,\n"
        "C-4,Swapped,hospital,,-2.7,53.8\n"
        "C-5,Bad postcode,screening,ZZ9 9ZZ,,\n")


def _geo(*args, env=None):
    """The real command line, in a new process (exit codes as a script sees them)."""
    e = dict(os.environ, **(env or {}))
    p = subprocess.run([sys.executable, "-m", "geo", "services", *map(str, args)], cwd=ROOT, env=e,
                       capture_output=True, text=True, timeout=300)
    assert "Traceback" not in p.stderr, p.stderr
    return p


def in_process(monkeypatch, *command):
    """`python -m geo <command> ...` through the same entry point (geo.__main__.main) in
    this process: quicker for the many calls of one flow; the environment is set per call
    as for a subprocess."""
    from geo.__main__ import main

    def run(*args, env=None):
        for k, v in (env or {}).items():
            monkeypatch.setenv(k, v)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = main([*command, *map(str, args)])
            except SystemExit as e:
                rc = e.code
        return subprocess.CompletedProcess(args, rc, out.getvalue(), err.getvalue())
    return run


@pytest.fixture
def cli(monkeypatch):
    return in_process(monkeypatch, "services")


@pytest.fixture
def files(tmp_path):
    good = tmp_path / "my sites.csv"
    good.write_text(GOOD)
    bad = tmp_path / "broken.xlsx"
    bad.write_bytes(b"PK\x03\x04 not really a workbook")
    return good, bad


@pytest.fixture(params=["sqlite", "postgresql"])
def store_env(request, tmp_path):
    env = {"LSC_USER_DATA_DIR": str(tmp_path / "user"), "LSC_DATABASE_URL": ""}
    if request.param == "postgresql":
        env["LSC_DATABASE_URL"] = fresh_database(shared_server())
    return env


def test_check_json_contract_and_exit_codes(store, files, tmp_path, cli):
    good, bad = files
    env = {"LSC_USER_DATA_DIR": str(tmp_path / "user"), "LSC_DATABASE_URL": ""}
    p = _geo("check", good, "--format", "json", env=env)
    assert p.returncode == 0, p.stderr
    rep = json.loads(p.stdout)
    assert set(rep) == {"file", "loaded", "rejected", "fatal", "warnings"}
    assert rep["file"] == str(good) and rep["loaded"] == 2 and rep["fatal"] == []
    assert all(set(r) == {"row", "field", "reason"} for r in rep["rejected"])
    by_row = {r["row"]: r for r in rep["rejected"]}
    assert sorted(by_row) == [4, 5, 6]          # rows counted as in the file (header = row 1)
    assert by_row[4]["field"] == "name" and by_row[4]["reason"] == "missing name"
    assert by_row[5]["field"] == "lat/lon" and "swapped" in by_row[5]["reason"]
    assert by_row[6]["field"] == "postcode" and "ZZ9 9ZZ" in by_row[6]["reason"]
    assert not (tmp_path / "user").exists()     # check saves nothing

    p = _geo("check", bad, "--format", "json", env=env)
    assert p.returncode == 1
    rep = json.loads(p.stdout)
    assert rep["file"] == str(bad) and rep["loaded"] == 0 and rep["rejected"] == []
    assert len(rep["fatal"]) == 1 and "broken.xlsx" in rep["fatal"][0]

    p = cli("check", tmp_path / "missing.csv", env=env)
    assert p.returncode == 1 and "missing.csv" in p.stderr and "cannot read" in p.stderr
    p = cli("check", good, env=env)            # text: one line per problem, naming the row
    assert p.returncode == 0 and "2 row(s) loaded, 3 rejected" in p.stdout and "row 4 [name]" in p.stdout


def test_save_list_remove_restore(store, files, store_env, cli):
    good, bad = files
    p = _geo("save", good, env=store_env)        # a real process writes to the store
    assert p.returncode == 0, p.stderr
    assert "Saved 'my sites.csv' as version 1" in p.stdout and "3 rejected" in p.stderr
    p = cli("save", good, env=store_env)       # same rows again: nothing new
    assert p.returncode == 0 and "nothing new saved" in p.stdout
    p = cli("save", good, "--name", "Fylde list", env=store_env)
    assert p.returncode == 0 and "Saved 'Fylde list' as version 1" in p.stdout
    p = cli("save", bad, env=store_env)        # refused: nothing saved
    assert p.returncode == 1 and "refused" in p.stderr

    p = cli("list", "--format", "json", env=store_env)
    assert p.returncode == 0, p.stderr
    got = json.loads(p.stdout)
    assert [(e["name"], e["rows"], e["version"], e["versions"]) for e in got] == \
        [("Fylde list", 2, 1, 1), ("my sites.csv", 2, 1, 1)]
    assert all(len(e["sha256"]) == 64 and e["source_file"] == "my sites.csv" for e in got)

    p = cli("remove", "my sites.csv", env=store_env)
    assert p.returncode == 0 and "restore" in p.stdout
    names = [e["name"] for e in json.loads(cli("list", "--format", "json", env=store_env).stdout)]
    assert names == ["Fylde list"]
    p = cli("remove", "no such file", env=store_env)
    assert p.returncode == 1 and "no saved services named 'no such file'" in p.stderr
    assert cli("restore", "my sites.csv", env=store_env).returncode == 0
    p = cli("list", env=store_env)
    assert "my sites.csv: 2 row(s), version 1 of 1" in p.stdout and "Fylde list" in p.stdout
