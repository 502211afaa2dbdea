//! The accounts of people signed in, kept in memory so a signed-in request does not read the
//! database to learn who is asking.
//!
//! An entry is the account and whether it manages anything, as read when the process's
//! commit count for its tenant ([`storage::Db::commits`]) stood at some value. It is used
//! only while
//!
//! - that count has not moved: any transaction this process commits in the tenant (a
//!   status changed, a role granted, a name edited, an account erased) or on the
//!   platform's tables makes every entry of the tenant stale, so this replica never acts
//!   on an account older than its own last write; and
//! - it is younger than [`RECHECK`]: another replica's or the command line's writes are
//!   seen within that time, as the published catalogue sees them.
//!
//! Only active accounts are kept. The session itself (its idle timer, "sign out
//! everywhere") is still checked in the session store on every request.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use tenant_router::TenantId;

use crate::store::entity::account;

/// How long an entry is trusted without a write of this process.
pub const RECHECK: Duration = Duration::from_secs(1);

/// Entries kept at most; past this the table starts again empty.
const MOST: usize = 10_000;

#[derive(Debug, Clone)]
struct Entry {
    account: account::Model,
    manages: bool,
    commits: u64,
    read_at: Instant,
}

/// Signed-in accounts by tenant and id.
#[derive(Debug, Default)]
pub(crate) struct Present {
    entries: RwLock<HashMap<(TenantId, String), Entry>>,
}

impl Present {
    /// The account and its "manages" flag, if kept and still current at `commits`.
    pub(crate) fn get(
        &self,
        tenant: &TenantId,
        id: &str,
        commits: u64,
    ) -> Option<(account::Model, bool)> {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        let e = entries.get(&(tenant.clone(), id.to_owned()))?;
        (e.commits == commits && e.read_at.elapsed() < RECHECK)
            .then(|| (e.account.clone(), e.manages))
    }

    /// Keeps what was read while the commit count stood at `commits` (taken before reading).
    pub(crate) fn put(
        &self,
        tenant: &TenantId,
        account: &account::Model,
        manages: bool,
        commits: u64,
    ) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MOST {
            entries.clear();
        }
        entries.insert(
            (tenant.clone(), account.id.clone()),
            Entry {
                account: account.clone(),
                manages,
                commits,
                read_at: Instant::now(),
            },
        );
    }
}
