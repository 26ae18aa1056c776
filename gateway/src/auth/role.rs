//! Roles and the authenticated principal.
//!
//! Roles are ordered so that permission checks are a single comparison: a
//! higher role includes everything the lower ones may do.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::error::{excerpt, AuthError};

/// What a principal may do within its tenant, lowest first:
/// `Viewer < Developer < Operator < Admin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", try_from = "String")]
pub enum Role {
    /// Read-only access.
    Viewer,
    /// Deploys and invokes functions.
    Developer,
    /// Manages running workloads (scaling, triggers, secrets).
    Operator,
    /// Everything, including tenant administration.
    Admin,
}

impl Role {
    /// All roles, lowest first.
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Developer, Role::Operator, Role::Admin];

    /// The lowercase name used in tokens, the CLI and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Developer => "developer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name outside [`Role`]; the message lists the valid ones.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown role {0:?} (valid roles: viewer, developer, operator, admin)")]
pub struct ParseRoleError(String);

impl ParseRoleError {
    /// The rejected name (shortened if it was long).
    pub fn name(&self) -> &str {
        &self.0
    }
}

impl FromStr for Role {
    type Err = ParseRoleError;

    /// Exact lowercase names only, matching what tokens carry, so the CLI and
    /// the verifier agree on what a valid role is.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| ParseRoleError(excerpt(s)))
    }
}

impl TryFrom<String> for Role {
    type Error = ParseRoleError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// Who a verified token speaks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// The tenant every request is scoped to.
    pub tenant: String,
    /// The token's `sub`: a user or service account within the tenant.
    pub subject: String,
    /// As listed in the token, without duplicates.
    pub roles: Vec<Role>,
    /// From the configured permissions claim, untouched (none for API keys).
    #[serde(default)]
    pub permissions: Vec<String>,
}

impl Principal {
    /// True if any role is `needed` or higher.
    pub fn has(&self, needed: Role) -> bool {
        self.roles.iter().any(|r| *r >= needed)
    }

    /// Like [`Principal::has`], as an error a handler can return directly.
    pub fn require(&self, needed: Role) -> Result<(), AuthError> {
        if self.has(needed) {
            Ok(())
        } else {
            Err(AuthError::Forbidden(needed))
        }
    }

    /// The user behind invocations this principal starts (`ctx.user`).
    pub fn user(&self) -> quasm_runtime::InvocationUser {
        quasm_runtime::InvocationUser {
            id: self.subject.clone(),
            roles: self.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            permissions: self.permissions.clone(),
        }
    }

    /// The highest role held, if any.
    pub fn highest_role(&self) -> Option<Role> {
        self.roles.iter().copied().max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Viewer < Role::Developer);
        assert!(Role::Developer < Role::Operator);
        assert!(Role::Operator < Role::Admin);
    }

    #[test]
    fn names_round_trip_through_fromstr_display_and_serde() {
        for role in Role::ALL {
            assert_eq!(role.to_string().parse::<Role>(), Ok(role));
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
            assert_eq!(serde_json::from_str::<Role>(&json).unwrap(), role);
        }
    }

    #[test]
    fn unknown_role_lists_valid_ones() {
        let err = "superuser".parse::<Role>().unwrap_err();
        assert_eq!(err.name(), "superuser");
        assert_eq!(err.to_string(), "unknown role \"superuser\" (valid roles: viewer, developer, operator, admin)");
        // Case matters: tokens use lowercase names.
        assert!("Admin".parse::<Role>().is_err());
        let serde_err = serde_json::from_str::<Role>("\"root\"").unwrap_err();
        assert!(serde_err.to_string().contains("unknown role \"root\""), "{serde_err}");
    }

    #[test]
    fn has_includes_lower_roles() {
        let p =
            Principal { tenant: "acme".into(), subject: "u".into(), roles: vec![Role::Operator], permissions: vec![] };
        assert!(p.has(Role::Viewer));
        assert!(p.has(Role::Developer));
        assert!(p.has(Role::Operator));
        assert!(!p.has(Role::Admin));
        assert!(p.require(Role::Operator).is_ok());
        assert!(matches!(p.require(Role::Admin), Err(AuthError::Forbidden(Role::Admin))));
        assert_eq!(p.highest_role(), Some(Role::Operator));

        let none = Principal { roles: vec![], ..p };
        assert!(!none.has(Role::Viewer));
        assert_eq!(none.highest_role(), None);
    }
}
