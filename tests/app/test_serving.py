"""layers.serving: accepted connections on a pre-bound, proto-0 listener (as Streamlit's
Starlette server binds it) get TCP_NODELAY once enable_tcp_nodelay() has run."""
import asyncio
import socket

import pytest

from layers import serving

def _accepted_nodelay() -> tuple[int, int]:
    """(proto, TCP_NODELAY) of a connection accepted on a socket bound like Streamlit's."""
    result = {}

    class Probe(asyncio.Protocol):
        def connection_made(self, transport):
            s = transport.get_extra_info("socket")
            result["v"] = (s.proto, s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    async def main():
        lsock = socket.socket(socket.AF_INET)          # proto 0, like starlette_server._bind_socket
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(8)
        lsock.setblocking(False)
        srv = await asyncio.get_running_loop().create_server(Probe, sock=lsock)
        port = lsock.getsockname()[1]
        r, w = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(200):
            if "v" in result:
                break
            await asyncio.sleep(0.01)
        w.close()
        srv.close()
        await srv.wait_closed()
    asyncio.run(main())
    return result["v"]

def test_streamlit_style_listener_gets_nodelay_after_patch(monkeypatch):
    import asyncio.base_events as be
    monkeypatch.setattr(serving, "_PATCHED", False)
    monkeypatch.setattr(be, "_set_nodelay", be._set_nodelay)   # restored after the test
    proto, before = _accepted_nodelay()
    assert proto == 0
    assert before == 0, "asyncio already sets TCP_NODELAY on proto-0 sockets: the patch may be dropped"
    assert serving.enable_tcp_nodelay() is True
    assert _accepted_nodelay()[1] != 0

def test_patch_is_a_no_op_without_the_asyncio_hook(monkeypatch):
    import asyncio.base_events as be
    monkeypatch.setattr(serving, "_PATCHED", False)
    monkeypatch.delattr(be, "_set_nodelay")
    assert serving.enable_tcp_nodelay() is False

def test_serve_py_is_an_st_app_for_app_py():
    import ast
    from pathlib import Path
    src = (Path(__file__).resolve().parents[2] / "serve.py").read_text()
    tree = ast.parse(src)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "App"]
    assert calls and "app.py" in ast.unparse(calls[0].args[0])
    # the patch runs before streamlit is imported (before the server can accept)
    assert src.index("enable_tcp_nodelay()") < src.index("import streamlit")


# ------------------------------------------------------------------ precompressed static files
def _asgi_get(app, path: str, accept: str | None = "gzip, deflate, br", method: str = "GET"):
    """(status, headers, body) of one request to an ASGI app, without a server."""
    headers = [(b"accept-encoding", accept.encode())] if accept is not None else []
    scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": headers, "root_path": "", "scheme": "http", "http_version": "1.1",
             "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1)}
    out = {"body": b""}
    sent = []

    async def receive():              # the request once, then the client stays (never disconnects)
        if not sent:
            sent.append(1)
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()

    async def send(msg):
        if msg["type"] == "http.response.start":
            out["status"] = msg["status"]
            out["headers"] = {k.decode().lower(): v.decode() for k, v in msg["headers"]}
        elif msg["type"] == "http.response.body":
            out["body"] += msg.get("body", b"")
    asyncio.run(app(scope, receive, send))
    return out["status"], out["headers"], out["body"]


async def _fallback(scope, receive, send):          # stands in for Streamlit: says it was asked
    await send({"type": "http.response.start", "status": 299, "headers": []})
    await send({"type": "http.response.body", "body": b"streamlit"})


def test_generated_file_gets_a_gzip_twin_that_decompresses_to_the_same_bytes(tmp_path):
    import gzip
    from render import static_files as S
    data = ('{"arcs":[' + ",".join(f"[{i},{-i}]" for i in range(20000)) + "]}").encode()
    path = S.write_hashed("geo", data, tmp_path)
    gz = path.with_name(path.name + ".gz")
    assert gz.is_file() and gz.stat().st_size < len(data) / 2
    assert gzip.decompress(gz.read_bytes()) == data
    small = S.write_hashed("tiny", b'{"a":1}', tmp_path)
    assert not small.with_name(small.name + ".gz").exists()     # small files: Streamlit's own gzip


def test_precompressed_static_serves_the_gz_with_content_encoding(tmp_path):
    import gzip
    from render import static_files as S
    gen = tmp_path / "gen"
    gen.mkdir()
    data = ('{"v":[' + ",".join(str(i % 97) for i in range(50000)) + "]}").encode()
    f = S.write_hashed("geo", data, gen)
    app = serving.PrecompressedStatic(_fallback, static_dir=tmp_path, base_url="")
    status, headers, body = _asgi_get(app, f"/app/static/gen/{f.name}")
    assert status == 200 and headers["content-encoding"] == "gzip"
    assert headers["content-type"].startswith("application/json")
    assert "accept-encoding" in headers["vary"].lower()
    assert gzip.decompress(body) == data
    assert int(headers["content-length"]) == len(body)


@pytest.mark.parametrize("path, accept", [
    ("/app/static/gen/{name}", None),                  # client does not accept gzip
    ("/app/static/gen/{name}", "gzip;q=0, identity"),
    ("/app/static/gen/tiny.json", "gzip"),             # no .gz beside it
    ("/app/static/../secret.json", "gzip"),            # outside the static folder
    ("/other/gen/{name}", "gzip"),
])
def test_precompressed_static_leaves_everything_else_to_streamlit(tmp_path, path, accept):
    from render import static_files as S
    (tmp_path / "gen").mkdir()
    f = S.write_hashed("geo", b"[" + b"1," * 40000 + b"1]", tmp_path / "gen")
    (tmp_path / "gen" / "tiny.json").write_bytes(b"{}")
    (tmp_path.parent / "secret.json").write_bytes(b"x")
    (tmp_path.parent / "secret.json.gz").write_bytes(b"x")
    app = serving.PrecompressedStatic(_fallback, static_dir=tmp_path, base_url="")
    status, headers, body = _asgi_get(app, path.format(name=f.name), accept=accept)
    assert (status, body) == (299, b"streamlit")


def test_pruned_file_takes_its_gz_with_it(tmp_path):
    import os
    from render import static_files as S
    old = S.write_hashed("svc", b"[" + b"2," * 40000 + b"2]", tmp_path)
    os.utime(old, (1, 1))
    S.write_hashed("svc", b"[" + b"3," * 40000 + b"3]", tmp_path)
    assert not old.exists() and not old.with_name(old.name + ".gz").exists()


def test_precompressed_static_default_folder_is_the_apps_static_dir():
    """Without static_dir (as serve.py installs it) the middleware serves the app's own
    static folder; a broken look-up falls through to Streamlit, never a 500 (the map's
    runtime file went 500 when the folder's module moved)."""
    from render.static_files import STATIC_DIR
    import os
    app = serving.PrecompressedStatic(_fallback, base_url="")
    assert app._root() == os.path.realpath(STATIC_DIR)
    broken = serving.PrecompressedStatic(_fallback, base_url="")
    broken._gz_for = lambda path: (_ for _ in ()).throw(ImportError("moved"))
    status, _, body = _asgi_get(broken, "/app/static/gen/x.json")
    assert status == 299 and body == b"streamlit"
