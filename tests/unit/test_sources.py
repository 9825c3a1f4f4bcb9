"""Source resolution: files in the source folder, downloads with checksum verification,
and the footprint/place config."""
import hashlib
import http.server
import threading
from functools import partial

import pytest

from geo import sources as S
from geo.errors import SourceError


@pytest.fixture
def http_dir(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield served, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_absent_file_is_downloaded_and_checked(tmp_path, http_dir):
    served, base = http_dir
    body = b"code,value\nE01000001,1\n"
    (served / "f.csv").write_bytes(body)
    src = S.Source("k", "sub/f.csv", hashlib.sha256(body).hexdigest(), "test", url=f"{base}/f.csv")
    p = S.resolve(src, tmp_path / "root")
    assert p.read_bytes() == body


def test_download_with_wrong_checksum_leaves_nothing(tmp_path, http_dir):
    served, base = http_dir
    (served / "f.csv").write_bytes(b"tampered")
    src = S.Source("k", "f.csv", "0" * 64, "test", url=f"{base}/f.csv")
    with pytest.raises(SourceError, match="does not match the sha256"):
        S.resolve(src, tmp_path)
    assert list(tmp_path.iterdir()) == [tmp_path / "served"]  # no partial file in the source folder


def test_unreachable_url_names_file_and_url(tmp_path):
    src = S.Source("k", "f.csv", "0" * 64, "test", url="http://127.0.0.1:9/nothing.csv")
    with pytest.raises(SourceError, match="download from http://127.0.0.1:9/nothing.csv failed"):
        S.resolve(src, tmp_path)


def test_missing_file_without_url_points_at_the_publication(tmp_path):
    src = S.Source("k", "imd/x.csv", None, "test", page="https://www.gov.uk/iod")
    with pytest.raises(SourceError, match="gov.uk/iod") as e:
        S.resolve(src, tmp_path)
    assert "imd/x.csv" in str(e.value)


def test_every_configured_source_exists_with_its_checksum(real_source):
    for key, src in S.load_sources().items():
        p = real_source / src.path
        assert p.exists(), key
        assert S.sha256_file(p) == src.sha256, key


def test_places_config_rejects_a_district_in_two_places(tmp_path):
    import yaml
    cfg = yaml.safe_load((S.CONFIG_DIR / "places.yaml").read_text())
    cfg["groupings"]["place5"]["places"]["Fylde Coast"].append("E07000123")  # Preston is Central Lancashire
    (tmp_path / "places.yaml").write_text(yaml.safe_dump(cfg))
    with pytest.raises(SourceError, match="E07000123 in both"):
        S.load_places(str(tmp_path))


def test_places_cover_all_16_districts_in_both_groupings():
    for g in ("place5", "place4"):
        m = S.district_to_place(g)
        assert len(m) == 16


def test_atomic_path_replaces_only_on_success(tmp_path):
    from geo.atomic import atomic_path, write_atomic
    target = tmp_path / "out.bin"
    write_atomic(target, b"old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("crash mid-write")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]
    with atomic_path(target, create=False) as tmp:
        assert not tmp.exists()
        tmp.write_bytes(b"new")
    assert target.read_bytes() == b"new"
