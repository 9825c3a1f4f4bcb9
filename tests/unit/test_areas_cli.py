"""`python -m geo areas save|list|show|remove|restore` and `geo report --area` on the real
store: bad codes listed by file and row with the rest saved, the figures shown equal the
report's own for the same LSOAs, per-ICB names, and the SQLite and PostgreSQL stores."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from geo.paths import ROOT
from tests.unit.test_services_cli import in_process
from tests.unit.test_services_cli import store_env as env  # noqa: F401 - SQLite / PostgreSQL user-data stores

WARDS = "code,label\nE05015188,Bloomfield\nE05015189,Brunswick\nE05015190,Claremont\nE01012345,far\nnope,x\n"


@pytest.fixture
def cli(monkeypatch):
    run = in_process(monkeypatch)

    def checked(*args, env=None):
        p = run(*args, env=env)
        assert "Traceback" not in p.stderr
        return p
    return checked


def test_save_list_show_remove_restore(store, cli, env, tmp_path):
    f = tmp_path / "central.csv"
    f.write_text(WARDS)
    p = cli("areas", "save", "Central <b>Blackpool</b>", f, env=env)
    assert p.returncode == 0, p.stderr
    assert "version 1" in p.stdout and "15 LSOA 2021" in p.stdout
    assert "central.csv: row 5: LSOA E01012345 is in NHS North East and North Cumbria ICB" in p.stderr
    assert "central.csv: row 6: 'nope' is not a ward or LSOA code" in p.stderr
    again = cli("areas", "save", "Central <b>Blackpool</b>", f, env=env)
    assert again.returncode == 0 and "nothing new saved" in again.stdout
    [e] = json.loads(cli("areas", "list", "--format", "json", env=env).stdout)
    assert (e["name"], e["icb"], e["n_lsoa21"], e["n_wards"], e["version"]) == (
        "Central <b>Blackpool</b>", "E54000048", 15, 3, 1)
    assert json.loads(cli("areas", "list", "--icb", "E54000059", "--format", "json", env=env).stdout) == []
    shown = json.loads(cli("areas", "show", "Central <b>Blackpool</b>", "--format", "json", env=env).stdout)
    assert shown["n_lsoas"] == 15 and len(shown["lsoa21"]) == 15
    assert {w["wd24nm"] for w in shown["wards"]} == {"Bloomfield", "Brunswick", "Claremont"}
    # the report's per-LSOA table for the same LSOAs gives the same share in the most deprived 10%
    rep = cli("report", "--area", "Central <b>Blackpool</b>", "--by", "lsoa", "--vintage", "2025",
              "--format", "json", env=env)
    assert rep.returncode == 0, rep.stderr
    rows = json.loads(rep.stdout)
    assert len(rows) == 15 and {r["code"] for r in rows} == set(shown["lsoa21"])
    d1 = 100 * sum(r["pct_lsoas_most_deprived_10"] == 100 for r in rows) / 15
    assert shown["pct_lsoas_most_deprived_10"] == pytest.approx(d1)
    wards = json.loads(cli("report", "--area", "Central <b>Blackpool</b>", "--by", "ward", "--vintage", "2025",
                           "--format", "json", env=env).stdout)
    assert [w["name"] for w in wards] == ["Bloomfield", "Brunswick", "Claremont"]
    bad_by = cli("report", "--area", "Central <b>Blackpool</b>", "--by", "district", env=env)
    assert bad_by.returncode == 2 and "--area takes --by lsoa, ward, place" in bad_by.stderr
    rm = cli("areas", "remove", "Central <b>Blackpool</b>", env=env)
    assert rm.returncode == 0 and "undo: python -m geo areas restore" in rm.stdout
    gone = cli("areas", "show", "Central <b>Blackpool</b>", env=env)
    assert gone.returncode == 1 and "no custom area named 'Central <b>Blackpool</b>'" in gone.stderr
    assert cli("areas", "restore", "Central <b>Blackpool</b>", env=env).returncode == 0
    assert "15 LSOA 2021" in cli("areas", "list", env=env).stdout


def test_nothing_kept_is_refused_and_nothing_saved(store, cli, env, tmp_path):
    f = tmp_path / "elsewhere.txt"
    f.write_text("E01012345\n\n")
    p = cli("areas", "save", "Far", f, env=env)
    assert p.returncode == 1 and "no LSOA of this ICB in the list: nothing to save" in p.stderr
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    p = cli("areas", "save", "Empty", empty, env=env)
    assert p.returncode == 1 and "empty.csv: the list is empty" in p.stderr
    assert json.loads(cli("areas", "list", "--format", "json", env=env).stdout) == []


def test_another_icb_by_name_in_a_new_process(store, tmp_path):
    """The real command line: Northamptonshire by name, one of its wards inline."""
    from geo import footprint as F
    ward = F.footprint(store, "E54000059").lsoa25["wd24cd"].iloc[0]
    e = dict(os.environ, LSC_USER_DATA_DIR=str(tmp_path / "user"), LSC_DATABASE_URL="")

    def geo(*a):
        return subprocess.run([sys.executable, "-m", "geo", *a], cwd=ROOT, env=e, capture_output=True,
                              text=True, timeout=300)
    p = geo("areas", "save", "North one", "--icb", "northamptonshire", "--wards", f"{ward},E05015188")
    assert p.returncode == 0, p.stderr
    assert "--wards: row 2: ward E05015188 is in NHS Lancashire and South Cumbria ICB" in p.stderr
    out = geo("areas", "show", "North one", "--icb", "E54000059", "--format", "csv")
    assert out.returncode == 0 and out.stdout.splitlines()[1].startswith("custom:North one,North one,")
    assert geo("areas", "list").stdout.startswith("no saved custom areas for E54000048")
