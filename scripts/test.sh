#!/usr/bin/env bash
# Run the whole test suite: `bash scripts/test.sh` (extra arguments go to pytest, e.g. `-x -k demo`).
#
# SQLite by default; set TONGBAN_DATABASE_URL=postgresql://... to run on PostgreSQL. Tests run in
# one process per CPU core (pytest-xdist); TONGBAN_TEST_WORKERS=0 runs them in this process.
#
# Two pytest sessions: first everything but the browser tests, then the browser tests
# (tests/browser, marker `browser`), which drive Chromium against a live server. The browser
# tests need committed data in a server thread; keeping them in their own session keeps their
# database handling (live server, flushes) away from the other tests. Exit status 5 ("no tests
# collected", e.g. `-k` matched only one kind) counts as success for either session.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

run() {
    local status=0
    pytest -n "${TONGBAN_TEST_WORKERS:-auto}" "$@" || status=$?
    if [ "$status" -ne 0 ] && [ "$status" -ne 5 ]; then
        exit "$status"
    fi
}

run -m "not browser" "$@"
run -m browser "$@"
