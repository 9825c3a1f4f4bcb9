"""The ward profile (layers/parts.profile_part): one static HTML element built here, with
every value escaped, then the lazy LSOA list; and the warm-up that builds a first
profile's tables on a worker thread after a full page (issue #16)."""
from __future__ import annotations

import os
import threading

import numpy as np
import pandas as pd
import streamlit as st

from layers.base import MapContext, esc, hot, md
from layers.data import area_table


@hot(maxsize=256)
def _ward_rows(_store, fp: str, code: str, vintage: int):
    """(the ward's wards24 row, its LSOAs of that vintage), memoised (read-only)."""
    w = _store.wards24
    lsoa = _store.lsoa if vintage == 2019 else _store.lsoa25
    at = _positions(_store, fp, vintage)
    return w.iloc[at["wards"].get(code, [])], lsoa.iloc[at["lsoa"].get(code, [])]


@hot(maxsize=8)
def _positions(_store, fp: str, vintage: int) -> dict:
    """{"wards": {ward code: [row]}, "lsoa": {ward code: its LSOAs' rows}} (positions)."""
    lsoa = _store.lsoa if vintage == 2019 else _store.lsoa25
    group = pd.Series(range(len(lsoa))).groupby(lsoa["wd24cd"].to_numpy()).agg(list).to_dict()
    return {"wards": {c: [i] for i, c in enumerate(_store.wards24["wd24cd"])}, "lsoa": group}


def ward_profile(ctx: MapContext, code: str, membership: dict[str, list[str]]) -> None:
    """The ward's profile as ONE static HTML element (heading, deprivation bars, the
    comparison with place/ICB/England, services, outreach, indicators), then the lazy
    LSOA list. One element, not ~17 markdown/table elements: the browser draws a
    profile in a fraction of the time (issue #16); every value is escaped here."""
    vintage = int(ctx.choice("deprivation", "vintage", 2019))
    row, mine = _ward_rows(ctx.store, ctx.fingerprint, code, vintage)
    if row.empty:
        st.warning(f"Ward {md(code)} is not in the May 2024 LSC wards.")
        return
    st.html(profile_html(ctx, code, membership, vintage, row.iloc[0], mine))
    # lazy: the list is built only while its expander is open (a profile-only rerun)
    lsoas = st.expander(f"The ward's LSOAs ({len(mine)})", key="ward_profile_lsoas_open", on_change="rerun")
    if not lsoas.open:
        return
    pop = "pop2015" if vintage == 2019 else "pop2021"
    with lsoas:
        code_col = "lsoa11cd" if vintage == 2019 else "lsoa21cd"
        name_col = "lsoa11nm" if vintage == 2019 else "lsoa21nm"
        st.dataframe(mine[[code_col, name_col, "imd_decile", "imd_score", pop]]
                     .rename(columns={code_col: "LSOA", name_col: "Name", "imd_decile": "IMD decile",
                                      "imd_score": "IMD score", pop: "Population"})
                     .sort_values("IMD score", ascending=False),
                     hide_index=True, width="stretch", key="ward_profile_lsoas")


def html_table(header: list[str], rows: list[list], numeric: tuple[str, ...] = (), cls: str = "") -> str:
    """A static HTML table; every cell escaped (None -> "n/a"); `numeric` columns right-aligned."""
    num = [h in numeric for h in header]
    head = "".join(f'<th{" class=n" if n else ""} scope="col">{esc(h)}</th>' for h, n in zip(header, num))
    body = "".join("<tr>" + "".join(f'<td{" class=n" if n else ""}>{esc("n/a" if v is None else v)}</td>'
                                    for v, n in zip(r, num)) + "</tr>" for r in rows)
    return f'<table class="lsc-t {cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _num(v, fmt: str) -> str | None:
    return None if v is None or pd.isna(v) else format(float(v), fmt)


def profile_html(ctx: MapContext, code: str, membership: dict[str, list[str]], vintage: int, r, mine) -> str:
    """The ward profile's HTML (see ward_profile): every text escaped."""
    out = ['<div class="lsc-profile">', f"<h3>{esc(r['wd24nm'])}</h3>",
           f"<p>{esc(r['lad19nm'])} · {esc(r['place5'])} (legacy five) · {esc(r['place4'])} (four) · "
           f"<code>{esc(code)}</code></p>"]
    kinds = membership.get(code, [])
    if kinds:
        names = {"icb": "on the ICB's priority list", "exemplar": "an exemplar ward",
                 "candidate": "a derived candidate (deprivation rule)"}
        out.append("<p><b>Priority:</b> " + esc("; ".join(names.get(k, k) for k in kinds)) + "</p>")

    # its LSOAs by IMD national decile
    pop = "pop2015" if vintage == 2019 else "pop2021"
    pal = ctx.config.get("deprivation", {}).get("palette", ["#555"] * 10)
    dec = pd.to_numeric(mine["imd_decile"], errors="coerce").to_numpy(float)
    ok = (dec >= 1) & (dec <= 10)
    dec_i = dec[ok].astype(int)
    n_by = np.bincount(dec_i, minlength=11)
    pop_by = np.bincount(dec_i, weights=pd.to_numeric(mine[pop], errors="coerce").fillna(0).to_numpy(float)[ok],
                         minlength=11)
    total = max(float(pop_by.sum()), 1.0)
    bars = []
    for d in range(1, 11):
        n, p = int(n_by[d]), float(pop_by[d])
        width = 0 if not n else max(2, int(160 * p / total))
        bars.append(f'<div class="lsc-bar-row"><span class="d">{d}</span>'
                    f'<span class="b" style="width:{width}px;background:{esc(pal[d - 1])}"></span>'
                    f'<span class="n">{n} LSOA{"s" if n != 1 else ""} · {p:,.0f} people</span></div>')
    if mine.empty and vintage == 2019:
        from geo.wardfit import NO_LSOA_NOTE
        out.append(f'<div class="lsc-note" role="note">This ward has {esc(NO_LSOA_NOTE)}.</div>')
    out.append(f"<p><b>Its {len(mine)} LSOAs by IMD national decile</b> (IoD{vintage}; 1 = most deprived)</p>")
    out.append('<div class="lsc-bars">' + "".join(bars) + "</div>")
    out.append(_comparison_html(ctx, r, code, vintage))
    out.append(_services_html(ctx, code))
    out.append(_outreach_html(ctx, code))
    out.append(_indicators_html(ctx, code))
    out.append("</div>")
    return "".join(out)


COMPARISON_COLS = ["Area", "Population", "IMD score", "% Core20", "% in decile 1"]


FIGURES = ("population", "imd_score", "pct_core20", "pct_decile1")


@hot(maxsize=32)
def _figures(_store, fp: str, by: str, vintage: int, grouping: str = "place5") -> dict:
    """{code: (population, IMD score, % Core20, % in decile 1)} of area_table(...): a
    profile looks up three rows, not three filtered copies of the tables."""
    t = area_table(_store, fp, by, vintage, grouping)
    if t is None or t.empty:
        return {}
    cols = [t[c].to_numpy() if c in t.columns else [None] * len(t) for c in FIGURES]
    codes = t["code"].tolist() if "code" in t.columns else [None] * len(t)
    return {c: tuple(None if v is None or pd.isna(v) else float(v) for v in vals)
            for c, *vals in zip(codes, *cols)}


def comparison_rows(ctx: MapContext, r, code: str, vintage: int) -> tuple[list[dict], bool]:
    """The ward against its place, the ICB and England: rows of raw figures (None = no
    figure), and whether an England-wide table was there."""
    def first(d: dict):
        return next(iter(d.values()), None)
    wards = _figures(ctx.store, ctx.fingerprint, "ward", vintage)
    places = _figures(ctx.store, ctx.fingerprint, "place", vintage, "place5")
    icb = first(_figures(ctx.store, ctx.fingerprint, "icb", vintage))
    eng = first(_figures(ctx.store, ctx.fingerprint, "england", vintage))
    comp = []
    for label, x in ((f"Ward: {r['wd24nm']}", wards.get(code)), (f"Place: {r['place5']}", places.get(r["place5"])),
                     (f"ICB: {getattr(ctx.store, 'name', 'LSC ICB')}", icb), ("England", eng)):
        if x is None:
            if label == "England":   # no England-wide table in this store: the caption says so
                continue
            comp.append({"Area": label})
            continue
        comp.append({"Area": label, **dict(zip(COMPARISON_COLS[1:], x))})
    return comp, eng is not None


def _comparison_html(ctx: MapContext, r, code: str, vintage: int) -> str:
    comp, has_england = comparison_rows(ctx, r, code, vintage)
    rows = [[c["Area"], _num(c.get("Population"), ",.0f"), _num(c.get("IMD score"), ".1f"),
             _num(c.get("% Core20"), ".1f"), _num(c.get("% in decile 1"), ".1f")] for c in comp]
    out = "<p><b>Against place, ICB and England</b></p>" + html_table(
        COMPARISON_COLS, rows, numeric=tuple(COMPARISON_COLS[1:]), cls="lsc-comparison")
    if not has_england:
        out += f'<p class="lsc-cap">England comparator: no England-wide IoD{vintage} LSOA table in this data store.</p>'
    elif vintage == 2025:
        out += ('<p class="lsc-cap">IoD2025 figures use Census 2021 usual residents as the denominator (MHCLG\'s own '
                "denominators are not staged), for the ward, place, ICB and England alike.</p>")
    return out


# ---------------------------------------------------------------- the first profile
# What every ward profile reads but no page run builds (the place/ICB/England tables, the
# wards' LSOA positions, the indicator datasets, the open sites per category, the PROJ
# context of the distance thread) cost the first profile of a process about a second.
# After a full page, one worker thread builds them (once per footprint, vintage, register
# and day), so the first ward someone opens costs what the next ones do.
_PREWARM_LOCK = threading.Lock()
_PREWARMED: set = set()
_prewarm_pool = None


def prewarm_profile(ctx: MapContext) -> None:
    """From a full page run: start building a first profile's ingredients (above) on the
    worker thread, unless already built or started. Only with $LSC_PREWARM=1: measured in
    bench_scale, its ~1 s of CPU (North East and North Cumbria) still slowed another
    session's first map loading meanwhile (1.79 -> 2.04-3.58 s), even waiting for a quiet
    server, and the first map must not get slower. Never above PREWARM_MAX_LSOAS."""
    global _prewarm_pool
    if os.environ.get("LSC_PREWARM", "") != "1":
        return        # off by default: it can overlap another session's first map (see above)
    if len(ctx.store.lsoa25) > PREWARM_MAX_LSOAS:
        return        # England: ~4.6 s of CPU that would compete with other sessions' first map
    vintage = int(ctx.choice("deprivation", "vintage", 2019))
    try:
        reg, key, day = (ctx.need(f"services.{n}")() for n in ("current_register", "register_key", "today"))
    except Exception:                     # no services layer: the rest still helps
        reg, key, day = None, "", ""
    job = (ctx.fingerprint, vintage, key, day)
    with _PREWARM_LOCK:
        if job in _PREWARMED:
            return
        _PREWARMED.add(job)
        if _prewarm_pool is None:
            from concurrent.futures import ThreadPoolExecutor
            _prewarm_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lsc-prewarm")
            import logging          # Streamlit's caches warn that this thread has no script run: it has none by design
            logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
                lambda r: not r.threadName.startswith("lsc-prewarm"))
    _prewarm_pool.submit(prewarm, ctx.store, ctx.fingerprint, vintage, reg, key, day, wait_for_quiet)


PREWARM_MAX_LSOAS = 5000   # footprints above this (England) build a first profile's tables on first use
IDLE_S = 2.0           # a warm-up step starts only after this long without a script run starting
IDLE_GIVE_UP_S = 60.0  # ... and gives up (the profile then builds the rest itself) after this


def wait_for_quiet(idle_s: float = IDLE_S, give_up_s: float = IDLE_GIVE_UP_S) -> bool:
    """Block until no script run has started in this process for `idle_s` seconds; False
    after `give_up_s` of a busy server."""
    import time

    from layers.cache import LAST_RUN
    t0 = time.monotonic()
    while time.monotonic() - LAST_RUN[0] < idle_s:
        if time.monotonic() - t0 > give_up_s:
            return False
        time.sleep(0.1)
    return True


def prewarm(store, fp: str, vintage: int, reg=None, reg_key: str = "", day: str = "",
            quiet=lambda: True) -> list[str]:
    """Build what a first ward profile needs (see above), each step once `quiet()` says
    the server is quiet (prewarm_profile passes wait_for_quiet: a step never starts while
    a page loads; the longest, England's indicator tables, takes ~2.5 s); returns what
    failed or was left for a busy server (logged, never raised: the profile then builds
    it itself)."""
    import logging
    failed = []
    code = store.wards24["wd24cd"].iloc[0] if len(store.wards24) else None
    steps = [(f"figures:{by}", lambda by=by: _figures(store, fp, by, vintage)) for by in ("ward", "place", "icb", "england")]
    steps.append(("positions", lambda: _positions(store, fp, vintage)))
    if reg is not None and code is not None:
        steps.append(("services", lambda: _ward_services(store.wards24, reg, fp, code, reg_key, day)))
    if code is not None:
        from layers.base import need
        steps.append(("indicators", lambda: need("indicators.ward_table")(MapContext(store=store, fingerprint=fp),
                                                                          code)))
    for i, (name, step) in enumerate(steps):
        if not quiet():
            failed.extend(n for n, _ in steps[i:])
            logging.getLogger(__name__).info("ward profile warm-up: the server stayed busy; left %s", failed)
            break
        try:
            step()
        except Exception as e:          # noqa: BLE001 (a warm-up: the profile builds it itself)
            failed.append(name)
            logging.getLogger(__name__).warning("ward profile warm-up: %s failed (%s: %s)", name, type(e).__name__, e)
    return failed


@hot(maxsize=256)
def _ward_services(_wards, _reg, fp: str, code: str, reg_key: str, day: str) -> pd.DataFrame:
    """geo.access.ward_services, memoised per ward, register version and day (read-only)."""
    from geo.access import ward_services
    return ward_services(_wards, code, _reg.records, day, config=_reg.config, opened=_open_sites(_reg, reg_key, day))


@hot(maxsize=8)
def _open_sites(_reg, reg_key: str, day: str) -> dict:
    """The register's open sites per category on `day` (the same for every ward)."""
    from geo.access_ward import open_by_category
    return open_by_category(_reg.records, day, _reg.config)


@hot(maxsize=256)
def _ward_stops(_wards, _reg, fp: str, code: str, reg_key: str, day: str) -> pd.DataFrame:
    """geo.access.ward_stops for the HARI bus, memoised like _ward_services (read-only)."""
    from geo.access import ward_stops
    return ward_stops(_wards, code, _reg.category("hari_bus"), day)


def _services_html(ctx: MapContext, code: str) -> str:
    """Open sites of each category in or within 1 km of the ward, and the nearest one (a
    list: it reads in the narrow profile column, where a wide table is cut off)."""
    current_register, register_key, today = (ctx.need(f"services.{n}") for n in ("current_register", "register_key",
                                                                                 "today"))
    try:
        t = _ward_services(ctx.store.wards24, current_register(), ctx.fingerprint, code, register_key(), today())
    except Exception as e:               # the rest of the profile still shows
        return f'<p class="lsc-cap">Services unavailable ({esc(type(e).__name__)}: {esc(e)}).</p>'
    lines = []
    for r in t.itertuples():
        near = (f"nearest: {esc(r.nearest)}, {r.nearest_km:.2f} km" + (" (in the ward)" if r.nearest_km == 0 else "")
                if r.nearest else "none open")
        lines.append(f"<li><b>{esc(r.label)}</b>: {esc(r.in_or_near)} in or within 1 km; {near}</li>")
    return (f"<p><b>Services in or near this ward</b> (open on {esc(today())})</p>"
            f'<ul class="lsc-services">{"".join(lines)}</ul>'
            '<p class="lsc-cap">Straight-line distance from the ward boundary (not road distance). Sites and their '
            "status: the services register, as the Services layer shows it.</p>")


def _outreach_html(ctx: MapContext, code: str, limit: int = 12) -> str:
    """The ward's HARI bus stops (in or within 1 km): visited, today, upcoming, cancelled."""
    current_register, register_key, today = (ctx.need(f"services.{n}") for n in ("current_register", "register_key",
                                                                                 "today"))
    try:
        t = _ward_stops(ctx.store.wards24, current_register(), ctx.fingerprint, code, register_key(), today())
    except Exception as e:
        return f'<p class="lsc-cap">Outreach history unavailable ({esc(type(e).__name__)}: {esc(e)}).</p>'
    illus = bool(len(t) and t["illustrative"].astype(bool).any())
    out = ("<p><b>Outreach history: HARI bus stops in or within 1 km</b>"
           + (" · ILLUSTRATIVE schedule" if illus else "") + "</p>")
    if not len(t):
        return out + '<p class="lsc-cap">No HARI bus stop in or within 1 km of this ward in the schedule.</p>'
    lines = [f"<li>{esc(r.event_date)} · <b>{esc(STOP_WORDS.get(r.state, r.state))}</b> · {esc(r.name)}"
             + (" (in the ward)" if r.distance_km == 0 else f" ({r.distance_km:.2f} km away)") + "</li>"
             for r in t.head(limit).itertuples()]
    if len(t) > limit:
        lines.append(f"<li>… and {len(t) - limit} earlier stop(s)</li>")
    n_vis = int((t["state"] == "visited").sum())
    n_up = int(t["state"].isin(["upcoming", "today"]).sum())
    return (out + f'<ul class="lsc-outreach">{"".join(lines)}</ul>'
            f'<p class="lsc-cap">{n_vis} visited, {n_up} planned, on {esc(today())}.'
            + (" The shipped schedule is an ILLUSTRATIVE example, not real outreach." if illus else "") + "</p>")


STOP_WORDS = {"visited": "visited", "today": "today", "upcoming": "planned", "cancelled": "cancelled"}


def _indicators_html(ctx: MapContext, code: str) -> str:
    """The ward's indicators with CIs and comparators, as a static table whose cells wrap:
    in the narrow profile column a grid cuts the indicator names or the values off."""
    from geo.errors import GeoError
    try:
        t = ctx.need("indicators.ward_table")(ctx, code)
    except GeoError as e:
        return f'<p class="lsc-cap">Indicators unavailable: {esc(e)}</p>'
    out = ("<p><b>Health indicators for this ward</b> (ward values where the Census ward code matches May 2024; "
           "otherwise the district's value, labelled)</p>")
    if t.empty:
        return out + '<p class="lsc-cap">No indicator values for this ward.</p>'
    v = indicator_view(t)
    return out + html_table(list(v.columns), v.values.tolist(), numeric=("Value (95% CI)", "LSC", "England"),
                            cls="lsc-indicators")


def indicator_view(t: pd.DataFrame) -> pd.DataFrame:
    """Indicator table for reading: name with unit, value with its 95% CI, comparators,
    and where the value comes from (level, period, note), all as text ("–" = none)."""
    def num(v):
        return "–" if v is None or pd.isna(v) else f"{float(v):,.1f}"

    def get(r, c):
        return r.get(c) if c in r and not (isinstance(r.get(c), float) and pd.isna(r.get(c))) else ""
    rows = []
    for r in t.to_dict("records"):
        ci = (f" ({num(r.get('Lower 95% CI'))}–{num(r.get('Upper 95% CI'))})"
              if not pd.isna(r.get("Lower 95% CI", float("nan"))) else "")
        comp = "; ".join(x for x in (get(r, "Compared with LSC"), get(r, "Compared with England")) if x)
        unit = get(r, "Unit")
        rows.append({"Indicator": f"{r.get('Indicator')}" + (f" ({unit})" if unit else ""),
                     "Value (95% CI)": num(r.get("Value")) + ci, "LSC": num(r.get("LSC")),
                     "England": num(r.get("England")),
                     "From": " · ".join(str(x) for x in (get(r, "Level"), get(r, "Period"), get(r, "Note"), comp)
                                        if x)})
    return pd.DataFrame(rows)
