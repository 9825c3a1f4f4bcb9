"""The app's one caching helper, read-only by construction.

`@hot` fronts a Streamlit-cached function with a plain dict look-up, for the cached
calls made on every rerun: Streamlit's own look-up hashes each argument and inspects the
function's signature per call (~0.3 ms each; a rerun makes ~30 of them), and
st.cache_data also unpickles a copy of the value. `@per_run` computes a value once per
script run (`new_run()` starts one).

Values are shared by every session and the worker threads, so they are handed out
frozen, and no caller can change what the next one gets:

- dicts become `FrozenDict`, lists `FrozenList` (subclasses of dict and list, so
  `isinstance`, `json.dumps`, `{**d}`, `lst + [x]` work; every mutating method raises
  TypeError), sets frozensets, tuples are frozen item by item;
- numpy arrays come back as read-only views (`flags.writeable = False`);
- pandas DataFrames, Series and geopandas frames come back as a shallow copy per call:
  pandas 3 (requirements.txt pins 3.1) is copy-on-write, so the copy costs ~20 us
  (whatever the frame's size; a deep copy of a 40,000-row frame ~10x that and grows with
  it) and any change to it (new column, `.loc[...] =`, an `inplace=` call) copies the
  data it touches first: the cached frame never changes. Its arrays are read-only
  views already (`.to_numpy()[0] = x` raises);
- anything else (strings, numbers, pyarrow tables, the store, frozen dataclasses) is
  returned as it is: cache only values that are immutable or of the kinds above.

Freezing copies the containers once, when a value is stored (never per call), and never
touches the value Streamlit's cache holds.
"""
from __future__ import annotations

import functools
import inspect
import threading
import time
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["hot", "per_run", "new_run", "freeze", "FrozenDict", "FrozenList"]


def _readonly(self, *args, **kwargs):
    raise TypeError(f"this {type(self).__mro__[1].__name__} is a cached value shared by every session: "
                    "copy it (dict(x) / list(x)) before changing it")


class FrozenDict(dict):
    """A dict that cannot be changed (a cached value: layers.cache)."""
    __slots__ = ()
    __setitem__ = __delitem__ = __ior__ = _readonly
    clear = pop = popitem = setdefault = update = _readonly

    def __reduce__(self):                 # pickles (st.cache_data) and copies as a plain dict
        return dict, (dict(self),)

    def __copy__(self):
        return dict(self)

    def __deepcopy__(self, memo):
        import copy
        return copy.deepcopy(dict(self), memo)


class FrozenList(list):
    """A list that cannot be changed (a cached value: layers.cache)."""
    __slots__ = ()
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _readonly
    append = extend = insert = pop = remove = clear = sort = reverse = _readonly

    def __reduce__(self):
        return list, (list(self),)

    def __copy__(self):
        return list(self)

    def __deepcopy__(self, memo):
        import copy
        return copy.deepcopy(list(self), memo)


_FRAMES = (pd.DataFrame, pd.Series)
_SCALARS = frozenset((str, bytes, int, float, bool, type(None), np.int64, np.int32, np.float64, np.bool_))


def _freeze(v: Any) -> tuple[Any, Any]:
    """(frozen v, its read plan): None when a read hands out v itself, "frame" for a frame
    (a read copies it), else {key or index: plan} of the items of a container that hold
    frames (a read rebuilds only that path)."""
    if isinstance(v, (str, bytes, int, float, bool, type(None), frozenset)):
        return v, None
    if isinstance(v, _FRAMES):
        return v, "frame"
    if isinstance(v, np.ndarray):
        if v.flags.writeable:
            v = v.view()
            v.flags.writeable = False
        return v, None
    if isinstance(v, dict):
        out, plan = {}, {}
        for k, x in v.items():
            out[k], p = _freeze(x)
            if p is not None:
                plan[k] = p
        return FrozenDict(out), plan or None
    if isinstance(v, (list, tuple)):
        if all(type(x) in _SCALARS for x in v):          # e.g. a class array: one pass, nothing to freeze inside
            if isinstance(v, list):
                return FrozenList(v), None
            return v, None
        vals, plan = [], {}
        for i, x in enumerate(v):
            y, p = _freeze(x)
            vals.append(y)
            if p is not None:
                plan[i] = p
        if isinstance(v, list):
            out = FrozenList(vals)
        else:
            out = type(v)._make(vals) if hasattr(type(v), "_make") else tuple(vals)
        return out, plan or None
    if isinstance(v, (set, frozenset)):
        return frozenset(v), None
    return v, None


def _thaw(v: Any, plan) -> Any:
    """What a read hands out of frozen `v` (see _freeze): each frame on the plan a shallow
    (copy-on-write) copy, the containers on the way to it rebuilt frozen."""
    if plan == "frame":
        return v.copy(deep=False)
    if isinstance(v, FrozenDict):
        d = dict(v)
        for k, p in plan.items():
            d[k] = _thaw(v[k], p)
        return FrozenDict(d)
    vals = list(v)
    for i, p in plan.items():
        vals[i] = _thaw(v[i], p)
    if isinstance(v, FrozenList):
        return FrozenList(vals)
    return type(v)._make(vals) if hasattr(type(v), "_make") else tuple(vals)


class _Frozen:
    """A stored value and how to read it."""
    __slots__ = ("value", "plan")

    def __init__(self, value):
        self.value, self.plan = _freeze(value)

    def read(self):
        return self.value if self.plan is None else _thaw(self.value, self.plan)


def freeze(value: Any) -> Any:
    """`value` as a cache hands it out (see the module doc)."""
    return _Frozen(value).read()


def hot(fn=None, *, maxsize: int = 128):
    """Memoise `fn` in a plain dict in front of its Streamlit cache; values come back
    frozen (module doc). The key follows Streamlit's rule: arguments whose parameter name
    starts with "_" are left out (the callers pass a fingerprint beside them).
    Use above the st.cache_* decorator:  @hot / @st.cache_resource(...) / def f(_store, fp, ...).
    `f.prime(*args, value=v)` stores a value computed elsewhere (a worker thread),
    `f.has(*args)` says whether one is stored, `f.clear()` forgets it and Streamlit's cache."""
    if fn is None:
        return lambda f: hot(f, maxsize=maxsize)
    params = list(inspect.signature(fn).parameters)
    keep = [not p.startswith("_") for p in params]
    memo: dict = {}
    lock = threading.Lock()          # reruns of several sessions and the worker thread share it

    def _key(args, kwargs):
        key = tuple(a for a, k in zip(args, keep) if k)
        if kwargs:
            key += tuple(sorted((k, v) for k, v in kwargs.items() if not k.startswith("_")))
        return key

    def _store(key, value) -> _Frozen:
        f = _Frozen(value)
        with lock:
            while len(memo) >= maxsize:
                memo.pop(next(iter(memo)), None)
            return memo.setdefault(key, f)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        key = _key(args, kwargs)
        try:
            return memo[key].read()
        except KeyError:
            pass
        except TypeError:                 # an unhashable argument: Streamlit's cache only
            return freeze(fn(*args, **kwargs))
        return _store(key, fn(*args, **kwargs)).read()

    def prime(*args, value, **kwargs):
        """Store `value` as the result for these arguments (e.g. computed ahead on a
        worker thread), unless one is there already."""
        _store(_key(args, kwargs), value)

    def has(*args, **kwargs) -> bool:
        return _key(args, kwargs) in memo

    def clear():
        """Forget the memo AND Streamlit's cache behind it."""
        with lock:
            memo.clear()
        inner = getattr(fn, "clear", None)
        if callable(inner):
            inner()
    wrapper.clear = clear
    wrapper.prime = prime
    wrapper.has = has
    return wrapper


_RUN = threading.local()


def new_run() -> None:
    """Start a new script run on this thread (app.py calls it first): values memoised
    with @per_run are computed again. Also call it after changing what they depend on
    within a run (e.g. after saving a file whose fingerprint is memoised)."""
    _RUN.memo = {}
    LAST_RUN[0] = time.monotonic()


# when a script run (a page or a part) last started in this process: background warm-ups
# (layers/profile.py) wait for a quiet moment, so they never compete with a page loading
LAST_RUN = [0.0]


def per_run(fn):
    """Compute `fn(*args)` once per script run (see new_run), e.g. a file-change check that
    several layers make on each rerun; the value comes back frozen like hot's. Outside a
    run (scripts, tests) every call computes."""
    @functools.wraps(fn)
    def wrapper(*args):
        memo = getattr(_RUN, "memo", None)
        if memo is None:
            return freeze(fn(*args))
        key = (fn.__qualname__, args)
        if key not in memo:
            memo[key] = _Frozen(fn(*args))
        return memo[key].read()
    return wrapper
