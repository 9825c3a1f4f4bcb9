"""Services layer: GP practices, NHS hospitals, ACT hospitals, screening sites and
HARI bus stops (ILLUSTRATIVE), each toggled on/off, with an upload box whose row report
lists every rejected row. Data and validation live in geo/services.py.

- GP practices (many) are CircleMarkers clustered at low zoom (Leaflet.markercluster,
  served locally); the other categories are small inline-SVG shapes (DivIcon: no
  remote assets) so colour is never the only cue.
- Every text that reaches HTML (popups, tooltips) goes through `esc`.
- Uploads are kept in the session; "Save" writes the accepted rows to the user-data
  folder (geo.paths.user_data_dir()/services), which builds never touch.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import json

import folium
import pandas as pd
import streamlit as st
from branca.element import MacroElement
from jinja2 import Template

from geo import services as sv
from geo.csvsafe import safe_csv_bytes
from geo.paths import CONFIG_DIR, ROOT
from layers.base import Layer, LegendEntry, LegendItem, MapContext, esc, js_json

UPLOADS = "services_uploads"        # session_state: {digest: ImportResult}


def _fingerprint() -> str:
    """Changes when the config, curated files or saved user files change."""
    parts = []
    for p in [CONFIG_DIR / "services.yaml", *sorted((ROOT / "data/services").glob("*")), *sv.user_files()]:
        try:
            s = p.stat()
            parts.append(f"{p}:{s.st_mtime_ns}:{s.st_size}")
        except OSError:
            pass
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


@st.cache_resource(show_spinner="Loading service sites…", max_entries=4)
def _base_register(fp: str) -> sv.Register:
    return sv.load_register()


def current_register() -> sv.Register:
    """Shipped + saved data, plus this session's uploads."""
    reg = _base_register(_fingerprint())
    for res in st.session_state.get(UPLOADS, {}).values():
        if res.ok and len(res.records):
            reg = reg.with_upload(res, "session upload")
    return reg


def today() -> str:
    return dt.date.today().isoformat()


# --- markers ---------------------------------------------------------------------

def _svg(shape: str, colour: str, size: int, hollow: bool) -> str:
    fill = "#ffffff" if hollow else esc(colour)
    stroke = esc(colour) if hollow else "#1a1a1a"
    s = size
    if shape == "square":
        body = f'<rect x="2" y="2" width="{s - 4}" height="{s - 4}"/>'
    elif shape == "diamond":
        body = f'<polygon points="{s / 2},1 {s - 1},{s / 2} {s / 2},{s - 1} 1,{s / 2}"/>'
    elif shape == "triangle":
        body = f'<polygon points="{s / 2},1 {s - 1},{s - 2} 1,{s - 2}"/>'
    elif shape == "star":
        import math
        pts = []
        for k in range(10):
            r = (s / 2 - 1) if k % 2 == 0 else (s / 4.5)
            a = math.pi / 2 + k * math.pi / 5
            pts.append(f"{s / 2 + r * math.cos(a):.1f},{s / 2 - r * math.sin(a):.1f}")
        body = f'<polygon points="{" ".join(pts)}"/>'
    else:
        body = f'<circle cx="{s / 2}" cy="{s / 2}" r="{s / 2 - 2}"/>'
    dash = ' stroke-dasharray="2 1.5"' if hollow else ""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{s}" height="{s}" viewBox="0 0 {s} {s}" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="1.5"{dash}>{body}</svg>')


def popup_html(r: pd.Series, status_on: str, cat_cfg: dict) -> str:
    """Popup for one record. Every value is escaped; the only markup is ours."""
    def row(label, value):
        if value is None or (isinstance(value, float) and pd.isna(value)) or str(value).strip() == "":
            return ""
        return f"<tr><th>{esc(label)}</th><td>{esc(value)}</td></tr>"

    subs = cat_cfg.get("subcategories") or {}
    kind = subs.get(r.get("subcategory"), r.get("subcategory")) if r.get("subcategory") else ""
    dates = " → ".join(x for x in [str(r.get("opened") or ""), str(r.get("closed") or "")] if x)
    status = f"{status_on} on {today()}" + (f" (record: {r.get('status')}; {dates})" if dates or
                                            r.get("status") != status_on else "")
    when = ""
    if r.get("event_date"):
        when = f"{r['event_date']} {r.get('start_time') or ''}–{r.get('end_time') or ''}".strip(" –")
    url = str(r.get("source_url") or "").split()
    links = "".join(f'<div class="lsc-src"><a href="{esc(u)}" target="_blank" rel="noopener noreferrer">'
                    f'{esc(u[:70])}</a></div>' for u in url if u.startswith(("https://", "http://")))
    banner = ('<div class="lsc-illus" style="background:#fde0c5;padding:2px 4px;font-weight:700">'
              'ILLUSTRATIVE example: not a real schedule</div>') if r.get("illustrative") else ""
    rows = "".join([
        row("Category", cat_cfg.get("label", r.get("category")) + (f" — {kind}" if kind else "")),
        row("Status", status), row("Note", r.get("status_note")),
        row("Date / time", when), row("Place", r.get("place") if r.get("event_date") else ""),
        row("Offer", r.get("offer")), row("Address", r.get("address")), row("Postcode", r.get("postcode")),
        row("Operator", r.get("operator")), row("ID", r.get("id")),
        row("Location from", r.get("location_source")), row("Source", r.get("source")),
        row("File", r.get("source_file")), row("Data date", r.get("data_date")),
    ])
    return (f'<div class="lsc-svc-popup" style="max-width:340px;font-size:13px">{banner}'
            f'<div class="lsc-svc-name" style="font-weight:700;font-size:14px">{esc(r.get("name"))}</div>'
            f'<table class="lsc-svc-table" style="border-spacing:4px 1px">{rows}</table>{links}</div>')


class _ServicesScript(MacroElement):
    """Builds the markers in the browser from one JSON payload (no jQuery, no CDN).
    Popup and tooltip strings are escaped in Python; Leaflet inserts them as HTML."""
    _template = Template("""
{% macro script(this, kwargs) %}
(function (fg) {
  var P = {{ this.payload }};
  var n = 0;
  P.groups.forEach(function (g) {
    var parent = fg;
    if (g.cluster && L.markerClusterGroup) {
      parent = L.markerClusterGroup({ disableClusteringAtZoom: 12, maxClusterRadius: 45,
        showCoverageOnHover: false, spiderfyOnMaxZoom: false });
      fg.addLayer(parent);
    }
    g.pts.forEach(function (p) {
      var m;
      if (g.shape === "circle") {
        m = L.circleMarker([p[0], p[1]], { radius: g.radius, weight: 1, color: p[4] ? g.colour : "#1a1a1a",
          fill: true, fillColor: p[4] ? "#ffffff" : g.colour, fillOpacity: 0.95, bubblingMouseEvents: false,
          className: "lsc-svc lsc-svc-" + g.cat });
      } else {
        m = L.marker([p[0], p[1]], { icon: L.divIcon({ html: g.svg[p[4]], className: "lsc-svc lsc-svc-" + g.cat,
          iconSize: [g.size, g.size], iconAnchor: [g.size / 2, g.size / 2] }), keyboard: true });
      }
      m.bindPopup(p[2], { maxWidth: 360 });
      m.bindTooltip(p[3], { direction: "top" });
      parent.addLayer(m);
      n++;
    });
  });
  document.body.setAttribute("data-lsc-services", String(n));
})({{ this._parent.get_name() }});
{% endmacro %}
""")

    def __init__(self, payload: dict):
        super().__init__()
        self._name = "LscServices"
        self.payload = js_json(payload)


class ServicesLayer(Layer):
    key = "services"
    label = "Services"
    order = 60

    # ---------------------------------------------------------------- sidebar
    def sidebar(self, ctx: MapContext) -> None:
        s = ctx.state.setdefault(self.key, {})
        reg = current_register()
        cats = reg.config["categories"]
        counts = reg.counts()
        s["on"] = st.checkbox("Services", value=True, key="services_on")
        s["cats"] = []
        for k, c in cats.items():
            lab = f"{c['label']} ({counts.get(k, 0)})" + (" — ILLUSTRATIVE" if c.get("illustrative") else "")
            if st.checkbox(lab, value=True, key=f"services_cat_{k}", disabled=not s["on"]):
                s["cats"].append(k)
        s["closed"] = st.checkbox("Also show closed / planned (hollow)", value=False, key="services_closed",
                                  disabled=not s["on"])
        with st.expander("Upload services (CSV, XLSX, GeoJSON)", expanded=False):
            self._upload(ctx, reg)
        for f in reg.fatal:
            ctx.messages.append(("warning", f))

    def _upload(self, ctx: MapContext, reg: sv.Register) -> None:
        st.caption("Schema: data/templates/README.md (id, name, category, postcode or lat/lon or "
                   "easting/northing, status, dates…). Bad rows are listed; good rows load.")
        cats = list(reg.config["categories"])
        default = st.selectbox("Category when the file has none", ["(from file)"] + cats, key="services_up_cat")
        f = st.file_uploader("Service file", type=["csv", "txt", "tsv", "xlsx", "geojson", "json"],
                             key="services_upload", label_visibility="collapsed")
        ups = st.session_state.setdefault(UPLOADS, {})
        if f is None:
            return
        data = f.getvalue()
        digest = hashlib.sha256(data + f.name.encode() + default.encode()).hexdigest()[:16]
        if digest not in ups:
            ups[digest] = sv.import_bytes(data, f.name, default_category=None if default == "(from file)" else default,
                                          data_date=f"uploaded {today()}")
        res = ups[digest]
        if not res.ok:
            st.error(res.fatal)
            return
        (st.success if res.rejected.empty else st.warning)(res.summary())
        for title, tab, key in (("Rejected rows", res.rejected, "rejected"),
                                ("Warnings (rows loaded)", res.warnings, "warnings")):
            if not len(tab):
                continue
            st.markdown(f"**{title}** ({len(tab)})")
            # st.table: plain escaped text in the page (a small report reads better than a grid)
            st.table(tab.head(50).astype(str).set_index("row"))
            if len(tab) > 50:
                st.caption(f"… {len(tab) - 50} more in the download")
            st.download_button(f"Download {title.split()[0].lower()} report (CSV)", safe_csv_bytes(tab),
                               file_name=f"{Path(res.file).stem}_{key}.csv", mime="text/csv",
                               key=f"services_{key}_csv")
        if len(res.records):
            if st.button("Save accepted rows to my user-data folder", key="services_save"):
                try:
                    p = sv.save_user_records(res.records, res.file)
                    st.success(f"Saved {len(res.records)} row(s) to {p} — loads with the shipped data next time.")
                    ups.pop(digest, None)
                    _base_register.clear()
                except OSError as e:
                    st.error(f"Could not save ({e}); nothing already saved was changed.")

    # ---------------------------------------------------------------- map
    def _shown(self, ctx: MapContext, reg: sv.Register) -> pd.DataFrame:
        s = ctx.state.get(self.key, {})
        r = reg.records[reg.records["category"].isin(s.get("cats", []))].copy()
        r["status_on"] = sv.effective_status(r, today())
        if not s.get("closed"):
            r = r[r["status_on"] == "open"]
        return r

    def feature_group(self, ctx: MapContext):
        if not self.is_on(ctx):
            return None
        reg = current_register()
        cats = reg.config["categories"]
        r = self._shown(ctx, reg)
        groups = []
        for cat, g in r.groupby("category", sort=False):
            c = cats[cat]
            shape = c.get("shape", "circle")
            size = int(2 * float(c.get("radius", 6)) + 4)
            pts = []
            for _, rec in g.iterrows():
                hollow = rec["status_on"] != "open"
                pts.append([round(float(rec["lat"]), 6), round(float(rec["lon"]), 6),
                            popup_html(rec, rec["status_on"], c),
                            esc(rec["name"]) + (" (ILLUSTRATIVE)" if rec["illustrative"] else ""),
                            1 if hollow else 0])
            groups.append({
                "cat": cat, "shape": shape, "colour": c["colour"], "radius": float(c.get("radius", 5)),
                "size": size, "cluster": shape == "circle" and len(g) > 40,
                "svg": None if shape == "circle" else [_svg(shape, c["colour"], size, False),
                                                       _svg(shape, c["colour"], size, True)],
                "pts": pts,
            })
        fg = folium.FeatureGroup(name="lsc-services", control=False)
        fg.add_child(_ServicesScript({"groups": groups}))
        digest = hashlib.sha256(json.dumps(groups, sort_keys=True).encode()).hexdigest()[:12]
        fg.lsc_payload = ("services", digest)
        return fg

    def legend(self, ctx: MapContext) -> list[LegendEntry]:
        if not self.is_on(ctx):
            return []
        reg = current_register()
        cats = reg.config["categories"]
        r = self._shown(ctx, reg)
        n = r["category"].value_counts().to_dict()
        allrec = reg.records.assign(status_on=sv.effective_status(reg.records, today()))
        items, dates = [], []
        for k in ctx.state.get(self.key, {}).get("cats", []):
            c = cats[k]
            hidden = int(((allrec["category"] == k) & (allrec["status_on"] != "open")).sum())
            extra = "" if ctx.choice(self.key, "closed") or not hidden else f", {hidden} closed/planned hidden"
            items.append(LegendItem(f"{c['label']}: {n.get(k, 0)} shown{extra}", fill=c["colour"], stroke="#1a1a1a",
                                    shape=c.get("shape", "circle")))
            dates.append(f"{c['label']}: {c.get('data_date', '')}")
        if not items:
            return []
        illus = "hari_bus" in ctx.state.get(self.key, {}).get("cats", [])
        return [LegendEntry(
            title=f"Services (open on {today()})",
            items=items, vintage="; ".join(dates),
            source="NHS ODS epraccur; NHS website hospital list; curated rows with a cited source each "
                   "(data/services/); uploads as labelled",
            note=("HARI bus stops are ILLUSTRATIVE: no public schedule exists. " if illus else "")
                 + "Hollow = closed or planned.",
        )]

    def notes(self, ctx: MapContext) -> list[str]:
        return []

    def panel(self, ctx: MapContext) -> None:
        """Outreach recency for the priority wards (ICB list, exemplar, candidates)."""
        if not self.is_on(ctx):
            return
        try:
            from layers.priority import LAYER as PRIORITY
            member = PRIORITY.membership(ctx)
        except Exception:
            member = {}
        if not member:
            return
        labels = {"icb": "ICB list", "exemplar": "Exemplar", "candidate": "Candidate"}
        w = ctx.store.wards24.set_index("wd24cd")
        codes = [c for c in member if c in w.index]
        t = outreach_columns(ctx, codes)
        t.insert(1, "Ward", [w.at[c, "wd24nm"] for c in t["code"]])
        t.insert(2, "District", [w.at[c, "lad19nm"] for c in t["code"]])
        t.insert(3, "Priority", [", ".join(labels.get(k, k) for k in member[c]) for c in t["code"]])
        days = [c for c in t.columns if c.startswith("Days since")][0]
        t = t.sort_values(days, ascending=False, na_position="first")
        illus = "ILLUSTRATIVE" in days
        st.markdown("#### Outreach recency: priority wards" + (" · ILLUSTRATIVE bus schedule" if illus else ""))
        st.caption(f"Days since the last HARI bus stop in the ward or within 1 km of it, on {today()}; "
                   "blank = no stop in the schedule." + (" The shipped schedule is an ILLUSTRATIVE example, "
                                                         "not real outreach." if illus else ""))
        st.dataframe(t, hide_index=True, width="stretch", height=260, key="services_outreach")


def outreach_columns(ctx: MapContext, codes, near_km: float = 1.0) -> pd.DataFrame:
    """Ward table columns: days since the last HARI bus stop in or within `near_km` of
    each ward (from the schedule; ILLUSTRATIVE unless a real schedule was uploaded)."""
    from geo.access import outreach_recency
    reg = current_register()
    stops = reg.category("hari_bus")
    w = ctx.store.wards24
    w = w[w["wd24cd"].isin(list(codes))]
    t = outreach_recency(w, stops, today(), near_km=near_km)
    label = "Days since HARI bus" + (" (ILLUSTRATIVE)" if t["illustrative"].any() else "")
    return pd.DataFrame({"code": t["wd24cd"], label: t["days_since_last_stop"],
                         "Last HARI stop": t["last_stop_date"]})


LAYER = ServicesLayer()
