// Native QuickJS-ng (the same vendored sources as the guest) for the
// wasm-vs-native compute comparison of `quasm bench runtime`.
#include <string.h>
#include <time.h>
#include "quickjs.h"

// Evaluates `src` once and returns the elapsed milliseconds, or -1 on error.
double quasm_native_eval_ms(const char *src) {
    JSRuntime *rt = JS_NewRuntime();
    JSContext *ctx = JS_NewContext(rt);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    JSValue v = JS_Eval(ctx, src, strlen(src), "bench.js", JS_EVAL_TYPE_GLOBAL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ms = JS_IsException(v) ? -1.0 : (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
    JS_FreeValue(ctx, v);
    JS_FreeContext(ctx);
    JS_FreeRuntime(rt);
    return ms;
}
