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

# Source patches, applied to the copy (each must match exactly once):
# - QuickJS-ng compiles its JS stack-overflow check out under __wasi__; deep
#   recursion would then exhaust the engine's native stack and trap. Re-enable it.
# - Honest errors (quickjs_ext.c): `err.stack` starts with "Name: message" as
#   in V8, and calling a non-function names the callee ("x.y is not a function").
python3 - "$work/quickjs/quickjs.c" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
patches = [
    ("#if defined(__wasi__)\n    rt->stack_limit = 0; /* no limit */\n#else",
     "#if 0\n    rt->stack_limit = 0;\n#else"),
    ("static void build_backtrace(JSContext *ctx, JSValueConst error_val,\n                            JSValueConst filter_func, const char *filename,\n                            int line_num, int col_num, int backtrace_flags)\n{",
     "JSValue qz_throw_not_a_function(JSContext *ctx);\n"
     "static void qz_stack_header(JSContext *ctx, DynBuf *d, JSValueConst e);\n"
     "static void build_backtrace(JSContext *ctx, JSValueConst error_val,\n                            JSValueConst filter_func, const char *filename,\n                            int line_num, int col_num, int backtrace_flags)\n{"),
    ("        not_a_function:\n            return JS_ThrowTypeErrorNotAFunction(caller_ctx);",
     "        not_a_function:\n            return qz_throw_not_a_function(caller_ctx);"),
    ("    } else {\n        js_dbuf_init(ctx, &dbuf);\n        if (stack_trace_limit == 0)\n            goto done;",
     "    } else {\n        js_dbuf_init(ctx, &dbuf);\n        qz_stack_header(ctx, &dbuf, error_obj);\n"
     "        if (stack_trace_limit == 0)\n            goto done;"),
]
for old, new in patches:
    assert s.count(old) == 1, "patch point not found: " + old.splitlines()[0]
    s = s.replace(old, new)
open(p, "w").write(s)
PY

# The prelude and its lazily evaluated parts (prelude-NAME.js, sorted by
# name) go in as C byte arrays.
python3 - "$here" "$work/prelude.c" <<'PY'
import glob, os, sys
here = sys.argv[1]
def arr(f, name, data):
    f.write("const char %s[] = {\n" % name)
    for i in range(0, len(data), 20):
        f.write(",".join(str(b) for b in data[i:i + 20]) + ",\n")
    f.write("0};\n")
parts = sorted(glob.glob(os.path.join(here, "prelude-*.js")))
names = [os.path.basename(p)[len("prelude-"):-len(".js")] for p in parts]
with open(sys.argv[2], "w") as f:
    data = open(os.path.join(here, "prelude.js"), "rb").read()
    f.write("#include <stdint.h>\nconst uint32_t quasm_prelude_len = %d;\n" % len(data))
    arr(f, "quasm_prelude", data)
    lens = []
    for i, p in enumerate(parts):
        data = open(p, "rb").read()
        lens.append(len(data))
        arr(f, "lazy_%d" % i, data)
    f.write("const uint32_t quasm_lazy_count = %d;\n" % len(parts))
    f.write("const char *const quasm_lazy_names[] = {%s};\n" % ",".join('"%s"' % n for n in names + ["-"]))
    f.write("const char *const quasm_lazy_srcs[] = {%s};\n" % ",".join(["lazy_%d" % i for i in range(len(parts))] + ["0"]))
    f.write("const uint32_t quasm_lazy_lens[] = {%s};\n" % ",".join(str(n) for n in lens + [0]))
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
