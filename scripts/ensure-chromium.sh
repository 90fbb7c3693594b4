#!/bin/sh
# Make sure headless Chromium is available for the `browser` tests (HTML replay report).
#
#   - /usr/bin/chromium (or $CHROMIUM) present  -> nothing to do
#   - running as root with apt-get               -> apt-get install -y chromium
#   - otherwise                                  -> explain how to install it; exit 0 so the
#                                                   rest of the suite still runs (the browser
#                                                   tests then skip with the same message)
# Set NEWSWATCH_SKIP_CHROMIUM_INSTALL=1 to never install anything.
set -eu

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

if [ -x "$CHROMIUM" ]; then
    exit 0
fi
if command -v chromium >/dev/null 2>&1; then
    exit 0
fi
if [ "${NEWSWATCH_SKIP_CHROMIUM_INSTALL:-0}" = "1" ]; then
    echo "ensure-chromium: chromium not found and NEWSWATCH_SKIP_CHROMIUM_INSTALL=1;" \
         "browser tests will be skipped" >&2
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure-chromium: installing the Debian package 'chromium' (apt-get)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium >/dev/null
    echo "ensure-chromium: installed $(command -v chromium)" >&2
    exit 0
fi
cat >&2 <<'MSG'
ensure-chromium: headless Chromium is not installed, so the `browser` tests (HTML replay
report) will be skipped. Install it as root, e.g.:
    sudo apt-get update && sudo apt-get install -y chromium
or point CHROMIUM=/path/to/chromium at an existing binary.
MSG
exit 0
