//! The audit trail: sign-ins (and failed ones), role refusals, reloads,
//! backups, password changes, notification retries and failed-delivery
//! replays, each a durable row (`store::AuditEntry`) read back through
//! `GET /api/v1/audit`, `inbound audit` and the console's Audit page.

use super::{AppState, Caller};
use crate::roles::Role;
use crate::store::{AuditEntry, ChangeSet, Write};
use std::net::IpAddr;

/// What was done. Stored by name ([`Action::as_str`]), so the set can grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    SignIn,
    SignInFailed,
    SignOut,
    /// A known caller asked for a route above its role.
    Forbidden,
    Reload,
    Backup,
    SetPassword,
    NotificationRetry,
    FailedReplay,
    /// A shift taken, covered or cancelled.
    ShiftChange,
    /// A new calendar feed key (the old one stops working).
    CalendarKey,
    /// A maintenance window started, planned or ended early.
    Maintenance,
    /// Test messages sent to a person's contacts.
    ContactTest,
}

impl Action {
    pub const ALL: [Action; 13] = [
        Action::SignIn,
        Action::SignInFailed,
        Action::SignOut,
        Action::Forbidden,
        Action::Reload,
        Action::Backup,
        Action::SetPassword,
        Action::NotificationRetry,
        Action::FailedReplay,
        Action::ShiftChange,
        Action::CalendarKey,
        Action::Maintenance,
        Action::ContactTest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::SignIn => "sign_in",
            Action::SignInFailed => "sign_in_failed",
            Action::SignOut => "sign_out",
            Action::Forbidden => "forbidden",
            Action::Reload => "reload",
            Action::Backup => "backup",
            Action::SetPassword => "set_password",
            Action::NotificationRetry => "notification_retry",
            Action::FailedReplay => "failed_replay",
            Action::ShiftChange => "shift",
            Action::CalendarKey => "calendar_key",
            Action::Maintenance => "maintenance",
            Action::ContactTest => "contact_test",
        }
    }
}

/// One audit row, not yet stored.
pub struct Entry(AuditEntry);

impl Entry {
    pub fn new(
        actor: impl Into<String>,
        action: Action,
        client: Option<IpAddr>,
        detail: impl Into<String>,
    ) -> Entry {
        Entry(AuditEntry {
            id: 0,
            at: crate::store::now_millis(),
            actor: actor.into(),
            action: action.as_str().to_string(),
            client: client.map(|address| address.to_string()),
            detail: detail.into(),
        })
    }

    /// What `caller` did.
    pub fn by(
        caller: &Caller,
        action: Action,
        client: Option<IpAddr>,
        detail: impl Into<String>,
    ) -> Entry {
        Entry::new(caller.principal(), action, client, detail)
    }

    /// The row as the store keeps it, to commit with the change it records.
    pub fn into_entry(self) -> AuditEntry {
        self.0
    }

    /// `caller` asked for `route`, which needs `needed`.
    pub fn refused(caller: &Caller, client: Option<IpAddr>, needed: Role, route: &str) -> Entry {
        let detail = format!("{route} needs {needed}; the caller has {}", caller.role);
        Entry::by(caller, Action::Forbidden, client, detail)
    }
}

impl AppState {
    /// Records `entry` without waiting: for refusals and sign-in attempts,
    /// whose answer must not wait on a commit. A failure to store it is
    /// logged, with the entry.
    pub fn audit(&self, entry: Entry) {
        let store = self.store.clone();
        tokio::spawn(async move { store_entry(&store, entry).await });
    }

    /// Records `entry` and waits until it is durable: for actions that
    /// change something (a reload, a new password), recorded before the
    /// answer says they were done.
    pub async fn audit_now(&self, entry: Entry) {
        store_entry(&self.store, entry).await
    }
}

async fn store_entry(store: &crate::store::Store, Entry(entry): Entry) {
    let changes = ChangeSet { reads: Vec::new(), writes: vec![Write::AppendAudit(entry.clone())] };
    if let Err(error) = store.commit(changes).await {
        tracing::warn!(actor = %entry.actor, action = %entry.action, detail = %entry.detail, "could not store this audit entry: {error}");
    }
}
