#!/usr/bin/env bash
# The commands of a fresh machine:
#   ./dev.sh run        set everything up, then run the main job: the default lab experiment (losskit lab)
#   ./dev.sh test       set everything up, then run the whole test suite (extra arguments go to pytest)
#   ./dev.sh docs       set everything up, then build the documentation site into docs/_build/html
#   ./dev.sh docs-test  build the site with the temporary loss of its tests and check it (pages, examples, links,
#                       headless Chromium)
set -euo pipefail
cd "$(dirname "$0")"

setup() {
    if [ ! -x .venv/bin/python ]; then
        python3 -m venv .venv
    fi
    local stamp=.venv/.losskit-installed
    local want
    want=$(cat requirements-dev.txt pyproject.toml | sha256sum | cut -d' ' -f1)
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
        .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e . \
            || .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
        echo "$want" > "$stamp"
    fi
}

browser() {
    # The lab's report is checked in a real browser: Debian's chromium.
    if ! command -v chromium >/dev/null 2>&1; then
        local sudo=""
        [ "$(id -u)" = 0 ] || sudo="sudo"
        $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
    fi
}

case "${1:-}" in
    run)
        setup
        shift
        exec .venv/bin/python -m losskit lab "$@"
        ;;
    test)
        setup
        browser
        shift
        exec .venv/bin/python -m pytest -n 2 "$@"
        ;;
    docs)
        setup
        .venv/bin/python -m sphinx -W --keep-going -q -b html docs docs/_build/html
        echo "the site: docs/_build/html/index.html"
        ;;
    docs-test)
        setup
        browser
        shift
        exec .venv/bin/python -m pytest -o addopts="-p no:cacheprovider" --doctest-modules docs/tests docs/_ext "$@"
        ;;
    *)
        echo "usage: ./dev.sh run | test [pytest arguments] | docs | docs-test" >&2
        exit 2
        ;;
esac
