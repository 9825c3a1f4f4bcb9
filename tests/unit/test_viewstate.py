"""URL view state: round trip, defaults, and every kind of tampered link falling back with
a notice that never echoes the hostile input."""
from __future__ import annotations

import random
import re
import string

import pytest

from geo import viewstate as VS


@pytest.fixture(scope="module")
def known(store):
    return VS.known_from_store(store)


def full_state(store) -> VS.ViewState:
    w = store.wards24.sort_values("wd24cd").iloc[7]
    return VS.ViewState.of(layers=("deprivation", "priority"), measure="health", vintage=2025, deciles="local",
                        core20=False, labels=False, prio=("exemplar", "candidate"), n=7, rank="imd_score",
                        per="place4", ind="fingertips_lsoa:93553", cls="natural_breaks", k=6,
                        acc=("act", "gp"), thr=7.5,
                        area_kind="place4", area_code="Blackpool" if "Blackpool" in
                        VS.known_from_store(store).areas["place4"] else sorted(VS.known_from_store(store).areas["place4"])[0],
                        ward=w["wd24cd"], lat=53.81234, lon=-3.04567, z=12.25, present=True,
                        title="Fylde Coast outreach (March)")


def test_round_trip_of_every_field(store, known):
    s = full_state(store)
    q = VS.to_query(s)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in q.items())
    back, notices = VS.from_query(q, known)
    assert notices == []
    assert back == s
    # and through a real query string / whole URL
    back2, n2 = VS.parse_query_string("http://localhost:8501/?" + VS.to_query_string(s), known)
    assert back2 == s and n2 == []


def test_fixed_breaks_round_trip(known):
    s = VS.ViewState.of(ind="x", cls="fixed", brk=(-2.5, 0.0, 10.0, 1e6))
    back, notices = VS.from_query(VS.to_query(s), known)
    assert back.get("brk") == s.get("brk") and notices == []


def test_empty_query_is_the_default_view(known):
    s, notices = VS.from_query({}, known)
    assert s == VS.ViewState() and notices == []
    assert s.layer_on("deprivation", True) and not s.layer_on("indicators", False)


def test_each_district_place_and_ward_of_the_store_is_accepted(store, known):
    for kind, codes in known.areas.items():
        for c in codes:
            s, n = VS.from_query({"area": f"{kind}:{c}"}, known)
            assert (s.area_kind, s.area_code) == (kind, c) and n == []
    for c in store.wards24["wd24cd"]:
        s, n = VS.from_query({"ward": c}, known)
        assert s.ward == c and n == []


SAFE_NOTICE = re.compile(r"^[A-Za-z0-9 ,.:;()'_\-/%+]+$")

HOSTILE = {
    "huge zoom": ({"lat": "54", "lon": "-2.7", "z": "1e308"}, "z"),
    "negative zoom": ({"lat": "54", "lon": "-2.7", "z": "-5"}, "z"),
    "infinite lat": ({"lat": "1e400", "lon": "-2.7", "z": "9"}, "lat"),
    "NaN lon": ({"lat": "54", "lon": "NaN", "z": "9"}, "lon"),
    "lat off the map": ({"lat": "-89.9", "lon": "-2.7", "z": "9"}, "lat"),
    "script measure": ({"measure": "<script>alert(1)</script>"}, "measure"),
    "script title": ({"title": "<img src=x onerror=alert(1)>"}, "title"),
    "markdown image title": ({"title": "![x](http://evil.example/p.png)"}, "title"),
    "unknown ward": ({"ward": "E05999999"}, "ward"),
    "not a ward code": ({"ward": "javascript:alert(1)"}, "ward"),
    "unknown place": ({"area": "place5:Atlantis"}, "area"),
    "bad area kind": ({"area": "lsoa:E01000001"}, "area"),
    "district by name": ({"area": "district:Burnley"}, "area"),
    "huge n": ({"n": "99999999999999999999"}, "n"),
    "n out of range": ({"n": "-3"}, "n"),
    "bad vintage": ({"vintage": "2031"}, "vintage"),
    "bad bool": ({"core20": "maybe"}, "core20"),
    "bad layers": ({"layers": "deprivation,<svg/onload=alert(1)>"}, "layers"),
    "too long": ({"measure": "i" * 5000}, "measure"),
    "null byte": ({"measure": "imd\x00"}, "measure"),
    "bad breaks": ({"brk": "1,2,x"}, "brk"),
    "script categories": ({"acc": "act,<script>alert(1)</script>"}, "acc"),
    "unknown category": ({"acc": "act,crematoria"}, "acc"),
    "bad threshold": ({"thr": "ten<b>"}, "thr"),
    "huge threshold": ({"thr": "1e308"}, "thr"),
    "infinite threshold": ({"thr": "inf"}, "thr"),
    "too many breaks": ({"brk": ",".join(str(i) for i in range(40))}, "brk"),
    "unknown param": ({"<script>": "1", "colour": "red"}, "?"),
    "half a view": ({"lat": "54", "lon": "-2.7"}, "z"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_tampered_links_fall_back_with_a_safe_notice(case, known):
    query, param = HOSTILE[case]
    s, notices = VS.from_query(query, known)
    assert notices, f"{case}: no notice"
    assert any(n.param == param for n in notices), [n.param for n in notices]
    for n in notices:
        assert SAFE_NOTICE.match(n.message), n.message
        for v in query.values():
            if len(v) > 3 and not re.fullmatch(r"[A-Za-z0-9_.:, -]{1,40}", v):
                assert v not in n.message
    # whatever came in, the state only holds valid values
    again, n2 = VS.from_query(VS.to_query(s), known)
    assert again == s and n2 == []
    assert s.get("measure") in VS.MEASURES and s.get("vintage") in VS.VINTAGES
    if s.z is not None:
        assert VS.ZOOM_RANGE[0] <= s.z <= VS.ZOOM_RANGE[1]
    assert "<" not in s.title and ">" not in s.title


def test_zoom_is_clamped_not_dropped(known):
    s, _ = VS.from_query({"lat": "54", "lon": "-2.7", "z": "-5"}, known)
    assert s.z == VS.ZOOM_RANGE[0] and s.lat == 54.0
    s, _ = VS.from_query({"lat": "54", "lon": "-2.7", "z": "40"}, known)
    assert s.z == VS.ZOOM_RANGE[1]
    s, _ = VS.from_query({"lat": "54", "lon": "-2.7", "z": "9.13"}, known)
    assert s.z == 9.25          # the map's 0.25 zoom snap


def test_repeated_and_too_many_params(known):
    s, n = VS.from_query({"measure": ["crime", "income"]}, known)
    assert s.get("measure") == "income" and n == []
    q = {f"p{i}": "1" for i in range(200)}
    s, n = VS.from_query(q, known)
    assert s == VS.ViewState() and len(n) <= 3


def test_random_garbage_never_raises_and_notices_stay_safe(known):
    rnd = random.Random(20261122)
    alphabet = string.printable + "\u202e\u2028<>\"'`$&%=;"
    for _ in range(400):
        q = {}
        for _ in range(rnd.randint(1, 8)):
            name = rnd.choice(VS.PARAMS + ("x", "".join(rnd.choice(alphabet) for _ in range(5))))
            q[name] = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 60)))
        s, notices = VS.from_query(q, known)
        for n in notices:
            assert SAFE_NOTICE.match(n.message), n.message
        assert VS.from_query(VS.to_query(s), known) == (s, [])


def test_view_name_uses_title_or_measure_and_area():
    assert VS.view_name(VS.ViewState(title="Workshop")) == "Workshop"
    name = VS.view_name(VS.ViewState.of(measure="income", area_kind="place5", area_code="Fylde Coast"))
    assert "Income" in name and "Fylde Coast" in name


def test_access_categories_and_threshold(known):
    assert {"act", "gp", "screening"} <= known.categories
    s, n = VS.from_query({"layers": "access", "acc": "screening,act,act", "thr": "10"}, known)
    assert n == [] and s.get("acc") == ("act", "screening") and s.get("thr") == 10.0
    assert VS.to_query(s)["acc"] == "act,screening" and VS.to_query(s)["thr"] == "10"
    assert VS.from_query(VS.to_query(s), known) == (s, [])
    # unknown categories are dropped (the known ones stay), with a notice naming them
    s, n = VS.from_query({"acc": "act,crematoria"}, known)
    assert s.get("acc") == ("act",) and [x.param for x in n] == ["acc"] and "'crematoria'" in n[0].message
    s, n = VS.from_query({"acc": "crematoria"}, known)
    assert s.get("acc") is None and n
    # threshold: clamped to the slider (0.5-40 km) and snapped to its 0.5 km step
    for raw, want, noticed in (("0", 0.5, True), ("-3", 0.5, True), ("99", 40.0, True), ("7.3", 7.5, False),
                               ("12.5", 12.5, False)):
        s, n = VS.from_query({"thr": raw}, known)
        assert s.get("thr") == want and bool(n) == noticed, (raw, s.get("thr"), n)
    s, n = VS.from_query({"thr": "far"}, known)
    assert s.get("thr") is None and n and "'far'" in n[0].message
    # not checked against a list when none is known
    s, n = VS.from_query({"acc": "anything_new"})
    assert s.get("acc") == ("anything_new",) and n == []


def test_service_categories_round_trip_and_none(known):
    s, n = VS.from_query({"svc": "hari_bus,act"}, known)
    assert s.get("svc") == ("act", "hari_bus") and n == []
    assert VS.to_query(s)["svc"] == "act,hari_bus"
    s, n = VS.from_query({"svc": "none"}, known)
    assert s.get("svc") == () and VS.to_query(s)["svc"] == "none"
    assert VS.from_query(VS.to_query(s), known) == (s, [])
    s, n = VS.from_query({"svc": "act,<script>"}, known)
    assert s.get("svc") is None and "<" not in n[0].message
    s, n = VS.from_query({"svc": "act,spaceships"}, known)
    assert s.get("svc") == ("act",) and "spaceships" in n[0].message


@pytest.mark.parametrize("param,value", [("z", "v2\n"), ("ind", "iod2019:imd_score\n"), ("ward", "E05005150\n"),
                                         ("area", "district:E07000117\n"), ("acc", "act\n")])
def test_trailing_newline_is_not_accepted_or_echoed(known, param, value):
    s, notices = VS.from_query({param: value}, known)
    assert all("\n" not in n.message for n in notices)
    assert "\n" not in VS.to_query_string(s)
