#!/usr/bin/env bash
# Installs the CalDAV servers the caldav package tests against, Radicale and
# Xandikos from Debian, when they are missing. .ci/run calls it before the
# tests; with CI=true the CalDAV tests fail rather than skip without them.
set -euo pipefail

missing=()
for prog in radicale xandikos; do
  command -v "$prog" >/dev/null || missing+=("$prog")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null
fi
dpkg-query -W -f '${Package} ${Version}\n' radicale xandikos
