"""`python -m geo indicator` end to end: layouts, bad input, exit codes. Fixture files
are built in tmp_path from real store codes."""
import io
import json
import subprocess
import sys

import pandas as pd
import pytest

from geo.paths import ROOT

FT_COLS = ["Indicator ID", "Indicator Name", "Parent Code", "Parent Name", "Area Code", "Area Name", "Area Type",
           "Sex", "Age", "Category Type", "Category", "Time period", "Value", "Lower CI 95.0 limit",
           "Upper CI 95.0 limit", "Count", "Denominator", "Value note"]


def geo_cli(*args):
    return subprocess.run([sys.executable, "-m", "geo", "indicator", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=180)


def ft_row(code, name, value, area_type="District", period="2021/22", ind_id="91280", note="", cat_type="",
           lower="", upper="", sex="Persons"):
    return {"Indicator ID": ind_id, "Indicator Name": "Cancer screening coverage: bowel cancer",
            "Parent Code": "E12000002", "Parent Name": "North West region", "Area Code": code, "Area Name": name,
            "Area Type": area_type, "Sex": sex, "Age": "60-74 yrs", "Category Type": cat_type, "Category": "",
            "Time period": period, "Value": value, "Lower CI 95.0 limit": lower, "Upper CI 95.0 limit": upper,
            "Count": "", "Denominator": "", "Value note": note}


@pytest.fixture(scope="module")
def districts(store):
    return store.districts[["lad19cd", "lad19nm"]].values.tolist()


@pytest.fixture
def messy_fingertips(tmp_path, districts):
    """A Fingertips-layout export with every kind of bad row the issue lists."""
    (c0, n0), (c1, n1), (c2, n2), (c3, n3), (c4, n4), (c5, n5) = districts[:6]
    rows = [ft_row("E92000001", "England", "70.3", "England"),
            ft_row("E12000002", "North West region", "68.1", "Region"),
            ft_row(c0, n0, "66.2", lower="64.0", upper="68.3"),
            ft_row(c1, n1, "*", note="Value suppressed for disclosure control"),
            ft_row(c2, n2, "n/a-ish"),                              # non-numeric
            ft_row(c3, n3, "71.0"), ft_row(c3, n3, "72.0"),         # conflicting duplicate
            ft_row(c4, n4, "69.0"), ft_row(c4, n4, "69.0"),         # identical duplicate
            ft_row(c5, n5, ".."),
            ft_row(c5, n5, "55.5", cat_type="District deprivation deciles in England (IMD2019)"),
            ft_row("E05001643", "Anchorsholme", "60.0", "Ward"),    # mixed area type
            ft_row("E06000064", "Westmorland and Furness", "70.0", "UA"),
            ft_row("E09000001", "City of London", "70.0", "UA"),
            ft_row("=HYPERLINK(\"http://x\")", "evil", "1")]
    p = tmp_path / "fingertips_export.csv"
    pd.DataFrame(rows, columns=FT_COLS).to_csv(p, index=False)
    return p, districts


def test_fingertips_export_bad_rows_reported_valid_part_maps(messy_fingertips):
    p, d = messy_fingertips
    r = geo_cli(p, "--format", "csv")
    assert r.returncode == 0, r.stderr
    t = pd.read_csv(io.StringIO(r.stdout))
    for col in ("code", "name", "indicator", "period", "value"):
        assert col in t.columns
    by = t.set_index("code")
    assert by.loc[d[0][0], "value"] == 66.2 and by.loc[d[0][0], "status"] == "ok"
    assert by.loc[d[0][0], "lower"] == 64.0
    assert by.loc[d[1][0], "status"] == "suppressed" and pd.isna(by.loc[d[1][0], "value"])
    assert by.loc[d[2][0], "status"] == "invalid"
    assert by.loc[d[3][0], "status"] == "invalid"           # conflicting duplicates: none used
    assert by.loc[d[4][0], "value"] == 69.0                 # identical duplicate kept once
    assert by.loc[d[5][0], "status"] == "suppressed"        # '..' marker; category row skipped
    assert "E05001643" not in by.index and "E92000001" not in by.index
    err = r.stderr
    assert str(p) in err
    assert "row 6, column 'value': non-numeric value 'n/a-ish'" in err
    assert "duplicate rows 7, 8" in err and "different values" in err
    assert "duplicate rows 9, 10" in err and "same value" in err
    assert "mixed area types" in err and "E05001643" in err
    assert "E06000064" in err and "former Eden" in err
    assert "E09000001" in err and "outside the LSC footprint" in err
    assert "category breakdown rows" in err
    assert "comparator rows (England/region/ICB): 2" in err
    assert "not an ONS area code" in err


def test_json_output_and_json_report(messy_fingertips):
    p, d = messy_fingertips
    r = geo_cli(p, "--format", "json", "--report", "json")
    assert r.returncode == 0
    rows = json.loads(r.stdout)
    assert {x["code"] for x in rows} >= {d[0][0], d[1][0]}
    rep = json.loads(r.stderr)
    assert rep["matched_codes"] == len({x["code"] for x in rows})
    assert rep["family"] == "district" and rep["target"] == "lad19"
    assert any(u["code"] == "E06000064" for u in rep["unmatched"])
    assert all({"file", "row", "column", "problem"} <= set(p_) for p_ in rep["problems"])


def test_csv_output_neutralises_formula_text(tmp_path, districts):
    p = tmp_path / "f.csv"
    pd.DataFrame({"area_code": [districts[0][0]], "indicator": ["=cmd|' /C calc'!A0"], "period": ["2024"],
                  "value": ["3.5"]}).to_csv(p, index=False)
    r = geo_cli(p)
    assert r.returncode == 0, r.stderr
    assert "'=cmd" in r.stdout


def test_long_layout_xlsx_lsoa_and_by_ward(tmp_path, store):
    lsoa = store.lsoa.sort_values("lsoa11cd")
    codes = lsoa.lsoa11cd.tolist()
    df = pd.DataFrame({"area_code": codes, "indicator": "Flu vaccine uptake 65+",
                       "period": "2023/24", "value": [str(i) for i in range(len(codes))], "count": 10,
                       "denominator": 100})
    df.loc[0, "value"] = "c"
    p = tmp_path / "uptake.xlsx"
    with pd.ExcelWriter(p) as xw:
        pd.DataFrame([["Title row written by a human"], [""]]).to_excel(xw, index=False, header=False,
                                                                      startrow=0)
        df.to_excel(xw, index=False, startrow=3)
    r = geo_cli(p)
    assert r.returncode == 0, r.stderr
    t = pd.read_csv(io.StringIO(r.stdout))
    assert len(t) == len(codes) and (t.geography == "lsoa11").all()
    assert t.set_index("code").loc[codes[0], "status"] == "suppressed"
    assert "LSOA 2011" in r.stderr
    r2 = geo_cli(p, "--by", "ward", "--ward-vintage", "2019")
    assert r2.returncode == 0, r2.stderr
    w = pd.read_csv(io.StringIO(r2.stdout))
    assert set(w.code) == set(store.lsoa.wd19cd)
    ward0 = lsoa.loc[lsoa.lsoa11cd == codes[0], "wd19cd"].iloc[0]
    assert w.set_index("code").loc[ward0, "status"] == "suppressed"   # one part suppressed -> not made up
    assert (w.status == "ok").sum() == len(w) - 1


def test_lsoa21_codes_mapped_and_no_lookup_option(tmp_path, store, real_source):
    bf = pd.read_csv(real_source / "lookups" / "lsoa11_to_lsoa21_lad2022_bestfit_ons_lsc.csv")
    changed = bf[bf.LSOA11CD != bf.LSOA21CD]
    c21 = sorted(set(changed.LSOA21CD))[:3]
    p = tmp_path / "l21.csv"
    pd.DataFrame({"lsoa21cd": c21, "value": [1, 2, 3]}).to_csv(p, index=False)
    r = geo_cli(p)
    assert r.returncode == 0, r.stderr
    t = pd.read_csv(io.StringIO(r.stdout))
    assert set(t.code) == set(changed[changed.LSOA21CD.isin(c21)].LSOA11CD)
    assert "best-fit" in r.stderr
    r2 = geo_cli(p, "--no-lookup")
    assert r2.returncode == 1
    assert "no 2011 polygon" in r2.stderr


def test_wide_layout(tmp_path, store):
    w = store.wards24.wd24cd.tolist()[:20]
    p = tmp_path / "wide.csv"
    pd.DataFrame({"WD24CD": w, "pct_a": [float(i) for i in range(20)], "pct_b": ["*"] + ["2"] * 19}).to_csv(
        p, index=False)
    r = geo_cli(p)
    assert r.returncode == 0, r.stderr
    t = pd.read_csv(io.StringIO(r.stdout))
    assert set(t.indicator) == {"pct_a", "pct_b"} and (t.geography == "wd24").all()
    assert "wide layout" in r.stderr


@pytest.mark.real_data
def test_no_code_column_exit_1_with_message(tmp_path):
    p = tmp_path / "nocode.csv"
    pd.DataFrame({"place": ["Burnley", "Pendle"], "value": [1, 2]}).to_csv(p, index=False)
    r = geo_cli(p)
    assert r.returncode == 1
    assert str(p) in r.stderr and "no recognisable area-code column" in r.stderr


@pytest.mark.real_data
def test_nothing_matched_exit_1(tmp_path):
    p = tmp_path / "elsewhere.csv"
    pd.DataFrame({"area_code": ["E07000001", "E01000001"], "value": [1, 2]}).to_csv(p, index=False)
    r = geo_cli(p)
    assert r.returncode == 1
    assert "unmatched" in r.stderr


def test_unusable_arguments_exit_2(tmp_path, messy_fingertips):
    p, _ = messy_fingertips
    assert geo_cli(tmp_path / "absent.csv").returncode == 2
    r = geo_cli(p, "--by", "county")
    assert r.returncode == 2 and "invalid choice" in r.stderr
    r = geo_cli(p, "--by", "lsoa")
    assert r.returncode == 2 and "not split" in r.stderr
    r = geo_cli(p, "--format", "xml")
    assert r.returncode == 2
    r = geo_cli(p, "--indicator", "nope")
    assert r.returncode == 2 and "91280" in r.stderr
    assert geo_cli("builtin:nonesuch").returncode == 2


@pytest.mark.real_data
def test_empty_and_corrupt_files(tmp_path):
    e = tmp_path / "empty.csv"
    e.write_text("")
    r = geo_cli(e)
    assert r.returncode == 1 and "empty" in r.stderr
    x = tmp_path / "bad.xlsx"
    x.write_bytes(b"this is not a zip")
    r = geo_cli(x)
    assert r.returncode == 1 and str(x) in r.stderr


def test_builtin_census_ward_cli(store, real_source):
    r = geo_cli("builtin:census_ward", "--ward-vintage", "2024", "--indicator", "pct_provides_unpaid_care")
    assert r.returncode == 0, r.stderr
    t = pd.read_csv(io.StringIO(r.stdout))
    raw = pd.read_csv(real_source / "indicators" / "census2021_ward_health_disability_carers_lancashire14.csv")
    assert len(t) == int(raw.code_in_wd24.sum())
    assert f"Ward May-2024 {int(raw.code_in_wd24.sum())}" in r.stderr


def test_code_column_found_by_content(tmp_path, districts):
    p = tmp_path / "named_oddly.csv"
    pd.DataFrame({"Area": [n for _, n in districts[:3]], "Reference": [c for c, _ in districts[:3]],
                  "value": [1, 2, 3]}).to_csv(p, index=False)
    r = geo_cli(p)
    assert r.returncode == 0, r.stderr
    t = pd.read_csv(io.StringIO(r.stdout))
    assert set(t.code) == {c for c, _ in districts[:3]}
    assert "does not hold area codes; using 'Reference'" in r.stderr
