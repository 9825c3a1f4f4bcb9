"""Exports and titles for any ICB (issue #12): they name the footprint (not Lancashire and
South Cumbria), flag the same NHSE/I priority and exemplar wards the map draws, and speak
of sub-ICB locations outside LSC (never "legacy five"). Real data."""
from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from geo import export as X
from geo import footprint as F
from geo.paths import ROOT
from geo.priority import CandidateRule, nhsei_members, place_groupings
from geo.viewstate import DEFAULT, replace

NORTHANTS = "E54000059"


@pytest.fixture(scope="module")
def northants(store):
    return F.footprint(store, NORTHANTS)


def _export(tmp_path, *args) -> tuple[subprocess.CompletedProcess, pd.DataFrame | None, list[str]]:
    out = tmp_path / "t.csv"
    p = subprocess.run([sys.executable, "-m", "geo", "export", "--format", "csv", "--out", str(out), *args],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    if p.returncode:
        return p, None, []
    head = [ln for ln in out.read_text(encoding="utf-8-sig").splitlines() if ln.startswith("#")]
    return p, pd.read_csv(out, comment="#", encoding="utf-8-sig"), head


def _majority_flagged(view, status: str) -> set[str]:
    """May-2024 wards where more than half the mid-2015 people live in a listed 2019 ward,
    computed here from the store's tables (independently of geo.priority)."""
    listed = set(view.priority19.loc[view.priority19["status"] == status, "wd19cd"])
    l = view.lsoa[["wd19cd", "wd24cd", "pop2015"]].dropna(subset=["wd24cd"])
    in_list = l[l["wd19cd"].isin(listed)].groupby("wd24cd")["pop2015"].sum()
    share = in_list / l.groupby("wd24cd")["pop2015"].sum()
    return set(share.index[share > 0.5])


def test_nhsei_members_are_the_majority_wards(store, northants):
    lsc = F.footprint(store, None)
    for view in (lsc, northants):
        m = nhsei_members(view)
        assert set(m["icb"]) == _majority_flagged(view, "Priority")
        assert set(m["exemplar"]) == _majority_flagged(view, "Exemplar")
    # LSC: the 2021 list names 33 priority + 11 exemplar wards; some become flagged May-2024 wards
    assert (lsc.priority19["status"] == "Priority").sum() == 33
    assert 0 < len(nhsei_members(lsc)["icb"]) <= 33


def test_export_for_northamptonshire_names_it_and_flags_its_list(tmp_path, northants):
    p, rows, head = _export(tmp_path, "--icb", "Northamptonshire")
    assert p.returncode == 0, p.stderr
    text = "\n".join(head)
    assert "Lancashire" not in text
    assert "# Filter: area: Whole ICB (Northamptonshire)" in head
    n_listed = int((northants.priority19["status"] == "Priority").sum())
    assert n_listed == 15
    assert f"NHSE/I priority wards (2021-04 list; WD19 (December 2019 ward codes)): {n_listed} listed" in text
    assert "sub-ICB location" in text and "legacy five" not in text
    flagged = set(rows.loc[rows["priority"].fillna("").str.contains("ICB list"), "wd24cd"])
    assert flagged == _majority_flagged(northants, "Priority") and flagged
    assert len(rows) == len(northants.wards24)
    # the header's link names the footprint, so the export can be reopened in the app
    assert any(h.startswith("# View (URL query):") and f"icb={NORTHANTS}" in h for h in head)


def test_export_priority_selection_in_lsc_uses_the_nhsei_list(tmp_path, store):
    p, rows, head = _export(tmp_path, "--selection", "priority", "--vintage", "2025")
    assert p.returncode == 0, p.stderr
    lsc = F.footprint(store, None)
    expect = _majority_flagged(lsc, "Priority") | _majority_flagged(lsc, "Exemplar")
    cand = set(rows.loc[rows["priority"].str.contains("candidate", case=False), "wd24cd"])
    assert set(rows["wd24cd"]) - cand == expect - cand
    assert expect <= set(rows["wd24cd"])
    assert "# Filter: area: Whole ICB (Lancashire and South Cumbria)" in head


@pytest.mark.real_data
def test_place_and_ward_errors_name_the_footprint(tmp_path):
    p, _, _ = _export(tmp_path, "--icb", NORTHANTS, "--place", "Fylde Coast")
    assert p.returncode == 2
    assert "unknown --place 'Fylde Coast' in NHS Northamptonshire ICB" in p.stderr
    assert "West Northamptonshire" in p.stderr and "Traceback" not in p.stderr
    p, _, _ = _export(tmp_path, "--icb", "Northamptonshir")
    assert p.returncode == 2 and "closest: E54000059 NHS Northamptonshire ICB" in p.stderr
    p, rows, head = _export(tmp_path, "--icb", NORTHANTS, "--place", "west northamptonshire")
    assert p.returncode == 0, p.stderr
    assert "# Filter: area: District: West Northamptonshire" in head
    assert set(rows["lad19nm"]) == {"West Northamptonshire"}  # outside LSC: the LAD 2024 (geo.footprint)


def test_area_names_and_groupings_follow_the_footprint(store, northants):
    eng = F.footprint(store, "E92000001")
    assert X.area_name(DEFAULT, eng) == "All of England"
    assert X.area_name(DEFAULT, northants) == "Whole ICB (Northamptonshire)"
    assert X.area_name(DEFAULT, F.footprint(store, None)) == "Whole ICB (Lancashire and South Cumbria)"
    sub = str(northants.place5["code"].iloc[0])
    assert X.area_name(replace(DEFAULT, area_kind="place5", area_code=sub), northants) == f"Sub-ICB location: {sub}"
    assert "legacy five" not in CandidateRule(per="place4").describe(place_groupings(northants))
    assert "sub-ICB location" in CandidateRule(per="place5").describe(place_groupings(northants))
    assert "legacy five" in CandidateRule(per="place5").describe(place_groupings(F.footprint(store, None)))


def test_app_title_and_candidate_rule_outside_lsc(store):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["icb"] = NORTHANTS
    at.query_params["per"] = "place4"          # a LSC grouping in the link: falls back, no error
    at.run()
    assert not at.exception
    per = at.selectbox(key="priority_per")
    assert per.value == "place5" and "place4" not in per.options
    md = " ".join(m.value for m in at.markdown)
    assert "legacy five" not in md and "sub-ICB location" in md
    # presentation mode's title bar names the footprint
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["icb"] = NORTHANTS
    at.query_params["present"] = "1"
    at.run()
    assert not at.exception
    bars = [m.value for m in at.markdown if "lsc-present-bar" in m.value and "<style>" not in m.value]
    assert len(bars) == 1 and "Northamptonshire" in bars[0] and "Lancashire" not in bars[0]
