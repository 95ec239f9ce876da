#!/usr/bin/env bash
# Set up everything the project and its tests need, from nothing; safe to run again.
#  - .venv with the project and its test tools (pip)
#  - Debian's chromium (+ a CJK font) for the console's browser tests and the sign-off
#    PDFs, poppler-utils' pdftotext to read those PDFs back, and redis-server for the
#    Redis store's tests (apt, only when missing; the tests start their own redis-server)
set -euo pipefail
cd "$(dirname "$0")"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install --quiet --upgrade pip
.venv/bin/pip install --quiet -e '.[test]'
if [ ! -x /usr/bin/chromium ] || ! command -v pdftotext >/dev/null \
    || ! command -v redis-server >/dev/null; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    echo "setup: installing chromium, fonts-wqy-microhei, poppler-utils, redis-server" \
        "with apt-get" >&2
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        chromium fonts-wqy-microhei poppler-utils redis-server
fi
echo "setup: done (.venv ready)" >&2
