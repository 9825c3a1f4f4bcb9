"""The whole view as a URL query string: schema, parsing, validation, clamping.

Pure Python (no streamlit/folium). The app reads the query string once per session
(layers/share.py), the CLIs (`python -m geo snapshot --url-state ...`,
`python -m geo export --url-state ...`) take the same string, so a link copied from the
app, a scheduled report and a PNG snapshot all describe a view the same way.

    state, notices = from_query({"measure": "income", "z": "-3"}, known)
    q = to_query(state)            # dict of str -> str, ready for st.query_params
    qs = to_query_string(state)    # "layers=...&measure=..."

| param   | meaning                                           | valid                                  |
|---------|---------------------------------------------------|----------------------------------------|
| layers  | layers switched on (others off)                   | comma list of known layer keys         |
| measure | deprivation measure                               | geo.store.MEASURES                     |
| vintage | IoD edition                                       | 2019, 2025                             |
| deciles | decile basis                                      | national, local                        |
| core20  | outline Core20 LSOAs                              | 0, 1                                   |
| labels  | ward names when zoomed in                         | 0, 1                                   |
| prio    | priority lists shown                              | comma list of icb, exemplar, candidate |
| n, rank, per | candidate rule: top n wards per group by rank | 1-50; CANDIDATE_MEASURES; PLACE_GROUPINGS |
| ind     | indicator id                                      | [A-Za-z0-9_.:-]{1,80}, known ids      |
| cls, k, brk | indicator classification, classes, fixed breaks | classify.METHODS; 2-9; <=12 numbers |
| acc     | access layer: nearest open site of these service categories | comma list of config/services.yaml categories |
| svc     | service categories shown on the map           | comma list of config/services.yaml categories, or "none" |
| thr     | access threshold, km straight-line                | 0.5-40 in steps of 0.5 (clamped)      |
| icb     | the footprint (which ICB, or England)             | an ICB code E54xxxxxx of the 42, or E92000001 (England); default LSC |
| area    | place filter                                      | icb, place5:NAME, place4:NAME, district:CODE, custom:NAME (a saved custom area, geo/areas.py) |
| ward    | selected ward (profile open)                      | a May 2024 LSC ward code               |
| lat, lon, z | map centre and zoom                           | lat 49-61, lon -8-2, z 7-17 (clamped)  |
| present | presentation mode                                 | 0, 1                                   |
| title   | the view's name (title bar, exports)              | <= 80 plain characters                 |
| plan, planx | outreach planner settings; excluded venues    | see geo/plan_link.py                   |

The view-wide parameters (layers, icb, area, ward, lat/lon/z, present, title) are
ViewState's own fields. Every other parameter belongs to one layer, which declares it as a
`Field` (name in the link, parse, format, default, session widget key, name in the layer's
state dict): the built-in layers' fields are in geo/viewfields.py (pure, so exports and
CLIs read a link without the app); any layer can `register` more (layers/base.py does it
for a Layer subclass that declares `fields`), and parsing, writing and the session mapping
(layers/share_state.py) loop over the registered fields. ViewState keeps their values
per layer (`state.values[layer][param]`, only those not at their default);
`state.get(param)` reads a value or its default, `state.layer(key)` all of a layer's.

Anything unknown, malformed, out of range or stale (a ward or place that no longer
exists) falls back to its default and yields a `Notice` the app shows. Notices never
echo raw input: only names/values that match a strict pattern are quoted.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields
from dataclasses import replace as _dc_replace
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import urlencode

from geo.store import MEASURES  # noqa: F401  (re-exported: VS.MEASURES)

LAYER_KEYS = ("deprivation", "wards", "priority", "indicators", "access", "services", "planner")
DEFAULT_LAYERS = ("deprivation", "wards", "priority")
AREA_KINDS = ("icb", "place5", "place4", "district", "custom")
CUSTOM_NAME_MAX = 80        # geo.areas.NAME_MAX

LAT_RANGE = (49.0, 61.0)
LON_RANGE = (-8.0, 2.0)
ZOOM_RANGE = (5.0, 17.0)     # the map's min_zoom (layers/map.py): England whole fits at 6
ZOOM_STEP = 0.25            # the map's zoomSnap
MAX_VALUE_LEN = 200
MAX_PARAMS = 60
# Links above these are trimmed by the server before the page loads (layers/serving.py):
# Streamlit itself would silently drop a query string of more than 1,000 parameters
# (or 512 Ki characters), and the HTTP parser refuses a request line above its buffer.
MAX_QUERY_CHARS = 8_000
MAX_QUERY_FIELDS = 200
TITLE_MAX = 80


# used with fullmatch(): "$" would also accept a trailing newline
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
_SAFE_VALUE = re.compile(r"^[A-Za-z0-9_.:, -]{1,40}$")
_WARD = re.compile(r"^E05\d{6}$")
_ICB = re.compile(r"^E54\d{6}$|^E92000001$")
LSC_ICB = "E54000048"
_DISTRICT = re.compile(r"^E0[6-9]\d{6}$")
_TITLE_DROP = re.compile(r"[^\w ,.:;()'&/+?!%-]", re.UNICODE)
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class Notice:
    """One fallback: `param` (a safe name or "?") and a plain-text message."""
    param: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Known:
    """What exists now, to catch stale links. Empty sets mean "do not check"."""
    layers: frozenset = frozenset(LAYER_KEYS)
    wards: frozenset = frozenset()
    areas: Mapping[str, frozenset] = field(default_factory=dict)   # kind -> codes
    indicators: frozenset = frozenset()
    categories: frozenset = frozenset()      # service categories (access layer)
    icbs: Mapping[str, str] = field(default_factory=dict)   # footprint code -> name (empty: LSC only)


# a layer's fields (geo/viewspec.py, re-exported here)
from geo.viewspec import (MISSING, TRIMMED_PARAM, VIEW_PARAMS, _OWNER, _SPECS, Field, params,  # noqa: E402,F401
                          register, registered, unregister)


def __getattr__(name: str):           # VS.PARAMS follows the registered layers
    if name == "PARAMS":
        return params()
    raise AttributeError(name)


# ---------------------------------------------------------------- the view
@dataclass(frozen=True)
class ViewState:
    """The view. None means "the layer's/config's own default".

    The view-wide fields are attributes; each layer's link values are in `values`
    (layer key -> {param: value}, only values that differ from the Field's default).
    `get(param)` gives a layer's value or its default;
    build one with `ViewState.of(measure=..., area_kind=...)`, change one with
    `replace(state, thr=5.0)`."""
    layers: tuple | None = None
    icb: str | None = None          # footprint (ICB code, E92000001 = England); None = LSC
    area_kind: str = "icb"
    area_code: str | None = None
    ward: str | None = None
    lat: float | None = None
    lon: float | None = None
    z: float | None = None
    present: bool = False
    title: str = ""
    values: Mapping = field(default_factory=dict, hash=False)

    def __post_init__(self):
        clean = {}
        for layer, vals in (self.values or {}).items():
            fs = {f.name: f for f in _SPECS.get(layer, ())}
            kept = {k: v for k, v in vals.items() if k not in fs or v != fs[k].default}
            if kept:
                clean[layer] = kept
        object.__setattr__(self, "values", clean)

    @classmethod
    def of(klass, /, **kw) -> "ViewState":
        """A ViewState from view-wide fields and layer parameters by name (measure=...)."""
        base, vals = _split_kw(kw, {})
        return klass(**base, values=vals)

    def get(self, param: str, default: Any = MISSING, /):
        """The value of a layer's parameter (its Field's default when the link has none)."""
        owner = _OWNER.get(param)
        if owner is None:
            if default is MISSING:
                raise KeyError(param)
            return default
        return self.values.get(owner[0], {}).get(param, owner[1].default)

    def layer(self, key: str) -> dict:
        """Every declared parameter of layer `key`: {param: value or its default}."""
        given = self.values.get(key, {})
        out = {f.name: given.get(f.name, f.default) for f in _SPECS.get(key, ())}
        out.update({k: v for k, v in given.items() if k not in out})
        return out

    def layer_on(self, key: str, default: bool) -> bool:
        return default if self.layers is None else key in self.layers

    @property
    def area(self) -> str:
        return "icb" if self.area_kind == "icb" or not self.area_code else f"{self.area_kind}:{self.area_code}"

    @property
    def has_view(self) -> bool:
        return self.lat is not None and self.lon is not None and self.z is not None


def replace(state: ViewState, /, **kw) -> ViewState:
    """dataclasses.replace for a ViewState, layer parameters by name too (thr=5.0)."""
    own = {f.name for f in fields(ViewState)}
    if all(k in own for k in kw):
        return _dc_replace(state, **kw)
    base, vals = _split_kw(kw, state.values)
    return _dc_replace(state, **base, values=vals)


def _split_kw(kw: dict, values: Mapping) -> tuple[dict, dict]:
    """(ViewState's own fields, per-layer values) from keyword arguments naming either:
    layer parameters go to their owner's values (over `values`, or a given values=)."""
    own = {f.name for f in fields(ViewState)}
    base = {k: v for k, v in kw.items() if k in own}
    vals = {layer: dict(v) for layer, v in (base.pop("values", None) or values).items()}
    for k, v in kw.items():
        if k in own:
            continue
        if k not in _OWNER:
            raise TypeError(f"ViewState has no field or layer parameter {k!r}")
        vals.setdefault(_OWNER[k][0], {})[k] = v
    return base, vals


# ---------------------------------------------------------------- helpers
def _quote(value: str) -> str:
    """Quote `value` in a notice only if it is short and plain; never echo anything else."""
    return f"'{value}'" if _SAFE_VALUE.fullmatch(value) else "(a value that cannot be shown)"


def _bool(raw: str) -> bool | None:
    v = raw.strip().lower()
    return True if v in _TRUE else False if v in _FALSE else None


def _float(raw: str) -> float | None:
    try:
        f = float(raw.strip())
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _int(raw: str) -> int | None:
    s = raw.strip()
    if not re.fullmatch(r"[+-]?\d{1,9}", s):
        return None
    return int(s)


def _clean_title(raw: str) -> str:
    t = _TITLE_DROP.sub("", raw).strip()
    t = re.sub(r"\s+", " ", t)
    return t[:TITLE_MAX].strip()


def _last(v) -> str:
    if isinstance(v, (list, tuple)):
        v = v[-1] if v else ""
    return "" if v is None else str(v)


def _parse_icb(raw: str, known: Known, out: dict, note) -> None:
    """icb=CODE: one of the known footprints; otherwise a notice naming the closest
    (by code or name) and the LSC default."""
    import difflib
    v = raw.strip().upper()
    if _ICB.fullmatch(v) and (not known.icbs or v in known.icbs):
        out["icb"] = None if v == LSC_ICB else v
        return
    names = dict(known.icbs)
    low = {str(n).lower(): c for c, n in names.items()}
    near = difflib.get_close_matches(raw.strip().lower(), list(low), n=3, cutoff=0.3)
    codes = [low[n] for n in near]
    codes += [c for c in difflib.get_close_matches(v, list(names), n=3, cutoff=0.5) if c not in codes]
    hint = ("; closest: " + ", ".join(f"{c} {names[c]}" for c in codes[:3])) if codes else ""
    what = f"ICB {_quote(raw.strip())}" if _SAFE_VALUE.fullmatch(raw.strip()) else "That ICB"
    note("icb", f"{what} is not one of the 42 ICBs{hint}; showing Lancashire and South Cumbria.")


# ---------------------------------------------------------------- links at the edges
def needs_trim(query_string: str | bytes) -> bool:
    """True when a query string is too long or has too many parameters to pass on."""
    sep = b"&" if isinstance(query_string, bytes) else "&"
    return len(query_string) > MAX_QUERY_CHARS or query_string.count(sep) + 1 > MAX_QUERY_FIELDS


def trim_query_string(query_string: str) -> str:
    """The valid part of an oversized query string: only the known parameters (the last
    value of each, as from_query reads them), none longer than MAX_VALUE_LEN, plus
    TRIMMED_PARAM saying how big the original was (from_query turns it into a notice)."""
    from urllib.parse import parse_qsl
    n_fields = query_string.count("&") + 1
    known = set(params())
    kept: dict[str, str] = {}
    for k, v in parse_qsl(query_string, keep_blank_values=True):
        if k in known and len(v) <= MAX_VALUE_LEN:
            kept[k] = v
    kept[TRIMMED_PARAM] = f"{len(query_string)}.{n_fields}"
    return urlencode(kept)


# ---------------------------------------------------------------- parse
class Parse:
    """What from_query builds up: the raw values kept, the parsed fields, the notices.
    A Field's parse gets it: `known`, `vals` (raw values), `note(param, msg)`, `bad(param)`."""

    def __init__(self, known: Known):
        self.known, self.notices, self.vals, self.out = known, [], {}, {}

    def note(self, param: str, msg: str) -> None:
        self.notices.append(Notice(param if _SAFE_NAME.fullmatch(param) else "?", msg))

    def bad(self, name: str, extra: str = "") -> None:
        self.note(name, f"Parameter '{name}' has an invalid value {_quote(self.vals[name])}{extra}; using the default.")


def _read_params(query: Mapping, p: Parse) -> None:
    """Raw values of the known parameters (bounded in number and length)."""
    vals, note = p.vals, p.note
    known_params = set(params())
    items = [(k, v) for k, v in query.items() if str(k) != TRIMMED_PARAM]
    trimmed = _last(query.get(TRIMMED_PARAM)) if TRIMMED_PARAM in query else None
    if trimmed is not None:
        m = re.fullmatch(r"(\d{1,9})\.(\d{1,9})", trimmed)
        size = f" ({int(m.group(1)):,} characters, {int(m.group(2)):,} parameters)" if m else ""
        note("?", f"The link was too long{size}: only the parameters the map understands were kept; "
                  f"the rest use their defaults.")
    if len(items) > MAX_PARAMS:
        note("?", f"The link has {len(items)} parameters; only the first {MAX_PARAMS} were read.")
        items = items[:MAX_PARAMS]
    unknown = []
    for name, raw in items:
        name = str(name)
        if name not in known_params:
            unknown.append(name)
            continue
        v = _last(raw)
        if len(v) > MAX_VALUE_LEN:
            note(name, f"Parameter '{name}' is too long ({len(v)} characters); using the default.")
            continue
        if "\x00" in v:
            note(name, f"Parameter '{name}' has a control character; using the default.")
            continue
        vals[name] = v
    if unknown:
        shown = [u for u in unknown if _SAFE_NAME.fullmatch(u)][:5]
        hidden = len(unknown) - len(shown)
        msg = "Ignored unknown parameter(s): " + ", ".join(f"'{u}'" for u in shown)
        if hidden:
            msg += (", and " if shown else "") + f"{hidden} with a name that cannot be shown"
        note("?", msg + ".")


def _parse_layers(p: Parse) -> None:
    vals, out, note, known = p.vals, p.out, p.note, p.known
    if "layers" in vals:
        parts = [x.strip() for x in vals["layers"].split(",") if x.strip()]
        ok = [x for x in parts if x in known.layers]
        wrong = [x for x in parts if x not in known.layers]
        if wrong:
            note("layers", "Unknown layer(s) ignored: " + ", ".join(_quote(x) for x in wrong[:5]) + ".")
        if parts and not ok:
            pass   # nothing usable: defaults
        else:
            out["layers"] = tuple(k for k in LAYER_KEYS if k in ok) + tuple(
                sorted(k for k in set(ok) if k not in LAYER_KEYS))


def _parse_layer_fields(p: Parse) -> None:
    """Every registered layer's fields, each by its own parse."""
    values: dict = {}
    for layer, fs in _SPECS.items():
        for f in fs:
            if not any(n in p.vals for n in f.params):
                continue
            v = f.parse(p.vals.get(f.name), p)
            if v is not MISSING:
                values.setdefault(layer, {})[f.name] = v
    p.out["values"] = values


def _parse_custom(name: str, known: Known, out: dict, note, bad) -> None:
    """area=custom:NAME: a saved custom area of the footprint (Known.areas["custom"],
    when given, holds the saved names; an empty set means none is saved)."""
    name = re.sub(r"\s+", " ", name).strip()
    if not name or len(name) > CUSTOM_NAME_MAX or any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        bad("area", f" (a custom area is given by its name, up to {CUSTOM_NAME_MAX} characters)")
    elif "custom" in known.areas and name not in known.areas["custom"]:
        note("area", f"Custom area {_quote(name)} is not saved for this ICB (it may have been removed); "
                     f"showing the whole ICB.")
    else:
        out["area_kind"], out["area_code"] = "custom", name


def _parse_area_and_view(p: Parse) -> None:
    vals, out, note, bad, known = p.vals, p.out, p.note, p.bad, p.known
    # footprint
    if "icb" in vals:
        _parse_icb(vals["icb"], known, out, note)
    # area
    if "area" in vals:
        v = vals["area"].strip()
        kind, _, code = v.partition(":")
        kind, code = kind.strip(), code.strip()
        if kind == "icb" and not code:
            out["area_kind"], out["area_code"] = "icb", None
        elif kind == "custom":
            _parse_custom(code, known, out, note, bad)
        elif kind not in AREA_KINDS or kind == "icb" or not code:
            bad("area", " (valid: icb, place5:NAME, place4:NAME, district:CODE, custom:NAME)")
        elif kind == "district" and not _DISTRICT.fullmatch(code):
            bad("area", " (a district is given by its code, e.g. district:E07000117)")
        elif known.areas.get(kind) and code not in known.areas[kind]:
            note("area", f"Area {_quote(v)} does not exist (any more); showing the whole ICB.")
        else:
            out["area_kind"], out["area_code"] = kind, code
    if "ward" in vals:
        v = vals["ward"].strip().upper()
        if not _WARD.fullmatch(v):
            bad("ward", " (a May 2024 ward code, e.g. E05012345)")
        elif known.wards and v not in known.wards:
            note("ward", f"Ward {_quote(v)} is not a May 2024 LSC ward; no ward profile is open.")
        else:
            out["ward"] = v
    # centre and zoom: all three or none
    view = {}
    for name, (lo, hi) in (("lat", LAT_RANGE), ("lon", LON_RANGE)):
        if name in vals:
            f = _float(vals[name])
            if f is None:
                bad(name)
            elif not lo <= f <= hi:
                note(name, f"Parameter '{name}' is outside the map ({lo} to {hi}); using the default view.")
            else:
                view[name] = round(f, 5)
    if "z" in vals:
        f = _float(vals["z"])
        if f is None:
            bad("z")
        else:
            c = min(max(f, ZOOM_RANGE[0]), ZOOM_RANGE[1])
            if c != f:
                note("z", f"Zoom is out of range ({ZOOM_RANGE[0]:g}-{ZOOM_RANGE[1]:g}); using {c:g}.")
            view["z"] = round(c / ZOOM_STEP) * ZOOM_STEP
    given = [n for n in ("lat", "lon", "z") if n in vals]
    if len(view) == 3:
        out.update(view)
    elif given and len(view) == len(given):      # every part given was fine, but some are missing
        note("z", "The map centre needs lat, lon and z together; using the default view.")
    if "present" in vals:
        b = _bool(vals["present"])
        if b is None:
            bad("present", " (valid: 0, 1)")
        else:
            out["present"] = b
    if "title" in vals:
        t = _clean_title(vals["title"])
        if t != vals["title"].strip():
            note("title", "Some characters of the title were removed.")
        out["title"] = t


def from_query(query: Mapping, known: Known | None = None) -> tuple[ViewState, list[Notice]]:
    """Parse a query mapping (str -> str or list of str). Never raises on content."""
    p = Parse(known or Known())
    _read_params(query, p)
    _parse_layers(p)
    _parse_layer_fields(p)
    _parse_area_and_view(p)
    return ViewState(**p.out), p.notices


# ---------------------------------------------------------------- serialise
def _put(q: dict, name: str, text) -> None:
    if isinstance(text, Mapping):
        q.update({k: str(v) for k, v in text.items() if v is not None})
    elif text is not None:
        q[name] = str(text)


def to_query(state: ViewState) -> dict[str, str]:
    """Query mapping (str -> str) for `state`, in a stable order; round-trips via from_query."""
    q: dict[str, str] = {}
    if state.layers is not None:
        q["layers"] = ",".join(state.layers)
    late: dict[str, str] = {}
    for layer, fs in _SPECS.items():
        vals = state.values.get(layer, {})
        for f in fs:
            v = vals.get(f.name, f.default)
            if v is not None:
                _put(late if f.extra else q, f.name, f.format(v))
    if state.icb and state.icb != LSC_ICB:
        q["icb"] = state.icb
    q["area"] = state.area
    if state.ward:
        q["ward"] = state.ward
    if state.has_view:
        q["lat"], q["lon"], q["z"] = f"{state.lat:.5f}", f"{state.lon:.5f}", f"{state.z:g}"
    if state.present:
        q["present"] = "1"
    if state.title:
        q["title"] = state.title
    q.update(late)                  # fields with companions (plan, planx) last, as links always had them
    return q


def to_query_string(state: ViewState) -> str:
    return urlencode(to_query(state))


def parse_query_string(qs: str, known: Known | None = None) -> tuple[ViewState, list[Notice]]:
    """`from_query` for a raw query string ("a=1&b=2", with or without a leading '?' or URL)."""
    from urllib.parse import parse_qs, urlsplit
    qs = (qs or "").strip()
    if "://" in qs:
        qs = urlsplit(qs).query
    qs = qs.lstrip("?")
    return from_query(parse_qs(qs, keep_blank_values=True), known)


def known_from_store(store, indicators: Iterable[str] = (), layers: Iterable[str] | None = None) -> Known:
    """Known ward codes, areas and service categories from the built store + config/;
    `layers` (default: the built-in ones and every layer that registered link fields)."""
    layers = (*LAYER_KEYS, *_SPECS) if layers is None else layers
    from geo.sources import load_places
    if getattr(store, "is_lsc", True):
        cfg = load_places()
        areas = {g: frozenset(cfg["groupings"][g]["places"]) for g in ("place5", "place4")}
        areas["district"] = frozenset(cfg["districts"])
    else:                       # another ICB's view (geo.footprint): its own places/districts
        areas = {g: frozenset(store.table(g)["code"]) for g in ("place5", "place4")}
        areas["district"] = frozenset(store.districts["lad19cd"])
    try:                        # the custom areas saved for this footprint (geo/areas.py)
        from geo.areas import names
        areas["custom"] = names(getattr(store, "code", LSC_ICB))
    except Exception:           # the user-data store cannot be read: none can be opened
        areas["custom"] = frozenset()
    try:
        from geo.footprint import ENGLAND_CODE, icb_names
        icbs = dict(icb_names(getattr(store, "base", store)))
        if len(icbs) > 1:
            icbs[ENGLAND_CODE] = "England"
    except Exception:           # no England tables: LSC only
        icbs = {}
    try:
        from geo.services import category_names
        cats = frozenset(category_names())
    except Exception:           # no services config: do not check
        cats = frozenset()
    return Known(layers=frozenset(layers), wards=frozenset(store.wards24["wd24cd"]), areas=areas,
                 indicators=frozenset(indicators), categories=cats, icbs=icbs)


def view_name(state: ViewState, area_name: str | None = None) -> str:
    """Human name of the view for title bars and file headers."""
    if state.title:
        return state.title
    from geo.store import MEASURE_LABELS
    where = area_name or ("Lancashire and South Cumbria" if state.area_kind == "icb" else state.area_code)
    basis = "local deciles" if state.get("deciles") == "local" else "national deciles"
    return f"{MEASURE_LABELS.get(state.get('measure'), state.get('measure'))} ({basis}) - {where}"


__all__ = ["ViewState", "Notice", "Known", "Field", "Parse", "DEFAULT", "MISSING", "from_query", "to_query",
           "to_query_string", "parse_query_string", "known_from_store", "view_name", "replace", "fields", "register",
           "unregister", "registered", "params"]


# the built-in layers' fields (pure declarations, registered on import) and their value sets
from geo.viewfields import (CANDIDATE_PER, CANDIDATE_RANKS, CLASSIFICATIONS, DECILES, K_RANGE, MAX_BREAKS,  # noqa: E402,F401
                            MAX_CATS, N_RANGE, PRIO_KINDS, THR_RANGE, THR_STEP, VINTAGES)

DEFAULT = ViewState()
