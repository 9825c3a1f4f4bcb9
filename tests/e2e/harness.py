"""Start `streamlit run serve.py` (or a plain `streamlit run`) on a free port and drive it with Playwright + Debian Chromium.

Shared by the e2e tests and bench/bench_map.py.
"""
from __future__ import annotations

import contextlib
import os
import socket
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("LSC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-default-apps", "--disable-extensions", "--disable-features=Translate,MediaRouter,OptimizationHints",
                 "--metrics-recording-only", "--password-store=basic", "--use-mock-keychain"]
MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'
APP_IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`streamlit run serve.py` serving <script> (as `make run` does) in a subprocess; with
    plain=True, `streamlit run <script>` (Streamlit's default serving). A context manager."""

    def __init__(self, script: str | Path = "app.py", env: dict | None = None, cwd: Path = ROOT,
                 timeout: float = 90, plain: bool = False, cpus: str | None = None):
        self.cwd, self.timeout, self.cpus = cwd, timeout, cpus     # cpus: e.g. "1" (taskset -c)
        self.port = free_port()
        self.env = {**os.environ, "LSC_PROGRESSIVE": "1", **(env or {})}
        if plain:
            self.script = str(script)
        else:
            self.script = "serve.py"
            self.env["LSC_APP_SCRIPT"] = str(script)
        self.url = f"http://localhost:{self.port}"
        self.proc = None
        self.log = None

    def __enter__(self):
        log_dir = ROOT / "artifacts"
        log_dir.mkdir(exist_ok=True)
        self.log_path = log_dir / f"streamlit_{self.port}.log"
        self.log = open(self.log_path, "wb")
        pin = ["taskset", "-c", self.cpus] if self.cpus and shutil.which("taskset") else []
        self.proc = subprocess.Popen(
            pin + [sys.executable, "-m", "streamlit", "run", self.script, "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--server.headless", "true",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
             "--global.developmentMode", "false"],
            cwd=self.cwd, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + self.timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited early; see {self.log_path}:\n"
                                   + self.log_path.read_text(errors="replace")[-3000:])
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        raise TimeoutError(f"streamlit did not become healthy on {self.url}")

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if self.log:
            self.log.close()


def launch_browser(pw):
    return pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def is_local(url: str) -> bool:
    p = urlparse(url)
    if p.scheme in ("data", "blob", "about", "chrome-extension"):
        return True
    return (p.hostname or "") in LOCAL_HOSTS


FIRST_PAINT_MARK = "Loading the controls…"
# Idle = the script is not running, the app's map-first page has been followed by the full
# page (the sidebar no longer says FIRST_PAINT_MARK) and no element is still a skeleton
# (loading its script chunk).
_IDLE_JS = """(mark) => {
  const app = document.querySelector("[data-testid='stApp']");
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  const sb = document.querySelector("[data-testid='stSidebar']");
  if (sb && sb.innerText.indexOf(mark) >= 0) return false;
  return !document.querySelector("[data-testid='stSkeleton']");
}"""


def wait_idle(page, timeout=60_000):
    """Wait until the script has finished (and give the frontend a tick to start a rerun);
    after the app's map-first run, until the full page (controls, tables) has followed."""
    page.wait_for_timeout(150)
    page.wait_for_selector(APP_IDLE, timeout=timeout)
    page.wait_for_function(_IDLE_JS, arg=FIRST_PAINT_MARK, timeout=timeout, polling=50)
    page.wait_for_timeout(50)
    page.wait_for_function(_IDLE_JS, arg=FIRST_PAINT_MARK, timeout=timeout, polling=50)


def map_frame(page, timeout=60_000):
    el = page.wait_for_selector(MAP_IFRAME, timeout=timeout)
    return el.content_frame()


def wait_applied(page, previous: str | None = None, timeout=60_000) -> str:
    """Wait until the map runtime has applied a styling round (other than `previous`)."""
    deadline = time.time() + timeout / 1000
    while True:
        fr = map_frame(page, timeout)
        try:
            v = fr.evaluate("() => document.body.getAttribute('data-lsc-applied')")
            err = fr.evaluate("() => document.body.getAttribute('data-lsc-error')")
        except Exception:
            v, err = None, None
        if err:
            raise AssertionError(f"map runtime error: {err}")
        if v and v != previous:
            return v
        if time.time() > deadline:
            raise TimeoutError(f"map did not repaint (still {v!r})")
        page.wait_for_timeout(25)


def choose(page, label: str, option: str, typed: str | None = None):
    """Pick `option` in the Streamlit selectbox labelled `label` (react-aria combobox)."""
    cb = page.get_by_role("combobox", name=label, exact=True)
    cb.click()
    if typed is not None:
        cb.fill(typed)
    page.get_by_role("option", name=option, exact=True).click()


def pixels_js(pane: str) -> str:
    """JS that samples the canvas in a Leaflet pane: painted pixels and distinct colours."""
    return """() => {
  const c = document.querySelector('.%s canvas');
  if (!c) return null;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let painted = 0; const colours = new Set();
  for (let i = 0; i < d.length; i += 4 * 7) {
    if (d[i + 3] > 0) { painted++; colours.add((d[i] >> 3) + ',' + (d[i+1] >> 3) + ',' + (d[i+2] >> 3)); }
  }
  return {painted, sampled: d.length / (4 * 7), colours: colours.size};
}""" % pane


def open_recorded(browser, url: str, viewport: dict, **context_kwargs):
    """A new context + page on `url`, recording every request and websocket URL it makes
    (for the localhost-only checks). Returns (page, requests)."""
    ctx = browser.new_context(viewport=viewport, **context_kwargs)
    requests: list[str] = []
    ctx.on("request", lambda r: requests.append(r.url))
    page = ctx.new_page()
    page.on("websocket", lambda ws: requests.append(ws.url))
    page.goto(url)
    wait_idle(page)
    return page, requests
