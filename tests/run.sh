#!/usr/bin/env bash
# The one test command: lint, types, layer contracts, the release workflow's
# security audit (zizmor), then the test suite.
#
#   bash tests/run.sh [pytest args...]
#
# Python: $PYTHON if set, else the active virtualenv, else .venv next to the
# repository, else python3 on PATH. It must have the '[test]' extras installed
# (pip install -e '.[test]').
#
# On Linux without a session bus, the script re-runs itself under
# dbus-run-session (a bus that starts nothing on demand: tests/session-bus.conf)
# and starts a throwaway, unlocked GNOME keyring (its files in
# a temporary folder), so the real-keyring tests run without touching yours.
# With a session bus already present (a desktop), your own keyring is used;
# the tests only ever write entries under unique test service names.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SELF="$ROOT/tests/$(basename "${BASH_SOURCE[0]}")"
cd "$ROOT"

# ---------------------------------------------------------------- session bus
if [[ "$(uname -s)" == Linux && -z "${DBUS_SESSION_BUS_ADDRESS:-}" \
      && -z "${KLING_TEST_PRIVATE_BUS:-}" ]]; then
    if command -v dbus-run-session >/dev/null 2>&1; then
        echo "==> no session bus: re-running under dbus-run-session"
        export KLING_TEST_PRIVATE_BUS=1
        # tests/session-bus.conf: a bus that starts nothing on demand (see there).
        exec dbus-run-session --config-file="$ROOT/tests/session-bus.conf" -- bash "$SELF" "$@"
    fi
    echo "warning: no D-Bus session bus and no dbus-run-session (apt install dbus);" \
         "keyring tests will not find a Secret Service" >&2
fi

CLEANUP=()
cleanup() {
    local d
    for d in "${CLEANUP[@]+"${CLEANUP[@]}"}"; do rm -rf -- "$d"; done
}
trap cleanup EXIT

# Qt warns (and Qt warnings fail tests) when XDG_RUNTIME_DIR is missing.
if [[ "$(uname -s)" == Linux && -z "${XDG_RUNTIME_DIR:-}" ]]; then
    XDG_RUNTIME_DIR="$(mktemp -d "${TMPDIR:-/tmp}/kling-runtime.XXXXXX")"
    chmod 700 "$XDG_RUNTIME_DIR"
    export XDG_RUNTIME_DIR
    CLEANUP+=("$XDG_RUNTIME_DIR")
fi

# ------------------------------------------------------------- secret service
if [[ -n "${KLING_TEST_PRIVATE_BUS:-}" && -n "${DBUS_SESSION_BUS_ADDRESS:-}" ]]; then
    if command -v gnome-keyring-daemon >/dev/null 2>&1; then
        keyring_home="$(mktemp -d "${TMPDIR:-/tmp}/kling-keyring.XXXXXX")"
        CLEANUP+=("$keyring_home")
        # An empty line (not empty input) makes --unlock create an unlocked
        # "login" keyring with an empty password; no prompt is ever shown.
        keyring_env="$(printf '\n' | XDG_DATA_HOME="$keyring_home" \
            gnome-keyring-daemon --unlock --components=secrets)"
        while IFS= read -r line; do
            if [[ "$line" =~ ^[A-Z_][A-Z0-9_]*= ]]; then export "${line?}"; fi
        done <<<"$keyring_env"
        # The daemon returns before it owns its name; the bus starts nothing on
        # demand, so wait (at most 10 s) until the Secret Service is there.
        for _ in $(seq 100); do
            if dbus-send --session --print-reply --dest=org.freedesktop.DBus / \
                   org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets \
                   2>/dev/null | grep -q "boolean true"; then
                break
            fi
            sleep 0.1
        done
        echo "==> started a throwaway GNOME keyring (Secret Service) on the private bus"
    else
        echo "warning: gnome-keyring-daemon not found (apt install gnome-keyring);" \
             "keyring tests will not find a Secret Service" >&2
    fi
fi

export QT_QPA_PLATFORM=offscreen

# --------------------------------------------------------------------- python
if [[ -n "${PYTHON:-}" ]]; then
    PY="$PYTHON"
elif [[ -n "${VIRTUAL_ENV:-}" && -x "$VIRTUAL_ENV/bin/python" ]]; then
    PY="$VIRTUAL_ENV/bin/python"
elif [[ -x "$ROOT/.venv/bin/python" ]]; then
    PY="$ROOT/.venv/bin/python"
elif [[ -x "$ROOT/.venv/Scripts/python.exe" ]]; then
    PY="$ROOT/.venv/Scripts/python.exe"
else
    PY="$(command -v python3 || command -v python || true)"
fi
if [[ -z "$PY" ]] || ! "$PY" -c 'import ruff, mypy, importlinter, pytest, pytestqt, babel' 2>/dev/null
then
    echo "FAILED: setup: '${PY:-python3}' lacks the test tools;" \
         "run: python3 -m venv .venv && .venv/bin/pip install -e '.[test]'" >&2
    exit 1
fi
echo "==> python: $PY ($("$PY" -c 'import sys; print(sys.version.split()[0])'))"

# zizmor (GitHub Actions audit) is a program, not a module: the one next to this Python.
ZIZMOR="$("$PY" -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/zizmor"
if [[ ! -x "$ZIZMOR" ]]; then
    if [[ -x "$ZIZMOR.exe" ]]; then ZIZMOR="$ZIZMOR.exe"; else ZIZMOR="$(command -v zizmor || true)"; fi
fi
if [[ -z "$ZIZMOR" ]]; then
    echo "FAILED: setup: zizmor is missing next to '$PY';" \
         "run: .venv/bin/pip install -e '.[test]'" >&2
    exit 1
fi

# PySide6 6.12.0 under Python < 3.12 loses a reference to None on every call of
# a method returning nothing; a long Qt run then aborts with "Fatal Python
# error: none_dealloc". Say so up front instead of leaving a mystery crash.
"$PY" - <<'EOF' || true
import sys

if sys.version_info < (3, 12):
    import PySide6
    from PySide6.QtCore import QPointF

    probe = QPointF()
    before = sys.getrefcount(None)
    for _ in range(200):
        probe.setX(1.0)
    if sys.getrefcount(None) < before - 100:
        print(f"WARNING: PySide6 {PySide6.__version__} on Python {sys.version.split()[0]} loses"
              " a reference to None on every call; Qt tests may abort with 'deallocating None'."
              " Use PySide6 < 6.12 (or Python >= 3.12).", file=sys.stderr)
EOF

# ---------------------------------------------------------------------- steps
step() {
    local name="$1" started rc=0
    shift
    echo
    echo "==> $name"
    started=$SECONDS
    "$@" || rc=$?
    if [[ "$name" == pytest && $rc -eq 5 ]]; then
        echo "FAILED: pytest collected no tests (exit 5)" >&2
        exit 5
    fi
    if [[ $rc -ne 0 ]]; then
        echo "FAILED: $name (exit $rc, $((SECONDS - started)) s)" >&2
        exit "$rc"
    fi
    echo "--- $name: ok ($((SECONDS - started)) s)"
}

# Every workflow, offline (no GitHub API calls): any finding above "informational"
# fails (zizmor exits 0 only when nothing at or above --min-severity is left).
audit_workflows() {
    "$ZIZMOR" --offline --no-progress --quiet --min-severity low .github/workflows
}

lint_imports() {
    "$PY" -c 'import sys; from importlinter.cli import lint_imports_command
sys.exit(lint_imports_command())'
}

step "ruff check" "$PY" -m ruff check .
step "mypy" "$PY" -m mypy
step "lint-imports" lint_imports
step "zizmor (GitHub Actions)" audit_workflows
step "translation catalogs" "$PY" packaging/translations.py check
step pytest "$PY" -m pytest "$@"
echo
echo "==> all checks passed"
