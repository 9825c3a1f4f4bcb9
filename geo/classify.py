"""Choropleth classification, colour-blind-safe palettes, polarity and diverging centring.

Pure numpy: no UI imports. The layer (layers/indicators.py) calls
`classify()` then `palette()` and sends only a per-area class index to the browser.

Class semantics follow mapclassify: `bins` are the upper bounds of each class
(inclusive), the first class starts at the data minimum; `yb[i]` is the class of
value i, and -1 marks a missing or suppressed value.

All methods reproduce mapclassify's bins exactly (Quantiles, EqualInterval,
FisherJenks, UserDefined; tests use mapclassify as the oracle on the real indicators)
without importing it at run time (its import alone takes ~2 s).

Natural breaks = Fisher-Jenks optimal classification. mapclassify's FisherJenks
needs numba to be fast (without it: ~2 s for 1,049 values), so `fisher_jenks()`
here reimplements the same algorithm vectorised with numpy, in the same float32
arithmetic and tie-breaking, so the breaks are identical to mapclassify's (tests
check this on the real indicators) at ~50 ms for 1,049 values.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

METHODS = {
    "quantiles": "Quantiles (equal counts)",
    "equal_interval": "Equal intervals",
    "natural_breaks": "Natural breaks (Fisher-Jenks)",
    "fixed": "Fixed thresholds",
}
POLARITIES = {
    "higher_is_worse": "Higher is worse",
    "higher_is_better": "Higher is better",
    "neutral": "No polarity (higher is neither better nor worse)",
}

# ColorBrewer ramps (Cynthia Brewer, colorbrewer2.org), all marked colour-blind safe there;
# viridis (matplotlib) is perceptually uniform and CVD-safe. 9-class sequential, 11-class diverging.
SEQUENTIAL = {
    "Blues": ["#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b"],
    "Purples": ["#fcfbfd", "#efedf5", "#dadaeb", "#bcbddc", "#9e9ac8", "#807dba", "#6a51a3", "#54278f", "#3f007d"],
    "YlGnBu": ["#ffffd9", "#edf8b1", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#253494", "#081d58"],
    "YlOrRd": ["#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#bd0026", "#800026"],
    "viridis": ["#fde725", "#b5de2b", "#6ece58", "#35b779", "#1f9e89", "#26828e", "#31688e", "#3e4989", "#482878"],
}
# Diverging ramps listed from the "low" end to the "high" end; index 5 is the neutral centre.
DIVERGING = {
    "RdBu": ["#67001f", "#b2182b", "#d6604d", "#f4a582", "#fddbc7", "#f7f7f7",
             "#d1e5f0", "#92c5de", "#4393c3", "#2166ac", "#053061"],
    "PuOr": ["#7f3b08", "#b35806", "#e08214", "#fdb863", "#fee0b6", "#f7f7f7",
             "#d8daeb", "#b2abd2", "#8073ac", "#542788", "#2d004b"],
    "BrBG": ["#543005", "#8c510a", "#bf812d", "#dfc27d", "#f6e8c3", "#f5f5f5",
             "#c7eae5", "#80cdc1", "#35978f", "#01665e", "#003c30"],
}
# For each diverging ramp, which end reads as "worse" (warm end).
_DIVERGING_WORSE_END = {"RdBu": "low", "PuOr": "low", "BrBG": "low"}
DEFAULT_SEQUENTIAL = "YlGnBu"
DEFAULT_DIVERGING = "RdBu"

# Missing/suppressed areas: no palette colour, so they cannot be read as a class.
# Missing: opaque white (no palette colour is pure white) with a dashed outline, so a
# layer underneath cannot show through and be read as a value.
MISSING_STYLE = {"fillColor": "#ffffff", "fillOpacity": 0.9, "color": "#4d4d4d", "dashArray": "4 3"}
SUPPRESSED_STYLE = {"fillColor": "#737373", "fillOpacity": 0.55, "color": "#252525", "dashArray": "1 3"}

# Bivariate 3x3 (Joshua Stevens' purple-blue scheme, distinguishable under common CVD):
# BIVARIATE[row][col], row = Core20 level (0 low .. 2 high), col = indicator tertile (0 best .. 2 worst).
BIVARIATE = [
    ["#e8e8e8", "#ace4e4", "#5ac8c8"],
    ["#dfb0d6", "#a5add3", "#5698b9"],
    ["#be64ac", "#8c62aa", "#3b4994"],
]


class ClassifyError(ValueError):
    """Classification impossible with these values/options (message is user-facing)."""


@dataclass(frozen=True)
class Classification:
    method: str
    bins: np.ndarray            # upper bounds of each class (inclusive)
    minimum: float              # lower bound of the first class (data minimum)
    yb: np.ndarray              # class per input value, -1 = missing
    counts: tuple               # areas per class
    n_missing: int
    centre: float | None = None  # diverging centre (a class boundary), if any
    notes: tuple = field(default_factory=tuple)

    @property
    def k(self) -> int:
        return len(self.bins)

    def ranges(self) -> list[tuple[float, float]]:
        lows = [self.minimum] + [float(b) for b in self.bins[:-1]]
        return list(zip(lows, (float(b) for b in self.bins)))

    def n_below_centre(self) -> int:
        if self.centre is None:
            return 0
        return int(np.sum(self.bins <= self.centre + 1e-12 * max(1.0, abs(self.centre))))


def _as_float(values) -> np.ndarray:
    return np.asarray(values, dtype="float64").ravel()


def fisher_jenks(values, k: int) -> np.ndarray:
    """Fisher-Jenks optimal breaks, identical to mapclassify.FisherJenks(values, k).bins.

    Same algorithm as mapclassify's `_fisher_jenks_means` (float32 accumulation, on the
    sorted values, ties resolved towards the longest last class), vectorised over the
    inner loop.
    """
    x = np.sort(_as_float(values))
    n = len(x)
    if n == 0:
        raise ClassifyError("no values to classify")
    nu = len(np.unique(x))
    if nu < k:
        raise ClassifyError(f"only {nu} distinct values: fewer than the {k} classes asked for")
    vals = x.astype("float32")
    f32 = np.float32
    mat1 = np.zeros((n + 1, k + 1), dtype=np.int64)
    mat2 = np.zeros((n + 1, k + 1), dtype=np.float32)
    mat1[1, 1:] = 1
    mat2[2:, 1:] = np.inf
    for ll in range(2, n + 1):
        rev = vals[ll - 1::-1]                       # values[l-1], values[l-2], ..., values[0]
        s1 = np.cumsum(rev, dtype=np.float32)        # sequential float32 sums, as in the loop
        s2 = np.cumsum(rev * rev, dtype=np.float32)
        w = np.arange(1, ll + 1, dtype=np.float32)
        v = s2 - (s1 * s1) / w                       # v for m = 1..l
        i3 = ll - np.arange(1, ll + 1) + 1           # window start (1-based)
        i4 = i3 - 1
        ok = i4 != 0
        for j in range(2, k + 1):
            cand = v[ok] + mat2[i4[ok], j - 1]
            cmin = cand.min()
            # the loop keeps updating on >=, so the LAST m reaching the minimum wins
            last = len(cand) - 1 - int(np.argmin(cand[::-1] > cmin))
            if not mat2[ll, j] < cmin:
                mat1[ll, j] = i3[ok][last]
                mat2[ll, j] = f32(cmin)
        mat1[ll, 1] = 1
        mat2[ll, 1] = v[-1]
    kclass = np.zeros(k + 1, dtype="float64")
    kclass[k] = x[n - 1]
    kclass[0] = x[0]
    kk = n
    for count_num in range(k, 1, -1):
        pivot = mat1[kk, count_num]
        kclass[count_num - 1] = x[int(pivot - 2)]
        kk = int(pivot - 1)
    return np.delete(kclass, 0)


def _quantile_bins(y: np.ndarray, k: int) -> np.ndarray:
    """mapclassify.Quantiles bins: percentiles at 100/k steps (linear), duplicates collapsed."""
    w = 100.0 / k
    p = np.arange(w, 100 + w, w)
    if p[-1] > 100.0:
        p[-1] = 100.0
    return np.unique(np.percentile(y, p))


def _equal_interval_bins(y: np.ndarray, k: int) -> np.ndarray:
    """mapclassify.EqualInterval bins (same arithmetic)."""
    lo, hi = float(np.min(y)), float(np.max(y))
    width = (hi - lo) * 1.0 / k
    cuts = np.arange(lo + width, hi + width, width)
    if len(cuts) > k:
        cuts = cuts[0:k]
    cuts[-1] = hi
    return cuts.copy()


def breaks(values, method: str = "quantiles", k: int = 5, thresholds=None) -> np.ndarray:
    """Upper bounds of each class for the non-missing `values`.

    Same bins as mapclassify's Quantiles, EqualInterval, FisherJenks and UserDefined
    (tests check this on the real indicators), computed with numpy only: importing
    mapclassify costs ~2 s (scipy.stats), which the app must not pay on a rerun."""
    y = _as_float(values)
    y = y[np.isfinite(y)]
    if len(y) == 0:
        raise ClassifyError("no values to classify (all missing or suppressed)")
    if method not in METHODS:
        raise ClassifyError(f"unknown classification '{method}': choose one of {', '.join(METHODS)}")
    if method == "fixed":
        t = sorted({float(v) for v in (thresholds or [])})
        if not t:
            raise ClassifyError("fixed thresholds: give at least one threshold")
        if not all(np.isfinite(t)):
            raise ClassifyError("fixed thresholds must be finite numbers")
        if t[-1] < float(y.max()):
            t.append(float(y.max()))
        return np.asarray(t, dtype="float64")
    k = int(k)
    if not 2 <= k <= 9:
        raise ClassifyError(f"number of classes must be 2-9, got {k}")
    nu = len(np.unique(y))
    if nu == 1:
        return np.asarray([y[0]], dtype="float64")
    k = min(k, nu)
    if method == "quantiles":
        return _quantile_bins(y, k)
    if method == "equal_interval":
        return _equal_interval_bins(y, k)
    return fisher_jenks(y, k)


def classify(values, method: str = "quantiles", k: int = 5, thresholds=None,
             centre: float | None = None, missing=None) -> Classification:
    """Classify `values` (NaN = missing). With `centre`, that value becomes a class
    boundary so a diverging palette's neutral point sits exactly on the comparator."""
    y = _as_float(values)
    finite = np.isfinite(y)
    if missing is not None:
        finite &= ~np.asarray(missing, dtype=bool).ravel()
    bins = breaks(y[finite], method, k, thresholds)
    notes = []
    yv = y[finite]
    lo, hi = float(yv.min()), float(yv.max())
    if centre is not None:
        c = float(centre)
        if not np.isfinite(c):
            centre = None
        elif lo < c < hi:
            if not np.any(np.isclose(bins, c, rtol=0, atol=1e-9 * max(1.0, abs(c)))):
                bins = np.sort(np.append(bins, c))
                notes.append("comparator inserted as a class boundary")
            else:
                bins = np.where(np.isclose(bins, c, rtol=0, atol=1e-9 * max(1.0, abs(c))), c, bins)
            centre = c
        else:
            side = "above" if lo >= c else "below"
            notes.append(f"all values are {side} the comparator ({c:g})")
            centre = c
    yb = np.full(len(y), -1, dtype=np.int64)
    # value <= bins[i] -> class i (mapclassify's rule); values above the last bin go last.
    yb[finite] = np.minimum(np.searchsorted(bins, yv, side="left"), len(bins) - 1)
    counts = tuple(int(c) for c in np.bincount(yb[finite], minlength=len(bins)))
    return Classification(method, np.asarray(bins, dtype="float64"), lo, yb, counts,
                          int((~finite).sum()), centre, tuple(notes))


def _lerp_hex(ramp: list[str], t: float) -> str:
    """Colour at position t in [0, 1] along a ramp (linear RGB interpolation)."""
    t = min(max(float(t), 0.0), 1.0)
    pos = t * (len(ramp) - 1)
    i = int(np.floor(pos))
    if i >= len(ramp) - 1:
        return ramp[-1]
    f = pos - i
    a = [int(ramp[i][j:j + 2], 16) for j in (1, 3, 5)]
    b = [int(ramp[i + 1][j:j + 2], 16) for j in (1, 3, 5)]
    return "#" + "".join(f"{round(a[c] + (b[c] - a[c]) * f):02x}" for c in range(3))


def sequential_colours(n: int, name: str = DEFAULT_SEQUENTIAL, polarity: str = "higher_is_worse") -> list[str]:
    """n colours for classes in ascending value order. The darkest colour marks the
    worse end: high values when higher is worse (or no polarity), low values when
    higher is better."""
    if name not in SEQUENTIAL:
        raise ClassifyError(f"unknown sequential palette '{name}': choose one of {', '.join(SEQUENTIAL)}")
    ramp = SEQUENTIAL[name]
    if n == 1:
        cols = [ramp[len(ramp) // 2]]
    else:
        cols = [_lerp_hex(ramp, 0.08 + 0.92 * i / (n - 1)) for i in range(n)]
    return cols[::-1] if polarity == "higher_is_better" else cols


def diverging_colours(n_below: int, n_above: int, name: str = DEFAULT_DIVERGING,
                      polarity: str = "higher_is_worse") -> list[str]:
    """Colours for n_below classes at or below the centre and n_above above it, in
    ascending value order. Classes the same number of steps from the centre get the
    same intensity on opposite hues; the worse side gets the warm hue."""
    if name not in DIVERGING:
        raise ClassifyError(f"unknown diverging palette '{name}': choose one of {', '.join(DIVERGING)}")
    ramp = DIVERGING[name]
    mid = len(ramp) // 2
    warm_low = _DIVERGING_WORSE_END[name] == "low"
    # orient so the ramp's low end is the colour for LOW values
    high_is_worse = polarity != "higher_is_better"
    if high_is_worse == warm_low:
        ramp = ramp[::-1]
    low_half = ramp[:mid + 1][::-1]   # centre .. extreme (for values below centre)
    high_half = ramp[mid:]            # centre .. extreme (for values above centre)
    m = max(n_below, n_above, 1)

    def step(half, d):  # d = 1..m steps from the centre; never the neutral colour itself
        return _lerp_hex(half, 0.2 + 0.8 * (d - 1) / max(m - 1, 1) if m > 1 else 0.6)

    below = [step(low_half, d) for d in range(n_below, 0, -1)]
    above = [step(high_half, d) for d in range(1, n_above + 1)]
    return below + above


def palette(cls: Classification, scheme: str = "sequential", name: str | None = None,
            polarity: str = "higher_is_worse") -> list[str]:
    """One colour per class of `cls`."""
    if polarity not in POLARITIES:
        raise ClassifyError(f"unknown polarity '{polarity}': choose one of {', '.join(POLARITIES)}")
    if scheme == "diverging":
        if cls.centre is None:
            raise ClassifyError("a diverging palette needs a comparator value to centre on")
        nb = cls.n_below_centre()
        return diverging_colours(nb, cls.k - nb, name or DEFAULT_DIVERGING, polarity)
    if scheme != "sequential":
        raise ClassifyError(f"unknown scheme '{scheme}': choose sequential or diverging")
    return sequential_colours(cls.k, name or DEFAULT_SEQUENTIAL, polarity)


def decimals_for(values, bins=None) -> int:
    """Decimal places to show: enough to tell the class bounds apart, at most 3."""
    y = _as_float(values)
    y = y[np.isfinite(y)]
    for d in range(0, 4):
        ok = np.allclose(np.round(y, d), y, rtol=0, atol=1e-9) if len(y) else True
        if ok and (bins is None or len(set(np.round(np.asarray(bins, float), d))) == len(bins)):
            return d
    return 3


def legend_rows(cls: Classification, colours: list[str], decimals: int | None = None,
                n_suppressed: int = 0) -> list[dict]:
    """Legend rows: {label, colour, count, kind}. Missing and suppressed are separate
    rows with their counts (n_missing in `cls` includes suppressed values)."""
    d = decimals if decimals is not None else decimals_for([], cls.bins)
    rows = []
    for i, ((lo, hi), col) in enumerate(zip(cls.ranges(), colours)):
        left = "" if i == 0 else ">"
        label = f"{left}{lo:,.{d}f} – {hi:,.{d}f}" if i else f"{lo:,.{d}f} – {hi:,.{d}f}"
        rows.append({"label": label, "colour": col, "count": cls.counts[i], "kind": "class",
                     "low": lo, "high": hi})
    if n_suppressed:
        rows.append({"label": "Suppressed", "colour": SUPPRESSED_STYLE["fillColor"], "count": int(n_suppressed),
                     "kind": "suppressed"})
    n_nodata = cls.n_missing - int(n_suppressed)
    rows.append({"label": "No data", "colour": None, "count": int(n_nodata), "kind": "missing"})
    return rows


def tertiles(values, polarity: str = "higher_is_worse") -> np.ndarray:
    """Indicator tertile 0 (best third) .. 2 (worst third); -1 missing."""
    y = _as_float(values)
    out = np.full(len(y), -1, dtype=np.int64)
    fin = np.isfinite(y)
    if fin.sum() == 0:
        return out
    c = classify(y, "quantiles", 3)
    yb = c.yb.copy()
    if len(c.bins) < 3:  # too few distinct values
        yb = np.where(yb >= 0, yb * (2 // max(len(c.bins) - 1, 1)), -1)
    if polarity == "higher_is_better":
        yb = np.where(yb >= 0, 2 - yb, -1)
    return yb


CORE20_LEVELS = ("under 20% Core20", "20-49% Core20", "50%+ Core20")


def core20_level(share) -> np.ndarray:
    """Core20 population share (0-1) -> 0: <20% (below the national share by
    definition), 1: 20-<50%, 2: >=50%; -1 missing. For LSOAs, share is 0 or 1."""
    s = _as_float(share)
    out = np.full(len(s), -1, dtype=np.int64)
    fin = np.isfinite(s)
    out[fin] = np.where(s[fin] >= 0.5, 2, np.where(s[fin] >= 0.2, 1, 0))
    return out


def bivariate_class(ind_tertile, core20) -> np.ndarray:
    """Cell index row*3+col (row = Core20 level, col = indicator tertile); -1 if either missing."""
    t = np.asarray(ind_tertile, dtype=np.int64)
    c = np.asarray(core20, dtype=np.int64)
    return np.where((t >= 0) & (c >= 0), c * 3 + t, -1)


def bivariate_colour(cell: int) -> str | None:
    return None if cell < 0 else BIVARIATE[cell // 3][cell % 3]
