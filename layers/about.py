"""'About the data': Core20, the two IoD vintages and where every file comes from.

A lazy expander under the map (app.py draws it only once the full page is up, so the
map's first paint carries nothing of this); nothing is computed until it is opened. The provenance is read from config/sources.yaml (files, vintages,
official pages) and from the data folder's SOURCES.md (publisher, licence, what each file
is); file names are shown, never their server paths (layers.base.public_text).
"""
from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from layers.base import public_text

CORE20_TEXT = (
    "**Core20** is the most deprived 20% of LSOAs in England (small areas of about 1,500 people), i.e. "
    "the LSOAs in national IMD deciles 1 and 2 (decile 1 = the most deprived 10%), and the people who "
    "live in them. "
    "It is the *Core20* of NHS England's **Core20PLUS5** approach to reducing healthcare "
    "inequalities: the Core20 population, PLUS groups the ICB chooses locally (e.g. ethnic minority "
    "communities, people with a learning disability, inclusion health groups), and 5 clinical areas "
    "(maternity, severe mental illness, chronic respiratory disease, early cancer diagnosis, "
    "hypertension case-finding). Core20 always uses **national** deciles: the map's local "
    "(within-LSC) deciles are an extra view only, and by definition 20% of England's LSOAs are Core20."
)

ABOUT_KEY = "about_open"


def _vintage_md(store) -> str:
    n19 = len(store.lsoa)
    n25 = len(store.lsoa25)
    try:
        n_eng = len(store.england19)
    except Exception:
        n_eng = 32_844
    return (
        "**Two editions of the English Indices of Deprivation (IoD)**, each on its own LSOA boundaries:\n\n"
        f"- **IoD2019** (MHCLG, September 2019) ranks the {n_eng:,} **2011 LSOAs** of England; "
        f"{n19:,} of them lie in the 16 LSC districts. Its population denominators are mid-2015.\n"
        f"- **IoD2025** (MHCLG, 30 October 2025, the current edition) ranks the 33,755 **2021 LSOAs**; "
        f"{n25:,} of them are in the LSC districts. It is drawn on the 2011 polygons where the 2021 LSOA "
        "code is unchanged; LSOAs split or merged in 2021 have no polygon here, and 2011 areas without "
        "an IoD2025 value are hatched grey (no data).\n\n"
        "Compare the two editions with care: boundaries, indicators and years differ, and ranks are "
        "relative (an area can move decile without changing itself). **Wards** are May 2024 electoral wards; LSOAs do not nest in wards, so "
        "ward figures use the ONS postcode best fit and are approximate."
    )


def _sources_table() -> pd.DataFrame:
    from geo.sources import load_sources
    rows = []
    for key, src in load_sources().items():
        rows.append({"File": str(getattr(src, "path", "") or ""), "Vintage": getattr(src, "vintage", "") or "",
                     "Official publication": getattr(src, "page", "") or getattr(src, "url", "") or ""})
    df = pd.DataFrame(rows)
    meta = _sources_md_meta()
    if len(df):
        df["What it is"] = [meta.get(f, {}).get("what", "") for f in df["File"]]
        df["Publisher"] = [meta.get(f, {}).get("publisher", "") for f in df["File"]]
        df["Licence"] = [meta.get(f, {}).get("licence", "") for f in df["File"]]
    return df.map(public_text) if len(df) else df


def _sources_md_text() -> str | None:
    from geo.paths import source_dir
    try:
        return (source_dir() / "SOURCES.md").read_text(encoding="utf-8")
    except OSError:
        return None


def _sources_md_meta() -> dict:
    """file -> {what, publisher, licence} from SOURCES.md's tables (columns by header)."""
    text = _sources_md_text() or ""
    out: dict = {}
    header = None
    for line in text.splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = [c.lower() for c in cells]
            continue
        if set(line.replace("|", "").strip()) <= set("-: "):
            continue
        row = dict(zip(header, cells))
        f = row.get("file", "").strip("`")
        if f:
            what = re.sub(r"\s+", " ", row.get("what it is", ""))
            out[f] = {"what": what[:240] + ("…" if len(what) > 240 else ""),
                      "publisher": row.get("original publisher", ""), "licence": row.get("licence", "")}
    return out


def _store_md(store) -> str:
    m = getattr(store, "manifest", {}) or {}
    built = m.get("built_at") or m.get("created") or ""
    return f"Data store built {public_text(built)} from the files below (checksums checked at build)." if built \
        else "The data store is built from the files below (checksums checked at build)."


def about_body(store) -> None:
    """The dialog's content (also usable on a page of its own)."""
    from layers.panels import ATTRIBUTION
    st.markdown("#### Core20")
    st.markdown(CORE20_TEXT)
    st.markdown("#### Vintages")
    st.markdown(_vintage_md(store))
    st.markdown("#### Where the data come from")
    st.caption(_store_md(store))
    try:
        st.dataframe(_sources_table(), hide_index=True, width="stretch", key="about_sources",
                     column_config={"Official publication": st.column_config.LinkColumn()})
    except Exception as e:          # the page still explains Core20 and the vintages
        st.caption(f"The list of source files could not be read ({type(e).__name__}).")
    st.markdown("Services: NHS ODS (GP practices), the NHS website hospital list and curated rows that each "
                "cite their source; HARI bus stops shipped with the app are ILLUSTRATIVE (no public schedule "
                "exists). Indicators: ONS Census 2021 and OHID Fingertips, as named in each legend.")
    text = _sources_md_text()
    if text:
        with st.expander("The data folder's SOURCES.md (provenance notes and caveats)"):
            st.markdown(public_text(text))
    st.markdown("#### Attribution")
    st.caption(ATTRIBUTION)


def about_section(store) -> None:
    """'About the data' as a lazy expander under the map: its content runs only while it is
    open (no widget type the page does not already load, so the full page after the
    first paint is not slowed; a dialog's button and icon font were)."""
    exp = st.expander("About the data: Core20, vintages, sources", expanded=False, key=ABOUT_KEY,
                      on_change="rerun")
    if exp.open:
        with exp:
            about_body(store)
