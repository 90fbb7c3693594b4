#!/bin/sh
# Make sure `promtool` is available for the Prometheus alerting-rule tests (deploy/).
#
#   - promtool on PATH (or $PROMTOOL)            -> nothing to do
#   - running as root with apt-get               -> apt-get install -y prometheus (Debian 2.42)
#   - otherwise                                  -> explain how to install it; exit 0 so the
#                                                   rest of the suite still runs (the rule
#                                                   tests then skip with the same message)
# Set NEWSWATCH_SKIP_PROMETHEUS_INSTALL=1 to never install anything.
set -eu

if [ -n "${PROMTOOL:-}" ] && [ -x "$PROMTOOL" ]; then
    exit 0
fi
if command -v promtool >/dev/null 2>&1; then
    exit 0
fi
if [ "${NEWSWATCH_SKIP_PROMETHEUS_INSTALL:-0}" = "1" ]; then
    echo "ensure-prometheus: promtool not found and NEWSWATCH_SKIP_PROMETHEUS_INSTALL=1;" \
         "Prometheus rule tests will be skipped" >&2
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure-prometheus: installing the Debian package 'prometheus' (apt-get)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends prometheus >/dev/null
    echo "ensure-prometheus: installed $(command -v promtool)" >&2
    exit 0
fi
cat >&2 <<'MSG'
ensure-prometheus: promtool is not installed, so the Prometheus alerting-rule tests will be
skipped. Install it as root, e.g.:
    sudo apt-get update && sudo apt-get install -y prometheus
or point PROMTOOL=/path/to/promtool at an existing binary.
MSG
exit 0
