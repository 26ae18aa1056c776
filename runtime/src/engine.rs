//! The engine: compiles the guest once (cached on disk), keeps the base
//! snapshot (QuickJS runtime + context + prelude initialised), compiles user
//! code to bytecode, and builds per-version templates.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use wasmer::sys::EngineBuilder;
use wasmer::{ExternType, Module};

use crate::error::{CompileError, RuntimeError};
use crate::guest_abi::{location_in, GuestStatus};
use crate::instance::Instance;
use crate::snapshot::Snapshot;

/// The guest, built by `runtime/guest/build.sh` and committed.
pub const GUEST_WASM: &[u8] = include_bytes!("../guest/quasm-guest.wasm");
/// The wasmer version the compiled-module cache is keyed by.
pub const WASMER_VERSION: &str = "7.4.2";
/// The compiler that turns the guest into machine code: wasmer's LLVM backend
/// when built with the `llvm` feature, Cranelift otherwise. Part of the
/// compiled-module cache key.
pub const fn compiler_name() -> &'static str {
    if cfg!(feature = "llvm") {
        "llvm"
    } else {
        "cranelift"
    }
}

/// A wasmer engine with this build's compiler (see [`compiler_name`]).
fn new_wasmer_engine() -> wasmer::Engine {
    use wasmer::sys::CompilerConfig;
    #[cfg(feature = "llvm")]
    let mut compiler = {
        let mut llvm = wasmer::sys::LLVM::default();
        llvm.opt_level(wasmer::sys::LLVMOptLevel::Aggressive);
        llvm
    };
    #[cfg(not(feature = "llvm"))]
    let mut compiler = wasmer::sys::Cranelift::default();
    // Profiling aid: `perf report` shows the guest's functions (QuickJS,
    // the shim) by name instead of as anonymous JIT addresses.
    if std::env::var_os("QUASM_PERF_MAP").is_some() {
        compiler.enable_perfmap();
    }
    EngineBuilder::new(compiler).engine().into()
}

/// Memory used to compile user code (never runs it).
const COMPILER_MEMORY: u64 = 64 * 1024 * 1024;

/// Hex SHA-256 of the guest.
pub fn guest_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hex(&Sha256::digest(GUEST_WASM)))
}

/// Runs image builds one at a time on a dedicated thread: a burst of new
/// versions queues instead of competing with invocations for every core.
fn build_in_background(job: Box<dyn FnOnce() + Send>) {
    type Job = Box<dyn FnOnce() + Send>;
    static QUEUE: std::sync::OnceLock<std::sync::Mutex<std::sync::mpsc::Sender<Job>>> = std::sync::OnceLock::new();
    let queue = QUEUE.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("quasm-snapshot".into())
            .spawn(move || {
                for job in rx {
                    job();
                }
            })
            .expect("spawning the snapshot builder thread");
        std::sync::Mutex::new(tx)
    });
    let sent = queue.lock().map(|q| q.send(job));
    if let Ok(Err(std::sync::mpsc::SendError(job))) = sent {
        job(); // the builder thread is gone: build here rather than never
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Where the compiled guest is cached; `None` compiles at every start.
    pub cache_dir: Option<PathBuf>,
    /// QuickJS's JS stack limit; deeper recursion is a RangeError.
    pub max_stack_bytes: u32,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self { cache_dir: default_cache_dir(), max_stack_bytes: 256 * 1024 }
    }
}

/// `$QUASM_CACHE_DIR`, else `$XDG_CACHE_HOME/quasm`, else `~/.cache/quasm`.
pub fn default_cache_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("QUASM_CACHE_DIR") {
        return Some(d.into());
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return Some(PathBuf::from(d).join("quasm"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache").join("quasm"))
}

/// What every instance needs: the wasmer engine and the compiled guest.
pub(crate) struct EngineShared {
    pub engine: wasmer::Engine,
    pub module: Module,
    pub min_pages: u32,
}

/// A function version ready to run. Its post-load image is built in the
/// background after [`Engine::prepare`] returned, so the first call of a new
/// version does not wait for it; later sandboxes do (once).
#[derive(Debug)]
pub struct Template {
    image: parking_lot::Mutex<Option<Result<Arc<Snapshot>, String>>>,
    ready: parking_lot::Condvar,
    /// The image flattened into one file while the version is busy (see
    /// [`Snapshot::flatten`] and `pool.rs`), with its share of the pool's
    /// budget of such images.
    flat: parking_lot::Mutex<Option<(Arc<Snapshot>, FlatShare)>>,
    /// Set while a flat image is being built.
    flattening: AtomicBool,
    /// Fresh calls since the pool last looked: how busy the version is.
    pub(crate) recent_calls: AtomicU32,
    pub memory_limit_bytes: u64,
    /// Logs the module's top-level code wrote while loading.
    pub load_logs: Vec<crate::result::LogEntry>,
}

impl Template {
    fn new(memory_limit_bytes: u64, load_logs: Vec<crate::result::LogEntry>) -> Self {
        Self {
            image: Default::default(),
            ready: Default::default(),
            flat: Default::default(),
            flattening: AtomicBool::new(false),
            recent_calls: AtomicU32::new(0),
            memory_limit_bytes,
            load_logs,
        }
    }

    /// The flat image, if the version has one now.
    pub fn flat_image(&self) -> Option<Arc<Snapshot>> {
        self.flat.lock().as_ref().map(|(image, _)| image.clone())
    }

    /// The image new and reset sandboxes should run on: the flat one if
    /// there is one, else the layered one (if built).
    pub fn best_image(&self) -> Option<Arc<Snapshot>> {
        self.flat_image().or_else(|| self.try_snapshot())
    }

    /// Builds the flat image on the snapshot thread, holding `share` of the
    /// budget meanwhile and for as long as the image is kept. Does nothing
    /// if the version has one or is building one.
    pub(crate) fn flatten_in_background(self: &Arc<Self>, share: FlatShare) {
        if self.flat.lock().is_some() || self.flattening.swap(true, Ordering::AcqRel) {
            return;
        }
        let t = self.clone();
        build_in_background(Box::new(move || {
            match t.try_snapshot().and_then(|image| image.flatten()) {
                Some(Ok(flat)) => *t.flat.lock() = Some((Arc::new(flat), share)),
                Some(Err(e)) => tracing::warn!("flattening a version's image failed: {e}"),
                None => {}
            }
            t.flattening.store(false, Ordering::Release);
        }));
    }

    /// Drops the flat image (sandboxes running on it keep it until their
    /// next reset moves them back onto the layered image).
    pub(crate) fn drop_flat(&self) {
        self.flat.lock().take();
    }

    fn fill(&self, image: Result<Snapshot, String>) {
        *self.image.lock() = Some(image.map(Arc::new));
        self.ready.notify_all();
    }

    /// The image, if it is built already.
    pub fn try_snapshot(&self) -> Option<Arc<Snapshot>> {
        self.image.lock().as_ref().and_then(|r| r.as_ref().ok().cloned())
    }

    /// The image, waiting for it to be built.
    pub fn snapshot(&self) -> Result<Arc<Snapshot>, RuntimeError> {
        let mut g = self.image.lock();
        while g.is_none() {
            self.ready.wait(&mut g);
        }
        match g.as_ref().expect("filled") {
            Ok(s) => Ok(s.clone()),
            Err(e) => Err(RuntimeError::Internal(format!("building the version's snapshot failed: {e}"))),
        }
    }
}

/// A place in the budget of flat images (`PoolConfig::max_flat_versions`):
/// taken before one is built, given back when it is dropped.
#[derive(Debug)]
pub(crate) struct FlatShare(Arc<AtomicUsize>);

impl FlatShare {
    /// A share of `budget` (flat images counted now) if fewer than `max`
    /// are taken.
    pub(crate) fn take(budget: &Arc<AtomicUsize>, max: usize) -> Option<Self> {
        budget.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < max).then_some(n + 1)).ok()?;
        Some(Self(budget.clone()))
    }
}

impl Drop for FlatShare {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[derive(Clone)]
pub struct Engine {
    pub(crate) shared: Arc<EngineShared>,
    base: Arc<Snapshot>,
    config: EngineConfig,
    /// Whether the compiled guest came from the disk cache.
    pub module_from_cache: bool,
}

impl Engine {
    pub fn new(config: EngineConfig) -> Result<Self, RuntimeError> {
        let engine = new_wasmer_engine();
        let (module, module_from_cache) = load_or_compile(&engine, config.cache_dir.as_deref())?;
        let min_pages = module
            .imports()
            .find_map(|i| match i.ty() {
                ExternType::Memory(m) => Some(m.minimum.0),
                _ => None,
            })
            .ok_or_else(|| RuntimeError::GuestCompile("guest imports no memory".into()))?;
        let shared = Arc::new(EngineShared { engine, module, min_pages });
        let mut inst = Instance::new(&shared, COMPILER_MEMORY)?;
        match inst.init(config.max_stack_bytes)? {
            GuestStatus::Done(_) => {}
            GuestStatus::Error(e) => {
                return Err(RuntimeError::Internal(format!("guest init failed: {}: {}", e.info.name, e.info.message)))
            }
            GuestStatus::Pending { .. } => return Err(RuntimeError::Internal("guest init pending".into())),
        }
        let base = Arc::new(inst.capture()?);
        Ok(Self { shared, base, config, module_from_cache })
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// A blank sandbox in the base state (prelude loaded, no user code).
    fn base_instance(&self, memory_limit_bytes: u64) -> Result<Instance, RuntimeError> {
        let mut inst = Instance::new(&self.shared, memory_limit_bytes)?;
        inst.map_snapshot(self.base.clone())?;
        Ok(inst)
    }

    /// Compiles an ES module to QuickJS bytecode, or reports its syntax error
    /// with line and column. `file_name` appears in stack traces.
    pub fn compile(&self, source: &str, file_name: &str) -> Result<Vec<u8>, RuntimeError> {
        let mut inst = self.base_instance(COMPILER_MEMORY)?;
        match inst.compile(source, file_name)? {
            GuestStatus::Done(bytecode) => Ok(bytecode),
            GuestStatus::Error(e) => {
                let (line, byte_column) = location_in(&e.info.stack, file_name).unwrap_or((0, 0));
                let column = char_column(source, line, byte_column);
                Err(CompileError { message: format!("{}: {}", e.info.name, e.info.message), line, column }.into())
            }
            GuestStatus::Pending { .. } => Err(RuntimeError::Internal("compile pending".into())),
        }
    }

    /// Loads bytecode into a fresh sandbox and runs the module's top level.
    /// Returns the version's template and that sandbox, ready for a first
    /// call. The template's image (the post-load snapshot) is composed on a
    /// background thread from the base snapshot and the pages loading
    /// changed, which are all this call copies.
    pub fn prepare(&self, bytecode: &[u8], memory_limit_bytes: u64) -> Result<(Arc<Template>, Instance), RuntimeError> {
        let mut inst = self.base_instance(memory_limit_bytes)?;
        match inst.load(bytecode)? {
            GuestStatus::Done(_) => {}
            GuestStatus::Error(e) => {
                return Err(RuntimeError::Load { name: e.info.name, message: e.info.message, stack: e.info.stack })
            }
            GuestStatus::Pending { .. } => return Err(RuntimeError::Internal("load pending".into())),
        }
        let load_logs = std::mem::take(&mut inst.host().load_logs);
        let diff = inst.diff(&self.base)?;
        let template = Arc::new(Template::new(memory_limit_bytes, load_logs));
        let (base, t) = (self.base.clone(), template.clone());
        build_in_background(Box::new(move || t.fill(Snapshot::layer(&base, &diff).map_err(|e| e.to_string()))));
        Ok((template, inst))
    }

    /// A new sandbox of a prepared version (waits for its image if it is
    /// still being built).
    pub fn instantiate(&self, template: &Template) -> Result<Instance, RuntimeError> {
        let snapshot = match template.flat_image() {
            Some(flat) => flat,
            None => template.snapshot()?,
        };
        let mut inst = Instance::new(&self.shared, template.memory_limit_bytes)?;
        inst.map_snapshot(snapshot)?;
        Ok(inst)
    }

    pub fn base_snapshot_bytes(&self) -> usize {
        self.base.len()
    }
}

/// Loads the compiled guest from the cache keyed by guest hash + wasmer
/// version + compiler, or compiles it and writes the cache atomically.
fn load_or_compile(engine: &wasmer::Engine, dir: Option<&Path>) -> Result<(Module, bool), RuntimeError> {
    let path = dir.map(|d| d.join(cache_file_name()));
    if let Some(p) = &path {
        if p.exists() {
            // SAFETY: the artifact was written by this same code for this exact
            // guest, wasmer version and compiler; the cache lives in the operator's own
            // directory. A corrupt file fails to deserialize and is rebuilt.
            match unsafe { Module::deserialize_from_file(engine, p) } {
                Ok(m) => return Ok((m, true)),
                Err(e) => tracing::warn!("ignoring unreadable guest cache {}: {e}", p.display()),
            }
        }
    }
    let module = Module::new(engine, GUEST_WASM).map_err(|e| RuntimeError::GuestCompile(e.to_string()))?;
    if let Some(p) = &path {
        let write = || -> std::io::Result<()> {
            std::fs::create_dir_all(p.parent().expect("cache path has a parent"))?;
            let tmp = p.with_extension(format!("tmp{}", std::process::id()));
            let bytes = module.serialize().map_err(std::io::Error::other)?;
            std::fs::write(&tmp, &bytes)?;
            std::fs::rename(&tmp, p)
        };
        if let Err(e) = write() {
            tracing::warn!("could not write guest cache {}: {e}", p.display());
        }
    }
    Ok((module, false))
}

/// The compiled guest's file name in the cache directory. An artifact from
/// one compiler is never loaded by a build using the other.
fn cache_file_name() -> String {
    format!("guest-{}-wasmer-{WASMER_VERSION}-{}.bin", &guest_hash()[..16], compiler_name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_key_names_the_compiler() {
        let name = cache_file_name();
        assert!(name.ends_with(&format!("-{}.bin", compiler_name())), "{name}");
        assert_eq!(compiler_name(), if cfg!(feature = "llvm") { "llvm" } else { "cranelift" });
    }
}

/// QuickJS reports columns as byte offsets (1-based); editors count UTF-16
/// units, as JS strings do. Converts using the source line.
fn char_column(source: &str, line: u32, byte_column: u32) -> u32 {
    let Some(text) = source.lines().nth((line as usize).saturating_sub(1)) else { return byte_column };
    let mut end = (byte_column as usize).saturating_sub(1).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].encode_utf16().count() as u32 + 1
}

#[cfg(test)]
mod column_tests {
    #[test]
    fn byte_columns_become_utf16_columns() {
        let src = "let a = 1;\nconst s = \"é€\"; )";
        // The ) is byte 20 (1-based) of line 2, after two multi-byte chars.
        assert_eq!(super::char_column(src, 2, 20), 17);
        assert_eq!(super::char_column(src, 1, 5), 5);
        assert_eq!(super::char_column(src, 9, 3), 3, "unknown lines keep the column");
    }
}
