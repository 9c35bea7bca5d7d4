#!/bin/sh
# Install Debian's chromium and chromium-driver when absent, for the browser tests (tests/browser) and CI.
# The tests drive this Chromium through this chromedriver by their paths, so nothing is ever downloaded at
# test time (no driver manager, no browser fetched from the internet). Installing needs root, as CI runs
# `make test`; this script never asks for a password, it says what to run instead.
set -eu

if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null | head -n 1)"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "chromium and chromium-driver are needed by the browser tests; as root run:" >&2
  echo "  apt-get install -y --no-install-recommends chromium chromium-driver" >&2
  exit 1
fi

apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium chromium-driver

/usr/bin/chromium --version 2>/dev/null | head -n 1
/usr/bin/chromedriver --version | head -n 1
