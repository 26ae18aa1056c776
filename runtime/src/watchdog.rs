//! The backstop for timeouts.
//!
//! The guest's QuickJS interrupt handler stops JS at the deadline cleanly
//! (an uncatchable error; the instance stays usable). Code that never reaches
//! the handler, such as a long-running native builtin, is stopped here: a
//! single thread scans the armed invocations every few milliseconds and
//! interrupts a store still running past its deadline plus a grace period
//! (wasmer delivers SIGUSR1 to the executing thread, which traps). Arming is a
//! mutex-protected push, so the per-invocation cost stays well under 1 us.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use wasmer::sys::vm::interrupt_registry;
use wasmer::sys::vm::StoreId;

/// How long after its deadline a store is interrupted by signal. Kept short
/// so a stuck invocation ends within 50 ms of its deadline.
const GRACE: Duration = Duration::from_millis(10);
const SCAN_EVERY: Duration = Duration::from_millis(5);

struct Entry {
    token: u64,
    store: StoreId,
    deadline: Instant,
}

#[derive(Default)]
struct Table {
    next: u64,
    entries: Vec<Entry>,
}

fn table() -> &'static Mutex<Table> {
    static TABLE: OnceLock<Mutex<Table>> = OnceLock::new();
    TABLE.get_or_init(|| {
        std::thread::Builder::new().name("quasm-watchdog".into()).spawn(scan).expect("spawning the watchdog thread");
        Mutex::new(Table::default())
    })
}

fn scan() {
    loop {
        std::thread::sleep(SCAN_EVERY);
        let now = Instant::now();
        let t = table().lock();
        for e in t.entries.iter().filter(|e| e.deadline + GRACE <= now) {
            // Not running (between guest calls) is fine: the invoke loop's own
            // deadline ends the invocation then. Retried every scan.
            let _ = interrupt_registry::interrupt(e.store);
        }
    }
}

/// Disarms on drop.
pub struct Armed(u64);

/// Watches `store` until the returned guard drops.
pub fn arm(store: StoreId, deadline: Instant) -> Armed {
    let mut t = table().lock();
    t.next += 1;
    let token = t.next;
    t.entries.push(Entry { token, store, deadline });
    Armed(token)
}

impl Drop for Armed {
    fn drop(&mut self) {
        let mut t = table().lock();
        if let Some(i) = t.entries.iter().position(|e| e.token == self.0) {
            t.entries.swap_remove(i);
        }
    }
}
