// QuickJS-ng plus the few internals the shim needs, in one translation unit.
// Including quickjs.c (rather than patching it) keeps the vendored sources
// pristine; build.sh applies the single source patch (stack limit) on a copy.
#include "quickjs/quickjs.c"

// Restored snapshots would otherwise replay the same Math.random sequence.
void qz_reseed_random(JSContext *ctx, uint64_t seed) {
    ctx->random_state = seed ? seed : 1;
}

// ---- honest errors -----------------------------------------------------------
// build.sh routes two engine paths here (see its patches): the header V8 puts
// at the top of `err.stack`, and the name of what was called when a call's
// callee is not a function. Scripts print and return both.

// "Name: message" (Error.prototype.toString's rule) then a newline, before the
// frames. Reading name/message may run user getters: the pending exception is
// kept and anything they throw is dropped.
static void qz_stack_header(JSContext *ctx, DynBuf *d, JSValueConst e) {
    if (!JS_IsObject(e)) return;
    JSValue saved = JS_GetException(ctx);
    JSValue n = JS_GetProperty(ctx, e, JS_ATOM_name);
    const char *ns = JS_IsUndefined(n) || JS_IsException(n) ? NULL : JS_ToCString(ctx, n);
    JSValue m = JS_GetProperty(ctx, e, JS_ATOM_message);
    const char *ms = JS_IsUndefined(m) || JS_IsException(m) ? NULL : JS_ToCString(ctx, m);
    JS_FreeValue(ctx, JS_GetException(ctx));
    const char *name = ns ? ns : "Error", *msg = ms ? ms : "";
    if (!*name) dbuf_putstr(d, msg);
    else if (!*msg) dbuf_putstr(d, name);
    else dbuf_printf(d, "%s: %s", name, msg);
    dbuf_putc(d, '\n');
    if (ns) JS_FreeCString(ctx, ns);
    if (ms) JS_FreeCString(ctx, ms);
    JS_FreeValue(ctx, n);
    JS_FreeValue(ctx, m);
    JS_Throw(ctx, saved);
}

// Appends the source-like name of the value the instruction at `pos` pushes
// (a variable, or a chain of static property reads), or fails.
static int qz_push_name(JSContext *ctx, JSFunctionBytecode *b, const uint32_t *ins, int k, DynBuf *d, int depth) {
    if (k < 0 || depth > 8) return -1;
    const uint8_t *p = b->byte_code_buf + ins[k];
    int op = p[0], idx = -1;
    JSAtom a = JS_ATOM_NULL;
    switch (op) {
    case OP_get_loc: case OP_get_loc_check: idx = b->arg_count + get_u16(p + 1); break;
    case OP_get_loc8: idx = b->arg_count + p[1]; break;
    case OP_get_loc0: case OP_get_loc1: case OP_get_loc2: case OP_get_loc3: idx = b->arg_count + op - OP_get_loc0; break;
    case OP_get_arg: idx = get_u16(p + 1); break;
    case OP_get_arg0: case OP_get_arg1: case OP_get_arg2: case OP_get_arg3: idx = op - OP_get_arg0; break;
    case OP_get_var_ref: case OP_get_var_ref_check: case OP_get_var_ref0: case OP_get_var_ref1:
    case OP_get_var_ref2: case OP_get_var_ref3: {
        int i = op == OP_get_var_ref || op == OP_get_var_ref_check ? get_u16(p + 1) : op - OP_get_var_ref0;
        if (i >= b->closure_var_count || !b->closure_var) return -1;
        a = b->closure_var[i].var_name;
        break;
    }
    case OP_get_var: case OP_get_var_undef: a = get_u32(p + 1); break;
    case OP_get_field: case OP_get_field2:
        // V8 says "(intermediate value)" for an object it cannot name.
        if (qz_push_name(ctx, b, ins, k - 1, d, depth + 1) < 0) dbuf_putstr(d, "(intermediate value)");
        dbuf_putc(d, '.');
        a = get_u32(p + 1);
        break;
    default: return -1;
    }
    if (idx >= 0) {
        if (!b->vardefs || idx >= b->arg_count + b->var_count) return -1;
        a = b->vardefs[idx].var_name;
    }
    if (a == JS_ATOM_NULL) return -1;
    const char *s = JS_AtomToCString(ctx, a);
    if (!s) { JS_FreeValue(ctx, JS_GetException(ctx)); return -1; }
    dbuf_putstr(d, s);
    JS_FreeCString(ctx, s);
    return 0;
}

// The callee of the call instruction that ends just before `end`: walks the
// function's instructions, then back from the call to the instruction whose
// value the call invokes (the stack effects in between add up to the
// argument count). Control flow inside the arguments defeats this; the caller
// then falls back to the engine's plain message.
static int qz_callee_name(JSContext *ctx, JSFunctionBytecode *b, const uint8_t *end, DynBuf *d) {
    uint32_t target = (uint32_t)(end - b->byte_code_buf), n = 0, pos = 0;
    uint32_t *ins = js_malloc(ctx, sizeof(uint32_t) * (b->byte_code_len + 1));
    if (!ins) { JS_FreeValue(ctx, JS_GetException(ctx)); return -1; }
    while (pos < target && pos < (uint32_t)b->byte_code_len) {
        ins[n++] = pos;
        int op = b->byte_code_buf[pos];
        if (op == 0 || op >= OP_COUNT) break;
        pos += short_opcode_info(op).size;
    }
    int r = -1;
    if (pos != target || n == 0) goto out;
    int call = n - 1, op = b->byte_code_buf[ins[call]], argc, method = 0;
    switch (op) {
    case OP_call_method: case OP_tail_call_method: method = 1; /* fall through */
    case OP_call: case OP_tail_call: argc = get_u16(b->byte_code_buf + ins[call] + 1); break;
    case OP_call0: case OP_call1: case OP_call2: case OP_call3: argc = op - OP_call0; break;
    default: goto out;
    }
    int sum = 0;
    for (int k = call - 1; k >= 0 && k >= call - 4096; k--) {
        const uint8_t *p = b->byte_code_buf + ins[k];
        int o = p[0];
        if (sum == argc && (method ? o == OP_get_field2 : 1)) {
            r = qz_push_name(ctx, b, ins, k, d, 0);
            break;
        }
        const JSOpCode *oi = &short_opcode_info(o);
        int pop = oi->n_pop;
        if (oi->fmt == OP_FMT_npop || oi->fmt == OP_FMT_npop_u16) pop += get_u16(p + 1);
        else if (oi->fmt == OP_FMT_npopx) pop += o - OP_call0;
        sum += oi->n_push - pop;
        if (sum > argc + 64) break;
    }
out:
    js_free(ctx, ins);
    return r;
}

// "x.y is not a function", as V8 says it, when the caller is a bytecode
// function stopped at a call whose callee we can name.
JSValue qz_throw_not_a_function(JSContext *ctx) {
    JSStackFrame *sf = ctx->rt->current_stack_frame;
    if (sf && sf->cur_pc && JS_VALUE_GET_TAG(sf->cur_func) == JS_TAG_OBJECT) {
        JSObject *p = JS_VALUE_GET_OBJ(sf->cur_func);
        if (js_class_has_bytecode(p->class_id)) {
            DynBuf d;
            js_dbuf_init(ctx, &d);
            int ok = qz_callee_name(ctx, p->u.func.function_bytecode, sf->cur_pc, &d) == 0 && !dbuf_error(&d);
            JSValue v = JS_UNDEFINED;
            if (ok) {
                dbuf_putc(&d, 0);
                v = JS_ThrowTypeError(ctx, "%s is not a function", (const char *)d.buf);
            }
            dbuf_free(&d);
            if (ok) return v;
        }
    }
    return JS_ThrowTypeError(ctx, "not a function");
}
