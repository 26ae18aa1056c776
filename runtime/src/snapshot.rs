//! Memory snapshots mapped copy-on-write from a memfd.
//!
//! After the guest has initialised (and loaded a function), its linear memory
//! is written once into a memfd. An instance that should start from that state
//! maps the memfd `MAP_PRIVATE | MAP_FIXED` over the first bytes of its own
//! linear memory: nothing is copied, pages are shared with every other
//! instance of the same snapshot until written. Resetting is
//! `madvise(MADV_DONTNEED)`: the kernel drops exactly the pages the call
//! dirtied (they fall back to the memfd contents) and zeroes memory grown
//! beyond the snapshot. Its cost follows the pages touched, not the image size
//! (the technique Wasmtime uses for its pooling allocator).

use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;

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

/// An immutable linear-memory image.
#[derive(Debug)]
pub struct Snapshot {
    file: File,
    /// Length of the image in bytes: a whole number of wasm pages.
    len: usize,
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    unsafe { libc::sysconf(libc::_SC_PAGESIZE) as usize }
}

impl Snapshot {
    /// Captures `image` (a linear memory's bytes; its length is a multiple of
    /// the wasm page size, hence of the OS page size).
    pub fn capture(image: &[u8]) -> Result<Self, SnapshotError> {
        // SAFETY: the name is a valid C string; flags are plain constants.
        let fd = unsafe { libc::memfd_create(c"quasm-snapshot".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(SnapshotError::Create(std::io::Error::last_os_error()));
        }
        // SAFETY: fd is a fresh, owned descriptor.
        let mut file = unsafe { <File as std::os::fd::FromRawFd>::from_raw_fd(fd) };
        // Pages that are all zero stay holes in the memfd: they cost nothing
        // and read back as zero.
        file.set_len(image.len() as u64).map_err(SnapshotError::Write)?;
        let chunk = 64 * 1024;
        let mut offset = 0;
        while offset < image.len() {
            let end = (offset + chunk).min(image.len());
            let part = &image[offset..end];
            if part.iter().any(|b| *b != 0) {
                use std::os::unix::fs::FileExt;
                file.write_all_at(part, offset as u64).map_err(SnapshotError::Write)?;
            }
            offset = end;
        }
        file.flush().map_err(SnapshotError::Write)?;
        Ok(Self { file, len: image.len() })
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
        let p = libc::mmap(
            base.cast(),
            self.len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_FIXED,
            self.file.as_raw_fd(),
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
    pub unsafe fn reset(&self, base: *mut u8, current_len: usize) -> Result<(), SnapshotError> {
        if libc::madvise(base.cast(), self.len, libc::MADV_DONTNEED) != 0 {
            return Err(SnapshotError::Reset(std::io::Error::last_os_error()));
        }
        if current_len > self.len {
            let tail = base.add(self.len);
            if libc::madvise(tail.cast(), current_len - self.len, libc::MADV_DONTNEED) != 0 {
                return Err(SnapshotError::Reset(std::io::Error::last_os_error()));
            }
        }
        Ok(())
    }
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
        unsafe { snap.reset(mem.0, 4 * page).unwrap() };
        assert_eq!(mem.bytes()[10], 7);
        assert_eq!(mem.bytes()[3 * page], 0);
        // A second mapping of the same snapshot is independent.
        let other = Region::new(2 * page);
        unsafe { snap.map_over(other.0).unwrap() };
        other.bytes()[10] = 3;
        assert_eq!(mem.bytes()[10], 7);
    }
}
