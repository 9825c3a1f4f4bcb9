#!/usr/bin/env bash
# Make sure PostgreSQL's server programs (initdb, pg_ctl) are present: the user-data
# store tests start a throwaway cluster of their own (tests/pgcluster.py). Idempotent.
# Nothing to do when LSC_TEST_DATABASE_URL names a server to use instead.
set -euo pipefail
have() { command -v initdb >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; }
if [ -n "${LSC_TEST_DATABASE_URL:-}" ] || have; then exit 0; fi
echo "Installing Debian's postgresql (needed by the user-data store tests)..." >&2
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
# The tests make their own cluster: do not create (and start) Debian's default one.
$SUDO mkdir -p /etc/postgresql-common/createcluster.d
echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.d/lsc-no-main-cluster.conf >/dev/null
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null 2>&1 || true
$SUDO apt-get install -y -qq postgresql >/dev/null
have || { echo "postgresql could not be installed: apt-get install postgresql" >&2; exit 1; }
