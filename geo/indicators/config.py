"""config/indicators.yaml: polarity, units and labels of known indicators."""
from __future__ import annotations

from functools import lru_cache
from geo.errors import SourceError, UsageError

from geo.indicators.model import IndicatorData


# ----------------------------------------------------------------------------- config

@lru_cache(maxsize=1)
def load_config() -> dict:
    import yaml
    from geo.paths import CONFIG_DIR
    p = CONFIG_DIR / "indicators.yaml"
    try:
        return yaml.safe_load(p.read_text()) or {}
    except (OSError, yaml.YAMLError) as e:
        raise SourceError(p, f"cannot read indicator config: {e}")


def apply_config(data: IndicatorData) -> None:
    """Fill polarity/unit/label/source from config/indicators.yaml (by indicator key or
    exact label); unknown indicators get polarity 'neutral' and say so."""
    cfg = load_config().get("indicators", {}) or {}
    by_label = {str(v.get("label", "")).lower(): v for v in cfg.values()}
    for ind, m in data.meta.items():
        base = ind.split(" | ")[0]
        c = cfg.get(base) or by_label.get(str(m.get("label", "")).lower()) or {}
        m["polarity"] = c.get("polarity", m.get("polarity") or "neutral")
        m["polarity_from"] = "config/indicators.yaml" if c.get("polarity") else "not configured"
        for k in ("unit", "source", "short", "definition", "period_note"):
            if c.get(k) and not m.get(k):
                m[k] = c[k]
        if c.get("label") and base == ind:
            m["label"] = c["label"]
        m.setdefault("unit", "")
        m.setdefault("source", data.source)
        if not m.get("source"):
            m["source"] = data.source
