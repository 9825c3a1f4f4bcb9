"""geo.icb: find any ICB by code or name; its LSOAs, districts, places, wards (real data)."""
import pytest

from geo import icb as I
from geo.errors import UsageError


@pytest.mark.parametrize("query", ["E54000048", "e54000048", "QE1", "lancashire", "Lancashire and South Cumbria",
                                   "NHS Lancashire and South Cumbria Integrated Care Board", "south cumbria",
                                   "LANCASHIRE & SOUTH CUMBRIA ICB", "LSC"])
def test_resolve_lsc_every_way(store, query):
    r = I.resolve_icb(query, store)
    assert r.code == "E54000048" and r.nhs_code == "QE1" and r.is_lsc


def test_resolve_other_icbs_and_england(store):
    assert I.resolve_icb("northamptonshire", store).code == "E54000059"
    assert I.resolve_icb("north east london", store).code == "E54000029"
    assert I.resolve_icb("stoke", store).code == "E54000010"
    assert I.resolve_icb("England", store).is_england


def test_unknown_name_gives_closest_matches_in_one_line(store):
    with pytest.raises(UsageError) as e:
        I.resolve_icb("Northamtonshire", store)
    msg = str(e.value)
    assert "unknown ICB 'Northamtonshire'" in msg and "closest: Northamptonshire (E54000059)" in msg
    assert "\n" not in msg


def test_ambiguous_words_list_the_candidates(store):
    with pytest.raises(UsageError, match=r"ambiguous.*Lancashire and South Cumbria \(E54000048\).*North East and "
                                         r"North Cumbria \(E54000050\)"):
        I.resolve_icb("cumbria", store)


def test_lsc_areas(store):
    l = I.lsoas(store, "E54000048")
    assert len(l) == 1060 and (l["icb24cd"] == "E54000048").all()
    assert int(l["pop2021"].sum()) == int(store.icb.set_index("icb24cd").loc["E54000048", "pop2021"])
    p = I.places(store, "E54000048")
    assert sorted(p["nhs_code"]) == ["00Q", "00R", "00X", "01A", "01E", "01K", "02G", "02M"]
    assert p["n_lsoa21"].sum() == 1060
    w = I.wards(store, "E54000048")
    official = w[~w["approximate_geometry"]]
    assert len(official) == 277 and set(official["wd24cd"]) == set(store.wards24["wd24cd"])
    assert "official" in w.attrs["note"]
    assert set(l["wd24cd"]) <= set(w["wd24cd"])  # every LSC LSOA's ward is drawn
    d = I.districts(store, "E54000048")
    assert d["n_lsoa21"].sum() == 1060
    # Westmorland and Furness also holds former Eden (North East and North Cumbria): only part is in LSC
    assert not d.set_index("lad24cd").loc["E06000064", "whole_district"]
    assert d.set_index("lad24cd").loc["E06000009", "whole_district"]  # Blackpool


def test_northamptonshire_areas(store):
    l = I.lsoas(store, "E54000059")
    assert len(l) == 443
    d = I.districts(store, "E54000059").set_index("lad24cd")
    assert d.loc["E06000061", "whole_district"] and d.loc["E06000062", "whole_district"]
    assert d["n_lsoa21"].sum() == 443
    w = I.wards(store, "E54000059")
    assert w["approximate_geometry"].all() and "APPROXIMATE" in w.attrs["note"]
    # the district pieces cover the ICB: areas add up to the union of its LSOAs
    a = d.set_crs(4326).to_crs(27700).area.sum()
    assert a == pytest.approx(l.to_crs(27700).area.sum(), rel=1e-3)


def test_england_as_a_whole_and_2019(store):
    assert len(I.lsoas(store, "england")) == 33755
    b = I.boundary(store, "england")
    assert b["n_lsoa21"].iloc[0] == 33755
    l19 = I.lsoas(store, "E54000048", vintage=2019)
    assert len(l19) == 1058 and l19["imd_decile"].notna().all() and l19["wd19cd"].notna().all()
    s = I.summary(store, "E54000059")
    assert s["n_lsoa21"] == 443 and s["n_places"] == 1
    assert len(I.icb_list(store)) == 42
