"""layers/cache.py: cached values are read-only by construction. Mutating a value `@hot`
(or `@per_run`) handed out either raises or cannot change what the next caller gets, on
small fixtures and on the app's own cached look-ups over the real store."""
from __future__ import annotations

import copy
import json
import pickle

import numpy as np
import pandas as pd
import pytest

from layers.cache import FrozenDict, FrozenList, freeze, hot, new_run, per_run


def _counting(value_factory):
    calls = []

    @hot(maxsize=4)
    def f(_big, fp):
        calls.append(fp)
        return value_factory()
    return f, calls


def test_dicts_and_lists_raise_on_every_mutation():
    f, calls = _counting(lambda: {"a": [1, 2], "b": {"c": 3}, "s": {1, 2}, "t": ([4], "x")})
    v = f(None, "fp")
    assert isinstance(v, dict) and isinstance(v["a"], list)        # still a dict / list for readers
    for mutate in (lambda: v.__setitem__("z", 1), lambda: v.pop("a"), lambda: v.update(z=1),
                   lambda: v.setdefault("z", 1), lambda: v.clear(), lambda: v.popitem(),
                   lambda: v.__delitem__("a"), lambda: v["a"].append(3), lambda: v["a"].extend([3]),
                   lambda: v["a"].__setitem__(0, 9), lambda: v["a"].sort(), lambda: v["a"].pop(),
                   lambda: v["b"].__setitem__("c", 4), lambda: v["t"][0].append(5)):
        with pytest.raises(TypeError, match="cached value"):
            mutate()
    with pytest.raises(AttributeError):
        v["s"].add(3)                                             # a frozenset
    w = f(None, "fp")
    assert w is v and calls == ["fp"]
    assert w == {"a": [1, 2], "b": {"c": 3}, "s": {1, 2}, "t": ([4], "x")}
    # what readers do still works, and gives plain (mutable) copies
    assert json.loads(json.dumps(v, default=sorted)) == {"a": [1, 2], "b": {"c": 3}, "s": [1, 2], "t": [[4], "x"]}
    d = dict(v)
    d["z"] = 1
    assert {**v, "z": 1}.keys() == d.keys() and v["a"] + [3] == [1, 2, 3]
    assert type(copy.copy(v)) is dict and type(copy.deepcopy(v)["a"]) is list
    assert type(pickle.loads(pickle.dumps(v))) is dict and pickle.loads(pickle.dumps(v)) == v
    assert type(v.copy()) is dict and type(v["a"].copy()) is list


def test_a_cached_frame_cannot_be_changed_by_a_caller():
    f, calls = _counting(lambda: pd.DataFrame({"code": ["a", "b", "c"], "x": [1.0, 2.0, 3.0]}))
    t = f(None, "fp")
    t["new"] = 1                                   # a new column
    t.loc[0, "x"] = 99.0                           # a cell
    t["x"] *= 2                                    # a whole column
    t.drop(columns=["code"], inplace=True)
    t.sort_values("x", ascending=False, inplace=True)
    t.attrs["note"] = "mine"
    with pytest.raises(ValueError, match="read-only"):
        t["x"].to_numpy()[0] = 5.0                 # its arrays are read-only views
    u = f(None, "fp")
    assert calls == ["fp"] and u is not t
    assert u.equals(pd.DataFrame({"code": ["a", "b", "c"], "x": [1.0, 2.0, 3.0]})) and u.attrs == {}
    s = hot(lambda fp: pd.Series([1, 2, 3]))
    mine = s("k")
    mine.iloc[0] = 7
    assert mine.tolist() == [7, 2, 3] and s("k").tolist() == [1, 2, 3]


def test_frames_inside_containers_and_arrays():
    f, _ = _counting(lambda: (pd.DataFrame({"x": [1, 2]}), {"arr": np.arange(3), "t": pd.Series([5])}, "basis"))
    t, d, basis = f(None, "fp")
    t["x"] = [9, 9]
    d["t"].iloc[0] = 0
    with pytest.raises(ValueError, match="read-only"):
        d["arr"][0] = 7
    t2, d2, _ = f(None, "fp")
    assert t2["x"].tolist() == [1, 2] and d2["t"].tolist() == [5] and d2["arr"].tolist() == [0, 1, 2]


def test_freezing_never_changes_the_value_behind_it():
    """Streamlit's cache keeps the value the function returned: it stays as it was."""
    orig = {"a": [1], "arr": np.arange(3)}
    f = hot(lambda fp: orig)
    v = f("k")
    assert type(orig) is dict and type(orig["a"]) is list and orig["arr"].flags.writeable
    assert type(v) is FrozenDict and type(v["a"]) is FrozenList and not v["arr"].flags.writeable


def test_primed_unhashable_and_per_run_values_are_frozen_too():
    f = hot(lambda fp, x: {"x": x})
    f.prime("fp", 1, value={"x": [1]})
    with pytest.raises(TypeError):
        f("fp", 1)["x"].append(2)
    with pytest.raises(TypeError):
        f("fp", [1])["y"] = 1                      # unhashable argument: computed, frozen as well

    @per_run
    def g():
        return {"k": [1]}
    new_run()
    with pytest.raises(TypeError):
        g()["k"].append(2)
    assert g() == {"k": [1]}
    assert freeze([{"a": 1}])[0] == {"a": 1} and isinstance(freeze([1]), FrozenList)


def test_the_apps_cached_lookups_are_read_only(store):
    """The real thing: options, bounds and tables the layers read on every rerun."""
    from layers import data, view
    s, fp = view.get_store()
    opts = view.icb_options(s, fp)
    with pytest.raises(TypeError):
        opts["E54000048"] = "mine"
    wards = view.ward_options(s, fp)
    with pytest.raises(TypeError):
        wards.clear()
    b = data.area_bounds(s, fp, "icb", None)
    with pytest.raises(TypeError):
        b[0][0] = 0.0
    t = data.area_table(s, fp, "ward", 2019)
    n, cols = len(t), list(t.columns)
    t.drop(t.index[:5], inplace=True)
    t["mine"] = 1
    t2 = data.area_table(s, fp, "ward", 2019)
    assert len(t2) == n and list(t2.columns) == cols


def test_a_cached_value_made_of_another_cached_value_still_copies_its_frames():
    inner = hot(lambda fp: {"t": pd.DataFrame({"x": [1, 2]})})
    outer = hot(lambda fp: {"from_inner": inner(fp), "n": 2})
    v = outer("k")
    v["from_inner"]["t"]["x"] = [0, 0]
    assert outer("k")["from_inner"]["t"]["x"].tolist() == [1, 2] and inner("k")["t"]["x"].tolist() == [1, 2]
