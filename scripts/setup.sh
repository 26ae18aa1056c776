#!/usr/bin/env bash
# Installs whatever this machine is missing to build and test Quasm
# (Debian 12). Idempotent: a ready machine spends well under a second here.
set -euo pipefail

need_apt=()
have() { command -v "$1" >/dev/null 2>&1; }
pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# The guest toolchain (runtime/guest/build.sh) and test tools;
# protobuf-compiler: the Terraform provider's tfplugin6 build (tf-provider);
# chromium: the web console's browser tests (playwright-core drives it).
for p in clang-16 lld-16 wasi-libc libclang-rt-16-dev-wasm32 python3 python3-venv wrk postgresql protobuf-compiler chromium; do
  pkg "$p" || need_apt+=("$p")
done
# Opt-in: wasmer's LLVM backend for `cargo build --features llvm`
# (QUASM_FEATURES=llvm): LLVM 22 from bookworm-security. Build with
# LLVM_SYS_221_PREFIX=/usr/lib/llvm-22.
if [[ "${QUASM_FEATURES:-}" == *llvm* ]]; then
  for p in llvm-22-dev libpolly-22-dev libzstd-dev zlib1g-dev libffi-dev; do
    pkg "$p" || need_apt+=("$p")
  done
fi
if ((${#need_apt[@]})); then
  echo "setup: installing ${need_apt[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! have cargo; then
  echo "setup: Rust is missing; install it with rustup (https://rustup.rs), Rust 1.95 or newer" >&2
  exit 1
fi
if ! cargo nextest --version >/dev/null 2>&1; then
  echo "setup: installing cargo-nextest" >&2
  cargo install --locked cargo-nextest >/dev/null
fi
if ! have node; then
  echo "setup: installing nodejs" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs >/dev/null
fi
