#!/usr/bin/env bash
# Builds the Quasm guest (QuickJS-ng + shim + prelude) to wasm32-wasi.
# Needs Debian's clang-16, lld-16, wasi-libc and libclang-rt-16-dev-wasm32.
# The output is byte-for-byte reproducible: .ci/run rebuilds it and compares
# it with the committed quasm-guest.wasm.
#
# usage: runtime/guest/build.sh [OUT]   (default: runtime/guest/quasm-guest.wasm)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$(realpath -m "${1:-$here/quasm-guest.wasm}")"
cc="${CLANG:-clang-16}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/quickjs"
cp "$here"/quickjs/*.c "$here"/quickjs/*.h "$work/quickjs/"
cp "$here/shim.c" "$here/quickjs_ext.c" "$work/"

# QuickJS-ng compiles its JS stack-overflow check out under __wasi__; deep
# recursion would then exhaust the engine's native stack and trap. Re-enable it.
python3 - "$work/quickjs/quickjs.c" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
old = "#if defined(__wasi__)\n    rt->stack_limit = 0; /* no limit */\n#else"
assert s.count(old) == 1, "stack-limit patch point not found"
open(p, "w").write(s.replace(old, "#if 0\n    rt->stack_limit = 0;\n#else"))
PY

# The prelude goes in as a C byte array.
python3 - "$here/prelude.js" "$work/prelude.c" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
with open(sys.argv[2], "w") as f:
    f.write("#include <stdint.h>\nconst uint32_t quasm_prelude_len = %d;\n" % len(data))
    f.write("const char quasm_prelude[] = {\n")
    for i in range(0, len(data), 20):
        f.write(",".join(str(b) for b in data[i:i + 20]) + ",\n")
    f.write("0};\n")
PY

cflags=(--target=wasm32-wasi -O2 -D_GNU_SOURCE -DNDEBUG
        -fno-ident -ffile-prefix-map="$work"=. -Wno-everything -I"$work")
cd "$work"
for f in quickjs_ext.c quickjs/libregexp.c quickjs/libunicode.c quickjs/dtoa.c shim.c prelude.c; do
  "$cc" "${cflags[@]}" -c "$f" -o "$(basename "${f%.c}").o"
done
"$cc" --target=wasm32-wasi -mexec-model=reactor \
  -Wl,--stack-first -Wl,-z,stack-size=1048576 -Wl,--export=__heap_base -Wl,--export=__data_end \
  -Wl,--import-memory -Wl,--strip-debug \
  -o "$work/guest.wasm" ./*.o
cp "$work/guest.wasm" "$out"
echo "built $out ($(stat -c %s "$out") bytes, sha256 $(sha256sum "$out" | cut -c1-16))"
