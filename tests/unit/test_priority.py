"""geo.priority: config validation (bad entries reported, rest kept) and the candidate rule."""
import datetime as dt

import pandas as pd
import pytest
import yaml

from geo.paths import CONFIG_DIR
from geo.priority import CandidateRule, derive_candidates, load_config, parse_config

KNOWN = {"E05000001", "E05000002", "E05000003", "E05000004"}


def test_shipped_config_is_valid_and_empty():
    cfg = load_config(CONFIG_DIR / "priority_wards.yaml")
    assert cfg.problems == []
    assert cfg.lists["icb"].wards == [] and cfg.lists["exemplar"].wards == []
    assert cfg.rule.enabled and cfg.rule.measure in ("pct_core20",)


def test_good_entries_kept_bad_entries_reported():
    data = {
        "schema_version": 1,
        "icb_list": {"name": "ICB", "source": "Board paper", "date": "2024-03-01",
                     "wards": ["E05000001", {"code": "e05000002", "note": "x"}, "E05999999", 42,
                               "not-a-code", "E05000001"]},
        "exemplar_list": {"date": "01/03/2024", "wards": "E05000003"},
        "candidates": {"n": "three", "measure": "nope", "per": "place4", "enabled": True},
    }
    cfg = parse_config(data, KNOWN)
    assert cfg.lists["icb"].wards == ["E05000001", "E05000002"]
    assert cfg.lists["icb"].notes == {"E05000002": "x"}
    assert cfg.lists["icb"].date == dt.date(2024, 3, 1)
    where = {p.where for p in cfg.problems}
    assert {"icb_list.wards[2]", "icb_list.wards[3]", "icb_list.wards[4]", "icb_list.wards[5]",
            "exemplar_list.date", "exemplar_list.wards", "candidates.n", "candidates.measure"} <= where
    unknown = [p for p in cfg.problems if p.where == "icb_list.wards[2]"][0]
    assert "unknown ward code" in unknown.problem and unknown.value == "E05999999"
    assert cfg.rule.per == "place4" and cfg.rule.n == 3 and cfg.rule.measure == "pct_core20"


def test_yaml_date_objects_and_impossible_dates(tmp_path):
    p = tmp_path / "pw.yaml"
    p.write_text("icb_list:\n  date: 2024-02-30\n  wards: []\nexemplar_list:\n  date: 2023-05-04\n")
    cfg = load_config(p, KNOWN)
    assert cfg.lists["exemplar"].date == dt.date(2023, 5, 4)
    assert [pr.where for pr in cfg.problems] == ["icb_list.date"]


def test_unparsable_and_missing_files_are_problems_not_exceptions(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("icb_list: [unclosed\n")
    cfg = load_config(bad, KNOWN)
    assert cfg.problems and "not valid YAML" in cfg.problems[0].problem
    assert cfg.lists["icb"].wards == []
    cfg2 = load_config(tmp_path / "missing.yaml", KNOWN)
    assert "cannot read" in cfg2.problems[0].problem
    cfg3 = parse_config(["a", "list"], KNOWN)
    assert cfg3.problems[0].where == "(file)"


def _wards():
    return pd.DataFrame({
        "code": ["E05000001", "E05000002", "E05000003", "E05000004", "E05000005"],
        "name": ["A", "B", "C", "D", "E"],
        "population": [5000, 6000, 300, 7000, 4000],
        "pct_core20": [80.0, 80.0, 99.0, 10.0, 50.0],
        "imd_score": [40.0, 41.0, 60.0, 12.0, 30.0],
        "avg_rank": [3000.0, 2000.0, 100.0, 25000.0, 9000.0],
        "place5": ["P1", "P1", "P1", "P2", "P2"],
    })


def test_candidates_top_n_per_place_with_ties_and_min_population():
    out = derive_candidates(_wards(), CandidateRule(n=1, per="place5", min_population=1000))
    # C (99%) is excluded by population; A and B tie on 80% -> larger population first
    assert out["code"].tolist() == ["E05000002", "E05000005"]
    assert out["group"].tolist() == ["P1", "P2"]
    assert (out["rank_in_group"] == 1).all()
    assert "#1 in P1" in out["reason"].iloc[0]


def test_candidates_whole_icb_and_ascending_measure():
    out = derive_candidates(_wards(), CandidateRule(n=2, per="icb", measure="avg_rank"))
    assert out["code"].tolist() == ["E05000003", "E05000002"]   # lowest average rank first
    none = derive_candidates(_wards(), CandidateRule(enabled=False))
    assert none.empty


def test_rule_description_names_everything():
    d = CandidateRule(n=4, per="place4", measure="imd_score", min_population=500, vintage=2025).describe()
    assert "Top 4" in d and "current four" in d and "IMD score" in d and "500" in d and "IoD2025" in d


@pytest.mark.real_data
def test_candidates_on_real_store_follow_the_rule():
    from geo.report import build_table
    from geo.store import load_store
    s = load_store()
    t = build_table(s, "ward", vintage=2019)
    rule = CandidateRule(n=3, per="place5", min_population=1000)
    out = derive_candidates(t, rule)
    assert len(out) == 3 * t["place5"].nunique()
    for place, g in out.groupby("group"):
        pool = t[(t["place5"] == place) & (t["population"] >= 1000)]
        assert g["value"].min() >= pool["pct_core20"].nlargest(3).min()


def test_candidate_ties_go_to_the_more_deprived_ward():
    """Equal % Core20: more Core20 people first, then the higher IMD score; a ward never
    drops out of the top n because of a tie."""
    w = pd.DataFrame({
        "code": ["E05000011", "E05000012", "E05000013", "E05000014", "E05000015"],
        "name": ["Small", "Large", "Large-less-deprived", "Twin-a", "Twin-b"],
        "population": [2000, 8000, 8000, 5000, 5000],
        "pct_core20": [100.0, 100.0, 100.0, 40.0, 40.0],
        "core20_population": [2000.0, 8000.0, 8000.0, 2000.0, 2000.0],
        "imd_score": [70.0, 55.0, 50.0, 30.0, 30.0],
        "place5": ["P"] * 5,
    })
    out = derive_candidates(w, CandidateRule(n=2, per="place5"))
    assert out["code"].tolist() == ["E05000012", "E05000013"]  # 8,000 Core20 people beat 2,000
    out = derive_candidates(w.assign(core20_population=[2000.0, 8000.0, 8000.0, 2000.0, 2000.0]),
                            CandidateRule(n=1, per="place5"))
    assert out["code"].tolist() == ["E05000012"]  # equal Core20 people: higher IMD score
    # exactly equal on every key at the cut: both kept, sharing the rank
    out = derive_candidates(w.iloc[3:], CandidateRule(n=1, per="place5"))
    assert out["code"].tolist() == ["E05000014", "E05000015"] and out["rank_in_group"].tolist() == [1, 1]
    # without a core20_population column it is derived from % x population
    out = derive_candidates(w.drop(columns="core20_population"), CandidateRule(n=1, per="place5"))
    assert out["code"].tolist() == ["E05000012"]
