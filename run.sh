#!/usr/bin/env bash
# Quick start. Each command sets up .venv (Python 3.10 + this project) on first use, and only
# reinstalls when pyproject.toml changes.
#   ./run.sh demo [spikedeploy demo options]   train, export, emulate and deploy on digits
#   ./run.sh test [pytest options]             the test suite (what CI runs)
set -euo pipefail
cd "$(dirname "$0")"

is_py310() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; }

find_python() {
    for candidate in python3.10 python3 python; do
        if command -v "$candidate" >/dev/null && is_py310 "$candidate"; then
            echo "$candidate"; return
        fi
    done
    echo "error: Python 3.10 is needed (lava-nc 0.10 and lava-dl 0.6 do not run on 3.11+);" \
         "install it, e.g. 'pyenv install 3.10'" >&2
    exit 1
}

setup() {
    local stamp=.venv/.installed
    if [ -x .venv/bin/python ] && ! is_py310 .venv/bin/python; then
        echo "recreating .venv: it is not Python 3.10" >&2
        rm -rf .venv
    fi
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        [ -x .venv/bin/python ] || "$(find_python)" -m venv .venv
        echo "installing spikedeploy and its pinned dependencies into .venv (first run: a few" \
             "minutes, torch is large)" >&2
        .venv/bin/python -m pip install --quiet --upgrade pip
        .venv/bin/python -m pip install --quiet -e '.[dev]'
        touch "$stamp"
    fi
}

case "${1:-}" in
    demo) shift; setup; exec .venv/bin/spikedeploy demo "$@" ;;
    test) shift; setup; exec .venv/bin/python -m pytest "$@" ;;
    *) echo "usage: ./run.sh demo [options] | ./run.sh test [pytest options]" >&2; exit 2 ;;
esac
