#!/usr/bin/env bash
# Refresh the English catalog from the Chinese source strings, then compile it:
# `bash scripts/i18n.sh`. Needs GNU gettext (xgettext, msgfmt). The compiled .mo is committed
# so that machines without gettext still show English.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
export TONGBAN_DEBUG="${TONGBAN_DEBUG:-1}"

cd "$ROOT/src/tongban"
tongban makemessages -l en --no-obsolete --add-location=file -v0
msgfmt --check-format -o locale/en/LC_MESSAGES/django.mo locale/en/LC_MESSAGES/django.po
echo "Updated src/tongban/locale/en/LC_MESSAGES/django.po and django.mo"
