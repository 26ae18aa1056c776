//! Plan-time checks that need no server: the same rules the API applies,
//! reported on the attribute that breaks them. Unknown values (known only
//! after apply) are not checked.

use croner::parser::{CronParser, Seconds};
use tf_provider::{AttributePath, Diagnostics};

use crate::shared::Str;

pub const ROLES: [&str; 4] = ["viewer", "developer", "operator", "admin"];

fn fail(diags: &mut Diagnostics, attr: AttributePath, summary: &str, detail: String) {
    diags.error(summary.to_owned(), detail, attr);
}

/// `name`: `^[a-z0-9][a-z0-9_-]{0,62}$` (functions and alert rules).
pub fn name(diags: &mut Diagnostics, attr: &str, v: &Str) {
    let Some(n) = v.as_ref_option() else { return };
    let ok = !n.is_empty()
        && n.len() <= 63
        && n.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && n.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if !ok {
        fail(
            diags,
            AttributePath::new(attr.to_owned()),
            "Invalid name",
            format!("{n:?}: 1-63 characters of a-z, 0-9, '_' and '-', starting with a letter or digit"),
        );
    }
}

/// One of a fixed set of words.
pub fn one_of(diags: &mut Diagnostics, attr: AttributePath, v: &Str, allowed: &[&str]) {
    let Some(s) = v.as_ref_option() else { return };
    if !allowed.contains(&s.as_str()) {
        fail(diags, attr, "Invalid value", format!("{s:?} is not one of {}", allowed.join(", ")));
    }
}

/// Cron: 5 fields, 6 with seconds first, or an alias (as the controller).
pub fn cron(diags: &mut Diagnostics, v: &Str) {
    let Some(expr) = v.as_ref_option() else { return };
    if let Err(msg) = cron_error(expr) {
        fail(diags, AttributePath::new("cron"), "Invalid cron expression", format!("{expr:?}: {msg}"));
    }
}

fn cron_error(expr: &str) -> Result<(), String> {
    let text = expr.trim();
    if text.is_empty() {
        return Err("is empty".into());
    }
    let parser = || CronParser::builder().seconds(Seconds::Optional).build();
    if let Some(alias) = text.strip_prefix('@') {
        const ALIASES: [&str; 7] = ["yearly", "annually", "monthly", "weekly", "daily", "midnight", "hourly"];
        if !ALIASES.iter().any(|a| a.eq_ignore_ascii_case(alias)) {
            return Err(format!("unknown alias @{alias}; use one of @{}", ALIASES.join(", @")));
        }
        return parser().parse(text).map(|_| ()).map_err(|e| e.to_string());
    }
    let fields: Vec<&str> = text.split_whitespace().collect();
    if !(5..=6).contains(&fields.len()) {
        return Err(format!(
            "has {} fields; expected 5 (minute hour day-of-month month day-of-week) or 6 (seconds first)",
            fields.len()
        ));
    }
    const NAMES: [&str; 6] = ["seconds", "minute", "hour", "day-of-month", "month", "day-of-week"];
    match parser().parse(text) {
        Ok(_) => Ok(()),
        Err(e) => {
            let names = &NAMES[6 - fields.len()..];
            for (i, field) in fields.iter().enumerate() {
                let probe: Vec<&str> = fields.iter().enumerate().map(|(j, f)| if i == j { *f } else { "*" }).collect();
                if let Err(fe) = parser().parse(&probe.join(" ")) {
                    return Err(format!("{} field {field:?}: {}", names[i], fe.to_string().trim_end_matches('.')));
                }
            }
            Err(e.to_string())
        }
    }
}

/// An IANA time zone name.
pub fn timezone(diags: &mut Diagnostics, v: &Str) {
    let Some(tz) = v.as_ref_option() else { return };
    if tz.parse::<chrono_tz::Tz>().is_err() {
        fail(
            diags,
            AttributePath::new("timezone"),
            "Invalid time zone",
            format!("{tz:?} is not an IANA time zone (e.g. \"Europe/Berlin\", \"UTC\")"),
        );
    }
}

/// A route path: starts with '/', `:name` parameters, a final `*`/`*name`
/// wildcard, literal segments without `{ } : * ? #`.
pub fn route_path(diags: &mut Diagnostics, v: &Str) {
    let Some(path) = v.as_ref_option() else { return };
    if let Err(msg) = route_path_error(path) {
        fail(diags, AttributePath::new("path"), "Invalid route path", format!("{path:?}: {msg}"));
    }
}

fn route_path_error(path: &str) -> Result<(), String> {
    if !path.starts_with('/') {
        return Err("must start with '/'".into());
    }
    if path.len() > 512 {
        return Err("at most 512 bytes".into());
    }
    let segments: Vec<&str> = path[1..].split('/').collect();
    let ident = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    for (i, seg) in segments.iter().enumerate() {
        if let Some(p) = seg.strip_prefix(':') {
            if !ident(p) {
                return Err(format!("parameter segment {seg:?}: a name of letters, digits and '_' follows ':'"));
            }
        } else if let Some(w) = seg.strip_prefix('*') {
            if i + 1 != segments.len() {
                return Err(format!("wildcard segment {seg:?} must be the last one"));
            }
            if !w.is_empty() && !ident(w) {
                return Err(format!("wildcard segment {seg:?}: a name of letters, digits and '_' follows '*'"));
            }
        } else if let Some(c) = seg.chars().find(|c| "{}:*?#".contains(*c)) {
            return Err(format!("segment {seg:?} contains {c:?}; use :name for parameters"));
        }
    }
    Ok(())
}

/// An HTTP method of a route (upper case, as the server shows it).
pub fn method(diags: &mut Diagnostics, v: &Str) {
    one_of(diags, AttributePath::new("method"), v, &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
}

/// A JSON document (`jsonencode(...)`); `object` demands a JSON object.
pub fn json(diags: &mut Diagnostics, attr: &str, v: &Str, object: bool) {
    let Some(text) = v.as_ref_option() else { return };
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(j) if object && !j.is_object() => fail(
            diags,
            AttributePath::new(attr.to_owned()),
            "Invalid JSON",
            format!("{attr} must be a JSON object, e.g. jsonencode({{ \"customer.tier\" = \"gold\" }})"),
        ),
        Ok(_) => {}
        Err(e) => fail(diags, AttributePath::new(attr.to_owned()), "Invalid JSON", format!("{attr}: {e}")),
    }
}

/// An RFC 3339 time.
pub fn rfc3339(diags: &mut Diagnostics, attr: &str, v: &Str) {
    let Some(t) = v.as_ref_option() else { return };
    if chrono::DateTime::parse_from_rfc3339(t).is_err() {
        fail(
            diags,
            AttributePath::new(attr.to_owned()),
            "Invalid time",
            format!("{t:?} is not an RFC 3339 time (e.g. \"2027-01-01T00:00:00Z\")"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_names_the_bad_field() {
        assert!(cron_error("0 0 * * *").is_ok());
        assert!(cron_error("@daily").is_ok());
        assert!(cron_error("*/5 * * * * *").is_ok());
        let e = cron_error("0 25 * * *").unwrap_err();
        assert!(e.contains("hour"), "{e}");
        assert!(cron_error("0 0 * *").unwrap_err().contains("4 fields"));
        assert!(cron_error("@sometimes").unwrap_err().contains("unknown alias"));
    }

    #[test]
    fn route_paths() {
        assert!(route_path_error("/orders/:id").is_ok());
        assert!(route_path_error("/files/*rest").is_ok());
        assert!(route_path_error("/").is_ok());
        assert!(route_path_error("orders").is_err());
        assert!(route_path_error("/a/{id}").is_err());
        assert!(route_path_error("/a/*/b").is_err());
        assert!(route_path_error("/a/:").is_err());
    }
}
