#!/usr/bin/env bash
# Runs scripts/smtp-sink.py (a local SMTP sink writing each message into
# DIR) from the test venv under ~/.cache, installing aiosmtpd there first if
# needed. Installing is idempotent and safe for several test processes at
# once (flock). Usage: smtp-test-sink.sh DIR [PORT] | smtp-test-sink.sh --install
set -euo pipefail
venv="${QUASM_VENV:-$HOME/.cache/quasm-venv}"
here="$(cd "$(dirname "$0")" && pwd)"
ready() { [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import aiosmtpd" 2>/dev/null; }

if ! ready; then
  mkdir -p "$(dirname "$venv")"
  exec 9>"$venv.lock"
  flock 9
  if ! ready; then
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv" >&2
    "$venv/bin/pip" install -q aiosmtpd >&2
  fi
  exec 9>&-
fi
[ "${1:-}" = "--install" ] && exit 0
exec "$venv/bin/python" "$here/smtp-sink.py" "$@"
