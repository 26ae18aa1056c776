// The Quasm guest: QuickJS-ng plus the thin ABI the host drives.
//
// Everything Web-API-shaped lives in prelude.js; this file only gives that
// prelude a native `__host` object and exports the handful of entry points
// the host calls. Protocol (the host side is runtime/src/instance.rs):
//
//   qz_init(stack)                    runtime + context + prelude    -> status
//   qz_compile(src, name)             source -> bytecode in OUT      -> status
//   qz_load(bytecode)                 evaluate module, keep export   -> status
//   qz_call(kind, input, body, bindings, seed, heap_limit)  a handler -> status
//   qz_resume(id, ok, meta, body)     an async op's completion       -> status
//   qz_tick()                         fire due timers                -> status
//   qz_io()                           address of the I/O block (small inputs,
//                                     OUT pointer/length, heap peak, call start)
//
// status: 0 done (OUT = u32 meta_len | meta json | body bytes for calls),
//         1 pending (OUT = {"timer_ms":N}; host must complete an op or tick),
//         2 error (OUT = error json {name,message,stack,uncatchable?,oom?}).
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>
#include "quickjs/quickjs.h"

#define IMPORT(name) __attribute__((import_module("quasm"), import_name(name)))
#define EXPORT(name) __attribute__((export_name(name)))

// ---- host imports ---------------------------------------------------------
IMPORT("log") void host_log(int32_t level, const char *msg, uint32_t len);
// Synchronous host op. Returns the result length (>= 0), or -(len+1) when the
// op failed and the result is an error message. host_take copies it out.
IMPORT("call") int32_t host_call(const char *op, uint32_t op_len, const char *arg, uint32_t arg_len,
                                 const uint8_t *bytes, uint32_t bytes_len);
// Asynchronous host op: returns an op id (> 0) or -(len+1) on refusal.
IMPORT("start") int32_t host_start(const char *op, uint32_t op_len, const char *arg, uint32_t arg_len,
                                   const uint8_t *bytes, uint32_t bytes_len);
IMPORT("take") void host_take(uint8_t *dst);
// Polled by QuickJS's interrupt handler: non-zero once the deadline passed or
// the invocation was cancelled.
IMPORT("interrupted") int32_t host_interrupted(void);

// Provided by quickjs_ext.c (it includes quickjs.c to reach internals).
void qz_reseed_random(JSContext *ctx, uint64_t seed);

// ---- heap: our own sbrk --------------------------------------------------
// wasi-libc's sbrk derives the break from memory.size. We keep the break in
// linear memory instead, so restoring a memory snapshot also restores the
// break even when memory.grow already made the memory larger: the grown tail
// is reused instead of leaked on every reset.
extern unsigned char __heap_base;
static uintptr_t heap_break;
static uintptr_t heap_peak;

void *sbrk(intptr_t increment) {
    if (heap_break == 0) heap_break = (uintptr_t)&__heap_base;
    uintptr_t old = heap_break;
    if (increment == 0) return (void *)old;
    if (increment < 0) {
        heap_break = old + increment;
        return (void *)old;
    }
    uintptr_t want = old + (uintptr_t)increment;
    if (want < old) { errno = ENOMEM; return (void *)-1; }
    uintptr_t have = __builtin_wasm_memory_size(0) * 65536u;
    if (want > have) {
        uintptr_t pages = (want - have + 65535u) / 65536u;
        if (__builtin_wasm_memory_grow(0, pages) == (size_t)-1) { errno = ENOMEM; return (void *)-1; }
    }
    heap_break = want;
    if (want > heap_peak) heap_peak = want;
    return (void *)old;
}

// ---- the JS heap allocator ------------------------------------------------
// QuickJS's own limit check refuses allocations before its hooks run, so a
// refusal would be invisible here; we account and limit ourselves instead and
// remember that an allocation failed. Under real memory pressure QuickJS may
// not even manage to allocate its "out of memory" message, so this flag is
// how the host reliably tells an out-of-memory from any other error.
#include <malloc.h>
static size_t js_used, js_limit;
static int js_oom;

static int js_refuse(size_t now, size_t extra) {
    if (js_limit && now + extra > js_limit) { js_oom = 1; return 1; }
    return 0;
}
static void *m_malloc(void *o, size_t n) {
    (void)o;
    if (js_refuse(js_used, n)) return NULL;
    void *p = malloc(n);
    if (!p) { js_oom = 1; return NULL; }
    js_used += malloc_usable_size(p);
    return p;
}
static void *m_calloc(void *o, size_t c, size_t n) {
    (void)o;
    if (n && c > SIZE_MAX / n) { js_oom = 1; return NULL; }
    if (js_refuse(js_used, c * n)) return NULL;
    void *p = calloc(c, n);
    if (!p) { js_oom = 1; return NULL; }
    js_used += malloc_usable_size(p);
    return p;
}
static void m_free(void *o, void *p) {
    (void)o;
    if (!p) return;
    js_used -= malloc_usable_size(p);
    free(p);
}
static void *m_realloc(void *o, void *p, size_t n) {
    (void)o;
    size_t old = p ? malloc_usable_size(p) : 0;
    if (n > old && js_refuse(js_used - old, n)) return NULL;
    void *q = realloc(p, n);
    if (!q && n) { js_oom = 1; return NULL; }
    js_used = js_used - old + (q ? malloc_usable_size(q) : 0);
    return q;
}
static size_t m_usable(const void *p) { return malloc_usable_size((void *)p); }
static const JSMallocFunctions malloc_funcs = { m_calloc, m_malloc, m_free, m_realloc, m_usable };

// ---- output buffer --------------------------------------------------------
static uint8_t *out_buf;
static uint32_t out_len;

// A fixed block the host reads and writes directly, so a call needs a single
// guest entry: small inputs go in `in`, results are found through out_ptr /
// out_len, and heap_peak needs no call. The layout is mirrored in
// runtime/src/guest_abi.rs (IoBlock).
#define QZ_IN_CAP 16384
static struct {
    uint32_t out_ptr, out_len, heap_peak, in_cap;
    // Written by the host before a call: the invocation's start on the
    // monotonic clock the guest reads, and on the wall clock (both ms).
    double call_start_ms, call_origin_ms;
    uint8_t in[QZ_IN_CAP];
} qz_io = { 0, 0, 0, QZ_IN_CAP, 0, 0, {0} };
EXPORT("qz_io") void *qz_io_addr(void) { return &qz_io; }


EXPORT("qz_alloc") void *qz_alloc(uint32_t n) { return malloc(n ? n : 1); }
EXPORT("qz_free") void qz_free(void *p) { free(p); }

static void out_set(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, int framed) {
    free(out_buf);
    size_t hdr = framed ? 4 : 0;
    out_len = (uint32_t)(hdr + alen + blen);
    out_buf = malloc(out_len ? out_len : 1);
    if (!out_buf) { out_len = 0; qz_io.out_ptr = 0; qz_io.out_len = 0; return; }
    if (framed) {
        uint32_t l = (uint32_t)alen;
        memcpy(out_buf, &l, 4);
    }
    if (alen) memcpy(out_buf + hdr, a, alen);
    if (blen) memcpy(out_buf + hdr + alen, b, blen);
    // Every entry point's OUT is found by the host through the I/O block.
    qz_io.out_ptr = (uint32_t)(uintptr_t)out_buf;
    qz_io.out_len = out_len;
}

static void out_str(const char *s) { out_set((const uint8_t *)s, strlen(s), NULL, 0, 0); }

static int32_t publish(int32_t status) {
    qz_io.heap_peak = (uint32_t)heap_peak;
    return status;
}

// ---- runtime state ----------------------------------------------------------
static JSRuntime *rt;
static JSContext *ctx;
static JSValue quasm_obj;   // globalThis.__quasm, the prelude's entry points
static JSValue invoke_fn;   // __quasm.invoke, cached: looked up on every call
static JSValue finish_fn;   // __quasm.finish: [metaJson, body] of a handler's value
static JSValue response_fn; // __quasm.response: a fetch handler's Response in parts
static JSValue ctx_proto;   // ExecutionContext.prototype for native-built ctx
static JSValue handler;     // the user module's default export
static JSValue top_promise; // the running invocation
static int32_t call_kind;

enum { ST_DONE = 0, ST_PENDING = 1, ST_ERROR = 2 };

static int interrupt_handler(JSRuntime *r, void *opaque) {
    (void)r; (void)opaque;
    return host_interrupted();
}

// Serialises the pending exception as the error JSON in OUT.
static int32_t fail_with_exception(void) {
    JSValue exc = JS_GetException(ctx);
    JSValue fn = JS_GetPropertyStr(ctx, quasm_obj, "errorInfo");
    JSValue uncatchable = JS_NewBool(ctx, JS_IsUncatchableError(exc));
    JSValue args[2] = { exc, uncatchable };
    JSValue info = JS_Call(ctx, fn, quasm_obj, 2, args);
    JS_FreeValue(ctx, fn);
    JS_FreeValue(ctx, exc);
    size_t len;
    const char *s = JS_IsException(info) ? NULL : JS_ToCStringLen(ctx, &len, info);
    if (s && js_oom && len > 1 && s[len - 1] == '}') {
        static const char flag[] = ",\"oom\":true}";
        out_set((const uint8_t *)s, len - 1, (const uint8_t *)flag, sizeof flag - 1, 0);
        JS_FreeCString(ctx, s);
    } else if (s) {
        out_set((const uint8_t *)s, len, NULL, 0, 0);
        JS_FreeCString(ctx, s);
    } else {
        // errorInfo itself failed (e.g. out of memory): fall back to a fixed shape.
        JSValue e2 = JS_GetException(ctx);
        JS_FreeValue(ctx, e2);
        out_str("{\"name\":\"InternalError\",\"message\":\"out of memory\",\"stack\":\"\",\"oom\":true}");
    }
    JS_FreeValue(ctx, info);
    return ST_ERROR;
}

static void run_jobs(void) {
    JSContext *c;
    for (;;) {
        int r = JS_ExecutePendingJob(rt, &c);
        if (r == 0) break;
        if (r < 0) {
            // A job that threw (e.g. a queueMicrotask callback): report it and
            // keep draining, or the handler's own promise jobs would never run.
            JSValue e = JS_GetException(c);
            if (JS_IsUncatchableError(e)) { JS_Throw(c, e); break; } // interrupted: stop now
            JSValue fn = JS_GetPropertyStr(ctx, quasm_obj, "uncaught");
            JSValue v = JS_Call(ctx, fn, quasm_obj, 1, (JSValueConst *)&e);
            JS_FreeValue(ctx, fn);
            if (JS_IsException(v)) JS_FreeValue(ctx, JS_GetException(ctx));
            JS_FreeValue(ctx, v);
            JS_FreeValue(c, e);
        }
    }
}

// ---- a fetch handler's Response, serialised natively ------------------------
// The meta JSON {"status","statusText","headers":[[name, value]...]} is built
// here rather than by JSON.stringify in the guest, which costs more than the
// rest of a trivial handler.
typedef struct { char *p; size_t len, cap; int oom; } sbuf;

#define SB_LIT(b, lit) sb_put((b), (lit), sizeof(lit) - 1)

static void sb_put(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n) cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) { b->oom = 1; return; }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

// Appends `s` as a JSON string literal (the input is UTF-8).
static void sb_json_str(sbuf *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    SB_LIT(b, "\"");
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        sb_put(b, s + run, i - run);
        run = i + 1;
        char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
        if (c == '"' || c == '\\') { esc[1] = (char)c; sb_put(b, esc, 2); }
        else sb_put(b, esc, 6);
    }
    sb_put(b, s + run, n - run);
    SB_LIT(b, "\"");
}

static int sb_json_value(sbuf *b, JSValueConst v) {
    size_t n;
    const char *s = JS_ToCStringLen(ctx, &n, v);
    if (!s) return -1;
    sb_json_str(b, s, n);
    JS_FreeCString(ctx, s);
    return 0;
}

// [[name, value], ...] (the guest's Headers list) as JSON.
static int sb_header_list(sbuf *b, JSValueConst list) {
    int64_t n = 0;
    if (JS_GetLength(ctx, list, &n) < 0) return -1;
    SB_LIT(b, "[");
    for (int64_t i = 0; i < n; i++) {
        JSValue pair = JS_GetPropertyInt64(ctx, list, i);
        JSValue k = JS_GetPropertyUint32(ctx, pair, 0), v = JS_GetPropertyUint32(ctx, pair, 1);
        if (i) SB_LIT(b, ",");
        SB_LIT(b, "[");
        int bad = sb_json_value(b, k);
        SB_LIT(b, ",");
        bad = bad || sb_json_value(b, v);
        SB_LIT(b, "]");
        JS_FreeValue(ctx, k); JS_FreeValue(ctx, v); JS_FreeValue(ctx, pair);
        if (bad) return -1;
    }
    SB_LIT(b, "]");
    return 0;
}

static int32_t finish_response(JSValue result) {
    JSValue parts = JS_Call(ctx, response_fn, quasm_obj, 1, (JSValueConst *)&result);
    JS_FreeValue(ctx, result);
    if (JS_IsException(parts)) return fail_with_exception();
    JSValue status = JS_GetPropertyUint32(ctx, parts, 0);
    JSValue text = JS_GetPropertyUint32(ctx, parts, 1);
    JSValue headers = JS_GetPropertyUint32(ctx, parts, 2);
    JSValue body = JS_GetPropertyUint32(ctx, parts, 3);
    sbuf m = {0};
    int32_t st = 0;
    JS_ToInt32(ctx, &st, status);
    char num[48];
    int n = snprintf(num, sizeof num, "{\"status\":%d,\"statusText\":", st);
    sb_put(&m, num, (size_t)n);
    int bad = sb_json_value(&m, text);
    SB_LIT(&m, ",\"headers\":");
    if (!bad && JS_IsString(headers)) {
        size_t tl;
        const char *t = JS_ToCStringLen(ctx, &tl, headers);
        if (!t) bad = 1;
        else if (tl == 0) SB_LIT(&m, "[]");
        else {
            SB_LIT(&m, "[[\"content-type\",");
            sb_json_str(&m, t, tl);
            SB_LIT(&m, "]]");
        }
        if (t) JS_FreeCString(ctx, t);
    } else if (!bad) {
        bad = sb_header_list(&m, headers) < 0;
    }
    SB_LIT(&m, "}");
    size_t blen = 0;
    uint8_t *b = JS_IsNull(body) ? NULL : JS_GetUint8Array(ctx, &blen, body);
    if (!bad && !JS_IsNull(body) && !b) bad = 1;
    if (m.oom && !bad) { JS_ThrowOutOfMemory(ctx); bad = 1; }
    if (!bad) out_set((const uint8_t *)m.p, m.len, b, b ? blen : 0, 1);
    free(m.p);
    JS_FreeValue(ctx, status); JS_FreeValue(ctx, text); JS_FreeValue(ctx, headers);
    JS_FreeValue(ctx, body); JS_FreeValue(ctx, parts);
    return bad ? fail_with_exception() : ST_DONE;
}

// Inspects top_promise after the job queue drained.
static int32_t settle(void) {
    run_jobs();
    JSPromiseStateEnum st = JS_PromiseState(ctx, top_promise);
    if (st == JS_PROMISE_PENDING) {
        JSValue fn = JS_GetPropertyStr(ctx, quasm_obj, "nextTimer");
        JSValue t = JS_Call(ctx, fn, quasm_obj, 0, NULL);
        JS_FreeValue(ctx, fn);
        double ms = -1;
        if (!JS_IsException(t)) JS_ToFloat64(ctx, &ms, t);
        JS_FreeValue(ctx, t);
        char tmp[64];
        int n = snprintf(tmp, sizeof tmp, "{\"timer_ms\":%.0f}", ms);
        out_set((const uint8_t *)tmp, (size_t)n, NULL, 0, 0);
        return ST_PENDING;
    }
    JSValue result;
    if (st == JS_PROMISE_NOT_A_PROMISE) {
        // dispatch() returned a synchronous handler's value directly.
        result = top_promise;
        st = JS_PROMISE_FULFILLED;
    } else {
        result = JS_PromiseResult(ctx, top_promise);
        JS_FreeValue(ctx, top_promise);
    }
    top_promise = JS_UNDEFINED;
    if (st == JS_PROMISE_REJECTED) {
        JS_Throw(ctx, result);
        return fail_with_exception();
    }
    if (call_kind == 1) return finish_response(result);
    // finish() turns the handler's value into [metaJson, bodyBytes|null].
    JSValue args[2] = { JS_NewInt32(ctx, call_kind), result };
    JSValue pair = JS_Call(ctx, finish_fn, quasm_obj, 2, args);
    JS_FreeValue(ctx, result);
    if (JS_IsException(pair)) return fail_with_exception();
    JSValue meta = JS_GetPropertyUint32(ctx, pair, 0);
    JSValue body = JS_GetPropertyUint32(ctx, pair, 1);
    size_t mlen = 0, blen = 0;
    const char *m = JS_ToCStringLen(ctx, &mlen, meta);
    uint8_t *b = JS_IsNull(body) ? NULL : JS_GetUint8Array(ctx, &blen, body);
    if (!m) {
        JS_FreeValue(ctx, meta); JS_FreeValue(ctx, body); JS_FreeValue(ctx, pair);
        return fail_with_exception();
    }
    out_set((const uint8_t *)m, mlen, b, b ? blen : 0, 1);
    JS_FreeCString(ctx, m);
    JS_FreeValue(ctx, meta);
    JS_FreeValue(ctx, body);
    JS_FreeValue(ctx, pair);
    return ST_DONE;
}

// ---- the native __host object -------------------------------------------
static uint8_t *bytes_of(JSValueConst v, size_t *len) {
    *len = 0;
    if (JS_IsUndefined(v) || JS_IsNull(v)) return NULL;
    uint8_t *p = JS_GetUint8Array(ctx, len, v);
    if (p) return p;
    JS_FreeValue(ctx, JS_GetException(ctx));
    p = JS_GetArrayBuffer(ctx, len, v);
    if (p) return p;
    JS_FreeValue(ctx, JS_GetException(ctx));
    *len = 0;
    return NULL;
}

static JSValue h_log(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
    int32_t level = 0;
    JS_ToInt32(c, &level, argv[0]);
    size_t len;
    const char *s = JS_ToCStringLen(c, &len, argv[1]);
    if (!s) return JS_EXCEPTION;
    host_log(level, s, (uint32_t)len);
    JS_FreeCString(c, s);
    return JS_UNDEFINED;
}

// __host.call(op, argString, bytes?) -> Uint8Array; throws Error(message).
// __host.start(op, argString, bytes?) -> op id; throws Error(message).
static JSValue h_dispatch(JSContext *c, int argc, JSValueConst *argv, int async) {
    size_t oplen, arglen, blen;
    const char *op = JS_ToCStringLen(c, &oplen, argv[0]);
    if (!op) return JS_EXCEPTION;
    const char *arg = JS_ToCStringLen(c, &arglen, argc > 1 ? argv[1] : JS_UNDEFINED);
    if (!arg) { JS_FreeCString(c, op); return JS_EXCEPTION; }
    uint8_t *b = bytes_of(argc > 2 ? argv[2] : JS_UNDEFINED, &blen);
    int32_t r = async ? host_start(op, oplen, arg, arglen, b, blen)
                      : host_call(op, oplen, arg, arglen, b, blen);
    JS_FreeCString(c, op);
    JS_FreeCString(c, arg);
    if (async && r > 0) return JS_NewInt32(c, r);
    int32_t n = r >= 0 ? r : -(r + 1);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) return JS_ThrowOutOfMemory(c);
    host_take(buf);
    JSValue v;
    if (r >= 0) {
        v = JS_NewUint8ArrayCopy(c, buf, n);
    } else {
        JSValue msg = JS_NewStringLen(c, (const char *)buf, n);
        v = JS_ThrowTypeError(c, "%s", "host");
        JS_FreeValue(c, v);
        JSValue err = JS_GetException(c);
        JS_SetPropertyStr(c, err, "message", msg);
        free(buf);
        return JS_Throw(c, err);
    }
    free(buf);
    return v;
}

static JSValue h_call(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
    return h_dispatch(c, argc, argv, 0);
}
static JSValue h_start(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
    return h_dispatch(c, argc, argv, 1);
}

// UTF-8 codecs in C: interpreted JS loops would dominate body handling.
static JSValue h_utf8_encode(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
    size_t len;
    const char *s = JS_ToCStringLen(c, &len, argv[0]);
    if (!s) return JS_EXCEPTION;
    JSValue v = JS_NewUint8ArrayCopy(c, (const uint8_t *)s, len);
    JS_FreeCString(c, s);
    return v;
}

// The WHATWG Encoding Standard's UTF-8 decoder: each maximal invalid
// subpart becomes one U+FFFD. With dst == NULL it only counts errors.
static size_t utf8_decode(const uint8_t *p, size_t n, uint8_t *dst, size_t *errors) {
    size_t o = 0, err = 0;
    uint32_t cp = 0, need = 0, seen = 0, lo = 0x80, hi = 0xbf;
#define EMIT_FFFD() do { err++; if (dst) { dst[o++] = 0xef; dst[o++] = 0xbf; dst[o++] = 0xbd; } } while (0)
    for (size_t i = 0; i < n; i++) {
        uint8_t b = p[i];
        if (need == 0) {
            if (b < 0x80) { if (dst) dst[o++] = b; }
            else if (b >= 0xc2 && b <= 0xdf) { need = 1; cp = b & 0x1f; }
            else if (b >= 0xe0 && b <= 0xef) { if (b == 0xe0) lo = 0xa0; if (b == 0xed) hi = 0x9f; need = 2; cp = b & 0x0f; }
            else if (b >= 0xf0 && b <= 0xf4) { if (b == 0xf0) lo = 0x90; if (b == 0xf4) hi = 0x8f; need = 3; cp = b & 0x07; }
            else EMIT_FFFD();
            continue;
        }
        if (b < lo || b > hi) {
            cp = need = seen = 0; lo = 0x80; hi = 0xbf;
            EMIT_FFFD();
            i--; // the byte starts over
            continue;
        }
        lo = 0x80; hi = 0xbf;
        cp = (cp << 6) | (b & 0x3f);
        if (++seen != need) continue;
        if (dst) {
            if (cp < 0x800) { dst[o++] = 0xc0 | (cp >> 6); dst[o++] = 0x80 | (cp & 0x3f); }
            else if (cp < 0x10000) { dst[o++] = 0xe0 | (cp >> 12); dst[o++] = 0x80 | ((cp >> 6) & 0x3f); dst[o++] = 0x80 | (cp & 0x3f); }
            else { dst[o++] = 0xf0 | (cp >> 18); dst[o++] = 0x80 | ((cp >> 12) & 0x3f); dst[o++] = 0x80 | ((cp >> 6) & 0x3f); dst[o++] = 0x80 | (cp & 0x3f); }
        }
        cp = need = seen = 0;
    }
    if (need) EMIT_FFFD();
#undef EMIT_FFFD
    *errors = err;
    return o;
}

// __host.utf8Decode(bytes, fatal) -> string. Invalid sequences become U+FFFD
// unless fatal, which throws a TypeError like TextDecoder does.
static JSValue h_utf8_decode(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
    size_t len, errors;
    uint8_t *p = bytes_of(argv[0], &len);
    if (!p) return JS_NewStringLen(c, "", 0);
    int fatal = argc > 1 && JS_ToBool(c, argv[1]);
    utf8_decode(p, len, NULL, &errors);
    if (errors == 0) return JS_NewStringLen(c, (const char *)p, len);
    if (fatal) return JS_ThrowTypeError(c, "The encoded data was not valid for encoding utf-8");
    uint8_t *dst = malloc(len * 3 + 1); // each byte yields at most 3 output bytes
    if (!dst) return JS_ThrowOutOfMemory(c);
    size_t o = utf8_decode(p, len, dst, &errors);
    JSValue v = JS_NewStringLen(c, (const char *)dst, o);
    free(dst);
    return v;
}

// __host.random(typedArray): fills it from the host's CSPRNG (WASI random_get).
static JSValue h_random(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
    size_t off, len, bpe;
    JSValue ab = JS_GetTypedArrayBuffer(c, argv[0], &off, &len, &bpe);
    if (JS_IsException(ab)) return ab;
    size_t sz;
    uint8_t *p = JS_GetArrayBuffer(c, &sz, ab);
    JS_FreeValue(c, ab);
    if (!p) return JS_EXCEPTION;
    for (size_t i = 0; i < len; i += 256) {
        size_t n = len - i < 256 ? len - i : 256;
        if (getentropy(p + off + i, n) != 0) return JS_ThrowInternalError(c, "random source failed");
    }
    return JS_DupValue(c, argv[0]);
}

static JSValue h_monotonic(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return JS_NewFloat64(c, (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6);
}

// performance.now()/timeOrigin read these lazily: no clock read per call.
static JSValue h_call_start(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
    return JS_NewFloat64(c, qz_io.call_start_ms);
}
static JSValue h_call_origin(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
    return JS_NewFloat64(c, qz_io.call_origin_ms);
}

// ---- lazily evaluated prelude parts -------------------------------------
// build.sh embeds runtime/guest/prelude-NAME.js files next to the prelude;
// __host.lazy(name) evaluates one (its value is a function of the prelude's
// internals). Named quasm:prelude/NAME so stacks can drop their frames.
extern const uint32_t quasm_lazy_count;
extern const char *const quasm_lazy_names[];
extern const char *const quasm_lazy_srcs[];
extern const uint32_t quasm_lazy_lens[];

static JSValue h_lazy(JSContext *c, JSValueConst this, int argc, JSValueConst *argv) {
    const char *name = JS_ToCString(c, argv[0]);
    if (!name) return JS_EXCEPTION;
    for (uint32_t i = 0; i < quasm_lazy_count; i++) {
        if (strcmp(quasm_lazy_names[i], name) != 0) continue;
        char file[64];
        snprintf(file, sizeof file, "quasm:prelude/%s", name);
        JS_FreeCString(c, name);
        return JS_Eval(c, quasm_lazy_srcs[i], quasm_lazy_lens[i], file, JS_EVAL_TYPE_GLOBAL);
    }
    JSValue e = JS_ThrowInternalError(c, "no prelude part named %s", name);
    JS_FreeCString(c, name);
    return e;
}

// ---- built-in modules -----------------------------------------------------
// `import ... from "node:buffer"` (or any other specifier): the prelude's
// nodeModule(name) gives the exports object or throws an error naming the
// module; each own key becomes an export of a synthetic module.
static int module_init(JSContext *c, JSModuleDef *m) {
    JSValue exports = JS_GetModulePrivateValue(c, m);
    JSPropertyEnum *props;
    uint32_t n;
    if (JS_GetOwnPropertyNames(c, &props, &n, exports, JS_GPN_STRING_MASK | JS_GPN_ENUM_ONLY) < 0) {
        JS_FreeValue(c, exports);
        return -1;
    }
    int r = 0;
    for (uint32_t i = 0; i < n && r == 0; i++) {
        const char *k = JS_AtomToCString(c, props[i].atom);
        if (!k) { r = -1; break; }
        r = JS_SetModuleExport(c, m, k, JS_GetProperty(c, exports, props[i].atom));
        JS_FreeCString(c, k);
    }
    JS_FreePropertyEnum(c, props, n);
    JS_FreeValue(c, exports);
    return r;
}

static JSModuleDef *module_loader(JSContext *c, const char *name, void *opaque) {
    (void)opaque;
    JSValue fn = JS_GetPropertyStr(c, quasm_obj, "nodeModule");
    JSValue arg = JS_NewString(c, name);
    JSValue exports = JS_Call(c, fn, quasm_obj, 1, (JSValueConst *)&arg);
    JS_FreeValue(c, fn);
    JS_FreeValue(c, arg);
    if (JS_IsException(exports)) return NULL;
    JSModuleDef *m = JS_NewCModule(c, name, module_init);
    JSPropertyEnum *props;
    uint32_t n;
    if (!m || JS_GetOwnPropertyNames(c, &props, &n, exports, JS_GPN_STRING_MASK | JS_GPN_ENUM_ONLY) < 0) {
        JS_FreeValue(c, exports);
        return NULL;
    }
    for (uint32_t i = 0; i < n; i++) {
        const char *k = JS_AtomToCString(c, props[i].atom);
        if (k) { JS_AddModuleExport(c, m, k); JS_FreeCString(c, k); }
    }
    JS_FreePropertyEnum(c, props, n);
    JS_SetModulePrivateValue(c, m, exports);
    return m;
}

static const JSCFunctionListEntry host_funcs[] = {
    JS_CFUNC_DEF("lazy", 1, h_lazy),
    JS_CFUNC_DEF("callStart", 0, h_call_start),
    JS_CFUNC_DEF("callOrigin", 0, h_call_origin),
    JS_CFUNC_DEF("log", 2, h_log),
    JS_CFUNC_DEF("call", 3, h_call),
    JS_CFUNC_DEF("start", 3, h_start),
    JS_CFUNC_DEF("utf8Encode", 1, h_utf8_encode),
    JS_CFUNC_DEF("utf8Decode", 2, h_utf8_decode),
    JS_CFUNC_DEF("random", 1, h_random),
    JS_CFUNC_DEF("monotonic", 0, h_monotonic),
};

// ---- exports ----------------------------------------------------------------
extern const char quasm_prelude[];
extern const uint32_t quasm_prelude_len;

EXPORT("qz_init") int32_t qz_init(uint32_t max_stack) {
    rt = JS_NewRuntime2(&malloc_funcs, NULL);
    if (!rt) { out_str("{\"name\":\"InternalError\",\"message\":\"runtime\"}"); return ST_ERROR; }
    JS_SetMaxStackSize(rt, max_stack);
    JS_SetInterruptHandler(rt, interrupt_handler, NULL);
    JS_SetModuleLoaderFunc(rt, NULL, module_loader, NULL);
    ctx = JS_NewContext(rt);
    if (!ctx) { out_str("{\"name\":\"InternalError\",\"message\":\"context\"}"); return ST_ERROR; }
    handler = JS_UNDEFINED;
    top_promise = JS_UNDEFINED;
    JSValue global = JS_GetGlobalObject(ctx);
    JSValue host = JS_NewObject(ctx);
    JS_SetPropertyFunctionList(ctx, host, host_funcs, sizeof host_funcs / sizeof host_funcs[0]);
    JS_SetPropertyStr(ctx, global, "__host", host);
    JSValue r = JS_Eval(ctx, quasm_prelude, quasm_prelude_len, "quasm:prelude", JS_EVAL_TYPE_GLOBAL);
    if (JS_IsException(r)) {
        JSValue e = JS_GetException(ctx);
        const char *s = JS_ToCString(ctx, e);
        JSValue st = JS_GetPropertyStr(ctx, e, "stack");
        const char *s2 = JS_ToCString(ctx, st);
        char msg[2048];
        snprintf(msg, sizeof msg, "{\"name\":\"PreludeError\",\"message\":\"%s %s\"}", s ? s : "?", s2 ? s2 : "");
        out_str(msg);
        return ST_ERROR;
    }
    JS_FreeValue(ctx, r);
    quasm_obj = JS_GetPropertyStr(ctx, global, "__quasm");
    // The shim keeps the object; user code must not reach the entry points.
    JSAtom name = JS_NewAtom(ctx, "__quasm");
    JS_DeleteProperty(ctx, global, name, 0);
    JS_FreeAtom(ctx, name);
    JS_FreeValue(ctx, global);
    if (!JS_IsObject(quasm_obj)) { out_str("{\"name\":\"PreludeError\",\"message\":\"no __quasm\"}"); return ST_ERROR; }
    invoke_fn = JS_GetPropertyStr(ctx, quasm_obj, "invoke");
    finish_fn = JS_GetPropertyStr(ctx, quasm_obj, "finish");
    response_fn = JS_GetPropertyStr(ctx, quasm_obj, "response");
    ctx_proto = JS_GetPropertyStr(ctx, quasm_obj, "ctxProto");
    return ST_DONE;
}

static char *dup_z(const char *p, uint32_t len) {
    char *s = malloc(len + 1);
    if (!s) return NULL;
    memcpy(s, p, len);
    s[len] = 0;
    return s;
}

// Compiles an ES module to bytecode (OUT) or reports the syntax error (OUT).
EXPORT("qz_compile") int32_t qz_compile(const char *src, uint32_t len, const char *name, uint32_t name_len) {
    char *fname = dup_z(name, name_len);
    char *code = dup_z(src, len); // JS_Eval needs a NUL-terminated buffer
    if (!fname || !code) { free(fname); free(code); out_str("{\"name\":\"InternalError\",\"message\":\"out of memory\"}"); return ST_ERROR; }
    JSValue fn = JS_Eval(ctx, code, len, fname, JS_EVAL_TYPE_MODULE | JS_EVAL_FLAG_COMPILE_ONLY);
    free(fname);
    free(code);
    if (JS_IsException(fn)) return fail_with_exception();
    size_t blen;
    uint8_t *bc = JS_WriteObject(ctx, &blen, fn, JS_WRITE_OBJ_BYTECODE);
    JS_FreeValue(ctx, fn);
    if (!bc) return fail_with_exception();
    out_set(bc, blen, NULL, 0, 0);
    js_free(ctx, bc);
    return ST_DONE;
}

// Evaluates a compiled module and keeps its default export as the handler.
EXPORT("qz_load") int32_t qz_load(const uint8_t *bc, uint32_t len) {
    JSValue obj = JS_ReadObject(ctx, bc, len, JS_READ_OBJ_BYTECODE);
    if (JS_IsException(obj)) return fail_with_exception();
    if (JS_ResolveModule(ctx, obj) < 0) { JS_FreeValue(ctx, obj); return fail_with_exception(); }
    JSModuleDef *m = JS_VALUE_GET_PTR(obj);
    JSValue ev = JS_EvalFunction(ctx, obj); // consumes obj; returns a promise for modules
    if (JS_IsException(ev)) return fail_with_exception();
    run_jobs();
    if (JS_PromiseState(ctx, ev) == JS_PROMISE_REJECTED) {
        JSValue e = JS_PromiseResult(ctx, ev);
        JS_FreeValue(ctx, ev);
        JS_Throw(ctx, e);
        return fail_with_exception();
    }
    JS_FreeValue(ctx, ev);
    JSValue ns = JS_GetModuleNamespace(ctx, m);
    if (JS_IsException(ns)) return fail_with_exception();
    JSValue fn = JS_GetPropertyStr(ctx, quasm_obj, "bind");
    JSValue h = JS_Call(ctx, fn, quasm_obj, 1, (JSValueConst *)&ns);
    JS_FreeValue(ctx, fn);
    JS_FreeValue(ctx, ns);
    if (JS_IsException(h)) return fail_with_exception();
    JS_FreeValue(ctx, handler);
    handler = h;
    // No JS_RunGC here: a full collection marks every object, so it would
    // write to (and copy on write) every page of the base snapshot, several
    // times the cost of the load itself; the garbage it would free is small.
    out_str("{}");
    return ST_DONE;
}

// Builds env and ctx from the host's bindings: entries of
//   tag u8 | key_len u32 | key | value_len u32 | value | NUL
// with tag 'E' (env string), 'B' (env service binding: its JSON descriptor,
// which the prelude turns into the binding object), 's' (ctx string), 'n'
// (ctx number) or 'j' (ctx JSON). Native construction avoids a JSON round
// trip on every call.
static int has_services; // set by build_bindings when env got a 'B' entry

static int build_bindings(const uint8_t *p, uint32_t n, JSValue *env, JSValue *cx) {
    has_services = 0;
    *env = JS_NewObject(ctx);
    *cx = JS_NewObjectProto(ctx, ctx_proto);
    uint32_t i = 0;
    while (i < n) {
        if (n - i < 5) goto malformed;
        uint8_t tag = p[i];
        uint32_t kl, vl;
        memcpy(&kl, p + i + 1, 4);
        i += 5;
        if (n - i < kl + 4) goto malformed;
        const char *k = (const char *)p + i;
        i += kl;
        memcpy(&vl, p + i, 4);
        i += 4;
        if (n - i < vl + 1) goto malformed;
        const char *v = (const char *)p + i;
        i += vl + 1; // value, then its NUL
        JSValue val;
        switch (tag) {
        case 'E': case 's': val = JS_NewStringLen(ctx, v, vl); break;
        case 'n': val = JS_NewFloat64(ctx, strtod(v, NULL)); break;
        case 'B': val = JS_ParseJSON(ctx, v, vl, "<binding>"); has_services = 1; break;
        case 'j': // an empty object (e.g. no route params) or null needs no parser
            val = vl == 2 && v[0] == '{' && v[1] == '}' ? JS_NewObject(ctx)
                  : vl == 4 && memcmp(v, "null", 4) == 0 ? JS_NULL : JS_ParseJSON(ctx, v, vl, "<ctx>");
            break;
        default: goto malformed;
        }
        if (JS_IsException(val)) return -1;
        JSAtom a = JS_NewAtomLen(ctx, k, kl);
        int r = JS_SetProperty(ctx, tag == 'E' || tag == 'B' ? *env : *cx, a, val);
        JS_FreeAtom(ctx, a);
        if (r < 0) return -1;
    }
    return 0;
malformed:
    JS_ThrowInternalError(ctx, "malformed bindings from the host");
    return -1;
}

// A fetch request from the host: method_len u32 | method | url_len u32 | url |
// the header pairs as JSON text. Becomes [method, url, headersJson]; the
// prelude parses the headers only if the handler reads them.
static JSValue request_parts(const char *p, uint32_t n) {
    uint32_t ml, ul;
    if (n < 4) goto malformed;
    memcpy(&ml, p, 4);
    if (n - 4 < ml || n - 4 - ml < 4) goto malformed;
    memcpy(&ul, p + 4 + ml, 4);
    if (n - 8 - ml < ul) goto malformed;
    JSValue a = JS_NewArray(ctx);
    uint32_t h = 8 + ml + ul;
    JS_SetPropertyUint32(ctx, a, 0, JS_NewStringLen(ctx, p + 4, ml));
    JS_SetPropertyUint32(ctx, a, 1, JS_NewStringLen(ctx, p + 8 + ml, ul));
    JS_SetPropertyUint32(ctx, a, 2, JS_NewStringLen(ctx, p + h, n - h));
    return a;
malformed:
    return JS_ThrowInternalError(ctx, "malformed request from the host");
}

// Starts a handler. kind: 0 run, 1 fetch, 2 scheduled, 3 event. `input` is
// followed by a NUL (input_len excludes it): for run, scheduled and event the
// input or event as JSON, for fetch the request (see request_parts).
// Calls since this sandbox's image was taken: 0 in every image, so a fresh
// call (reset to the image) knows it starts clean and a warm one does not.
static uint32_t calls_since_image;

EXPORT("qz_call") int32_t qz_call(int32_t kind, const char *input, uint32_t input_len, const uint8_t *body,
                                  uint32_t body_len, const uint8_t *bind, uint32_t bind_len, uint64_t seed,
                                  uint32_t mem_limit) {
    qz_reseed_random(ctx, seed);
    js_limit = mem_limit;
    js_oom = 0;
    heap_peak = heap_break;
    call_kind = kind;
    JSValue args[7];
    args[0] = JS_NewInt32(ctx, kind);
    args[1] = kind == 1 ? request_parts(input, input_len)
              : input_len ? JS_ParseJSON(ctx, input, input_len, "<input>") : JS_NULL;
    args[2] = body ? JS_NewUint8ArrayCopy(ctx, body, body_len) : JS_NULL;
    args[3] = JS_DupValue(ctx, handler);
    args[4] = JS_UNDEFINED;
    args[5] = JS_UNDEFINED;
    int bad = JS_IsException(args[1]) || build_bindings(bind, bind_len, &args[4], &args[5]) < 0;
    args[6] = JS_NewInt32(ctx, (calls_since_image++ ? 1 : 0) | (has_services ? 2 : 0));
    JSValue p = bad ? JS_EXCEPTION : JS_Call(ctx, invoke_fn, quasm_obj, 7, args);
    for (int i = 0; i < 7; i++) JS_FreeValue(ctx, args[i]);
    if (JS_IsException(p)) return publish(fail_with_exception());
    JS_FreeValue(ctx, top_promise);
    top_promise = p;
    return publish(settle());
}

EXPORT("qz_resume") int32_t qz_resume(int32_t id, int32_t ok, const char *meta, uint32_t meta_len,
                                      const uint8_t *body, uint32_t body_len) {
    JSValue args[4];
    args[0] = JS_NewInt32(ctx, id);
    args[1] = JS_NewBool(ctx, ok);
    args[2] = JS_NewStringLen(ctx, meta, meta_len);
    args[3] = body ? JS_NewUint8ArrayCopy(ctx, body, body_len) : JS_NULL;
    JSValue fn = JS_GetPropertyStr(ctx, quasm_obj, "complete");
    JSValue r = JS_Call(ctx, fn, quasm_obj, 4, args);
    JS_FreeValue(ctx, fn);
    for (int i = 0; i < 4; i++) JS_FreeValue(ctx, args[i]);
    if (JS_IsException(r)) return publish(fail_with_exception());
    JS_FreeValue(ctx, r);
    return publish(settle());
}

EXPORT("qz_tick") int32_t qz_tick(void) {
    JSValue fn = JS_GetPropertyStr(ctx, quasm_obj, "tick");
    JSValue r = JS_Call(ctx, fn, quasm_obj, 0, NULL);
    JS_FreeValue(ctx, fn);
    if (JS_IsException(r)) return publish(fail_with_exception());
    JS_FreeValue(ctx, r);
    return publish(settle());
}
