#!/usr/bin/env bash
# The browser the dashboard's tests drive: Debian's Chromium package, at /usr/bin/chromium.
# Installed from apt (as root, or through sudo) and never by a test tool's own download,
# so every machine runs the same distribution-maintained build. Does nothing when the
# binary is already there. Of its recommended packages only a font is of use headless
# (without one, screenshots show boxes for text); the others (a notification daemon,
# printing, GPU drivers) are left out.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
as_root() { if [ "$(id -u)" = "0" ]; then "$@"; else sudo "$@"; fi; }
echo "installing Debian's chromium for the dashboard's browser tests" >&2
as_root apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends chromium fonts-liberation >&2
[ -x /usr/bin/chromium ] || { echo "chromium was installed but /usr/bin/chromium is missing" >&2; exit 1; }
