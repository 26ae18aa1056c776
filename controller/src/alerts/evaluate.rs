//! The alert state machine: what one outcome of a function does to the
//! state of a (rule, function) pair, and whether it sends a notification.
//!
//! [`decide`] is pure; [`Alerts::evaluate`] applies it under a row lock
//! on `alert_state`, so several `quasm` processes sharing the database count
//! consecutive failures and claim each notification exactly once.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Kind, Observed};
use crate::alerts::Alerts;
use crate::error::Result;

/// What a rule asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terms {
    pub on_failure: bool,
    /// Notify once per failing streak when it reaches this length.
    pub consecutive: Option<i32>,
    pub on_recovery: bool,
    /// At most one failure notification per interval; recoveries are
    /// never held back.
    pub min_interval: Duration,
}

impl Terms {
    /// A rule that notifies nothing but recoveries treats every failing
    /// streak as worth a recovery message.
    fn recovery_only(&self) -> bool {
        !self.on_failure && self.consecutive.is_none()
    }
}

/// The persistent state of one (rule, function) pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct State {
    pub consecutive: i32,
    /// Whether the current failing streak has been notified (a recovery
    /// message then follows it).
    pub alerted: bool,
    /// Whether the streak's "N consecutive failures" message went out.
    pub streak_notified: bool,
    pub last_notified_at: Option<DateTime<Utc>>,
    /// Failures held back by the rate limit since the last notification.
    pub suppressed: i32,
}

/// A notification to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notify {
    pub kind: Kind,
    /// Failing streak length (for a recovery: the streak that ended).
    pub consecutive: i32,
    /// Failures not notified because of the rate limit, reported with this one.
    pub suppressed: i32,
}

/// The next state after one outcome, and what to send.
pub fn decide(terms: &Terms, mut s: State, failed: bool, now: DateTime<Utc>) -> (State, Option<Notify>) {
    if !failed {
        if s.consecutive == 0 {
            return (s, None);
        }
        let notify = (terms.on_recovery && (s.alerted || terms.recovery_only())).then_some(Notify {
            kind: Kind::Recovery,
            consecutive: s.consecutive,
            suppressed: s.suppressed,
        });
        s.consecutive = 0;
        s.alerted = false;
        s.streak_notified = false;
        s.suppressed = 0;
        return (s, notify);
    }
    s.consecutive = s.consecutive.saturating_add(1);
    // The streak alert fires at the N-th failure, or at the first later
    // one the rate limit lets through, and then not again in the streak.
    let kind = match terms.consecutive {
        Some(n) if !s.streak_notified && s.consecutive >= n => Some(Kind::Consecutive),
        _ if terms.on_failure => Some(Kind::Failure),
        _ => None,
    };
    let Some(kind) = kind else { return (s, None) };
    let limited = s.last_notified_at.is_some_and(|at| {
        let since = now.signed_duration_since(at).to_std().unwrap_or(Duration::ZERO);
        since < terms.min_interval
    });
    if limited {
        s.suppressed = s.suppressed.saturating_add(1);
        return (s, None);
    }
    let notify = Notify { kind, consecutive: s.consecutive, suppressed: s.suppressed };
    s.suppressed = 0;
    s.last_notified_at = Some(now);
    s.alerted = true;
    s.streak_notified |= kind == Kind::Consecutive;
    (s, Some(notify))
}

impl Alerts {
    /// Applies one outcome to `rule`'s state for the observed function;
    /// returns the notification it claimed, if any. A rule deleted or
    /// disabled meanwhile does nothing.
    pub(crate) async fn evaluate(&self, rule_id: i64, o: &Observed) -> Result<Option<Notify>> {
        let mut db = self.core.db().await?;
        let tx = db.transaction().await?;
        let Some(row) = tx
            .query_opt(
                "SELECT on_failure, consecutive_failures, on_recovery, min_interval_secs FROM alert_rules
                 WHERE id = $1 AND tenant_id = $2 AND enabled",
                &[&rule_id, &o.tenant],
            )
            .await?
        else {
            return Ok(None);
        };
        let terms = Terms {
            on_failure: row.get(0),
            consecutive: row.get(1),
            on_recovery: row.get(2),
            min_interval: Duration::from_secs(row.get::<_, i32>(3).max(0) as u64),
        };
        if o.failed {
            // Successes never create state: most pairs never fail.
            tx.execute(
                "INSERT INTO alert_state (rule_id, function_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&rule_id, &o.function_id],
            )
            .await?;
        }
        let Some(row) = tx
            .query_opt(
                "SELECT consecutive_failures, alerted, streak_notified, last_notified_at, suppressed FROM alert_state
                 WHERE rule_id = $1 AND function_id = $2 FOR UPDATE",
                &[&rule_id, &o.function_id],
            )
            .await?
        else {
            return Ok(None);
        };
        let before = State {
            consecutive: row.get(0),
            alerted: row.get(1),
            streak_notified: row.get(2),
            last_notified_at: row.get(3),
            suppressed: row.get(4),
        };
        let (after, notify) = decide(&terms, before, o.failed, Utc::now());
        if after != before {
            tx.execute(
                "UPDATE alert_state SET consecutive_failures = $3, alerted = $4, streak_notified = $5,
                 last_notified_at = $6, suppressed = $7 WHERE rule_id = $1 AND function_id = $2",
                &[
                    &rule_id,
                    &o.function_id,
                    &after.consecutive,
                    &after.alerted,
                    &after.streak_notified,
                    &after.last_notified_at,
                    &after.suppressed,
                ],
            )
            .await?;
            tx.commit().await?;
        }
        Ok(notify)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAIL: bool = true;
    const OK: bool = false;

    fn run(terms: Terms, steps: &[(bool, i64)]) -> Vec<Option<(Kind, i32, i32)>> {
        let t0 = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let mut s = State::default();
        steps
            .iter()
            .map(|&(failed, at)| {
                let (next, n) = decide(&terms, s, failed, t0 + chrono::Duration::seconds(at));
                s = next;
                n.map(|n| (n.kind, n.consecutive, n.suppressed))
            })
            .collect()
    }

    fn terms(on_failure: bool, consecutive: Option<i32>, on_recovery: bool, secs: u64) -> Terms {
        Terms { on_failure, consecutive, on_recovery, min_interval: Duration::from_secs(secs) }
    }

    #[test]
    fn consecutive_fires_once_per_streak_and_recovery_follows() {
        let got = run(terms(false, Some(3), true, 0), &[(FAIL, 0), (FAIL, 1), (FAIL, 2), (FAIL, 3), (OK, 4), (OK, 5)]);
        assert_eq!(got, [None, None, Some((Kind::Consecutive, 3, 0)), None, Some((Kind::Recovery, 4, 0)), None]);
        // A success in between restarts the count.
        let got = run(terms(false, Some(2), true, 0), &[(FAIL, 0), (OK, 1), (FAIL, 2), (FAIL, 3)]);
        assert_eq!(got, [None, None, None, Some((Kind::Consecutive, 2, 0))], "no recovery for an unnotified streak");
    }

    #[test]
    fn rate_limit_counts_what_it_holds_back() {
        let got = run(terms(true, None, true, 60), &[(FAIL, 0), (FAIL, 10), (FAIL, 20), (FAIL, 61), (OK, 62)]);
        assert_eq!(
            got,
            [Some((Kind::Failure, 1, 0)), None, None, Some((Kind::Failure, 4, 2)), Some((Kind::Recovery, 4, 0))]
        );
    }

    #[test]
    fn recovery_is_never_held_back_but_needs_a_notified_streak() {
        let t = terms(true, None, true, 60);
        // Second streak's failure is rate-limited, so it has nothing to recover from.
        let got = run(t, &[(FAIL, 0), (OK, 1), (FAIL, 2), (OK, 3)]);
        assert_eq!(got, [Some((Kind::Failure, 1, 0)), Some((Kind::Recovery, 1, 0)), None, None]);
        // A recovery-only rule reports every streak's end.
        let got = run(terms(false, None, true, 60), &[(FAIL, 0), (FAIL, 1), (OK, 2)]);
        assert_eq!(got, [None, None, Some((Kind::Recovery, 2, 0))]);
    }

    #[test]
    fn a_rate_limited_streak_alert_fires_at_the_next_allowed_failure() {
        let t = terms(false, Some(2), false, 60);
        let got = run(t, &[(FAIL, 0), (FAIL, 1), (OK, 2), (FAIL, 3), (FAIL, 4), (FAIL, 70), (FAIL, 200)]);
        assert_eq!(
            got,
            [None, Some((Kind::Consecutive, 2, 0)), None, None, None, Some((Kind::Consecutive, 3, 1)), None]
        );
    }

    #[test]
    fn failure_and_streak_together() {
        let got = run(terms(true, Some(2), false, 0), &[(FAIL, 0), (FAIL, 1), (FAIL, 2)]);
        assert_eq!(got, [Some((Kind::Failure, 1, 0)), Some((Kind::Consecutive, 2, 0)), Some((Kind::Failure, 3, 0))]);
    }
}
