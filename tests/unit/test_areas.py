"""Custom areas (geo/areas.py) on the real store: wards expand to the LSOAs of the
best-fit lookup, the official measures equal direct computations from the IoD2025 LSOA
table and the report's own figures for a place, hostile lists are reported by row with
the rest kept, and saved areas persist (versioned) on SQLite and PostgreSQL."""
from __future__ import annotations

import subprocess
import sys

import pytest

from geo import areas as A
from geo import footprint as F
from geo import userdb
from geo.errors import GeoError
from tests.unit.test_planner_store import db, pg_server  # noqa: F401 - the SQLite / PostgreSQL store fixtures

LSC = "E54000048"
NORTHANTS = "E54000059"
BLACKPOOL3 = {"E05015188": "Bloomfield", "E05015189": "Brunswick", "E05015190": "Claremont"}


@pytest.fixture(scope="module")
def lsc(store):
    return F.footprint(store, LSC)


def test_three_blackpool_wards_expand_to_their_best_fit_lsoas(store, lsc):
    names = dict(zip(lsc.wards24["wd24cd"], lsc.wards24["wd24nm"]))
    assert {c: names[c] for c in BLACKPOOL3} == BLACKPOOL3
    p = A.from_wards(lsc, list(BLACKPOOL3))
    assert p.problems == [] and p.wards == list(BLACKPOOL3)
    area = A.make_area(lsc, "Central Blackpool", p)
    # the ONS LSOA21 -> WD24 best fit in the England table, and the footprint's own lookup
    n21 = F.national(store, "lsoa21")
    ons = set(n21.loc[n21["wd24cd"].isin(list(BLACKPOOL3)), "lsoa21cd"])
    own = set(lsc.lsoa25.loc[lsc.lsoa25["wd24cd"].isin(list(BLACKPOOL3)), "lsoa21cd"])
    assert set(area.lsoa21) == ons == own
    assert len(area.lsoa21) == len(ons) == 15
    w = A.area_wards(lsc, area)
    assert set(w["wd24nm"]) == set(BLACKPOOL3.values()) and w["whole_ward"].all()


def test_area_measures_equal_a_direct_computation_from_the_iod2025_table(store, lsc):
    area = A.make_area(lsc, "Central Blackpool", A.from_wards(lsc, list(BLACKPOOL3)))
    row = A.summary_row(lsc, area, 2025).iloc[0]
    t = F.national(store, "lsoa21")
    mine = t[t["lsoa21cd"].isin(set(area.lsoa21))]
    assert len(mine) == 15
    assert row["pct_lsoas_most_deprived_10"] == pytest.approx(100 * (mine["imd_decile"] == 1).sum() / 15)
    assert row["pct_lsoas_most_deprived_20"] == pytest.approx(100 * (mine["imd_decile"] <= 2).sum() / 15)
    assert row["population"] == pytest.approx(mine["pop2021"].sum())
    core = mine.loc[mine["imd_decile"] <= 2, "pop2021"].sum()
    assert row["core20_population"] == pytest.approx(core)
    score = (mine["imd_score"] * mine["pop2021"]).sum() / mine["pop2021"].sum()
    assert row["imd_score"] == pytest.approx(score)
    assert row["n_lsoas"] == 15 and row["n_wards"] == 3 and row["code"] == "custom:Central Blackpool"
    assert row["note"].startswith("LSOA-built")


def test_an_area_of_a_whole_district_has_the_report_figures_of_that_district(store, lsc):
    """The same code as a place: the area of all of Blackpool's LSOAs gives the report's
    Blackpool row, for IoD2025 and IoD2019."""
    from geo.report import build_table
    codes = lsc.lsoa25.loc[lsc.lsoa25["lad19cd"] == "E06000009", "lsoa21cd"]
    p = A.classify(lsc, [(i + 1, c) for i, c in enumerate(codes)], "blackpool.txt")
    area = A.make_area(lsc, "All Blackpool", p)
    for vintage in (2025, 2019):
        mine = A.summary_row(lsc, area, vintage).iloc[0]
        rep = build_table(lsc, "district", vintage=vintage).set_index("code").loc["E06000009"]
        for col in ("population", "imd_score", "pct_core20", "pct_lsoas_most_deprived_10", "extent",
                    "local_concentration", "avg_rank", "n_lsoas"):
            assert mine[col] == pytest.approx(rep[col]), (vintage, col)


def test_bad_codes_are_reported_by_row_and_the_rest_kept(lsc):
    data = ("ward_code,label\n"
            "E05015188,Bloomfield\n"          # row 2: kept (a ward)
            "E01012345,elsewhere\n"           # row 3: an LSOA of another ICB
            "E05000001,old\n"                 # row 4: no such ward
            "<script>alert(1)</script>,x\n"   # row 5: not a code
            ",\n"                             # row 6: blank: skipped
            "W01000001,wales\n"               # row 7: a Welsh code
            "E01025500,lsoa\n"                # row 8: kept (an LSOA 2021 of LSC)
            "E05015188,again\n").encode()     # row 9: the ward again: counted once
    p = A.parse_codes(lsc, data, "my list.csv")
    rows = {q.row: q.reason for q in p.problems}
    assert set(rows) == {3, 4, 5, 7}
    assert "North East and North Cumbria" in rows[3] and "not in NHS Lancashire" in rows[3]
    assert "not a known ward code" in rows[4]
    assert "not a ward or LSOA code" in rows[5] and "<script>" in rows[5]   # escaped where shown
    assert "not an English" in rows[7]
    assert "E01025500" in p.lsoa21 and len(p.lsoa21) == 5 + 1
    assert any("more than once" in n for n in p.notes)
    assert p.messages()[0].startswith("my list.csv: row 3: ")


def test_lsoa2011_codes_go_to_their_2021_lsoas(store, lsc):
    lk = F.national(store, "lsoa11_lsoa21")
    mine = set(lsc.lsoa25["lsoa21cd"])
    split = lk[(lk["chgind"] == "S") & lk["lsoa21cd"].isin(mine)]
    old = split["lsoa11cd"].iloc[0]
    assert old not in set(F.national(store, "lsoa21")["lsoa21cd"])
    p = A.parse_codes(lsc, f"{old}\n".encode(), "old.txt")
    assert p.problems == [] and set(p.lsoa21) == set(split.loc[split["lsoa11cd"] == old, "lsoa21cd"])
    assert len(p.lsoa21) >= 2 and any("2011->2021" in n for n in p.notes)


def test_empty_binary_and_headerless_lists(lsc):
    for data in (b"", b"\n\n  \n", "\ufeff\n".encode()):
        p = A.parse_codes(lsc, data, "empty.txt")
        assert p.fatal == "the list is empty: no code to read" and p.lsoa21 == []
        assert p.messages() == ["empty.txt: the list is empty: no code to read"]
    assert "not a text file" in A.parse_codes(lsc, b"PK\x03\x04\x00\x00", "x.xlsx").fatal
    p = A.parse_codes(lsc, b"e05015188\r\n e01025500 \r\n", "plain.txt")    # lower case, CRLF, spaces
    assert p.problems == [] and len(p.lsoa21) == 6
    with pytest.raises(GeoError, match="no LSOA of this ICB"):
        A.make_area(lsc, "nothing", A.parse_codes(lsc, b"E01012345\n", "x.txt"))


def test_other_icb_areas_refuse_lsc_codes(store):
    nh = F.footprint(store, NORTHANTS)
    ward = nh.lsoa25["wd24cd"].iloc[0]
    p = A.parse_codes(nh, f"{ward}\nE05015188\n".encode(), "n.txt")
    assert [q.row for q in p.problems] == [2] and "Lancashire and South Cumbria" in p.problems[0].reason
    area = A.make_area(nh, "Northants one", p)
    assert area.icb == NORTHANTS and set(area.lsoa21) == set(nh.lsoa25.loc[nh.lsoa25["wd24cd"] == ward, "lsoa21cd"])


def test_names_are_checked():
    assert A.clean_area_name("  Central   <b>Blackpool</b> ") == "Central <b>Blackpool</b>"
    for bad in ("", "   ", "a\x00b", "x" * 81):
        with pytest.raises(GeoError):
            A.clean_area_name(bad)


def test_save_list_load_remove_restore_on_both_backends(lsc, db):
    area = A.make_area(lsc, "Central <i>Blackpool</i>", A.from_wards(lsc, list(BLACKPOOL3)))
    s = A.save_area(area, created_by="alice", db=db)
    assert s.created and s.version == 1
    assert not A.save_area(area, db=db).created                 # identical: nothing new
    bigger = A.make_area(lsc, area.name, [A.from_wards(lsc, list(BLACKPOOL3)),
                                          A.parse_codes(lsc, b"E01025500\n", "x.txt")])
    assert A.save_area(bigger, db=db).version == 2
    [e] = A.list_areas(LSC, db=db)
    assert A.area_name(e) == area.name and e.rows == 16 and e.versions == 2
    assert A.list_areas(NORTHANTS, db=db) == []
    back = A.load_area(area.name, LSC, db=db)
    assert back.lsoa21 == bigger.lsoa21 and back.version == 2
    assert A.load_area(area.name, LSC, version=1, db=db).lsoa21 == area.lsoa21
    A.remove_area(area.name, LSC, db=db)
    assert A.names(LSC, db=db) == frozenset()
    with pytest.raises(userdb.NotFound):
        A.load_area(area.name, LSC, db=db)
    A.restore_area(area.name, LSC, db=db)
    assert A.names(LSC, db=db) == {area.name}


def test_saved_areas_survive_a_restart(lsc, tmp_path):
    """A save in one process is there for the next one (the CLI, a new interpreter)."""
    url = f"sqlite:///{tmp_path / 'user' / userdb.DB_FILE}"
    d = userdb.UserDB(url)
    A.save_area(A.make_area(lsc, "Kept", A.from_wards(lsc, ["E05015188"])), db=d)
    d.engine.dispose()
    code = ("from geo import areas as A, userdb; d = userdb.UserDB(%r); "
            "a = A.load_area('Kept', 'E54000048', db=d); print(len(a.lsoa21), a.wards[0])" % url)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["5", "E05015188"]


def test_link_round_trip_and_stale_or_bad_names():
    from geo import viewstate as VS
    known = VS.Known(areas={"custom": frozenset({"Central <b>Blackpool</b> & Co: east"})})
    s = VS.ViewState(area_kind="custom", area_code="Central <b>Blackpool</b> & Co: east")
    qs = VS.to_query_string(s)
    assert "area=custom%3ACentral+%3Cb%3EBlackpool%3C%2Fb%3E+%26+Co%3A+east" in qs
    back, notes = VS.parse_query_string(qs, known)
    assert (back.area_kind, back.area_code, notes) == ("custom", s.area_code, [])
    gone, notes = VS.from_query({"area": "custom:Removed one"}, known)
    assert gone.area == "icb" and [n.param for n in notes] == ["area"]
    assert "'Removed one' is not saved for this ICB" in notes[0].message
    for bad in ("custom:", "custom:" + "x" * 81, "custom:a\x01b"):
        st, notes = VS.from_query({"area": bad}, known)
        assert st.area == "icb" and notes and notes[0].param == "area"
    # no list of saved names given: not checked (the CLI reads the store itself)
    assert VS.from_query({"area": "custom:Anything"})[0].area == "custom:Anything"


def test_known_from_store_lists_the_saved_areas(lsc, tmp_path, monkeypatch):
    from geo import viewstate as VS
    monkeypatch.delenv("LSC_DATABASE_URL", raising=False)
    monkeypatch.setenv("LSC_USER_DATA_DIR", str(tmp_path / "user"))
    assert VS.known_from_store(lsc).areas["custom"] == frozenset()
    A.save_area(A.make_area(lsc, "Kept", A.from_wards(lsc, ["E05015188"])))
    assert VS.known_from_store(lsc).areas["custom"] == {"Kept"}


def test_exports_filter_to_a_custom_area(store, lsc, tmp_path, monkeypatch):
    from geo import export as E
    from geo import viewstate as VS
    monkeypatch.delenv("LSC_DATABASE_URL", raising=False)
    monkeypatch.setenv("LSC_USER_DATA_DIR", str(tmp_path / "user"))
    A.save_area(A.make_area(lsc, "Central", A.from_wards(lsc, list(BLACKPOOL3))))
    for vintage in (2025, 2019):
        state = VS.ViewState.of(area_kind="custom", area_code="Central", vintage=vintage)
        assert E.area_name(state) == "Custom area: Central"
        rows = E.lsoa_rows(lsc, state)
        assert set(rows["wd24nm"]) >= set(BLACKPOOL3_NAMES) and len(rows) >= 14
        assert sorted(E.ward_rows(lsc, state)["wd24nm"]) == sorted(BLACKPOOL3_NAMES)
    with pytest.raises(GeoError, match="not saved for this ICB"):
        E.lsoa_rows(lsc, VS.ViewState(area_kind="custom", area_code="Nope"))


BLACKPOOL3_NAMES = list(BLACKPOOL3.values())


def test_planner_demand_in_a_custom_area(lsc):
    from geo import plan_inputs as pi
    area = A.make_area(lsc, "Central", A.from_wards(lsc, list(BLACKPOOL3)))
    for vintage, codes in ((2025, area.lsoa21), (2019, area.lsoa11)):
        pa = pi.Area("custom", area.name, area.name, area.lsoa21, area.lsoa11)
        d = pi.demand_points(lsc, pa, vintage)
        assert set(d["code"]) == set(codes) and len(d) == len(codes) > 0
        assert set(d["wd24nm"]) == set(BLACKPOOL3_NAMES)
