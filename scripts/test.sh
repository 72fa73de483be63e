#!/usr/bin/env bash
# Run the whole test suite: `bash scripts/test.sh` (extra arguments go to pytest, e.g. `-x -k demo`).
#
# SQLite by default; set TONGBAN_DATABASE_URL=postgresql://... to run on PostgreSQL. Tests run in
# one process per CPU core (pytest-xdist); TONGBAN_TEST_WORKERS=0 runs them in this process.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

exec pytest -n "${TONGBAN_TEST_WORKERS:-auto}" "$@"
