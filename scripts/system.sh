# Sourced by scripts/lib.sh. Debian packages the platform needs beside Python:
#   fonts-noto-cjk + Pango   Chinese fonts embedded in the PDFs WeasyPrint prints
#   chromium                 the real browser the browser tests drive (Playwright, no download)
#   nginx                    the proxy in front of several nodes (tests/deploy, docs/deployment.md)
# Installed only when missing, so a second run costs nothing. Without root (or apt) it says
# what is missing and goes on: PDFs then lack Chinese glyphs and the browser tests are skipped.
TONGBAN_DEB_PACKAGES="fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 chromium nginx"
missing_debs() {
    local pkg
    for pkg in $TONGBAN_DEB_PACKAGES; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || echo "$pkg"
    done
}
if command -v dpkg-query >/dev/null 2>&1; then
    MISSING="$(missing_debs | tr '\n' ' ')"
    if [ -n "${MISSING// /}" ]; then
        if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
            echo "Installing Debian packages: $MISSING"
            apt-get update -qq
            # shellcheck disable=SC2086  # the list is meant to split into words
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $MISSING >/dev/null
        else
            echo "Missing Debian packages (install them as root): $MISSING" >&2
        fi
    fi
fi
