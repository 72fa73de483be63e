# Sourced by scripts/start.sh, scripts/test.sh, scripts/i18n.sh and .ci/run.
#
# Makes sure the Debian packages of scripts/system.sh are there (fonts, Pango, Chromium).
# Makes sure ./.venv exists (Python 3.11) with the project installed as `pip install -e .[dev]`
# pinned by requirements/constraints.txt. The install is skipped when pyproject.toml and the
# constraints are unchanged since the last one (a stamp file holds their hash), so running a
# script twice costs nothing the second time.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
cd "$ROOT"
source "$ROOT/scripts/system.sh"

find_python() {
    local candidate
    for candidate in "${TONGBAN_PYTHON:-}" python3.11 python3 python; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    echo "tongban needs Python 3.11 (python3.11 or python3); set TONGBAN_PYTHON to its path." >&2
    return 1
}

if [ ! -x "$VENV/bin/python" ]; then
    PYTHON="$(find_python)"
    echo "Creating $VENV with $("$PYTHON" --version)"
    "$PYTHON" -m venv "$VENV"
fi

STAMP="$VENV/.tongban-install"
WANT="$( (cat pyproject.toml requirements/constraints.txt; "$VENV/bin/python" --version) | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$WANT" ]; then
    echo "Installing tongban and its dependencies into $VENV ..."
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        -c requirements/constraints.txt -e ".[dev]"
    echo "$WANT" > "$STAMP"
fi

export PATH="$VENV/bin:$PATH"

# Front-end files (ECharts and Alpine.js for the pages; axe-core, read by the accessibility tests
# from node_modules) come from the npm
# registry, pinned by package-lock.json, and are copied into the static files: nothing is loaded
# from a CDN at run time and no third-party code is committed. Skipped when the lock is unchanged.
VENDOR="$ROOT/src/tongban/static/vendor"
NPM_STAMP="$ROOT/node_modules/.tongban-install"
NPM_WANT="$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$NPM_STAMP" 2>/dev/null || true)" != "$NPM_WANT" ] || [ ! -f "$VENDOR/echarts.min.js" ]; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "tongban needs npm (Node.js) to install its front-end files." >&2
        exit 1
    fi
    echo "Installing front-end files from the npm registry (npm ci) ..."
    npm ci --no-audit --no-fund --loglevel=error
    mkdir -p "$VENDOR"
    cp node_modules/echarts/dist/echarts.min.js node_modules/alpinejs/dist/cdn.min.js "$VENDOR/"
    mv "$VENDOR/cdn.min.js" "$VENDOR/alpine.min.js"
    echo "$NPM_WANT" > "$NPM_STAMP"
fi
