//! Builds native QuickJS-ng from the guest's vendored sources, for the
//! wasm-vs-native comparison in `quasm bench runtime`.

fn main() {
    let q = "runtime/guest/quickjs";
    println!("cargo:rerun-if-changed={q}");
    println!("cargo:rerun-if-changed=src/cli/bench/native.c");
    cc::Build::new()
        .files([
            format!("{q}/quickjs.c"),
            format!("{q}/libregexp.c"),
            format!("{q}/libunicode.c"),
            format!("{q}/dtoa.c"),
            "src/cli/bench/native.c".into(),
        ])
        .include(q)
        .define("_GNU_SOURCE", None)
        .define("NDEBUG", None)
        .opt_level(2)
        .warnings(false)
        .flag_if_supported("-w")
        .compile("quickjs_native");
    println!("cargo:rustc-link-lib=m");
}
