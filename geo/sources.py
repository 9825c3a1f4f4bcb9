"""Source-file registry: config/sources.yaml + config/places.yaml, path resolution,
checksums and (where a byte-identical official URL is known) download."""
from __future__ import annotations

import hashlib
import urllib.request
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from geo.atomic import atomic_path
from geo.errors import SourceError
from geo.paths import CONFIG_DIR, source_dir


@dataclass(frozen=True)
class Source:
    key: str
    path: str
    sha256: str | None
    vintage: str
    url: str | None = None
    page: str | None = None
    optional: bool = False
    group: str = ""        # "england": an England-wide file (optional; LSC builds without it)


def _load_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise SourceError(path, "config file missing")
    except yaml.YAMLError as e:
        raise SourceError(path, f"not valid YAML ({e})")
    if not isinstance(data, dict):
        raise SourceError(path, "expected a mapping at the top level")
    return data


@lru_cache(maxsize=4)
def load_sources(config_dir: str | None = None) -> dict[str, Source]:
    cfg_path = Path(config_dir or CONFIG_DIR) / "sources.yaml"
    raw = _load_yaml(cfg_path).get("sources") or {}
    out = {}
    for key, spec in raw.items():
        if not isinstance(spec, dict) or "path" not in spec:
            raise SourceError(cfg_path, f"source '{key}' needs a 'path'")
        out[key] = Source(key=key, path=spec["path"], sha256=spec.get("sha256"),
                          vintage=str(spec.get("vintage", "")), url=spec.get("url"),
                          page=spec.get("page"), optional=bool(spec.get("optional", False)),
                          group=str(spec.get("group") or ""))
    return out


def attribution(config_dir: str | None = None) -> str:
    cfg = _load_yaml(Path(config_dir or CONFIG_DIR) / "sources.yaml")
    return " ".join(str(cfg.get("attribution", "")).split())


@lru_cache(maxsize=4)
def load_places(config_dir: str | None = None) -> dict:
    """Footprint districts and place groupings, validated."""
    path = Path(config_dir or CONFIG_DIR) / "places.yaml"
    cfg = _load_yaml(path)
    districts = cfg.get("districts") or {}
    if not districts:
        raise SourceError(path, "no 'districts' listed")
    for gkey, g in (cfg.get("groupings") or {}).items():
        seen = {}
        for place, codes in g["places"].items():
            for c in codes:
                if c not in districts:
                    raise SourceError(path, f"grouping {gkey}, place '{place}': unknown district code {c}")
                if c in seen:
                    raise SourceError(path, f"grouping {gkey}: district {c} in both '{seen[c]}' and '{place}'")
                seen[c] = place
        missing = set(districts) - set(seen)
        if missing:
            raise SourceError(path, f"grouping {gkey}: districts not in any place: {sorted(missing)}")
    return cfg


def district_to_place(grouping: str, config_dir: str | None = None) -> dict[str, str]:
    cfg = load_places(config_dir)
    return {c: place for place, codes in cfg["groupings"][grouping]["places"].items() for c in codes}


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(chunk)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def _download(src: Source, dest: Path) -> None:
    """Fetch src.url to dest atomically, verifying the checksum."""
    with atomic_path(dest) as tmp:
        with urllib.request.urlopen(src.url, timeout=60) as r, open(tmp, "wb") as f:
            while True:
                b = r.read(1 << 20)
                if not b:
                    break
                f.write(b)
        if src.sha256 and sha256_file(tmp) != src.sha256:
            raise SourceError(src.url, "downloaded file does not match the sha256 in config/sources.yaml")


def resolve(src: Source, root: Path | None = None, *, allow_download: bool = True) -> Path | None:
    """Path of a source file in the source folder; download it if absent and a URL is known."""
    root = Path(root) if root else source_dir()
    p = root / src.path
    if p.exists():
        return p
    if src.url and allow_download:
        try:
            _download(src, p)
            return p
        except (OSError, ValueError) as e:  # no network, HTTP error
            raise SourceError(p, f"missing, and download from {src.url} failed ({e})")
    if src.optional:
        return None
    hint = f" (official publication: {src.page})" if src.page else ""
    raise SourceError(p, f"source file missing; set --source DIR or LSC_DATA_DIR to the folder holding it{hint}")
