//! One sandbox: a wasmer store holding one guest instance, its own linear
//! memory (capped), and the snapshot it resets to.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmer::{FunctionEnv, Memory, MemoryType, Pages, Store, TypedFunction};

use crate::engine::EngineShared;
use crate::error::RuntimeError;
use crate::guest_abi::{GuestStatus, HandlerKind};
use crate::host::{self, HostState};
use crate::snapshot::Snapshot;

const WASM_PAGE: u64 = 65536;

/// kind, input ptr/len, body ptr/len, bindings ptr/len, seed, JS heap limit.
type CallArgs = (i32, u32, u32, u32, u32, u32, u32, u64, u32);

struct Exports {
    alloc: TypedFunction<u32, u32>,
    free: TypedFunction<u32, ()>,
    init: TypedFunction<u32, i32>,
    compile: TypedFunction<(u32, u32, u32, u32), i32>,
    load: TypedFunction<(u32, u32), i32>,
    call: TypedFunction<CallArgs, i32>,
    resume: TypedFunction<(i32, i32, u32, u32, u32, u32), i32>,
    tick: TypedFunction<(), i32>,
}

/// Offsets in the guest's `qz_io` block (see shim.c).
mod io {
    pub const OUT_PTR: u64 = 0;
    pub const OUT_LEN: u64 = 4;
    pub const HEAP_PEAK: u64 = 8;
    pub const IN_CAP: u64 = 12;
    pub const CALL_START_MS: u64 = 16;
    pub const CALL_ORIGIN_MS: u64 = 24;
    pub const IN: u64 = 32;
}

pub struct Instance {
    pub(crate) store: Store,
    pub(crate) env: FunctionEnv<HostState>,
    memory: Memory,
    exports: Exports,
    /// Address of the guest's I/O block and the capacity of its input area.
    io: u64,
    in_cap: usize,
    /// The image this instance was started from and resets to.
    snapshot: Option<Arc<Snapshot>>,
    /// Set after a trap: the guest's state (stack pointer, heap) is unknown.
    pub(crate) poisoned: bool,
    /// Set while parked (see [`Instance::park`]): the snapshot is not mapped.
    pub(crate) parked: bool,
    /// Time spent executing inside the guest since the last reset of the counter.
    pub(crate) guest_time: Duration,
}

// SAFETY: wasmer 7 marks `Store` !Send because its object table holds raw
// pointers and an optional non-Send `on_called` hook (unused here). An
// `Instance` owns its store and every handle into it, so they always move
// together, and only between guest calls: the thread-local state wasmer
// keeps (store context stack, trap handler, interrupt registry entry) is
// installed and removed around each call. It is deliberately not `Sync`.
unsafe impl Send for Instance {}

impl Instance {
    /// Instantiates the guest with a memory capped at `memory_limit_bytes`.
    /// The instance is blank: call [`Instance::init`] or
    /// [`Instance::map_snapshot`] next.
    pub(crate) fn new(shared: &EngineShared, memory_limit_bytes: u64) -> Result<Self, RuntimeError> {
        let mut store = Store::new(shared.engine.clone());
        let min_pages = shared.min_pages;
        let max_pages = (memory_limit_bytes / WASM_PAGE).max(u64::from(min_pages) + 16).min(65536) as u32;
        let memory = Memory::new(&mut store, MemoryType::new(Pages(min_pages), Some(Pages(max_pages)), false))
            .map_err(|e| RuntimeError::Instantiate(e.to_string()))?;
        let env = FunctionEnv::new(&mut store, HostState::default());
        let imports = host::imports(&mut store, &env, &memory);
        let instance = wasmer::Instance::new(&mut store, &shared.module, &imports)
            .map_err(|e| RuntimeError::Instantiate(e.to_string()))?;
        env.as_mut(&mut store).memory = Some(memory.clone());
        let e = &instance.exports;
        let get = |name: &str| RuntimeError::Instantiate(format!("guest export {name} missing"));
        macro_rules! typed {
            ($name:literal) => {
                e.get_typed_function(&store, $name).map_err(|_| get($name))?
            };
        }
        let exports = Exports {
            alloc: typed!("qz_alloc"),
            free: typed!("qz_free"),
            init: typed!("qz_init"),
            compile: typed!("qz_compile"),
            load: typed!("qz_load"),
            call: typed!("qz_call"),
            resume: typed!("qz_resume"),
            tick: typed!("qz_tick"),
        };
        // wasi-libc's reactor constructors (stdio buffers etc.).
        if let Ok(f) = e.get_typed_function::<(), ()>(&store, "_initialize") {
            f.call(&mut store).map_err(|t| RuntimeError::Instantiate(format!("guest _initialize trapped: {t}")))?;
        }
        let io_fn: TypedFunction<(), u32> = typed!("qz_io");
        let io = u64::from(io_fn.call(&mut store).map_err(|t| RuntimeError::Instantiate(t.message()))?);
        let mut cap = [0u8; 4];
        memory.view(&store).read(io + io::IN_CAP, &mut cap).map_err(|e| RuntimeError::Instantiate(e.to_string()))?;
        Ok(Self {
            store,
            env,
            memory,
            exports,
            io,
            in_cap: u32::from_le_bytes(cap) as usize,
            snapshot: None,
            poisoned: false,
            parked: false,
            guest_time: Duration::ZERO,
        })
    }

    fn base(&self) -> *mut u8 {
        self.memory.view(&self.store).data_ptr()
    }

    fn mem_len(&self) -> usize {
        self.memory.view(&self.store).data_size() as usize
    }

    /// Captures the whole linear memory as a snapshot.
    pub(crate) fn capture(&self) -> Result<Snapshot, RuntimeError> {
        // SAFETY: no guest code runs while we hold the store, and the slice
        // does not outlive this call.
        let view = self.memory.view(&self.store);
        let image = unsafe { view.data_unchecked() };
        Snapshot::capture(image).map_err(|e| RuntimeError::Internal(e.to_string()))
    }

    /// Replaces this (blank) instance's memory contents with `snap`.
    pub(crate) fn map_snapshot(&mut self, snap: Arc<Snapshot>) -> Result<(), RuntimeError> {
        let want_pages = (snap.len() as u64 / WASM_PAGE) as u32;
        let have = self.memory.view(&self.store).size().0;
        if want_pages > have {
            self.memory
                .grow(&mut self.store, Pages(want_pages - have))
                .map_err(|e| RuntimeError::Instantiate(format!("growing memory to the snapshot: {e}")))?;
        }
        // SAFETY: the memory is at least snap.len() long, wasmer's static
        // memory style never moves it, and no guest code is running.
        unsafe { snap.map_over(self.base()) }.map_err(|e| RuntimeError::Instantiate(e.to_string()))?;
        self.snapshot = Some(snap);
        Ok(())
    }

    /// The pages in which this sandbox differs from the snapshot it runs on.
    pub(crate) fn diff(&self, from: &Snapshot) -> Result<crate::snapshot::Diff, RuntimeError> {
        // SAFETY: the memory is mapped from `from` (base_instance) and no
        // guest code runs while we hold the store.
        unsafe { from.diff(self.base(), self.mem_len()) }.map_err(|e| RuntimeError::Internal(e.to_string()))
    }

    /// Moves a sandbox onto `snap` (its version's image, once built): the
    /// memory becomes the image, grown memory beyond it is released.
    pub(crate) fn adopt_snapshot(&mut self, snap: Arc<Snapshot>) -> Result<(), RuntimeError> {
        let len = self.mem_len();
        self.map_snapshot(snap.clone())?;
        if len > snap.len() {
            // SAFETY: the tail lies inside this sandbox's memory.
            unsafe {
                if libc::madvise(self.base().add(snap.len()).cast(), len - snap.len(), libc::MADV_DONTNEED) != 0 {
                    return Err(RuntimeError::Internal(std::io::Error::last_os_error().to_string()));
                }
            }
        }
        self.clear_host_state();
        Ok(())
    }

    /// Forgets everything the host kept about the last invocation.
    fn clear_host_state(&mut self) {
        let st = self.env.as_mut(&mut self.store);
        st.invocation = None;
        st.load_logs.clear();
    }

    /// True while the sandbox does not run on `image`, its version's current
    /// image: it runs on the base image (a version's first sandbox), or on
    /// the layered image while a flat one exists, or the other way round.
    pub(crate) fn behind(&self, image: Option<&Arc<Snapshot>>) -> bool {
        match (self.snapshot.as_ref(), image) {
            (Some(mine), Some(t)) => !Arc::ptr_eq(mine, t),
            _ => true,
        }
    }

    /// Returns the instance to its snapshot; only dirtied pages cost anything.
    pub(crate) fn reset(&mut self) -> Result<(), RuntimeError> {
        let snap = self.snapshot.clone().ok_or_else(|| RuntimeError::Internal("reset without a snapshot".into()))?;
        // SAFETY: mapped by map_snapshot; no guest code is running.
        unsafe { snap.reset(self.base(), self.mem_len()) }.map_err(|e| RuntimeError::Internal(e.to_string()))?;
        self.clear_host_state();
        self.poisoned = false;
        Ok(())
    }

    /// Parks the sandbox on `image` (its version's image): its memory and
    /// the image's mappings are given back, so a parked sandbox costs only
    /// its wasmer instance. [`Instance::unpark`] maps the image again, which
    /// also resets any state (warm sandboxes lose theirs).
    pub(crate) fn park(&mut self, image: Arc<Snapshot>) -> Result<(), RuntimeError> {
        // SAFETY: the memory is this sandbox's and no guest code runs.
        unsafe { Snapshot::unmap(self.base(), self.mem_len()) }.map_err(|e| RuntimeError::Internal(e.to_string()))?;
        self.snapshot = Some(image);
        self.parked = true;
        self.clear_host_state();
        Ok(())
    }

    /// Maps the image of a parked sandbox again: it is as fresh as a reset
    /// one, its pages fault in as the next call touches them.
    pub(crate) fn unpark(&mut self) -> Result<(), RuntimeError> {
        let snap = self.snapshot.clone().ok_or_else(|| RuntimeError::Internal("unpark without a snapshot".into()))?;
        // SAFETY: as in map_snapshot; the memory is at least the image long
        // (it held the image before it was parked).
        unsafe { snap.map_over(self.base()) }.map_err(|e| RuntimeError::Internal(e.to_string()))?;
        self.parked = false;
        Ok(())
    }

    pub fn snapshot(&self) -> Option<&Arc<Snapshot>> {
        self.snapshot.as_ref()
    }

    /// Runs one guest entry point, measuring guest time.
    fn enter<T>(&mut self, f: impl FnOnce(&mut Store) -> Result<T, wasmer::RuntimeError>) -> Result<T, RuntimeError> {
        if self.poisoned {
            return Err(RuntimeError::Internal("instance is poisoned".into()));
        }
        let t0 = Instant::now();
        let r = f(&mut self.store);
        self.guest_time += t0.elapsed();
        r.map_err(|trap| {
            self.poisoned = true;
            RuntimeError::Trap(trap.message())
        })
    }

    /// Copies `data` into a fresh guest allocation.
    fn put(&mut self, data: &[u8]) -> Result<u32, RuntimeError> {
        if data.is_empty() {
            return Ok(0);
        }
        let alloc = self.exports.alloc.clone();
        let ptr = self.enter(|s| alloc.call(s, data.len() as u32))?;
        if ptr == 0 {
            return Err(RuntimeError::OutOfMemory);
        }
        self.memory.view(&self.store).write(u64::from(ptr), data).map_err(|e| RuntimeError::Internal(e.to_string()))?;
        Ok(ptr)
    }

    fn release(&mut self, ptr: u32) -> Result<(), RuntimeError> {
        if ptr != 0 {
            let free = self.exports.free.clone();
            self.enter(|s| free.call(s, ptr))?;
        }
        Ok(())
    }

    /// The status of an entry point; its OUT buffer is found through the
    /// I/O block, so reading it takes no guest entry.
    fn status(&mut self, code: i32) -> Result<GuestStatus, RuntimeError> {
        let ptr = self.read_u32(self.io + io::OUT_PTR)?;
        let len = self.read_u32(self.io + io::OUT_LEN)?;
        let mut buf = vec![0u8; len as usize];
        self.memory
            .view(&self.store)
            .read(u64::from(ptr), &mut buf)
            .map_err(|e| RuntimeError::Internal(e.to_string()))?;
        GuestStatus::decode(code, buf)
    }

    fn read_u32(&self, at: u64) -> Result<u32, RuntimeError> {
        let mut b = [0u8; 4];
        self.memory.view(&self.store).read(at, &mut b).map_err(|e| RuntimeError::Internal(e.to_string()))?;
        Ok(u32::from_le_bytes(b))
    }

    /// Places buffers in guest memory: in the I/O block when they all fit
    /// (no guest entry), else in fresh allocations. Returns their addresses
    /// (0 for empty buffers) and whether they must be freed.
    fn put_args<const N: usize>(&mut self, bufs: [&[u8]; N]) -> Result<([u32; N], bool), RuntimeError> {
        let mut addrs = [0u32; N];
        if bufs.iter().map(|b| b.len()).sum::<usize>() <= self.in_cap {
            let view = self.memory.view(&self.store);
            let mut at = self.io + io::IN;
            for (i, b) in bufs.iter().enumerate() {
                if !b.is_empty() {
                    view.write(at, b).map_err(|e| RuntimeError::Internal(e.to_string()))?;
                    addrs[i] = at as u32;
                    at += b.len() as u64;
                }
            }
            return Ok((addrs, false));
        }
        for (i, b) in bufs.iter().enumerate() {
            addrs[i] = self.put(b)?;
        }
        Ok((addrs, true))
    }

    fn release_args<const N: usize>(&mut self, addrs: [u32; N], owned: bool) -> Result<(), RuntimeError> {
        if owned {
            for a in addrs {
                self.release(a)?;
            }
        }
        Ok(())
    }

    pub(crate) fn init(&mut self, max_stack: u32) -> Result<GuestStatus, RuntimeError> {
        let init = self.exports.init.clone();
        let code = self.enter(|s| init.call(s, max_stack))?;
        self.status(code)
    }

    pub(crate) fn compile(&mut self, source: &str, name: &str) -> Result<GuestStatus, RuntimeError> {
        let src = self.put(source.as_bytes())?;
        let nm = self.put(name.as_bytes())?;
        let compile = self.exports.compile.clone();
        let (sl, nl) = (source.len() as u32, name.len() as u32);
        let code = self.enter(|s| compile.call(s, src, sl, nm, nl))?;
        self.release(src)?;
        self.release(nm)?;
        self.status(code)
    }

    pub(crate) fn load(&mut self, bytecode: &[u8]) -> Result<GuestStatus, RuntimeError> {
        let bc = self.put(bytecode)?;
        let load = self.exports.load.clone();
        let len = bytecode.len() as u32;
        let code = self.enter(|s| load.call(s, bc, len))?;
        self.release(bc)?;
        self.status(code)
    }

    /// Starts a handler. `input` is JSON followed by a NUL byte; `bindings`
    /// is the env/ctx encoding built by `invoke::bindings`.
    pub(crate) fn call(
        &mut self,
        kind: HandlerKind,
        input: &[u8],
        body: Option<&[u8]>,
        bindings: &[u8],
        seed: u64,
        js_memory_limit: u32,
    ) -> Result<GuestStatus, RuntimeError> {
        debug_assert_eq!(input.last(), Some(&0), "input JSON must end with a NUL");
        // The invocation's start, for performance.now() (read lazily by the guest).
        let view = self.memory.view(&self.store);
        let start = crate::host::monotonic_ms().to_le_bytes();
        let origin = (crate::host::now_ms() as f64).to_le_bytes();
        view.write(self.io + io::CALL_START_MS, &start).map_err(|e| RuntimeError::Internal(e.to_string()))?;
        view.write(self.io + io::CALL_ORIGIN_MS, &origin).map_err(|e| RuntimeError::Internal(e.to_string()))?;
        let body = body.unwrap_or_default();
        let ([i, b, g], owned) = self.put_args([input, body, bindings])?;
        let (il, bl, gl) = (input.len() as u32 - 1, body.len() as u32, bindings.len() as u32);
        let call = self.exports.call.clone();
        let code = self.enter(|s| call.call(s, kind as i32, i, il, b, bl, g, gl, seed, js_memory_limit))?;
        self.release_args([i, b, g], owned)?;
        self.status(code)
    }

    pub(crate) fn resume(
        &mut self,
        id: i32,
        ok: bool,
        meta: &[u8],
        body: Option<&[u8]>,
    ) -> Result<GuestStatus, RuntimeError> {
        let body = body.unwrap_or_default();
        let ([m, b], owned) = self.put_args([meta, body])?;
        let (ml, bl) = (meta.len() as u32, body.len() as u32);
        let resume = self.exports.resume.clone();
        let code = self.enter(|s| resume.call(s, id, i32::from(ok), m, ml, b, bl))?;
        self.release_args([m, b], owned)?;
        self.status(code)
    }

    pub(crate) fn tick(&mut self) -> Result<GuestStatus, RuntimeError> {
        let tick = self.exports.tick.clone();
        let code = self.enter(|s| tick.call(s))?;
        self.status(code)
    }

    pub(crate) fn heap_peak(&mut self) -> u64 {
        self.read_u32(self.io + io::HEAP_PEAK).map(u64::from).unwrap_or(0)
    }

    pub(crate) fn host(&mut self) -> &mut HostState {
        self.env.as_mut(&mut self.store)
    }
}
