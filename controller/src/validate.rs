//! Input rules shared by the API's resources. Each error names the field.

use std::collections::BTreeMap;

use crate::error::{ControllerError, Result};

/// Function and tenant names: `^[a-z0-9][a-z0-9_-]{0,62}$` (also enforced
/// by a database constraint).
pub fn name(field: &str, value: &str) -> Result<()> {
    let ok = !value.is_empty()
        && value.len() <= 63
        && value.as_bytes()[0].is_ascii_alphanumeric()
        && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(ControllerError::invalid(
            field,
            format!("{value:?} is not a valid name: use 1-63 characters a-z, 0-9, '_' and '-', starting with a letter or digit"),
        ))
    }
}

/// Text stored in a text column: Postgres cannot hold the NUL character.
pub fn no_nul(field: &str, value: &str) -> Result<()> {
    if value.contains('\0') {
        return Err(ControllerError::invalid(field, "must not contain the NUL character (\\u0000)"));
    }
    Ok(())
}

pub fn tags(tags: &[String]) -> Result<()> {
    if tags.len() > 32 {
        return Err(ControllerError::invalid("tags", "at most 32 tags"));
    }
    for (i, t) in tags.iter().enumerate() {
        if t.is_empty() || t.len() > 64 {
            return Err(ControllerError::invalid(format!("tags[{i}]"), "tags are 1-64 characters"));
        }
    }
    Ok(())
}

pub fn description(d: &str) -> Result<()> {
    if d.len() > 4096 {
        return Err(ControllerError::invalid("description", "at most 4096 bytes"));
    }
    Ok(())
}

/// Environment variable and secret names: like a shell variable.
pub fn variables<V: AsRef<str>>(field: &str, vars: &BTreeMap<String, V>) -> Result<()> {
    if vars.len() > 256 {
        return Err(ControllerError::invalid(field, "at most 256 entries"));
    }
    let mut total = 0;
    for (k, v) in vars {
        let ok = !k.is_empty()
            && k.len() <= 128
            && !k.as_bytes()[0].is_ascii_digit()
            && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !ok {
            return Err(ControllerError::invalid(
                format!("{field}.{k}"),
                "names use A-Z, a-z, 0-9 and '_', do not start with a digit, and are at most 128 characters",
            ));
        }
        total += k.len() + v.as_ref().len();
    }
    if total > 256 * 1024 {
        return Err(ControllerError::invalid(field, "at most 256 KiB in total"));
    }
    Ok(())
}

/// A secret and a variable may not share a name: which one the function
/// sees would be a guess.
pub fn distinct<'a>(env: &BTreeMap<String, String>, secrets: impl Iterator<Item = &'a String>) -> Result<()> {
    for k in secrets {
        if env.contains_key(k) {
            return Err(ControllerError::invalid(
                format!("secrets.{k}"),
                format!("{k} is also an env variable; use one name once"),
            ));
        }
    }
    Ok(())
}

pub fn sample_rate(field: &str, rate: f32) -> Result<()> {
    if !(0.0..=1.0).contains(&rate) {
        return Err(ControllerError::invalid(field, "must be between 0 (record no successes) and 1 (record all)"));
    }
    Ok(())
}

/// Source code size: bundles are loaded into every sandbox.
pub fn code(code: &str) -> Result<()> {
    if code.trim().is_empty() {
        return Err(ControllerError::invalid("code", "is empty"));
    }
    if code.len() > 5 * 1024 * 1024 {
        return Err(ControllerError::invalid("code", "at most 5 MiB"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(name("name", "pricing-v2_a").is_ok());
        for bad in ["", "-x", "Upper", "sp ace", "é", &"a".repeat(64)] {
            let e = name("name", bad).unwrap_err().to_string();
            assert!(e.starts_with("name: "), "{e}");
        }
    }

    #[test]
    fn variables_name_the_bad_key() {
        let vars = BTreeMap::from([("OK_1".to_string(), "v".to_string()), ("1BAD".into(), "v".into())]);
        assert!(variables("env", &vars).unwrap_err().to_string().starts_with("env.1BAD:"));
    }
}
