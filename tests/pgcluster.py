"""A throwaway PostgreSQL cluster for the user-data store tests.

`cluster()` yields a server URL: LSC_TEST_DATABASE_URL when given, else a new cluster
made with initdb in a temp folder (run as the `postgres` user, or `nobody`, when the
tests run as root: initdb refuses root), listening only on a unix socket in that
folder, fsync off; stopped and deleted at the end. `shared_server()` is one such
cluster per test process; `fresh_database(url)` an empty schema on it for one test.
If PostgreSQL is missing or will not start, the test fails with the reason
(scripts/ensure_postgres.sh installs it; `make test` runs that script).
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

START_SECONDS: list[float] = []          # measured start-up time(s) of the cluster


def _program(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return found[-1] if found else shutil.which(name)


def _as_user() -> tuple[list[str], str | None]:
    if os.geteuid() != 0:
        return [], None
    for user in ("postgres", "nobody"):
        try:
            pwd.getpwnam(user)
            return ["runuser", "-u", user, "--"], user
        except KeyError:
            continue
    pytest.fail("running as root and neither a 'postgres' nor a 'nobody' user exists to run initdb")


def _run(cmd: list[str], cwd: str, what: str) -> None:
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120)
    if p.returncode:
        pytest.fail(f"PostgreSQL test cluster: {what} failed ({p.returncode}): {p.stderr.strip() or p.stdout.strip()}")


@contextmanager
def cluster():
    given = os.environ.get("LSC_TEST_DATABASE_URL")
    if given:
        yield given
        return
    initdb, pg_ctl = _program("initdb"), _program("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.fail("PostgreSQL server programs (initdb, pg_ctl) not found: run scripts/ensure_postgres.sh "
                    "(apt-get install postgresql) or set LSC_TEST_DATABASE_URL")
    prefix, user = _as_user()
    t0 = time.perf_counter()
    # /tmp: short enough for a unix socket path, and the server's user can reach it
    tmp = tempfile.mkdtemp(prefix="lsc-pg-", dir="/tmp" if os.path.isdir("/tmp") else None)
    data = os.path.join(tmp, "data")
    if user:
        pw = pwd.getpwnam(user)
        os.chown(tmp, pw.pw_uid, pw.pw_gid)
    started = False
    try:
        _run(prefix + [initdb, "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync",
                       "--no-instructions"], tmp, "initdb")
        opts = f"-k {tmp} -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c max_connections=120"
        log = os.path.join(tmp, "log")
        try:
            _run(prefix + [pg_ctl, "-D", data, "-o", opts, "-l", log, "-w", "-t", "60", "start"], tmp,
                 "pg_ctl start")
        except pytest.fail.Exception as e:
            tail = Path(log).read_text(errors="replace")[-1500:] if os.path.exists(log) else "(no log)"
            pytest.fail(f"{e}\nserver log:\n{tail}")
        started = True
        START_SECONDS.append(time.perf_counter() - t0)
        print(f"\n[pgcluster] PostgreSQL test cluster up in {START_SECONDS[-1]:.2f} s ({tmp})", file=sys.stderr)
        yield f"postgresql+psycopg://postgres@/postgres?host={tmp}"
    finally:
        if started:
            subprocess.run(prefix + [pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"], cwd=tmp,
                           capture_output=True, timeout=60)
        shutil.rmtree(tmp, ignore_errors=True)


_SHARED: dict = {}


def shared_server() -> str:
    """One cluster for the whole test process (started on first use, stopped at exit), so
    several test modules share it."""
    if "url" not in _SHARED:
        import atexit
        from contextlib import ExitStack
        stack = ExitStack()
        _SHARED["url"] = stack.enter_context(cluster())
        atexit.register(stack.close)
    return _SHARED["url"]


def fresh_database(server_url: str) -> str:
    """An empty namespace on the server for one test: a new schema, made first on the
    connection's search_path through the URL (much quicker than CREATE DATABASE);
    returns its SQLAlchemy URL. The cluster is thrown away at the end."""
    import sqlalchemy as sa
    from geo.userdb import database_url
    server_url = database_url(server_url)
    name = f"lsc_test_{uuid.uuid4().hex[:12]}"
    eng = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with eng.connect() as c:
            c.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    finally:
        eng.dispose()
    url = sa.engine.make_url(server_url)
    return url.update_query_dict({"options": f"-csearch_path={name}"}).render_as_string(hide_password=False)
