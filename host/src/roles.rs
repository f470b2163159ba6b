//! Who may do what: the roles of people and API tokens, in order of what
//! they allow. Each route of the API and the console names the least role
//! it needs (`http::routes`, `ui::routes`); a caller whose role is lower
//! gets `403` with a code naming the role it lacks.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Ordered: each role may do everything the ones before it may.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read `/metrics` and nothing else: for scrapers.
    Metrics,
    /// Read incidents, their logs, notifications and who is on call.
    Viewer,
    /// A viewer who also accepts and resolves incidents, replays failed
    /// deliveries, retries notifications and takes shifts.
    Responder,
    /// A responder who also reloads the config, downloads backups, sets
    /// passwords, and reads the sources and the audit trail.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Metrics, Role::Viewer, Role::Responder, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Metrics => "metrics",
            Role::Viewer => "viewer",
            Role::Responder => "responder",
            Role::Admin => "admin",
        }
    }

    /// Whether a caller with this role may use a route that needs `needed`.
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }

    /// The refusal code of a route that needs this role: `needs_responder`.
    pub fn refusal_code(self) -> String {
        format!("needs_{}", self.as_str())
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(text: &str) -> Result<Role, String> {
        Role::ALL.into_iter().find(|role| role.as_str() == text).ok_or_else(|| {
            format!("unknown role {text:?}: one of metrics, viewer, responder, admin")
        })
    }
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: health checks, the API description, webhooks (whose key in
    /// the path is their secret) and notification links (whose token is).
    Open,
    /// A signed-in caller (bearer token, or a console session) whose role
    /// allows at least this one.
    Needs(Role),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_allows_what_the_ones_below_it_allow() {
        assert!(Role::Admin.allows(Role::Responder));
        assert!(Role::Responder.allows(Role::Viewer));
        assert!(Role::Viewer.allows(Role::Metrics));
        assert!(!Role::Viewer.allows(Role::Responder));
        assert!(!Role::Metrics.allows(Role::Viewer));
        assert!(!Role::Responder.allows(Role::Admin));
    }

    #[test]
    fn roles_read_and_print_by_name() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("root".parse::<Role>().unwrap_err().contains("one of metrics"));
        assert_eq!(Role::Responder.refusal_code(), "needs_responder");
    }
}
