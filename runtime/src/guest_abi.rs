//! The host's view of the guest ABI in `runtime/guest/shim.c`.

use crate::error::RuntimeError;
use crate::result::ErrorInfo;

/// Which handler an invocation calls; the numbers are the shim's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HandlerKind {
    Run = 0,
    Fetch = 1,
    Scheduled = 2,
    Event = 3,
}

impl HandlerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HandlerKind::Run => "run",
            HandlerKind::Fetch => "fetch",
            HandlerKind::Scheduled => "scheduled",
            HandlerKind::Event => "event",
        }
    }
}

impl std::str::FromStr for HandlerKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "run" => Ok(HandlerKind::Run),
            "fetch" => Ok(HandlerKind::Fetch),
            "scheduled" => Ok(HandlerKind::Scheduled),
            "event" => Ok(HandlerKind::Event),
            other => Err(format!("unknown handler {other:?}: use run, fetch, scheduled or event")),
        }
    }
}

/// A JS exception as the shim reports it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct GuestError {
    #[serde(flatten)]
    pub info: ErrorInfo,
    #[serde(default)]
    pub uncatchable: bool,
    /// An allocation was refused during the call (memory limit reached).
    #[serde(default)]
    pub oom: bool,
}

/// What a guest entry point returned.
#[derive(Debug)]
pub enum GuestStatus {
    /// Finished; the OUT buffer's bytes.
    Done(Vec<u8>),
    /// Waiting on async ops or timers; ms until the next timer (-1: none).
    Pending {
        timer_ms: f64,
    },
    Error(GuestError),
}

impl GuestStatus {
    pub(crate) fn decode(code: i32, out: Vec<u8>) -> Result<Self, RuntimeError> {
        match code {
            0 => Ok(GuestStatus::Done(out)),
            1 => {
                #[derive(serde::Deserialize)]
                struct P {
                    timer_ms: f64,
                }
                let p: P = serde_json::from_slice(&out)
                    .map_err(|e| RuntimeError::Internal(format!("bad pending status: {e}")))?;
                Ok(GuestStatus::Pending { timer_ms: p.timer_ms })
            }
            2 => {
                let mut e: GuestError = serde_json::from_slice(&out).map_err(|e| {
                    RuntimeError::Internal(format!("bad error status: {e}: {}", String::from_utf8_lossy(&out)))
                })?;
                e.info.stack = e.info.stack.trim_end().to_owned();
                Ok(GuestStatus::Error(e))
            }
            other => Err(RuntimeError::Internal(format!("unknown guest status {other}"))),
        }
    }
}

/// Splits a framed result (`u32 meta_len | meta | body`).
pub(crate) fn split_framed(out: &[u8]) -> Result<(&[u8], &[u8]), RuntimeError> {
    if out.len() < 4 {
        return Err(RuntimeError::Internal("short result frame".into()));
    }
    let n = u32::from_le_bytes(out[..4].try_into().expect("4 bytes")) as usize;
    if out.len() < 4 + n {
        return Err(RuntimeError::Internal("truncated result frame".into()));
    }
    Ok((&out[4..4 + n], &out[4 + n..]))
}

/// Finds `file:line:column` of the first stack frame in `file`.
pub fn location_in(stack: &str, file: &str) -> Option<(u32, u32)> {
    for line in stack.lines() {
        if let Some(pos) = line.find(file) {
            let rest = &line[pos + file.len()..];
            let rest = rest.strip_prefix(':')?;
            let mut it = rest.split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty());
            let l = it.next()?.parse().ok()?;
            let c = it.next().and_then(|c| c.parse().ok()).unwrap_or(0);
            return Some((l, c));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_location() {
        assert_eq!(location_in("    at foo (fn.js:3:7)\n", "fn.js"), Some((3, 7)));
        assert_eq!(location_in("    at fn.js:12:1", "fn.js"), Some((12, 1)));
        assert_eq!(location_in("    at other.js:1:1", "fn.js"), None);
    }
}
