//! Per-function resource limits and the operator's maxima that clamp them.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Limits of one function. Every field has a default that works out of the
/// box; [`OperatorMaxima::clamp`] caps what a function may ask for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Wall-clock budget of one invocation, including awaited I/O and timers.
    pub timeout_ms: u64,
    /// Cap on the sandbox's memory (JS heap plus the guest's stack and data).
    pub memory_mb: u32,
    /// Log bytes kept per invocation; the rest is dropped and flagged.
    pub max_log_bytes: usize,
    /// Largest result (JSON output or response body) a handler may return.
    pub max_output_bytes: usize,
    /// Outbound `fetch` calls per invocation.
    pub max_subrequests: u32,
    /// Largest response body one `fetch` may read.
    pub max_fetch_response_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            timeout_ms: 30_000,
            memory_mb: 128,
            max_log_bytes: 256 * 1024,
            max_output_bytes: 6 * 1024 * 1024,
            max_subrequests: 50,
            max_fetch_response_bytes: 10 * 1024 * 1024,
        }
    }
}

impl Limits {
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    pub fn memory_bytes(&self) -> u64 {
        u64::from(self.memory_mb) * 1024 * 1024
    }
}

/// Upper bounds set by the operator; functions cannot exceed them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OperatorMaxima {
    pub timeout_ms: u64,
    pub memory_mb: u32,
    pub max_log_bytes: usize,
    pub max_output_bytes: usize,
    pub max_subrequests: u32,
    pub max_fetch_response_bytes: usize,
}

impl Default for OperatorMaxima {
    fn default() -> Self {
        Self {
            timeout_ms: 15 * 60 * 1000,
            memory_mb: 256,
            max_log_bytes: 4 * 1024 * 1024,
            max_output_bytes: 32 * 1024 * 1024,
            max_subrequests: 1000,
            max_fetch_response_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Smallest memory cap that still fits the guest's 1 MiB stack, data and an
/// initialised QuickJS runtime.
pub const MIN_MEMORY_MB: u32 = 8;

impl OperatorMaxima {
    /// Returns `limits` with every field capped at the operator's maximum.
    pub fn clamp(&self, limits: &Limits) -> Limits {
        Limits {
            timeout_ms: limits.timeout_ms.clamp(1, self.timeout_ms),
            memory_mb: limits.memory_mb.clamp(MIN_MEMORY_MB, self.memory_mb),
            max_log_bytes: limits.max_log_bytes.min(self.max_log_bytes),
            max_output_bytes: limits.max_output_bytes.min(self.max_output_bytes),
            max_subrequests: limits.max_subrequests.min(self.max_subrequests),
            max_fetch_response_bytes: limits.max_fetch_response_bytes.min(self.max_fetch_response_bytes),
        }
    }

    /// Explains the first field of `limits` above the maximum, for APIs that
    /// reject rather than clamp.
    pub fn validate(&self, limits: &Limits) -> Result<(), String> {
        let over = |name: &str, v: u64, max: u64| {
            if v > max {
                Err(format!("limits.{name} is {v}, above the operator maximum {max}"))
            } else {
                Ok(())
            }
        };
        over("timeout_ms", limits.timeout_ms, self.timeout_ms)?;
        over("memory_mb", limits.memory_mb.into(), self.memory_mb.into())?;
        over("max_log_bytes", limits.max_log_bytes as u64, self.max_log_bytes as u64)?;
        over("max_output_bytes", limits.max_output_bytes as u64, self.max_output_bytes as u64)?;
        over("max_subrequests", limits.max_subrequests.into(), self.max_subrequests.into())?;
        over("max_fetch_response_bytes", limits.max_fetch_response_bytes as u64, self.max_fetch_response_bytes as u64)?;
        if limits.timeout_ms == 0 {
            return Err("limits.timeout_ms must be at least 1".into());
        }
        if limits.memory_mb < MIN_MEMORY_MB {
            return Err(format!("limits.memory_mb must be at least {MIN_MEMORY_MB}"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamp_caps_each_field() {
        let max = OperatorMaxima::default();
        let asked = Limits { memory_mb: 4096, timeout_ms: u64::MAX, ..Limits::default() };
        let got = max.clamp(&asked);
        assert_eq!(got.memory_mb, 256);
        assert_eq!(got.timeout_ms, max.timeout_ms);
        assert!(max
            .validate(&Limits { memory_mb: 4096, ..Limits::default() })
            .unwrap_err()
            .contains("memory_mb is 4096"));
        assert!(max.validate(&Limits::default()).is_ok());
    }
}
