#!/usr/bin/env bash
# Set up and start tongban with the demo data on SQLite: `bash scripts/start.sh`.
#
# Safe to run again: the install, migrations, static files and demo data are only brought up
# to date. Then serves http://127.0.0.1:8000 (TONGBAN_HOST / TONGBAN_PORT change that) with one
# background worker beside it.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The demo accounts share a published password, so the demo runs in debug mode only.
export TONGBAN_DEBUG="${TONGBAN_DEBUG:-1}"

# Front-end packages from the npm registry (charts) will be installed here with `npm ci`.

tongban migrate --noinput -v0
tongban collectstatic --noinput -v0
tongban load_demo

# One background worker runs queued tasks (notifications) and the periodic deadline sweep; it
# stops with the server.
tongban worker &
worker=$!
trap 'kill "$worker" 2>/dev/null; wait "$worker" 2>/dev/null' EXIT INT TERM
tongban serve
