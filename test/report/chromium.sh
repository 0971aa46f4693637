#!/usr/bin/env bash
# test/report/chromium.sh - makes sure Debian's Chromium is installed, for the report tests (they render the
# HTML report in a real headless browser). Like test/cluster/up.sh: apt-get as root, only when missing, one
# run at a time. Prints the browser's path.
set -euo pipefail
BIN=/usr/bin/chromium
LOCK=${TMPDIR:-/tmp}/pilot-chromium.lock
if [ -z "${PILOT_CHROMIUM_LOCKED:-}" ]; then
  PILOT_CHROMIUM_LOCKED=1 exec flock -o "$LOCK" bash "$0" "$@"
fi
if ! dpkg-query -W -f='${Status}' chromium 2>/dev/null | grep -q 'install ok installed' || [ ! -x "$BIN" ]; then
  [ "$(id -u)" = 0 ] || { echo "chromium.sh: Chromium is missing and installing it needs root (apt-get install chromium)" >&2; exit 1; }
  command -v apt-get >/dev/null || { echo "chromium.sh: needs a Debian/Ubuntu machine (apt-get)" >&2; exit 1; }
  echo "chromium.sh: apt-get install chromium" >&2
  apt-get -o DPkg::Lock::Timeout=300 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends chromium fonts-dejavu-core >"${TMPDIR:-/tmp}/pilot-chromium-apt.log" 2>&1 \
    || { tail -20 "${TMPDIR:-/tmp}/pilot-chromium-apt.log" >&2; echo "chromium.sh: apt-get install failed" >&2; exit 1; }
fi
echo "$BIN"
