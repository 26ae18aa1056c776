//! Compatibility dates: each function has one (by default the day it was
//! created), and every behaviour change of the in-function API is gated by
//! the date it shipped, so upgrading Quasm never changes what an existing
//! function sees. A function opts in to newer behaviour by moving its date
//! forward. The list below is the changelog; the README shows it too.

/// One gated change: functions whose compatibility date is on or after
/// `date` get it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub date: &'static str,
    pub name: &'static str,
    pub summary: &'static str,
}

/// `ctx.caller` is gone: `ctx.user.id` says who started the invocation.
pub const NO_CTX_CALLER: Change = Change {
    date: "2026-12-04",
    name: "no_ctx_caller",
    summary: "ctx.caller is no longer set; use ctx.user.id (ctx.user has the roles and permissions too)",
};

/// Every gated change, oldest first.
pub const CHANGES: &[Change] = &[NO_CTX_CALLER];

/// Whether `date` (`YYYY-MM-DD`; `None`: the newest behaviour) has `change`.
pub fn has(date: Option<&str>, change: Change) -> bool {
    // ISO dates compare as strings.
    date.is_none_or(|d| d >= change.date)
}

/// Whether `s` is a calendar date written `YYYY-MM-DD`.
pub fn valid_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num =
        |r: std::ops::Range<usize>| s.get(r).filter(|p| p.bytes().all(|c| c.is_ascii_digit()))?.parse::<u32>().ok();
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else { return false };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    y >= 2000 && (1..=days).contains(&d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_gate_changes() {
        assert!(has(None, NO_CTX_CALLER));
        assert!(has(Some("2026-12-04"), NO_CTX_CALLER));
        assert!(has(Some("2027-01-01"), NO_CTX_CALLER));
        assert!(!has(Some("2026-12-03"), NO_CTX_CALLER));
        assert!(CHANGES.windows(2).all(|w| w[0].date <= w[1].date), "oldest first");
        assert!(CHANGES.iter().all(|c| valid_date(c.date)));
    }

    #[test]
    fn only_calendar_dates_are_valid() {
        for ok in ["2026-12-04", "2024-02-29", "2000-01-01"] {
            assert!(valid_date(ok), "{ok}");
        }
        for bad in [
            "2026-13-01",
            "2026-02-29",
            "2026-1-1",
            "26-12-04",
            "2026/12/04",
            "1999-12-31",
            "2026-12-04T00",
            "２０２６-12-04",
        ] {
            assert!(!valid_date(bad), "{bad}");
        }
    }
}
