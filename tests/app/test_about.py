"""'About the data' (issue #15, item 16): a lazy section explaining Core20 (NHS England's
Core20PLUS5), the vintages (IoD2019 on 2011 LSOAs, IoD2025 on 2021 LSOAs) and where each
file comes from (config/sources.yaml + the data folder's SOURCES.md), with the
attribution; nothing of it on the map-first run; short help on the controls."""
from __future__ import annotations

import os

import yaml
from streamlit.testing.v1 import AppTest

from geo.paths import CONFIG_DIR, ROOT, source_dir

APP = str(ROOT / "app.py")


def _all_text(node) -> str:
    out = [str(getattr(node, "proto", ""))]
    for ch in (getattr(node, "children", None) or {}).values():
        out.append(_all_text(ch))
    return "\n".join(out)


def test_about_dialog_explains_core20_vintages_and_sources(store):
    at = AppTest.from_file(APP, default_timeout=180).run()
    assert not at.exception
    assert [e for e in at.main.expander if e.label.startswith("About the data")], "no 'About the data' section"
    assert "Core20PLUS5" not in _all_text(at.main)           # its text is not on the page until asked (lazy)
    at.session_state["about_open"] = True                    # = opening the expander
    at.run()
    assert not at.exception, at.exception
    text = _all_text(at.main)
    assert "Core20PLUS5" in text and "most deprived 20%" in text
    assert "national IMD deciles 1 and 2" in text
    assert "IoD2019" in text and "2011 LSOAs" in text and "IoD2025" in text and "2021 LSOAs" in text
    assert f"{len(store.england19):,}" in text and f"{len(store.lsoa):,}" in text
    # every source file of config/sources.yaml is listed by its file name, with its vintage
    srcs = yaml.safe_load((CONFIG_DIR / "sources.yaml").read_text())["sources"]
    df = [d.value for d in at.dataframe if "Vintage" in d.value.columns and "File" in d.value.columns][0]
    assert set(df["File"]) == {s["path"] for s in srcs.values()}
    assert list(df["Vintage"]) == [s["vintage"] for s in srcs.values()]
    # publisher and licence from SOURCES.md (e.g. the IoD2019 England table: MHCLG, OGL)
    row = df[df["File"] == "imd/iod2019_lsoa11_england.csv"].iloc[0]
    assert "MHCLG" in row["Publisher"] and "OGL" in row["Licence"]
    assert "Royal Mail" in text and "Open Government Licence" in text and "OS data" in text
    assert str(source_dir()) not in text and str(ROOT) not in text


def test_map_first_run_draws_no_about_section(store):
    os.environ["LSC_PROGRESSIVE"] = "1"
    try:
        at = AppTest.from_file(APP, default_timeout=180).run()
    finally:
        os.environ["LSC_PROGRESSIVE"] = "0"
    assert not at.exception
    assert not [e for e in at.main.expander if e.label.startswith("About the data")]


def test_controls_have_help(store):
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state["indicators_on"] = True
    at.run()
    assert not at.exception
    helps = {w.key: w.help for w in list(at.radio) + list(at.selectbox) + list(at.checkbox)}
    for k in ("deprivation_vintage", "deprivation_measure", "deprivation_local", "deprivation_core20",
              "indicators_indicator", "indicators_method", "indicators_mode", "indicators_dataset"):
        assert helps.get(k), f"{k} has no help"
    assert "Core20PLUS5" in helps["deprivation_core20"]
    assert "2011 LSOAs" in helps["deprivation_vintage"] and "2021 LSOAs" in helps["deprivation_vintage"]
