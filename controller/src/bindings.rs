//! The service bindings a function is granted (`"bindings": ["HOST"]`),
//! checked against what the operator configured and what the tenant may use.
//! The bindings themselves (configuration, calls, tokens) live in the
//! runtime (`quasm_runtime::host::bindings`).

use quasm_runtime::{BindingError, Bindings};

use crate::error::{ControllerError, Result};

/// At most this many per function.
const MAX: usize = 32;

/// Checks a function's `bindings` list for `tenant`; errors name the entry.
pub(crate) fn check(configured: &Bindings, tenant: &str, list: &[String]) -> Result<()> {
    if list.len() > MAX {
        return Err(ControllerError::invalid("bindings", format!("at most {MAX} bindings")));
    }
    for (i, name) in list.iter().enumerate() {
        let field = format!("bindings[{i}]");
        if list[..i].contains(name) {
            return Err(ControllerError::invalid(field, format!("{name:?} is listed twice")));
        }
        match configured.check_grant(tenant, name) {
            Ok(_) => {}
            Err(BindingError::Unknown(_)) => {
                let known: Vec<&str> = configured.names().collect();
                let hint = if known.is_empty() {
                    "none is configured".to_owned()
                } else {
                    format!("configured: {}", known.join(", "))
                };
                return Err(ControllerError::invalid(field, format!("no binding named {name:?} ({hint})")));
            }
            Err(e) => return Err(ControllerError::invalid(field, e.to_string())),
        }
    }
    Ok(())
}
