//! A function's `compatibility_date` as the API takes it; what the date
//! gates lives in the runtime (`quasm_runtime::compat`).

use crate::error::{ControllerError, Result};

/// `YYYY-MM-DD`, a real calendar date, not after today (UTC): a future
/// date would promise behaviour that does not exist yet.
pub(crate) fn date(s: &str) -> Result<chrono::NaiveDate> {
    let bad = |why: &str| ControllerError::invalid("compatibility_date", format!("compatibility_date: {s:?} {why}"));
    if !quasm_runtime::compat::valid_date(s) {
        return Err(bad("is not a date written YYYY-MM-DD (from 2000-01-01)"));
    }
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| bad("is not a date written YYYY-MM-DD"))?;
    if d > chrono::Utc::now().date_naive() {
        return Err(bad("is in the future"));
    }
    Ok(d)
}
