#!/usr/bin/env bash
# Set up everything the project and its tests need, from nothing; safe to run again.
#  - .venv with the project and its test tools (pip)
#  - Debian's chromium (+ a CJK font) for the console's browser tests and the sign-off
#    PDFs, poppler-utils' pdftotext to read those PDFs back, and redis-server for the
#    Redis store's tests (apt, only when missing; the tests start their own redis-server)
#  - the toolchains of the sample clients in examples/ (apt, only when missing)
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
# The sample clients' toolchains (examples/, tests/test_examples.py), from Debian
# packages, only those missing: JDK + Gson, PHP with curl, Go + x/text (GBK), Mono's C#
# compiler with HttpClient, JavaScriptSerializer and the GBK codepage. Node.js is used
# as found (20 or later; Debian's nodejs otherwise). SKIP_EXAMPLE_TOOLCHAINS=1 skips
# them (their tests then skip, naming what is missing).
if [ -z "${SKIP_EXAMPLE_TOOLCHAINS:-}" ]; then
    wanted=()
    { command -v javac >/dev/null && command -v java >/dev/null; } \
        || wanted+=(default-jdk-headless)
    [ -f /usr/share/java/gson.jar ] || wanted+=(libgoogle-gson-java)
    { command -v php >/dev/null && php -m 2>/dev/null | grep -qx curl; } \
        || wanted+=(php-cli php-curl)
    command -v go >/dev/null || wanted+=(golang-go)
    [ -d /usr/share/gocode/src/golang.org/x/text ] || wanted+=(golang-golang-x-text-dev)
    command -v node >/dev/null || wanted+=(nodejs)
    { command -v mcs >/dev/null && [ -f /usr/lib/mono/4.5/I18N.CJK.dll ] \
        && [ -f /usr/lib/mono/4.5/System.Net.Http.dll ] \
        && [ -f /usr/lib/mono/4.5/System.Web.Extensions.dll ]; } \
        || wanted+=(mono-mcs libmono-system-net-http4.0-cil
                    libmono-system-web-extensions4.0-cil libmono-i18n-cjk4.0-cil)
    if [ ${#wanted[@]} -gt 0 ]; then
        sudo=""
        if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
        echo "setup: installing the examples' toolchains: ${wanted[*]}" >&2
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
            --no-install-recommends "${wanted[@]}"
    fi
fi
echo "setup: done (.venv ready)" >&2
