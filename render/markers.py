"""Service markers: each category's shape (inline SVG, so colour is never the only cue),
the popup and tooltip of every record (every value escaped; the only markup is ours),
and the static point files the map runtime fetches once (static/js/paint_services.js).
Pure: layers/services.py draws the controls and caches the files.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from geo import services as sv
from render.text import esc, js_json


def today() -> str:
    return dt.date.today().isoformat()


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
    elif shape == "hexagon":
        q = s / 4
        body = (f'<polygon points="{s / 2},1 {s - 2},{q + 0.5} {s - 2},{s - q - 0.5} {s / 2},{s - 1} '
                f'2,{s - q - 0.5} 2,{q + 0.5}"/>')
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
    if status_on in EVENT_TEXT:          # a dated stop: visited / today / upcoming / cancelled, not "open"
        status = EVENT_TEXT[status_on].format(date=r.get("event_date") or "", day=today())
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


EVENT_TEXT = {"visited": "visited on {date} (past stop; today is {day})",
              "today": "today ({date})",
              "upcoming": "planned for {date} (upcoming stop; not open on {day})",
              "cancelled": "cancelled (stop dated {date})"}


def status_on(records: pd.DataFrame, day: str) -> pd.Series:
    """Per record on `day`: open / closed / planned for sites; visited / today / upcoming /
    cancelled for dated stops (HARI bus), which are never simply "open"."""
    from geo.access import event_state
    if not len(records):
        return pd.Series(dtype=object)
    st_ = sv.effective_status(records, day)
    ev = event_state(records, day) if "event_date" in records else pd.Series("", index=records.index)
    return st_.where(ev == "", ev)


def _shown_solid(status: pd.Series) -> pd.Series:
    return status.isin(["open", "today"])


def marker_styles(config: dict) -> dict:
    """Per category: shape, colour, radius, icon size and the two inline SVGs (open,
    hollow = closed/planned) for non-circle shapes."""
    out = {}
    for cat, c in config["categories"].items():
        shape = c.get("shape", "circle")
        size = int(2 * float(c.get("radius", 6)) + 4)
        out[cat] = {"shape": shape, "colour": c["colour"], "radius": float(c.get("radius", 5)), "size": size,
                    "svg": None if shape == "circle" else [_svg(shape, c["colour"], size, False),
                                                           _svg(shape, c["colour"], size, True)]}
    return out


def points_payload(records: pd.DataFrame, config: dict, day: str) -> dict:
    """What the browser needs to draw `records`: {"styles": {cat: ...}, "pts": {cat:
    [[lat, lon, popup_html, tooltip_html, hollow], ...]}}; every text escaped."""
    cats = config["categories"]
    status = status_on(records, day)
    pts: dict[str, list] = {}
    for rec, st_on in zip(records.to_dict("records"), status.tolist()):
        c = cats.get(rec.get("category"))
        if c is None:
            continue
        pts.setdefault(rec["category"], []).append([
            round(float(rec["lat"]), 6), round(float(rec["lon"]), 6),
            popup_html(rec, st_on, c),
            esc(rec.get("name")) + (" (ILLUSTRATIVE)" if rec.get("illustrative") else ""),
            0 if st_on in ("open", "today") else 1])
    return {"v": 1, "day": day, "styles": marker_styles(config), "pts": pts}


def _summary(records: pd.DataFrame, day: str) -> dict:
    """Counts per category: all rows, open on `day`, closed/planned."""
    if not len(records):
        return {"total": {}, "open": {}, "other": {}}
    is_open = _shown_solid(status_on(records, day))
    cat = records["category"]
    return {"total": cat.value_counts().to_dict(), "open": cat[is_open].value_counts().to_dict(),
            "other": cat[~is_open].value_counts().to_dict()}


def _write_points(prefix: str, payload: dict) -> str:
    from render.static_files import _url, write_hashed
    return _url(write_hashed(prefix, js_json(payload).encode("utf-8")))
