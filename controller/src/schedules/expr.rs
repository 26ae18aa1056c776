//! Cron expressions in a time zone, and the slots they produce.
//!
//! Syntax: the standard 5 fields (minute hour day-of-month month
//! day-of-week), or 6 with a leading seconds field, or one of `@yearly`
//! (`@annually`), `@monthly`, `@weekly`, `@daily` (`@midnight`), `@hourly`.
//! Parsing and matching are croner's; this module adds clear errors and the
//! daylight-saving rules:
//!
//! - A schedule runs on wall-clock time in its zone, and each wall-clock
//!   slot runs at most once.
//! - In the repeated hour when clocks go back, a slot runs at its first
//!   occurrence only (`30 1 * * *` runs once; `0 * * * *` runs at 01:00
//!   once, then at 02:00).
//! - A slot that does not exist because clocks go forward runs once, at the
//!   first instant after the gap (`30 2 * * *` runs at 03:00 that day);
//!   several slots swallowed by one gap still run only once, and not at all
//!   when the first instant after the gap is itself a slot.

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use croner::parser::{CronParser, Seconds};
use croner::Cron;

use crate::error::{ControllerError, Result};

/// A parsed expression and its zone.
#[derive(Clone)]
pub struct CronSchedule {
    cron: Cron,
    tz: Tz,
}

const FIELDS: [&str; 6] = ["seconds", "minute", "hour", "day-of-month", "month", "day-of-week"];
const ALIASES: [&str; 8] = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly", "@reboot"];

/// How far ahead a schedule must fire at least once to be accepted
/// (`0 0 30 2 *`, February 30th, never does).
const HORIZON_YEARS: i32 = 8;

fn parser() -> CronParser {
    CronParser::builder().seconds(Seconds::Optional).build()
}

/// Parses `cron`; the error names what is wrong (field, alias, count).
pub fn parse_cron(cron: &str) -> Result<Cron> {
    let bad = |m: String| ControllerError::invalid("cron", format!("{cron:?}: {m}"));
    let text = cron.trim();
    if text.is_empty() {
        return Err(bad("is empty".into()));
    }
    if text.len() > 200 {
        return Err(bad("at most 200 characters".into()));
    }
    if let Some(alias) = text.strip_prefix('@') {
        let known = ALIASES[..7].iter().any(|a| a[1..].eq_ignore_ascii_case(alias));
        if !known {
            return Err(bad(format!(
                "unknown alias @{alias}; use one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly"
            )));
        }
        return parser().parse(text).map_err(|e| bad(e.to_string()));
    }
    let fields: Vec<&str> = text.split_whitespace().collect();
    if !(5..=6).contains(&fields.len()) {
        return Err(bad(format!(
            "has {} fields; expected 5 (minute hour day-of-month month day-of-week) or 6 (seconds first)",
            fields.len()
        )));
    }
    let names = &FIELDS[6 - fields.len()..];
    for (field, name) in fields.iter().zip(names) {
        check_field(name, field).map_err(|m| bad(format!("{name} field {field:?}: {m}")))?;
    }
    match parser().parse(text) {
        Ok(c) => Ok(c),
        Err(e) => {
            // Name the field: parse each alone with every other one a '*'.
            for (i, field) in fields.iter().enumerate() {
                let probe: Vec<&str> = fields.iter().enumerate().map(|(j, f)| if i == j { *f } else { "*" }).collect();
                if let Err(fe) = parser().parse(&probe.join(" ")) {
                    return Err(bad(format!("{} field {field:?}: {}", names[i], describe(&fe))));
                }
            }
            Err(bad(describe(&e)))
        }
    }
}

const MONTHS: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// Checks what croner lets through: it replaces month and day names
/// anywhere in the expression (`0 9 * * JAN` would run on Mondays) and
/// accepts empty list items (`1,,2`). Names belong to their own field only;
/// the letters `L` and `W` only where croner gives them a meaning.
fn check_field(name: &str, field: &str) -> std::result::Result<(), String> {
    if field.split(',').any(str::is_empty) {
        return Err("has an empty item in its list".into());
    }
    let allowed: &[&str] = match name {
        "month" => &MONTHS,
        "day-of-week" => &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", "L"],
        "day-of-month" => &["L", "W", "LW"],
        _ => &[],
    };
    let words = field.split(|c: char| !c.is_ascii_alphabetic()).filter(|w| !w.is_empty());
    for word in words {
        let upper = word.to_ascii_uppercase();
        if allowed.contains(&upper.as_str()) {
            continue;
        }
        return Err(if MONTHS.contains(&upper.as_str()) {
            format!("{word:?} is a month name; months go in the month field (the 4th of 5)")
        } else if DAYS.contains(&upper.as_str()) {
            format!("{word:?} is a day name; days go in the day-of-week field (the last)")
        } else if allowed.is_empty() {
            format!("{word:?}: this field takes numbers only")
        } else {
            format!("{word:?} is not allowed here; use one of {}", allowed.join(", "))
        });
    }
    Ok(())
}

fn describe(e: &croner::errors::CronError) -> String {
    e.to_string().trim_end_matches('.').to_lowercase()
}

/// Parses an IANA zone name (`Europe/Paris`, `UTC`).
pub fn parse_timezone(tz: &str) -> Result<Tz> {
    tz.parse::<Tz>().map_err(|_| {
        ControllerError::invalid(
            "timezone",
            format!("{tz:?} is not an IANA time zone (e.g. \"Europe/Paris\", \"UTC\")"),
        )
    })
}

impl CronSchedule {
    /// Parses and checks that the schedule fires at all.
    pub fn new(cron: &str, timezone: &str) -> Result<Self> {
        let s = Self { cron: parse_cron(cron)?, tz: parse_timezone(timezone)? };
        let now = Utc::now();
        match s.next_after(now) {
            Some(t) if t.year_diff(now) <= HORIZON_YEARS => Ok(s),
            _ => Err(ControllerError::invalid(
                "cron",
                format!("{cron:?} never fires (no slot in the next {HORIZON_YEARS} years)"),
            )),
        }
    }

    /// The first slot strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.slots_after(after).next()
    }

    /// Slots strictly after `after`, in order, with the DST rules above.
    pub fn slots_after(&self, after: DateTime<Utc>) -> impl Iterator<Item = DateTime<Utc>> + '_ {
        // The wall clock is matched as if it were UTC; each wall-clock slot
        // is then placed in the zone. Starting a little before `after`'s
        // wall time covers a repeated hour (its wall time goes backwards).
        let wall = after.with_timezone(&self.tz).naive_local() - chrono::Duration::hours(3);
        let start = Utc.from_utc_datetime(&wall);
        let mut last = after;
        self.cron
            .iter_from(start, croner::Direction::Forward)
            .filter_map(move |w| {
                let t = self.place(w.naive_utc())?;
                (t > last).then(|| {
                    last = t;
                    t
                })
            })
            .take_while(move |t| t.year_diff(after) <= HORIZON_YEARS)
    }

    /// The instant of wall-clock time `w` in the zone.
    fn place(&self, w: NaiveDateTime) -> Option<DateTime<Utc>> {
        match self.tz.from_local_datetime(&w) {
            LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
            // Repeated hour: the first occurrence.
            LocalResult::Ambiguous(first, _) => Some(first.with_timezone(&Utc)),
            // Gap: the first instant after it. Transitions fall on whole
            // minutes, so step minute by minute (gaps last an hour or less).
            LocalResult::None => {
                let mut m = w.with_second(0)?.with_nanosecond(0)?;
                for _ in 0..24 * 60 {
                    m += chrono::Duration::minutes(1);
                    match self.tz.from_local_datetime(&m) {
                        LocalResult::Single(t) => return Some(t.with_timezone(&Utc)),
                        LocalResult::Ambiguous(t, _) => return Some(t.with_timezone(&Utc)),
                        LocalResult::None => {}
                    }
                }
                None
            }
        }
    }
}

trait YearDiff {
    fn year_diff(&self, from: DateTime<Utc>) -> i32;
}

impl YearDiff for DateTime<Utc> {
    fn year_diff(&self, from: DateTime<Utc>) -> i32 {
        use chrono::Datelike;
        self.year() - from.year()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn slots(cron: &str, tz: &str, after: &str, n: usize) -> Vec<String> {
        let s = CronSchedule::new(cron, tz).unwrap();
        s.slots_after(utc(after)).take(n).map(|t| t.with_timezone(&s.tz).to_rfc3339()).collect()
    }

    #[test]
    fn five_and_six_fields_and_aliases() {
        assert_eq!(
            slots("*/15 * * * *", "UTC", "2026-01-01T00:00:00Z", 3),
            ["2026-01-01T00:15:00+00:00", "2026-01-01T00:30:00+00:00", "2026-01-01T00:45:00+00:00"]
        );
        assert_eq!(
            slots("*/20 * * * * *", "UTC", "2026-01-01T00:00:00Z", 2),
            ["2026-01-01T00:00:20+00:00", "2026-01-01T00:00:40+00:00"]
        );
        assert_eq!(slots("@daily", "Europe/Paris", "2026-01-01T12:00:00Z", 1), ["2026-01-02T00:00:00+01:00"]);
        assert_eq!(slots("@hourly", "UTC", "2026-01-01T00:00:00Z", 1), ["2026-01-01T01:00:00+00:00"]);
        assert_eq!(slots("@weekly", "UTC", "2026-01-01T00:00:00Z", 1), ["2026-01-04T00:00:00+00:00"]);
        assert_eq!(slots("@monthly", "UTC", "2026-01-01T00:00:00Z", 1), ["2026-02-01T00:00:00+00:00"]);
        assert_eq!(slots("@yearly", "UTC", "2026-01-01T00:00:00Z", 1), ["2027-01-01T00:00:00+00:00"]);
    }

    #[test]
    fn spring_forward_gap_runs_once_right_after_it() {
        // America/New_York, 2026-03-08: 02:00 EST jumps to 03:00 EDT.
        assert_eq!(
            slots("30 2 * * *", "America/New_York", "2026-03-07T12:00:00Z", 3),
            ["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00", "2026-03-10T02:30:00-04:00"]
        );
        // 02:00 and 02:30 vanish; 03:00 is a slot itself: it runs once.
        assert_eq!(
            slots("*/30 * * * *", "America/New_York", "2026-03-08T05:45:00Z", 4),
            [
                "2026-03-08T01:00:00-05:00",
                "2026-03-08T01:30:00-05:00",
                "2026-03-08T03:00:00-04:00",
                "2026-03-08T03:30:00-04:00"
            ]
        );
        // 02:15 and 02:45 vanish; one run right after the gap.
        assert_eq!(
            slots("15,45 * * * *", "America/New_York", "2026-03-08T06:00:00Z", 4),
            [
                "2026-03-08T01:15:00-05:00",
                "2026-03-08T01:45:00-05:00",
                "2026-03-08T03:00:00-04:00",
                "2026-03-08T03:15:00-04:00"
            ]
        );
    }

    #[test]
    fn fall_back_hour_does_not_run_twice() {
        // America/New_York, 2026-11-01: 02:00 EDT goes back to 01:00 EST.
        assert_eq!(
            slots("30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z", 2),
            ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"]
        );
        assert_eq!(
            slots("0 * * * *", "America/New_York", "2026-11-01T03:30:00Z", 3),
            ["2026-11-01T00:00:00-04:00", "2026-11-01T01:00:00-04:00", "2026-11-01T02:00:00-05:00"]
        );
        // Asked from inside the second 01:00-02:00, nothing repeats.
        assert_eq!(
            slots("*/30 * * * *", "America/New_York", "2026-11-01T06:10:00Z", 2),
            ["2026-11-01T02:00:00-05:00", "2026-11-01T02:30:00-05:00"]
        );
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let msg = |c: &str| CronSchedule::new(c, "UTC").err().unwrap().to_string();
        assert!(msg("61 * * * *").contains("minute field \"61\""), "{}", msg("61 * * * *"));
        assert!(msg("* 24 * * *").contains("hour field"), "{}", msg("* 24 * * *"));
        assert!(msg("* * * * * * *").contains("has 7 fields"), "{}", msg("* * * * * * *"));
        assert!(msg("* * *").contains("has 3 fields"));
        assert!(msg("@often").contains("unknown alias @often"));
        assert!(msg("*/0 * * * *").contains("step cannot be zero"), "{}", msg("*/0 * * * *"));
        assert!(msg("0 0 30 2 *").contains("never fires"), "{}", msg("0 0 30 2 *"));
        assert!(msg("").contains("is empty"));
        let tz = CronSchedule::new("* * * * *", "Mars/Olympus").err().unwrap().to_string();
        assert!(tz.contains("not an IANA time zone"), "{tz}");
    }

    #[test]
    fn names_only_in_their_own_field_and_no_empty_list_items() {
        let msg = |c: &str| CronSchedule::new(c, "UTC").err().map(|e| e.to_string()).unwrap_or_default();
        for (cron, field) in [
            ("0 9 * * JAN", "day-of-week field \"JAN\""),
            ("0 0 * * MAR-MAY", "day-of-week field \"MAR-MAY\""),
            ("0 0 * FRI-SAT *", "month field \"FRI-SAT\""),
            ("MON 0 * * *", "minute field \"MON\""),
            ("JAN * * * * *", "seconds field \"JAN\""),
            ("1,,2 * * * *", "minute field \"1,,2\""),
            (",30 * * * *", "minute field \",30\""),
            ("1, * * * *", "minute field \"1,\""),
            ("0 0 * * 1,", "day-of-week field \"1,\""),
            ("0 0 W * *", "day-of-month field \"W\""),
            ("0 0 * * MONDAY", "day-of-week field \"MONDAY\""),
        ] {
            let m = msg(cron);
            assert!(m.starts_with("cron: ") && m.contains(field), "{cron}: {m}");
        }
        assert!(msg("0 9 * * JAN").contains("is a month name"), "{}", msg("0 9 * * JAN"));
        // The right names in the right fields still work, in any case.
        for ok in ["0 9 * JAN MON", "0 0 * mar-may fri", "0 0 L * *", "0 0 * * 5L", "0 0 * * FRI#2", "*/10 * * * * *"] {
            assert_eq!(msg(ok), "", "{ok}");
        }
        let feb = slots("0 9 * FEB MON", "UTC", "2026-01-01T00:00:00Z", 1);
        assert_eq!(feb, ["2026-02-02T09:00:00+00:00"]);
    }
}

/// Properties over arbitrary input (proptest): the parser never panics, and
/// whatever it accepts yields strictly increasing slots.
#[cfg(test)]
mod props {
    use chrono::{TimeZone, Utc};
    use proptest::prelude::*;

    use super::*;

    fn cronish() -> impl Strategy<Value = String> {
        let field = proptest::string::string_regex("[0-9*/,LW#?A-Za-z-]{1,8}").unwrap();
        proptest::collection::vec(field, 1..8).prop_map(|f| f.join(" "))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn any_text_is_parsed_or_refused_naming_cron(s in "\\PC{0,60}") {
            if let Err(e) = parse_cron(&s) {
                prop_assert!(e.to_string().starts_with("cron: "));
            }
        }

        #[test]
        fn accepted_expressions_fire_in_order(s in cronish(), start in 0i64..4_000_000_000) {
            if let Ok(c) = CronSchedule::new(&s, "Europe/Berlin") {
                let after = Utc.timestamp_opt(start, 0).unwrap();
                let slots: Vec<_> = c.slots_after(after).take(5).collect();
                prop_assert!(slots.iter().all(|t| *t > after));
                prop_assert!(slots.windows(2).all(|w| w[0] < w[1]), "{s}: {slots:?}");
            }
        }
    }
}
