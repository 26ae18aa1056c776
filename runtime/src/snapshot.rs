//! Memory snapshots mapped copy-on-write from a memfd.
//!
//! After the guest has initialised (and loaded a function), its linear memory
//! is written once into a memfd. An instance that should start from that state
//! maps the memfd `MAP_PRIVATE | MAP_FIXED` over the first bytes of its own
//! linear memory: nothing is copied, pages are shared with every other
//! instance of the same snapshot until written.
//!
//! Resetting touches only the pages that became private copies: one
//! `PAGEMAP_SCAN` ioctl on `/proc/self/pagemap` (Linux 6.7+; older kernels
//! read the pagemap entries instead) lists the ranges of the mapping that are
//! anonymous now (copied on write since the mapping was made); those are copied back from a
//! read-only view of the snapshot and stay mapped, so the next call takes no
//! page faults at all. If that private set grows past a bound, the pages are
//! released with `madvise(MADV_DONTNEED)` instead (they fall back to the memfd
//! contents), which keeps idle sandboxes small. Memory grown beyond the
//! snapshot is always released (it reads as zero again). Without pagemap
//! access the whole image is released with `madvise`, which is correct but
//! costs a fault per page the next call touches.

use std::cell::RefCell;
use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use thiserror::Error;

#[derive(Debug, Error)]
pub enum SnapshotError {
    #[error("memfd_create failed: {0}")]
    Create(std::io::Error),
    #[error("writing the snapshot failed: {0}")]
    Write(std::io::Error),
    #[error("mapping the snapshot failed: {0}")]
    Map(std::io::Error),
    #[error("snapshot reset failed: {0}")]
    Reset(std::io::Error),
}

/// An immutable linear-memory image: either a whole image (the base
/// snapshot) or a layer over one (a version's image: only the pages its
/// loading changed, so versions share every other page with the base).
#[derive(Debug)]
pub struct Snapshot {
    /// The image's own pages: all of them, or a layer's changed pages one
    /// after another.
    file: File,
    /// Length of the image in bytes: a whole number of wasm pages.
    len: usize,
    /// A read-only shared view of `file` (`view_len` bytes; none when the
    /// file is empty): the source of resets.
    view: *const u8,
    view_len: usize,
    layer: Option<Layer>,
}

/// How a version's image is made of its base and its own pages.
#[derive(Debug)]
struct Layer {
    base: Arc<Snapshot>,
    /// OS page indexes of the image held in the layer's file, ascending;
    /// `pages[i]` is the file's page `i`.
    pages: Vec<usize>,
    /// Runs of consecutive such pages: (first image page, count, first file
    /// page); each is one mapping over the base.
    runs: Vec<(usize, usize, usize)>,
}

// SAFETY: `view` is a read-only mapping owned by the snapshot and unmapped
// only on drop; reading it from any thread is fine.
unsafe impl Send for Snapshot {}
unsafe impl Sync for Snapshot {}

impl Drop for Snapshot {
    fn drop(&mut self) {
        if self.view_len > 0 {
            // SAFETY: mapped in `from_file` with this length.
            unsafe { libc::munmap(self.view as *mut libc::c_void, self.view_len) };
        }
    }
}

/// Unchanged pages between two changed ones that a layer takes in anyway
/// (copied from the base) when the gap is this small: each run of a layer
/// is one mapping per sandbox, and the kernel limits mappings per process.
const LAYER_MERGE_GAP: usize = 4;

/// Private pages kept mapped per sandbox before a reset releases them.
const MAX_PRIVATE_PAGES: usize = 512;
const PM_PRESENT: u64 = 1 << 63;
const PM_FILE_OR_SHARED: u64 = 1 << 61;

fn pagemap() -> Option<&'static File> {
    static PAGEMAP: OnceLock<Option<File>> = OnceLock::new();
    PAGEMAP.get_or_init(|| File::open("/proc/self/pagemap").ok()).as_ref()
}

/// The pages in which a memory differs from a snapshot.
#[derive(Debug, Default)]
pub struct Diff {
    /// OS page indexes, ascending.
    pages: Vec<usize>,
    /// Their contents, one page after another.
    bytes: Vec<u8>,
    /// Length of the memory the diff was taken from.
    len: usize,
}

impl Diff {
    pub fn pages(&self) -> usize {
        self.pages.len()
    }
}

/// What a reset did, for tests and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResetStats {
    /// Pages copied back from the snapshot.
    pub copied: usize,
    /// True when the private pages were released instead.
    pub released: bool,
}

/// Resets done and pages they copied back, process-wide: what a fresh call
/// costs besides the guest (`quasm bench runtime` reports pages per call).
static RESETS: AtomicU64 = AtomicU64::new(0);
static RESET_PAGES: AtomicU64 = AtomicU64::new(0);

/// (resets, pages copied back by them) since the process started.
pub fn reset_totals() -> (u64, u64) {
    (RESETS.load(Ordering::Relaxed), RESET_PAGES.load(Ordering::Relaxed))
}

fn page_size() -> usize {
    // Asked once: sysconf is a libc call, and resets use this per run.
    static SIZE: OnceLock<usize> = OnceLock::new();
    // SAFETY: sysconf has no preconditions.
    *SIZE.get_or_init(|| unsafe { libc::sysconf(libc::_SC_PAGESIZE) as usize })
}

/// A memfd holding `bytes`; pages that are all zero stay holes (they cost
/// nothing and read back as zero).
fn memfd_with(bytes: &[u8]) -> Result<File, SnapshotError> {
    // SAFETY: the name is a valid C string; flags are plain constants.
    let fd = unsafe { libc::memfd_create(c"quasm-snapshot".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(SnapshotError::Create(std::io::Error::last_os_error()));
    }
    // SAFETY: fd is a fresh, owned descriptor.
    let mut file = unsafe { <File as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    file.set_len(bytes.len() as u64).map_err(SnapshotError::Write)?;
    // Holes are left only for whole 64 KiB stretches of zeros: a write to
    // a hole through a private mapping costs an extra page allocation and
    // zeroing, so sparse zero pages among data are stored as data.
    let chunk = 64 * 1024;
    let mut offset = 0;
    while offset < bytes.len() {
        let end = (offset + chunk).min(bytes.len());
        let part = &bytes[offset..end];
        if part.iter().any(|b| *b != 0) {
            file.write_all_at(part, offset as u64).map_err(SnapshotError::Write)?;
        }
        offset = end;
    }
    file.flush().map_err(SnapshotError::Write)?;
    Ok(file)
}

impl Snapshot {
    /// Captures `image` (a linear memory's bytes; its length is a multiple of
    /// the wasm page size, hence of the OS page size).
    pub fn capture(image: &[u8]) -> Result<Self, SnapshotError> {
        let file = memfd_with(image)?;
        Self::from_file(file, image.len(), image.len(), None)
    }

    fn from_file(file: File, len: usize, view_len: usize, layer: Option<Layer>) -> Result<Self, SnapshotError> {
        let view = if view_len == 0 {
            std::ptr::null()
        } else {
            // SAFETY: a fresh read-only shared mapping of the memfd we own.
            let view = unsafe {
                libc::mmap(std::ptr::null_mut(), view_len, libc::PROT_READ, libc::MAP_SHARED, file.as_raw_fd(), 0)
            };
            if view == libc::MAP_FAILED {
                return Err(SnapshotError::Map(std::io::Error::last_os_error()));
            }
            view as *const u8
        };
        Ok(Self { file, len, view, view_len, layer })
    }

    /// Bytes this image keeps of its own (a layer's changed pages, or the
    /// whole image).
    pub fn own_bytes(&self) -> usize {
        self.view_len
    }

    /// The bytes of OS page `p` of the image.
    fn page(&self, p: usize) -> *const u8 {
        let ps = page_size();
        // SAFETY (of the `add`s): `p` is a page of the image, so it lies in
        // the base's view or, as `pages[i]`, at page `i` of the layer's view.
        match &self.layer {
            None => unsafe { self.view.add(p * ps) },
            Some(l) => match l.pages.binary_search(&p) {
                Ok(i) => unsafe { self.view.add(i * ps) },
                Err(_) => l.base.page(p),
            },
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Maps the image over `base[..len]`.
    ///
    /// # Safety
    /// `base` must be the page-aligned start of a linear memory at least
    /// `self.len()` bytes long that stays mapped at this address (wasmer's
    /// static memory style never moves it), and nothing may run in it now.
    pub unsafe fn map_over(&self, base: *mut u8) -> Result<(), SnapshotError> {
        debug_assert_eq!(base as usize % page_size(), 0);
        let Some(layer) = &self.layer else { return map_fixed(base, self.len, &self.file, 0) };
        layer.base.map_over(base)?;
        let ps = page_size();
        for &(first, n, file_page) in &layer.runs {
            map_fixed(base.add(first * ps), n * ps, &self.file, file_page * ps)?;
        }
        Ok(())
    }

    /// Gives back every page of a memory mapped by [`Snapshot::map_over`]
    /// and its mappings: `base[..len]` becomes plain zeroed memory again
    /// (one mapping), as it was before the image was mapped over it. For
    /// sandboxes parked for a while: they cost neither memory nor mappings.
    ///
    /// # Safety
    /// Same as [`Snapshot::reset`].
    pub unsafe fn unmap(base: *mut u8, len: usize) -> Result<(), SnapshotError> {
        let p = libc::mmap(
            base.cast(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
            -1,
            0,
        );
        if p == libc::MAP_FAILED {
            return Err(SnapshotError::Map(std::io::Error::last_os_error()));
        }
        Ok(())
    }

    /// Returns a memory previously set up by [`Snapshot::map_over`] to the
    /// image: pages written since revert, memory grown past the image (up to
    /// `current_len`) reads as zero again.
    ///
    /// # Safety
    /// Same as [`Snapshot::map_over`]; `base` must have been mapped with this
    /// snapshot.
    pub unsafe fn reset(&self, base: *mut u8, current_len: usize) -> Result<ResetStats, SnapshotError> {
        let stats = match self.private_runs(base) {
            Some((runs, pages)) if pages <= MAX_PRIVATE_PAGES => {
                for &(start, n) in &runs {
                    self.copy_back(base, start, n);
                }
                ResetStats { copied: pages, released: false }
            }
            Some((runs, _)) => {
                for &(start, n) in &runs {
                    release(base.add(start * page_size()), n * page_size())?;
                }
                ResetStats { copied: 0, released: true }
            }
            None => {
                release(base, self.len)?;
                ResetStats { copied: 0, released: true }
            }
        };
        if current_len > self.len {
            release(base.add(self.len), current_len - self.len)?;
        }
        RESETS.fetch_add(1, Ordering::Relaxed);
        RESET_PAGES.fetch_add(stats.copied as u64, Ordering::Relaxed);
        Ok(stats)
    }

    /// Records how the memory at `base` (mapped from this snapshot, now
    /// `current_len` bytes long) differs from it: the pages that became
    /// private copies, plus everything grown past the image. Cheap (one
    /// pagemap read and a copy of the changed pages), so a new version can be
    /// served before its own image exists; see [`Snapshot::layer`].
    ///
    /// # Safety
    /// `base` must have been mapped with this snapshot and hold
    /// `current_len` readable bytes; no guest code may run meanwhile.
    pub unsafe fn diff(&self, base: *const u8, current_len: usize) -> Result<Diff, SnapshotError> {
        let ps = page_size();
        let (runs, _) = self
            .private_runs(base as *mut u8)
            .ok_or_else(|| SnapshotError::Map(std::io::Error::other("/proc/self/pagemap is not readable")))?;
        let mut pages = Vec::new();
        let mut bytes = Vec::new();
        let mut take = |first: usize, n: usize| {
            for p in first..first + n {
                pages.push(p);
                bytes.extend_from_slice(std::slice::from_raw_parts(base.add(p * ps), ps));
            }
        };
        for (first, n) in runs {
            take(first, n);
        }
        if current_len > self.len {
            take(self.len / ps, (current_len - self.len) / ps);
        }
        Ok(Diff { pages, bytes, len: current_len.max(self.len) })
    }

    /// Copies image pages `start..start + n` to `base`: one copy per
    /// stretch that lies contiguously in one source (the base's view or the
    /// layer's).
    ///
    /// # Safety
    /// `base[start * ps..(start + n) * ps]` must be writable and inside the
    /// image's length.
    unsafe fn copy_back(&self, base: *mut u8, start: usize, n: usize) {
        let ps = page_size();
        let Some(l) = &self.layer else {
            std::ptr::copy_nonoverlapping(self.view.add(start * ps), base.add(start * ps), n * ps);
            return;
        };
        let end = start + n;
        let mut i = l.pages.partition_point(|&p| p < start);
        let mut p = start;
        while p < end {
            if l.pages.get(i) == Some(&p) {
                // Consecutive layer pages are consecutive in its file too.
                let mut k = 1;
                while p + k < end && l.pages.get(i + k) == Some(&(p + k)) {
                    k += 1;
                }
                std::ptr::copy_nonoverlapping(self.view.add(i * ps), base.add(p * ps), k * ps);
                p += k;
                i += k;
            } else {
                let next = l.pages.get(i).map_or(end, |&q| q.min(end));
                std::ptr::copy_nonoverlapping(l.base.view.add(p * ps), base.add(p * ps), (next - p) * ps);
                p = next;
            }
        }
    }

    /// Builds the image `base` + `diff` as a layer over `base`: it keeps
    /// only the changed pages (and small gaps between them, see
    /// [`LAYER_MERGE_GAP`]); every other page is the base's, shared.
    pub fn layer(base: &Arc<Snapshot>, diff: &Diff) -> Result<Snapshot, SnapshotError> {
        assert!(base.layer.is_none(), "a layer is built over a whole image");
        let ps = page_size();
        let mut pages: Vec<usize> = Vec::with_capacity(diff.pages.len());
        let mut bytes: Vec<u8> = Vec::with_capacity(diff.bytes.len());
        for (i, &p) in diff.pages.iter().enumerate() {
            if let Some(&last) = pages.last() {
                if p > last + 1 && p - last - 1 <= LAYER_MERGE_GAP {
                    for gap in last + 1..p {
                        // SAFETY: gap pages lie below a changed page inside
                        // the base image (growth past it is all in the diff).
                        bytes.extend_from_slice(unsafe { std::slice::from_raw_parts(base.page(gap), ps) });
                        pages.push(gap);
                    }
                }
            }
            pages.push(p);
            bytes.extend_from_slice(&diff.bytes[i * ps..(i + 1) * ps]);
        }
        let mut runs: Vec<(usize, usize, usize)> = Vec::new();
        for (i, &p) in pages.iter().enumerate() {
            match runs.last_mut() {
                Some((first, n, _)) if *first + *n == p => *n += 1,
                _ => runs.push((p, 1, i)),
            }
        }
        let file = memfd_with(&bytes)?;
        let layer = Layer { base: base.clone(), pages, runs };
        Snapshot::from_file(file, diff.len.max(base.len), bytes.len(), Some(layer))
    }

    /// The same image in one file of its own: a layer's pages written over
    /// a copy of its base. A sandbox maps it with one mapping instead of one
    /// per run of the layer, and each mapping costs at instantiation and on
    /// every reset (the pagemap walk visits mappings one by one), so busy
    /// versions run on one (see `pool.rs`); it costs its own copy of every
    /// page, about 2 MiB. `None` for an image that is one file already.
    pub fn flatten(&self) -> Option<Result<Snapshot, SnapshotError>> {
        let l = self.layer.as_ref()?;
        let ps = page_size();
        let mut bytes = vec![0u8; self.len];
        // SAFETY: the base's view holds its whole image (`view_len == len`
        // for a whole image) and layer page `i` is at `i * ps` of our view.
        unsafe {
            bytes[..l.base.len].copy_from_slice(std::slice::from_raw_parts(l.base.view, l.base.len));
            for (i, &p) in l.pages.iter().enumerate() {
                bytes[p * ps..(p + 1) * ps].copy_from_slice(std::slice::from_raw_parts(self.view.add(i * ps), ps));
            }
        }
        Some(Snapshot::capture(&bytes))
    }

    /// How many mappings [`Snapshot::map_over`] makes.
    #[cfg(test)]
    pub fn mappings(&self) -> usize {
        self.layer.as_ref().map_or(1, |l| 1 + l.runs.len())
    }

    /// Runs `(first page, count)` of pages that are private copies now, and
    /// their total; `None` if pagemap cannot be read.
    fn private_runs(&self, base: *mut u8) -> Option<(Vec<(usize, usize)>, usize)> {
        let pm = pagemap()?;
        match scan::private_runs(pm, base as usize, self.len) {
            Some(r) => Some(r),
            None => self.private_runs_by_read(pm, base),
        }
    }

    /// [`Snapshot::private_runs`] by reading one pagemap entry per page: the
    /// kernel formats every entry and the filtering happens here (slower than
    /// `PAGEMAP_SCAN`, which filters and merges in the kernel).
    fn private_runs_by_read(&self, pm: &File, base: *mut u8) -> Option<(Vec<(usize, usize)>, usize)> {
        thread_local! {
            static BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
        }
        let pages = self.len / page_size();
        BUF.with(|buf| {
            let mut buf = buf.borrow_mut();
            buf.resize(pages * 8, 0);
            let offset = (base as usize / page_size()) as u64 * 8;
            pm.read_exact_at(&mut buf, offset).ok()?;
            let mut runs: Vec<(usize, usize)> = Vec::new();
            let mut total = 0;
            for (i, e) in buf.chunks_exact(8).enumerate() {
                let e = u64::from_le_bytes(e.try_into().expect("8 bytes"));
                if e & PM_PRESENT != 0 && e & PM_FILE_OR_SHARED == 0 {
                    total += 1;
                    add_run(&mut runs, i, 1);
                }
            }
            Some((runs, total))
        })
    }
}

/// Appends pages `first..first + count` (found in ascending order) to
/// `runs`, extending the last run when they follow it.
fn add_run(runs: &mut Vec<(usize, usize)>, first: usize, count: usize) {
    match runs.last_mut() {
        Some((start, n)) if *start + *n == first => *n += count,
        _ => runs.push((first, count)),
    }
}

/// `PAGEMAP_SCAN` (Linux 6.7+, `include/uapi/linux/fs.h`): the kernel walks
/// the page tables and returns only the ranges that match, already merged.
mod scan {
    use std::fs::File;
    use std::os::fd::AsRawFd;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[repr(C)]
    struct PmScanArg {
        size: u64,
        flags: u64,
        start: u64,
        end: u64,
        walk_end: u64,
        vec: u64,
        vec_len: u64,
        max_pages: u64,
        category_inverted: u64,
        category_mask: u64,
        category_anyof_mask: u64,
        return_mask: u64,
    }

    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    struct PageRegion {
        start: u64,
        end: u64,
        categories: u64,
    }

    /// `_IOWR('f', 16, struct pm_scan_arg)`.
    const PAGEMAP_SCAN: u64 = (3 << 30) | ((std::mem::size_of::<PmScanArg>() as u64) << 16) | ((b'f' as u64) << 8) | 16;
    const PAGE_IS_FILE: u64 = 1 << 2;
    const PAGE_IS_PRESENT: u64 = 1 << 3;
    const PAGE_IS_PFNZERO: u64 = 1 << 5;

    static UNSUPPORTED: AtomicBool = AtomicBool::new(false);

    /// Runs of present, anonymous pages in `[start, start + len)`: private
    /// copies (the shared zero page is not one: it reads as the image does).
    /// `None` when the kernel has no `PAGEMAP_SCAN`.
    pub(super) fn private_runs(pm: &File, start: usize, len: usize) -> Option<(Vec<(usize, usize)>, usize)> {
        if UNSUPPORTED.load(Ordering::Relaxed) {
            return None;
        }
        let ps = super::page_size();
        let mut regions = [PageRegion::default(); 64];
        let mut runs: Vec<(usize, usize)> = Vec::new();
        let mut total = 0;
        let end = (start + len) as u64;
        let mut from = start as u64;
        while from < end {
            let mut arg = PmScanArg {
                size: std::mem::size_of::<PmScanArg>() as u64,
                flags: 0,
                start: from,
                end,
                walk_end: 0,
                vec: regions.as_mut_ptr() as u64,
                vec_len: regions.len() as u64,
                max_pages: 0,
                category_inverted: PAGE_IS_FILE | PAGE_IS_PFNZERO,
                category_mask: PAGE_IS_PRESENT | PAGE_IS_FILE | PAGE_IS_PFNZERO,
                category_anyof_mask: 0,
                return_mask: PAGE_IS_PRESENT,
            };
            // SAFETY: `arg` and the region buffer it points to outlive the call.
            let n = unsafe { libc::ioctl(pm.as_raw_fd(), PAGEMAP_SCAN as _, &mut arg as *mut PmScanArg) };
            if n < 0 {
                UNSUPPORTED.store(true, Ordering::Relaxed);
                return None;
            }
            for r in &regions[..n as usize] {
                let first = (r.start as usize - start) / ps;
                let count = (r.end - r.start) as usize / ps;
                total += count;
                super::add_run(&mut runs, first, count);
            }
            if arg.walk_end <= from {
                break;
            }
            from = arg.walk_end;
        }
        Some((runs, total))
    }
}

/// Maps `file[offset..offset + len]` privately (copy-on-write) at `at`.
///
/// # Safety
/// `at[..len]` must be page-aligned memory this sandbox owns and nothing
/// runs in.
unsafe fn map_fixed(at: *mut u8, len: usize, file: &File, offset: usize) -> Result<(), SnapshotError> {
    let p = libc::mmap(
        at.cast(),
        len,
        libc::PROT_READ | libc::PROT_WRITE,
        libc::MAP_PRIVATE | libc::MAP_FIXED,
        file.as_raw_fd(),
        offset as libc::off_t,
    );
    if p == libc::MAP_FAILED {
        return Err(SnapshotError::Map(std::io::Error::last_os_error()));
    }
    Ok(())
}

/// Drops the pages of `p[..len]`: a private mapping reads back its file's
/// contents (or zeros past it) on the next access.
///
/// # Safety
/// `p[..len]` must be page-aligned, mapped, and not in use by guest code.
unsafe fn release(p: *mut u8, len: usize) -> Result<(), SnapshotError> {
    if libc::madvise(p.cast(), len, libc::MADV_DONTNEED) != 0 {
        return Err(SnapshotError::Reset(std::io::Error::last_os_error()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A private anonymous region standing in for a linear memory.
    struct Region(*mut u8, usize);
    impl Region {
        fn new(len: usize) -> Self {
            let p = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            assert_ne!(p, libc::MAP_FAILED);
            Region(p.cast(), len)
        }
        // A test stand-in for guest memory, written through shared handles
        // exactly as the real linear memory is.
        #[allow(clippy::mut_from_ref)]
        fn bytes(&self) -> &mut [u8] {
            unsafe { std::slice::from_raw_parts_mut(self.0, self.1) }
        }
    }
    impl Drop for Region {
        fn drop(&mut self) {
            unsafe { libc::munmap(self.0.cast(), self.1) };
        }
    }

    #[test]
    fn scan_and_read_agree_on_private_pages() {
        let page = 65536;
        let snap = Snapshot::capture(&vec![1u8; 4 * page]).unwrap();
        let mem = Region::new(4 * page);
        unsafe { snap.map_over(mem.0).unwrap() };
        let ps = page_size();
        for p in [0, 1, 2, 9, 40, 41, 63] {
            mem.bytes()[p * ps + 3] = 2;
        }
        let _ = mem.bytes()[50 * ps]; // read only: stays shared
        let pm = pagemap().expect("pagemap");
        let read = snap.private_runs_by_read(pm, mem.0).unwrap();
        assert_eq!(read, (vec![(0, 3), (9, 1), (40, 2), (63, 1)], 7));
        // Kernels before 6.7 have no PAGEMAP_SCAN; then only the read path exists.
        if let Some(scanned) = scan::private_runs(pm, mem.0 as usize, snap.len()) {
            assert_eq!(scanned, read);
        }
    }

    #[test]
    fn a_layer_keeps_only_changed_pages_and_resets_from_both() {
        let ps = page_size();
        let page = 65536;
        let base = Arc::new(Snapshot::capture(&vec![1u8; 4 * page]).unwrap());
        let mem = Region::new(8 * page);
        unsafe { base.map_over(mem.0).unwrap() };
        // Loading changed pages 2, 4 (a gap of 1 is merged in) and 40, and
        // grew the memory by one wasm page.
        for p in [2, 4, 40] {
            mem.bytes()[p * ps] = 9;
        }
        mem.bytes()[4 * page + 7] = 5;
        let d = unsafe { base.diff(mem.0, 5 * page).unwrap() };
        let layer = Snapshot::layer(&base, &d).unwrap();
        assert_eq!(layer.len(), 5 * page);
        let grown = page / ps;
        assert_eq!(layer.own_bytes(), (3 + 1 + grown) * ps, "pages 2..=4, 40 and the grown wasm page");
        assert_eq!(layer.mappings(), 1 + 3);

        let sandbox = Region::new(8 * page);
        unsafe { layer.map_over(sandbox.0).unwrap() };
        let b = sandbox.bytes();
        assert_eq!((b[0], b[2 * ps], b[3 * ps], b[4 * ps], b[40 * ps], b[41 * ps]), (1, 9, 1, 9, 9, 1));
        assert_eq!((b[4 * page + 7], b[4 * page + 8]), (5, 0));
        // Writes to base pages and to layer pages both reset to the image.
        b[0] = 0;
        b[2 * ps] = 0;
        b[3 * ps] = 0;
        b[40 * ps + 1] = 3;
        b[4 * page + 7] = 0;
        let stats = unsafe { layer.reset(sandbox.0, 5 * page).unwrap() };
        assert_eq!(stats, ResetStats { copied: 5, released: false });
        assert_eq!((b[0], b[2 * ps], b[3 * ps], b[40 * ps + 1], b[4 * page + 7]), (1, 9, 1, 1, 5));
        // The base is untouched by all this.
        assert_eq!(mem.bytes()[ps], 1);
        let other = Region::new(8 * page);
        unsafe { base.map_over(other.0).unwrap() };
        assert_eq!(other.bytes()[2 * ps], 1);
        // Unmapping gives back plain zeroed memory.
        unsafe { Snapshot::unmap(sandbox.0, 5 * page).unwrap() };
        assert_eq!(sandbox.bytes()[2 * ps], 0);
    }

    #[test]
    fn a_flattened_layer_is_the_same_image_in_one_mapping() {
        let ps = page_size();
        let page = 65536;
        let base = Arc::new(Snapshot::capture(&vec![1u8; 4 * page]).unwrap());
        assert!(base.flatten().is_none(), "a whole image is one file already");
        let mem = Region::new(8 * page);
        unsafe { base.map_over(mem.0).unwrap() };
        for p in [2, 40] {
            mem.bytes()[p * ps] = 9;
        }
        mem.bytes()[4 * page + 7] = 5;
        let d = unsafe { base.diff(mem.0, 5 * page).unwrap() };
        let layer = Snapshot::layer(&base, &d).unwrap();
        let flat = layer.flatten().unwrap().unwrap();
        assert_eq!((flat.len(), flat.mappings()), (layer.len(), 1));
        let (x, y) = (Region::new(8 * page), Region::new(8 * page));
        unsafe {
            layer.map_over(x.0).unwrap();
            flat.map_over(y.0).unwrap();
        }
        assert!(x.bytes()[..5 * page] == y.bytes()[..5 * page]);
        // It resets like any whole image.
        y.bytes()[40 * ps] = 0;
        y.bytes()[ps] = 0;
        let stats = unsafe { flat.reset(y.0, 5 * page).unwrap() };
        assert_eq!(stats, ResetStats { copied: 2, released: false });
        assert_eq!((y.bytes()[40 * ps], y.bytes()[ps]), (9, 1));
    }

    #[test]
    fn reset_restores_image_and_zeroes_growth() {
        let page = 65536;
        let mut image = vec![0u8; 2 * page];
        image[10] = 7;
        image[page + 5] = 9;
        let snap = Snapshot::capture(&image).unwrap();
        let mem = Region::new(4 * page);
        unsafe { snap.map_over(mem.0).unwrap() };
        assert_eq!(mem.bytes()[10], 7);
        assert_eq!(mem.bytes()[page + 5], 9);
        mem.bytes()[10] = 1;
        mem.bytes()[3 * page] = 42; // "grown" memory beyond the image
        let stats = unsafe { snap.reset(mem.0, 4 * page).unwrap() };
        assert_eq!(mem.bytes()[10], 7);
        assert_eq!(mem.bytes()[3 * page], 0);
        // Only the written OS page was a private copy.
        assert_eq!(stats, ResetStats { copied: 1, released: false });
        // A second reset with nothing written copies that page again (it
        // stays private) and still restores the image.
        mem.bytes()[page + 5] = 0;
        let stats = unsafe { snap.reset(mem.0, 4 * page).unwrap() };
        assert_eq!(mem.bytes()[page + 5], 9);
        assert_eq!(stats.copied, 2);
        // A diff records changed and grown pages; composing rebuilds the image.
        mem.bytes()[page + 5] = 77;
        mem.bytes()[3 * page + 1] = 5;
        let d = unsafe { snap.diff(mem.0, 4 * page).unwrap() };
        assert!(d.pages() >= 2);
        let snap = Arc::new(snap);
        let composed = Snapshot::layer(&snap, &d).unwrap();
        assert_eq!(composed.len(), 4 * page);
        let third = Region::new(4 * page);
        unsafe { composed.map_over(third.0).unwrap() };
        assert_eq!((third.bytes()[10], third.bytes()[page + 5], third.bytes()[3 * page + 1]), (7, 77, 5));
        // A second mapping of the same snapshot is independent.
        let other = Region::new(2 * page);
        unsafe { snap.map_over(other.0).unwrap() };
        other.bytes()[10] = 3;
        assert_eq!(mem.bytes()[10], 7);
    }
}
