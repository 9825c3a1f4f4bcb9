"""The indicator layer's instant restyle: a worker thread builds, per dataset and settings,
the file of every Indicator x Classes choice's classes and colours, so switching those
controls repaints the map in the browser before the rerun (static/js/paint_indicators.js).
"""
from __future__ import annotations

import json
import threading

from geo import classify as C
from geo import indicators as I
from layers.base import MapContext
from layers.indicators_data import COMPARATORS, _area_frame, _classified, _codes, _cuts, _decile_table, classify_areas
from render.static_files import url_path

# ------------------------------------------------------------------ instant restyle
# Switching the Indicator or Classes control repaints the map from a file holding, for
# the current dataset and settings, the classes and colours of every indicator x method
# (static/gen/indinst.<sha>.json); the rerun then confirms them with the legend. Built
# once per settings on a worker thread (natural breaks take ~0.1 s per indicator on the
# LSOAs), so the rerun that asks never waits: until it is ready the payload has no file
# and the rerun paints as before.
INSTANT_METHODS = [m for m in C.METHODS if m != "fixed"]
_INSTANT_JOBS: dict = {}
_INSTANT_MAX = 32
_instant_pool = None


def instant_choices(data: I.IndicatorData, period: str | None, method: str, thresholds: tuple,
                    comparator: str | None, scheme: str, mode: str) -> list[tuple]:
    """(key, indicator, period, comparator, method) of every Indicator/Classes choice a person
    can switch to from here, with the period and comparator the app would then use:
    Streamlit keeps a keyed selectbox's value while it is still among the options, else
    it falls back to the default (latest period; first available comparator)."""
    out = []
    for ind in data.indicators():
        periods = data.periods(ind)
        if not periods:
            continue
        per = period if period in periods else periods[-1]
        comp = None
        if scheme == "diverging" and mode == "choropleth":
            avail = [c for c in COMPARATORS if data.comparator(ind, per, c)[0] is not None]
            comp = comparator if comparator in avail else (avail[0] if avail else None)
        if mode == "bivariate":
            out.append((ind, ind, per, comp, "quantiles"))
            continue
        # from fixed thresholds, only another indicator with the same thresholds; the
        # other methods bring back the class-count slider (and its value)
        for m in (["fixed"] if method == "fixed" else INSTANT_METHODS):
            out.append((f"{ind}|{m}", ind, per, comp, m))
    return out


SLOW_METHODS = ("natural_breaks",)


def build_instant(data: I.IndicatorData, codes: list, core20_share, period, method, k, thresholds, scheme,
                  palette_name, comparator, mode, methods: tuple | None = None, results: dict | None = None) -> bytes:
    """The instant-restyle file: {key: {cls, colors}} (choices whose class fails are left
    out; with `methods`, only choices of those methods). Each choice's full result goes
    into `results` (key -> (indicator, period, comparator, method, result)) when given,
    and a choice already there is not classified again."""
    out = {}
    for key, ind, per, comp, m in instant_choices(data, period, method, thresholds, comparator, scheme, mode):
        if methods is not None and m not in methods:
            continue
        if results is not None and key in results:
            r = results[key][4]
        else:
            r = classify_areas(data, codes, core20_share, ind, per, m, k, thresholds, scheme, palette_name, comp,
                               mode)
            if results is not None:
                results[key] = (ind, per, comp, m, r)
        if not r.get("error"):
            out[key] = {"cls": r["cls"], "colors": r["colors"]}
    return json.dumps(out, separators=(",", ":")).encode()


class _InstantJob:
    """Builds one settings' instant file on the worker thread: first the quick methods
    (ready in tens of milliseconds), then every method. `url` is the newest file built.
    What it computes on the way (each choice's classes and legend, the indicator by IMD
    decile) primes the rerun's caches, so the rerun after a switch is a cache hit."""

    def __init__(self, data, data_key: str, store, fp: str, codes, share, af, cuts, settings: tuple):
        self.data, self.data_key, self.store, self.fp = data, data_key, store, fp
        self.codes, self.share, self.af, self.cuts = codes, share, af, cuts
        self.settings, self.url, self.error, self.future = settings, None, None, None

    def run(self) -> None:
        from render.static_files import _url, write_hashed
        try:
            k, thresholds, scheme, pal, mode = (self.settings[2], self.settings[3], self.settings[4],
                                                self.settings[5], self.settings[7])
            results: dict = {}
            args = (self.data, self.codes, self.share, *self.settings)
            quick = tuple(m for m in C.METHODS if m not in SLOW_METHODS)
            if self.settings[1] != "fixed":
                self.url = _url(write_hashed("indinst", build_instant(*args, methods=quick, results=results)))
            self.url = _url(write_hashed("indinst", build_instant(*args, results=results)))
            for ind, per, comp, m, r in results.values():
                _classified.prime(self.data, self.data_key, self.store, self.fp, ind, per, m, int(k),
                                  tuple(thresholds), scheme, pal, comp, mode, value=r)
                dkey = (self.data, self.data_key, self.store, self.fp, ind, per, self.data.target)
                if not _decile_table.has(*dkey):
                    _decile_table.prime(*dkey, value=I.by_imd_decile(self.data, ind, per, self.store, af=self.af,
                                                                     cuts=self.cuts))
        except Exception as e:          # no instant path for these settings; the reruns still paint
            self.error = e
            import logging
            logging.getLogger(__name__).warning("instant-restyle file not built for %s: %s: %s",
                                                self.data_key, type(e).__name__, e)
        finally:                        # a finished job keeps only its URL
            self.data = self.store = self.codes = self.share = self.af = self.cuts = None


_INSTANT_LOCK = threading.Lock()


def instant_url(ctx: MapContext, data: I.IndicatorData, data_key: str, settings: tuple) -> str | None:
    """The newest instant file's URL for these settings; starts building it the first time
    (again if its file was pruned or its queued build was dropped for a newer one)."""
    global _instant_pool
    key = (ctx.fingerprint, data_key, id(data), settings)
    with _INSTANT_LOCK:
        job = _INSTANT_JOBS.get(key)
        if job is not None and ((job.future is not None and job.future.cancelled())
                                or (job.url and not url_path(job.url).exists())):
            job = None
        if job is None:
            if _instant_pool is None:
                from concurrent.futures import ThreadPoolExecutor
                _instant_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lsc-instant")
            store, fp, target = ctx.store, ctx.fingerprint, data.target
            af = _area_frame(store, fp, target)
            # one worker: builds still waiting for settings nobody asked for since make way
            # (a session still on them asks again on its next rerun)
            for other in _INSTANT_JOBS.values():
                if other.future is not None:
                    other.future.cancel()
            _INSTANT_JOBS.pop(key, None)
            while len(_INSTANT_JOBS) >= _INSTANT_MAX:
                _INSTANT_JOBS.pop(next(iter(_INSTANT_JOBS)))
            job = _INSTANT_JOBS[key] = _InstantJob(
                data, data_key, store, fp, _codes(store, fp, target),
                af["core20_share"] if settings[-1] == "bivariate" else None, af,
                _cuts(store, fp) if target != "lsoa11" else None, settings)
            job.future = _instant_pool.submit(job.run)
    return job.url
