// QuickJS-ng plus the few internals the shim needs, in one translation unit.
// Including quickjs.c (rather than patching it) keeps the vendored sources
// pristine; build.sh applies the single source patch (stack limit) on a copy.
#include "quickjs/quickjs.c"

// Restored snapshots would otherwise replay the same Math.random sequence.
void qz_reseed_random(JSContext *ctx, uint64_t seed) {
    ctx->random_state = seed ? seed : 1;
}
