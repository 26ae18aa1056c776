#!/usr/bin/env bash
# Measures the ways a fresh call's reset could find the pages the call wrote
# (see scripts/lib/dirty-tracking-probe.c) on this machine's kernel, and says
# which the kernel offers. Needs gcc.
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(mktemp -d)"; trap 'rm -rf "$out"' EXIT
gcc -O2 -o "$out/probe" scripts/lib/dirty-tracking-probe.c
echo "kernel $(uname -r)"
if [ -r /proc/config.gz ]; then
  zcat /proc/config.gz | grep -E '^(# )?CONFIG_(MEM_SOFT_DIRTY|USERFAULTFD|PTE_MARKER_UFFD_WP)\b' || true
fi
"$out/probe"
