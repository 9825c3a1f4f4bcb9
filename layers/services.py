"""Services layer: GP practices, NHS hospitals, Community Diagnostic Centres (CDCs), ACT
hospitals, screening sites and HARI bus stops (ILLUSTRATIVE), each toggled on/off, with
an upload box whose row report lists every rejected row. Data and validation live in
geo/services/.

- The register follows the chosen footprint (the ICB selector / the link's `icb=`):
  LSC = its staged and curated files and its 8 CDCs; another ICB (or England) = its GP
  practices, NHS hospital sites and CDCs from the England-wide files. Uploads are
  checked against that footprint ("outside the footprint") and geocode any English
  postcode; the access and next-visit panels read the same register.
- GP practices (many) are CircleMarkers clustered at low zoom (Leaflet.markercluster,
  served locally); the other categories are small inline-SVG shapes (DivIcon: no
  remote assets) so colour is never the only cue.
- Points, popups and tooltips go to static JSON files under static/gen/ (content-hashed
  names, written atomically): one for the shipped + saved register (per day: popups
  say "open on <date>") and one per uploaded file. The map runtime fetches each file
  once and keeps the markers; a rerun sends only the file URLs, the categories shown
  and the closed/planned flag (a few hundred bytes).
- Every text that reaches HTML (popups, tooltips) goes through `esc`; the files are
  written with `js_json` (inert to Jinja, safe in a <script> when the HTML export
  inlines them). Markers, popups and the point files are render/markers.py (pure).
- Uploads are kept in the session while they are in the upload box (taking a file out
  of the box takes its rows off the map); "Save" writes the accepted rows to the
  user-data store (geo.userdb via geo.saved_services: a new version per change, an
  identical save adds nothing); saved files are listed with Remove (undo: Restore).
  Builds never touch the store.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pandas as pd
import streamlit as st

from geo import saved_services as ss
from geo import services as sv
from geo import userdb
from geo import viewfields as VF
from geo.csvsafe import neutralise_frame, safe_csv_bytes
from geo.paths import CONFIG_DIR, ROOT
from layers.base import (Layer, LegendEntry, LegendItem, MapContext, esc, hot, js_json, md, new_run, per_run,
                         provide, widget_default)
# the markers, popups and point files are render/markers.py's (re-exported: other modules
# and tests import them from here)
from render.markers import (EVENT_TEXT, _shown_solid, _summary, _svg, _write_points, marker_styles,  # noqa: F401
                            points_payload, popup_html, status_on, today)

UPLOADS = "services_uploads"        # session_state: {digest: ImportResult}
IN_BOX = "services_upload_in_box"   # session_state: digest of the file now in the upload box
SAVED = "services_upload_saved"     # session_state: {digest: (name, message)} uploads in the store
FLASH = "services_flash"            # session_state: (kind, message) shown once after a rerun
BOX_N = "services_upload_n"         # session_state: bumped to empty the upload box
REPORT = "services_upload_report"   # session_state: digest of the upload whose report is shown
UPLOAD_ICB = "services_upload_icb"  # session_state: {digest: ICB code the upload was checked against}
REPORT_COLUMNS = {"row": "Row", "field": "Field", "reason": "Reason", "id": "id", "name": "Name"}
NATIONAL_CATEGORIES = ("gp", "hospital", "cdc")   # what the England-wide files give every ICB


@per_run
def footprint_code() -> str:
    """The chosen footprint's ICB code (LSC when none is chosen or the store is missing)."""
    try:
        from layers import view
        store, fp = view.get_store()
        return view.chosen_icb(store, fp) if store is not None else sv.LSC_ICB
    except Exception:
        return sv.LSC_ICB


def _config(icb: str) -> dict:
    """The register config of footprint `icb`; LSC's when the code cannot be used."""
    try:
        return sv.config_for(icb)
    except ValueError:
        return sv.load_config()


@per_run
def _fingerprint() -> str:
    """Changes with the footprint (ICB) and when the config, curated files, saved user
    files, the staged source files the register reads, or the data store (postcode
    look-up, ICB polygons) change."""
    from geo.paths import source_dir, store_dir
    icb = footprint_code()
    paths = [CONFIG_DIR / "services.yaml", *sorted((ROOT / "data/services").glob("*")), *sv.user_files(),
             store_dir() / "manifest.json"]
    try:
        cfg = _config(icb)
        src = source_dir()
        paths += [src / x["path"] for x in cfg.get("sources", [])
                  if x.get("dir") == "source" and x.get("path") and sv.in_scope(x, sv.icb_of(cfg))]
        if (cfg.get("footprint") or {}).get("boundary"):
            paths.append(src / cfg["footprint"]["boundary"])
    except Exception:
        pass
    parts = []
    for p in paths:
        try:
            s = p.stat()
            parts.append(f"{p}:{s.st_mtime_ns}:{s.st_size}")
        except OSError:
            parts.append(f"{p}:-")
    try:
        parts.append(ss.token())        # saved files: changes on every save/remove/restore
    except Exception as e:              # store unreachable: load without saved files, say so
        parts.append(f"store-unavailable:{type(e).__name__}:{dt.datetime.now():%Y%m%d%H%M}")
    return icb + "-" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def _load_register(icb: str = sv.LSC_ICB) -> sv.Register:
    """The footprint's shipped sources + saved files from the user-data store (checked
    against that footprint); if the store cannot be read, the shipped sources and a
    message saying saved files are missing."""
    cfg = _config(icb)
    try:
        return ss.load_register(config=cfg)
    except Exception as e:
        reg = sv.load_register(include_user=False, config=cfg)
        empty = sv.import_bytes(b"", "user-data store")
        empty.fatal = f"Saved service files not shown: the user-data store could not be read ({e})"
        return sv.Register(reg.records, reg.results + [empty], reg.config)


@st.cache_data(show_spinner=False, max_entries=8, persist="disk")
def _register_from_disk(fp: str, icb: str) -> sv.Register:
    """The register, pickled to Streamlit's disk cache (~/.streamlit/cache) under the
    fingerprint of every file it is built from: a restarted server loads it in tens of
    milliseconds instead of re-reading and geocoding the sources (~1 s)."""
    return _load_register(icb)


@hot(maxsize=8)
@st.cache_resource(show_spinner="Loading service sites…", max_entries=8)
def _base_register(fp: str, icb: str = sv.LSC_ICB) -> sv.Register:
    try:
        return _register_from_disk(fp, icb)
    except Exception:          # an unreadable cache entry must never stop the map
        return _load_register(icb)


def _session_uploads() -> list[tuple[str, sv.ImportResult]]:
    """(digest, result) of this session's uploads that add rows, in upload order: those
    checked against the footprint shown now (another ICB's uploads wait for it)."""
    icb, where = footprint_code(), st.session_state.get(UPLOAD_ICB, {})
    return [(d, r) for d, r in st.session_state.get(UPLOADS, {}).items()
            if r.ok and len(r.records) and where.get(d, sv.LSC_ICB) == icb]


@hot(maxsize=16)
@st.cache_resource(show_spinner=False, max_entries=16)
def _register_with(fp: str, icb: str, digests: tuple, _ups) -> sv.Register:
    reg = _base_register(fp, icb)
    for _, res in _ups:
        reg = reg.with_upload(res, "session upload")
    return reg


def register_key() -> str:
    """Changes when the register this session sees changes (files or uploads)."""
    return _fingerprint() + "".join(f":{d}" for d, _ in _session_uploads())


def current_register() -> sv.Register:
    """Shipped + saved data, plus this session's uploads (cached: treat as read-only)."""
    fp, icb, ups = _fingerprint(), footprint_code(), _session_uploads()
    if not ups:
        return _base_register(fp, icb)
    return _register_with(fp, icb, tuple(d for d, _ in ups), ups)


def _who() -> str:
    """created_by for saves from the app: a proxy's user header when there is one."""
    try:
        h = st.context.headers
        user = h.get("X-Forwarded-User") or h.get("X-Remote-User") or h.get("Remote-User")
    except Exception:
        user = None
    return f"{user} (app)" if user else "app user"


def _md_text(text: str) -> str:
    """User-supplied text (file names) shown literally in a markdown message."""
    return md(text)


def _already_saved(res: sv.ImportResult) -> str | None:
    """A message when `res`'s accepted rows are exactly the current saved version of its name."""
    if not res.ok or not len(res.records):
        return None
    try:
        sha = hashlib.sha256(ss.canonical_csv(res.records)).hexdigest()
        cur = [e for e in userdb.open_store().list(ss.KIND) if e.name == ss.default_name(res.file)]
    except Exception:
        return None
    if cur and cur[0].sha256 == sha:
        return (f"{res.file}: already saved with exactly these {len(res.records)} row(s) (version "
                f"{cur[0].version}); they are on the map from the store.")
    return None


@hot
@st.cache_data(show_spinner=False, max_entries=8)
def _base_file(fp: str, icb: str, day: str) -> dict:
    """The shipped + saved register as a static file: {"url", "summary"}."""
    reg = _base_register(fp, icb)
    return {"url": _write_points("services", points_payload(reg.records, reg.config, day)),
            "summary": _summary(reg.records, day)}


@st.cache_data(show_spinner=False, max_entries=64)
def _upload_file(digest: str, fp: str, icb: str, day: str, _res: sv.ImportResult) -> dict:
    """One uploaded file's accepted rows as a static file (named by content)."""
    add = _res.records.copy()
    add["source_file"] = f"session upload: {_res.file}"      # as Register.with_upload
    cfg = _base_register(fp, icb).config
    return {"url": _write_points("svcup", points_payload(add, cfg, day)), "summary": _summary(add, day)}


def service_files() -> tuple[list[str], dict]:
    """URLs of the static point files this session draws, and the summed counts."""
    fp, icb, day = _fingerprint(), footprint_code(), today()
    parts = [_base_file(fp, icb, day)] + [_upload_file(d, fp, icb, day, r) for d, r in _session_uploads()]
    summary = {"total": {}, "open": {}, "other": {}}
    for part in parts:
        for k, counts in part["summary"].items():
            for cat, n in counts.items():
                summary[k][cat] = summary[k].get(cat, 0) + int(n)
    return [part["url"] for part in parts], summary


class ServicesLayer(Layer):
    key = "services"
    label = "Services"
    order = 60
    fields = VF.SERVICES            # svc: one checkbox per category

    # ---------------------------------------------------------------- link state
    def to_session(self, values: dict, ss) -> None:
        if values.get("svc") is not None:
            for cat in sv.load_config()["categories"]:
                ss[f"services_cat_{cat}"] = cat in values["svc"]

    def link_values(self, ctx: MapContext, ss) -> dict:
        s = ctx.state.get(self.key, {})
        return {"svc": tuple(sorted(s.get("cats") or ()))} if s.get("on") else {}

    def state_from_view(self, view, store, fp: str = "") -> dict:
        """Every category of the register, open today (exports draw what the app draws at first)."""
        return {"on": view.layer_on(self.key, self.default_on),
                "cats": list(current_register().config["categories"]), "closed": False}

    # ---------------------------------------------------------------- sidebar
    def sidebar(self, ctx: MapContext) -> None:
        s = ctx.state.setdefault(self.key, {})
        reg = current_register()
        counts = service_files()[1]["total"]
        s["on"] = st.checkbox("Services", key="services_on", **widget_default("services_on", value=True))
        s["cats"] = []
        for k, c in shown_categories(reg, counts).items():
            lab = f"{c['label']} ({counts.get(k, 0)})" + (" — ILLUSTRATIVE" if c.get("illustrative") else "")
            if st.checkbox(lab, key=f"services_cat_{k}", disabled=not s["on"],
                           **widget_default(f"services_cat_{k}", value=bool(c.get("default_on", True)))):
                s["cats"].append(k)
        s["closed"] = st.checkbox("Also show closed / planned sites and past / upcoming stops (hollow)",
                                  value=False, key="services_closed",
                                  disabled=not s["on"])
        with st.expander("Upload services (CSV, XLSX, GeoJSON)", expanded=False):
            self._upload(ctx, reg)
        for f in reg.fatal:
            ctx.messages.append(("warning", f))

    def _upload(self, ctx: MapContext, reg: sv.Register) -> None:
        st.caption("Schema: data/templates/README.md (id, name, category, postcode or lat/lon or "
                   "easting/northing, status, dates…). Bad rows are listed; good rows load.")
        flash = st.session_state.pop(FLASH, None)
        if flash:
            getattr(st, flash[0])(_md_text(flash[1]))
        cats = list(reg.config["categories"])
        where = sv.footprint_name(reg.config)
        st.caption(f"Rows are checked against the chosen footprint ({md(where)}); postcodes geocode anywhere "
                   f"in England (Code-Point Open 2025).")
        default = st.selectbox("Category when the file has none", ["(from file)"] + cats, key="services_up_cat")
        n = st.session_state.get(BOX_N, 0)
        f = st.file_uploader("Service file", type=["csv", "txt", "tsv", "xlsx", "geojson", "json"],
                             key="services_upload" + (f"_{n}" if n else ""), label_visibility="collapsed")
        ups = st.session_state.setdefault(UPLOADS, {})
        saved = st.session_state.setdefault(SAVED, {})
        digest = None
        if f is not None:
            data = f.getvalue()
            digest = hashlib.sha256(data + f.name.encode() + default.encode()
                                    + footprint_code().encode()).hexdigest()[:16]
        changed = False
        if st.session_state.get(IN_BOX) not in (None, digest):
            changed = ups.pop(st.session_state[IN_BOX], None) is not None   # taken out of / replaced in the box
        st.session_state[IN_BOX] = digest
        if f is not None:
            changed |= self._upload_report(f, data, digest, default, ups, saved, reg.config)
        if changed:                  # the counts above were drawn before this change: draw them again
            st.rerun()
        if (ups or f is not None) and st.button(
                "Clear uploaded files", key="services_clear_uploads",
                help="Empty the upload box and take unsaved uploads off the map (saved files stay)"):
            ups.clear()
            st.session_state[IN_BOX] = None
            st.session_state[BOX_N] = n + 1              # a new key empties the upload box
            self._rerun("info", "Uploads cleared: their rows are off the map. Saved files stay (listed below).")
        self._saved_files()

    @staticmethod
    def _rerun(kind: str, message: str | None) -> None:
        """A fresh run, so counts, legend and map all see the change; then `message` once."""
        if message:
            st.session_state[FLASH] = (kind, message)
        _base_register.clear()
        new_run()
        st.rerun()

    def _upload_report(self, f, data: bytes, digest: str, default: str, ups: dict, saved: dict,
                       config: dict | None = None) -> bool:
        """The file's row report and Save; True when this run added its rows to the session.
        Rows are checked against the footprint of `config` (the register's)."""
        if digest in saved:          # saved already: its rows come from the store now
            st.success(_md_text(saved[digest][1]))
            return False
        if digest not in ups:
            res = sv.import_bytes(data, f.name, default_category=None if default == "(from file)" else default,
                                  data_date=f"uploaded {today()}", config=config)
            st.session_state.setdefault(UPLOAD_ICB, {})[digest] = sv.icb_of(config)
            same = _already_saved(res)
            if same:                 # identical to a saved file: show it once, from the store
                saved[digest] = (ss.default_name(res.file), same)
                st.success(_md_text(same))
                return False
            ups[digest] = res
            if res.ok and len(res.records):
                return True          # rerun: the counts drawn above then include these rows
        res = ups[digest]
        if not res.ok:
            st.error(md(res.fatal))
            return False
        (st.success if res.rejected.empty else st.warning)(md(res.summary()))
        st.session_state[REPORT] = digest
        if len(res.rejected) or len(res.warnings):
            st.caption(f"{len(res.rejected)} rejected row(s), {len(res.warnings)} warning(s): listed with row, "
                       f"field and reason under the map (“Upload report”).")
        if len(res.records):
            if st.button("Save accepted rows to my user-data store", key="services_save"):
                try:
                    out = ss.save_result(res, created_by=_who())
                except Exception as e:
                    st.error(_md_text(f"Could not save {res.file} ({e}); nothing already saved was changed."))
                    return False
                msg = (f"{out.message} {len(res.records)} row(s) load with the shipped data from now on."
                       if out.created else out.message)
                saved[digest] = (out.name, msg)
                ups.pop(digest, None)
                self._rerun("success", None)     # the message shows under the box (saved state)
        return False

    @staticmethod
    def _forget_saved(name: str) -> None:
        """After removing `name`: empty the upload box if it holds that file (its rows must
        not come back as an upload); uploading it again later offers Save again."""
        saved = st.session_state.get(SAVED, {})
        for d in [d for d, (n, _) in saved.items() if n == name]:
            saved.pop(d)
            if st.session_state.get(IN_BOX) == d:
                st.session_state[IN_BOX] = None
                st.session_state[BOX_N] = st.session_state.get(BOX_N, 0) + 1

    def _saved_files(self) -> None:
        """Saved files with Remove (rows off the map at once) and Restore for removed ones."""
        try:
            entries = userdb.open_store().list(ss.KIND, removed=True)
        except Exception as e:
            st.warning(f"Saved files cannot be listed: the user-data store could not be read ({e}).")
            return
        removed = sorted((e for e in entries if e.removed), key=lambda e: e.removed_at, reverse=True)[:5]
        entries = [e for e in entries if not e.removed or e in removed]     # the 5 latest removals
        if not entries:
            return
        st.markdown(f"**Saved files** ({sum(not e.removed for e in entries)})")
        for e in entries:
            i = hashlib.sha256(e.name.encode()).hexdigest()[:12]     # key follows the file, not its place
            rows = f"{e.rows} row(s)" if e.rows is not None else "migrated file"
            if e.removed:
                st.caption(_md_text(f"{e.name} — removed {e.removed_at:%Y-%m-%d %H:%M} UTC"))
                if st.button("Restore", key=f"services_restore_{i}", help=f"Put {e.name} back on the map"):
                    userdb.open_store().restore(ss.KIND, e.name, by=_who())
                    self._rerun("success", f"Restored '{e.name}' (version {e.version}).")
            else:
                st.caption(_md_text(f"{e.name}: {rows}, version {e.version}, saved "
                                    f"{e.created_at:%Y-%m-%d %H:%M} UTC by {e.created_by}"))
                if st.button("Remove", key=f"services_remove_{i}", help=f"Take {e.name}'s rows off the map"):
                    userdb.open_store().remove(ss.KIND, e.name, by=_who())
                    self._forget_saved(e.name)
                    self._rerun("info", f"Removed '{e.name}': its rows are off the map and out of the "
                                        f"access figures. Restore brings it back.")

    # ---------------------------------------------------------------- map
    def feature_group(self, ctx: MapContext):
        """A few hundred bytes: the point files' URLs (fetched once by the browser) and
        which categories / statuses to show."""
        if not self.is_on(ctx):
            return None
        from render.map import part_group
        s = ctx.state.get(self.key, {})
        files, _ = service_files()
        return part_group(self.key, {"show": True, "files": files, "cats": list(s.get("cats", [])),
                                     "closed": bool(s.get("closed"))})

    def legend(self, ctx: MapContext) -> list[LegendEntry]:
        if not self.is_on(ctx):
            return []
        cats = current_register().config["categories"]
        summary = service_files()[1]
        closed = bool(ctx.choice(self.key, "closed"))
        items, dates = [], []
        for k in ctx.state.get(self.key, {}).get("cats", []):
            c = cats[k]
            n_open, hidden = summary["open"].get(k, 0), summary["other"].get(k, 0)
            shown = n_open + (hidden if closed else 0)
            what = "past/upcoming stops" if c.get("kind") == "event" else "closed/planned"
            extra = "" if closed or not hidden else f", {hidden} {what} hidden"
            items.append(LegendItem(f"{c['label']}: {shown} shown{extra}", fill=c["colour"], stroke="#1a1a1a",
                                    shape=c.get("shape", "circle")))
            dates.append(f"{c['label']}: {c.get('data_date', '')}")
        if not items:
            return []
        illus = "hari_bus" in ctx.state.get(self.key, {}).get("cats", [])
        reg = current_register()
        return [LegendEntry(
            title=f"Services in {sv.footprint_name(reg.config)} (open on {today()})",
            items=items, vintage="; ".join(dates), source=legend_source(reg.config),
            note=("HARI bus stops are ILLUSTRATIVE: no public schedule exists. " if illus else "")
                 + "Hollow = not open today: closed or planned sites; HARI bus stops on other days "
                   "(past stops = visited, later ones = planned).",
        )]

    def notes(self, ctx: MapContext) -> list[str]:
        return []

    def panel(self, ctx: MapContext) -> None:
        """The last upload's report (rows not loaded), then outreach recency in the area:
        its priority wards and every ward with a HARI bus stop in or near it (visited or
        planned)."""
        upload_report()
        if not self.is_on(ctx) or current_register().category("hari_bus").empty:
            return                      # no schedule (outside LSC until one is uploaded): nothing to show
        try:
            member = ctx.need("priority.membership")(ctx)
        except Exception:
            member = {}
        a = ctx.area or {}
        code = tuple(a.get("wards") or ()) if a.get("kind") == "custom" else a.get("code")   # a custom area: its wards
        args = (ctx.store, ctx.fingerprint, register_key(), today(),
                tuple(sorted((c, tuple(k)) for c, k in member.items())), a.get("kind"), code, ctx)
        t = _outreach_table(*args)
        if t is None or not len(t):
            return
        days = [c for c in t.columns if c.startswith("Days since")][0]
        illus = "ILLUSTRATIVE" in days
        where = md(a.get("name") or sv.footprint_name(current_register().config))
        st.markdown(f"#### Outreach recency in {where}: priority wards and wards with a HARI bus stop"
                    + (" · ILLUSTRATIVE bus schedule" if illus else ""))
        st.caption(f"Days since the last HARI bus stop held in the ward or within 1 km of it, on {today()} "
                   f"(past stops are visits; later ones are planned). {NO_STOP_NOTE}"
                   + (" The shipped schedule is an ILLUSTRATIVE example, not real outreach." if illus else ""))
        st.dataframe(_outreach_arrow(*args), hide_index=True, width="stretch", height=260, key="services_outreach")


def shown_categories(reg: sv.Register, counts: dict) -> dict:
    """The categories offered in the sidebar: all of them in LSC; elsewhere those the
    England-wide files give (GP practices, hospitals, CDCs) and any with rows (uploads,
    saved files), not LSC's curated lists with nothing to show."""
    cats = reg.config["categories"]
    if sv.icb_of(reg.config) == sv.LSC_ICB:
        return dict(cats)
    return {k: c for k, c in cats.items() if k in NATIONAL_CATEGORIES or counts.get(k, 0)}


SOURCE_NAMES = {"epraccur": "NHS ODS epraccur", "nhs_website_hospitals": "NHS website hospital list"}
NATIONAL_NAMES = {"gp": "NHS ODS epraccur (England file)", "hospitals": "NHS website hospital list (England file)",
                  "cdc": "GOV.UK CDC map data (NHS England / DHSC)"}


def legend_source(config: dict) -> str:
    """Where the footprint's points come from, for the legend."""
    icb = sv.icb_of(config)
    names, curated = [], False
    for src in config.get("sources", []):
        if not sv.in_scope(src, icb):
            continue
        if src.get("adapter") == "national":
            names.append(NATIONAL_NAMES.get(src.get("kind"), src.get("name", "")))
        elif src.get("adapter"):
            names.append(SOURCE_NAMES.get(src["adapter"], src.get("name", "")))
        else:
            curated = True
    if curated:
        names.append("curated rows with a cited source each (data/services/)")
    return "; ".join(dict.fromkeys(names + ["uploads as labelled"]))


def report_frame(tab: pd.DataFrame, what: str) -> pd.DataFrame:
    """Row, field, reason (or warning), id, name of an upload's problems, every cell
    neutralised (the table's own CSV download must not carry formulas either)."""
    cols = {**REPORT_COLUMNS, "warning": "Warning"}
    keep = [c for c in ("row", "field", what, "id", "name") if c in tab.columns]
    out = tab[keep].rename(columns={c: cols.get(c, c) for c in keep})
    return neutralise_frame(out.astype({c: str for c in out.columns if c != "Row"}))


def upload_report() -> None:
    """Main-column expander with every rejected row / warning of the last upload: row,
    field and reason in a table wide enough to read, and the same as a CSV."""
    res = st.session_state.get(UPLOADS, {}).get(st.session_state.get(REPORT))
    if res is None or not res.ok or not (len(res.rejected) or len(res.warnings)):
        return
    title = (f"Upload report: {md(res.file)}: {len(res.records)} row(s) loaded, {len(res.rejected)} rejected"
             + (f", {len(res.warnings)} warning(s)" if len(res.warnings) else ""))
    with st.expander(title, expanded=bool(len(res.rejected))):
        for label, tab, what in (("Rejected rows (not loaded)", res.rejected, "reason"),
                                 ("Warnings (rows loaded)", res.warnings, "warning")):
            if not len(tab):
                continue
            st.markdown(f"**{label}** ({len(tab)})")
            st.dataframe(report_frame(tab, what), hide_index=True, width="stretch",
                         height=min(38 + 35 * len(tab), 420), key=f"services_report_{what}",
                         column_config={"Reason": st.column_config.TextColumn(width="large"),
                                        "Warning": st.column_config.TextColumn(width="large")})
            st.download_button(f"Download {label.split()[0].lower()} (CSV)", safe_csv_bytes(tab),
                               file_name=f"{Path(res.file).stem}_{'rejected' if what == 'reason' else 'warnings'}.csv",
                               mime="text/csv", key=f"services_report_{what}_csv")


# the outreach tables (layers/services_outreach.py, re-exported here)
from layers.services_outreach import (NO_STOP, NO_STOP_NOTE, _area_codes, _outreach, _outreach_arrow,  # noqa: E402,F401
                                      _outreach_table, outreach_columns)


LAYER = ServicesLayer()

# what other layers need from this one (layers.base.need / ctx.need), so none imports it
provide("services.current_register", current_register)
provide("services.register_key", register_key)
provide("services.today", today)
provide("services.who", _who)
provide("services.outreach_columns", outreach_columns)
provide("services.no_stop_note", NO_STOP_NOTE)
