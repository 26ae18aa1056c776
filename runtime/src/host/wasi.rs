//! The WASI preview1 functions wasi-libc links in, and nothing more.
//! stdout/stderr become log lines; every other descriptor is "bad fd".

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use wasmer::FunctionEnvMut;

use super::{read_bytes, write_bytes, HostState};
use crate::result::LogLevel;

const ESUCCESS: i32 = 0;
const EBADF: i32 = 8;
const EFAULT: i32 = 21;
const EINVAL: i32 = 28;

/// The guest's monotonic clock in milliseconds (what `clock_time_get`
/// returns for the monotonic clocks).
pub(crate) fn monotonic_ms() -> f64 {
    (process_start().elapsed().as_nanos() as u64 + 1) as f64 / 1e6
}

fn process_start() -> Instant {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *START.get_or_init(Instant::now)
}

pub fn clock_time_get(env: FunctionEnvMut<HostState>, clock: u32, _precision: u64, out: u32) -> i32 {
    let ns: u64 = match clock {
        0 => SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0),
        // Monotonic, process and thread clocks all read the monotonic clock.
        1..=3 => process_start().elapsed().as_nanos() as u64 + 1,
        _ => return EINVAL,
    };
    if write_bytes(&env, out, &ns.to_le_bytes()) {
        ESUCCESS
    } else {
        EFAULT
    }
}

pub fn random_get(env: FunctionEnvMut<HostState>, buf: u32, len: u32) -> i32 {
    let mut bytes = vec![0u8; len as usize];
    if getrandom::fill(&mut bytes).is_err() {
        return EINVAL;
    }
    if write_bytes(&env, buf, &bytes) {
        ESUCCESS
    } else {
        EFAULT
    }
}

pub fn fd_write(mut env: FunctionEnvMut<HostState>, fd: i32, iovs: u32, iovs_len: u32, nwritten: u32) -> i32 {
    if fd != 1 && fd != 2 {
        return EBADF;
    }
    let table = read_bytes(&env, iovs, iovs_len.saturating_mul(8));
    if table.len() != iovs_len as usize * 8 {
        return EFAULT;
    }
    let mut text = Vec::new();
    for iov in table.chunks_exact(8) {
        let ptr = u32::from_le_bytes(iov[0..4].try_into().expect("4 bytes"));
        let len = u32::from_le_bytes(iov[4..8].try_into().expect("4 bytes"));
        text.extend_from_slice(&read_bytes(&env, ptr, len.min(64 * 1024)));
    }
    let n = text.len() as u32;
    let msg = String::from_utf8_lossy(&text).trim_end().to_owned();
    if !msg.is_empty() {
        let level = if fd == 2 { LogLevel::Error } else { LogLevel::Info };
        if let Some(inv) = env.data_mut().invocation.as_mut() {
            inv.push_log(level, msg);
        }
    }
    if write_bytes(&env, nwritten, &n.to_le_bytes()) {
        ESUCCESS
    } else {
        EFAULT
    }
}

pub fn fd_close(_fd: i32) -> i32 {
    EBADF
}

pub fn fd_fdstat_get(_fd: i32, _out: u32) -> i32 {
    EBADF
}

pub fn fd_seek(_fd: i32, _offset: i64, _whence: i32, _out: u32) -> i32 {
    EBADF
}
