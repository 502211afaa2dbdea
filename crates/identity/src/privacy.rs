//! Identity's side of the privacy engine ([`privacy_engine::Accounts`]): the accounts
//! retention may act on, switching them off and deleting them, who is told of notice
//! changes. The account and membership tables and the account status values are
//! identity's; the engine reaches them only through this.

use chrono::{DateTime, Utc};
use privacy_engine::PrivacyError;
use privacy_engine::accounts::{AccountCandidate, Accounts, Correction, Recipient, SwitchOff};
use privacy_engine::domain::executor::ReviewKind;
use sea_orm::{ConnectionTrait as _, DbBackend, FromQueryResult};
use storage::alerts::{Frequency, Recipient as Alerted};
use storage::sql::Sql;
use storage::{StorageError, TenantTx};
use tenant_router::{TenantConfig, TenantId};

use crate::store::{self, status};
use crate::{Identity, IdentityError};

fn backend(tx: &TenantTx) -> DbBackend {
    (**tx).get_database_backend()
}

fn privacy_error(e: IdentityError) -> PrivacyError {
    match e {
        IdentityError::Invalid(problems) => {
            PrivacyError::Invalid(problems.into_iter().map(|p| (p.field, p.message)).collect())
        }
        IdentityError::Store(e) => PrivacyError::Store(e),
        IdentityError::Privacy(e) => e,
        other => PrivacyError::Accounts(other.to_string()),
    }
}

async fn execute(tx: &TenantTx, sql: Sql) -> Result<u64, PrivacyError> {
    Ok(sql.execute(tx).await?)
}

#[derive(Debug, FromQueryResult)]
struct FactsRow {
    id: String,
    email: String,
    status: String,
    last_activity_at: DateTime<Utc>,
    left_at: Option<DateTime<Utc>>,
    current: i64,
}

#[derive(Debug, FromQueryResult)]
struct AdminRow {
    id: String,
    email: String,
    frequency: String,
}

fn recipient(a: store::entity::account::Model) -> Recipient {
    Recipient {
        id: a.id,
        first_name: a.first_name,
        email: a.email,
    }
}

#[async_trait::async_trait]
impl Accounts for Identity {
    async fn candidates(
        &self,
        tx: &TenantTx,
        inactive_before: Option<DateTime<Utc>>,
        after: &str,
        limit: u64,
    ) -> Result<Vec<AccountCandidate>, PrivacyError> {
        let mut sql = Sql::default();
        let t = sql.bind(tx.tenant().as_str());
        let after = sql.bind(after);
        let active = sql.bind(status::ACTIVE);
        let inactive = match inactive_before {
            Some(at) => {
                let p = sql.bind(at);
                format!("a.last_activity_at < {p} OR ")
            }
            None => String::new(),
        };
        let limit = sql.bind(i64::try_from(limit).unwrap_or(i64::MAX));
        let page = format!(
            "FROM account a \
             WHERE a.tenant_id = {t} AND a.id > {after} AND ({inactive}(a.status = {active} AND EXISTS \
               (SELECT 1 FROM membership m WHERE m.tenant_id = a.tenant_id AND m.account_id = a.id AND m.status = 'left'))) \
             ORDER BY a.id LIMIT {limit}"
        );
        sql.text = if backend(tx) == DbBackend::Postgres {
            // The page first, then one look at each account's memberships for both facts.
            format!(
                "SELECT p.id, p.email, p.status, p.last_activity_at, ms.left_at, ms.current \
                 FROM (SELECT a.tenant_id, a.id, a.email, a.status, a.last_activity_at {page}) p \
                 CROSS JOIN LATERAL (SELECT \
                   MAX(m.updated_at) FILTER (WHERE m.status = 'left') AS left_at, \
                   COUNT(*) FILTER (WHERE m.status <> 'left') AS current \
                   FROM membership m WHERE m.tenant_id = p.tenant_id AND m.account_id = p.id) ms \
                 ORDER BY p.id"
            )
        } else {
            format!(
                "SELECT a.id, a.email, a.status, a.last_activity_at, \
                   (SELECT MAX(m.updated_at) FROM membership m \
                     WHERE m.tenant_id = a.tenant_id AND m.account_id = a.id AND m.status = 'left') AS left_at, \
                   (SELECT COUNT(*) FROM membership m \
                     WHERE m.tenant_id = a.tenant_id AND m.account_id = a.id AND m.status <> 'left') AS current \
                 {page}"
            )
        };
        let rows = FactsRow::find_by_statement(sql.statement(backend(tx)))
            .all(&**tx)
            .await
            .map_err(StorageError::from)?;
        Ok(rows
            .into_iter()
            .map(|r| AccountCandidate {
                active: r.status == status::ACTIVE,
                last_activity: r.last_activity_at.date_naive(),
                left_on: if r.current == 0 {
                    r.left_at.map(|t| t.date_naive())
                } else {
                    None
                },
                id: r.id,
                email: r.email,
            })
            .collect())
    }

    async fn switch_off(
        &self,
        tx: &TenantTx,
        ids: &[String],
        why: SwitchOff,
    ) -> Result<u64, PrivacyError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let to = match why {
            SwitchOff::Dormant => status::DORMANT,
            SwitchOff::Left => status::DEACTIVATED,
        };
        let mut sql = Sql::default();
        let s = sql.bind(to);
        let t = sql.bind(tx.tenant().as_str());
        let a = sql.bind(status::ACTIVE);
        let list = sql.among(tx, ids);
        sql.text = format!(
            "UPDATE account SET status = {s} WHERE tenant_id = {t} AND status = {a} AND id {list}"
        );
        execute(tx, sql).await
    }

    async fn last_active(
        &self,
        tx: &TenantTx,
        id: &str,
    ) -> Result<Option<chrono::NaiveDate>, PrivacyError> {
        Ok(store::find_by_id(tx, id)
            .await
            .map_err(privacy_error)?
            .map(|a| a.last_activity_at.date_naive()))
    }

    async fn records_made_before(
        &self,
        tx: &TenantTx,
        kind: ReviewKind,
        before: DateTime<Utc>,
    ) -> Result<Vec<(String, DateTime<Utc>)>, PrivacyError> {
        if kind != ReviewKind::InductionRecords {
            return Ok(Vec::new());
        }
        #[derive(FromQueryResult)]
        struct Row {
            account_id: String,
            updated_at: DateTime<Utc>,
        }
        let mut sql = Sql::default();
        let t = sql.bind(tx.tenant().as_str());
        let b = sql.bind(before);
        sql.text = format!(
            "SELECT account_id, COALESCE(created_at, updated_at) AS updated_at \
             FROM induction_record WHERE tenant_id = {t} \
             AND COALESCE(created_at, updated_at) < {b} ORDER BY account_id"
        );
        Ok(Row::find_by_statement(sql.statement(backend(tx)))
            .all(&**tx)
            .await
            .map_err(StorageError::from)?
            .into_iter()
            .map(|r| (r.account_id, r.updated_at))
            .collect())
    }

    async fn delete_record(
        &self,
        tx: &TenantTx,
        kind: ReviewKind,
        id: &str,
    ) -> Result<bool, PrivacyError> {
        if kind != ReviewKind::InductionRecords {
            return Ok(false);
        }
        let mut sql = Sql::default();
        let t = sql.bind(tx.tenant().as_str());
        let a = sql.bind(id);
        sql.text =
            format!("DELETE FROM induction_record WHERE tenant_id = {t} AND account_id = {a}");
        Ok(execute(tx, sql).await? > 0)
    }

    async fn delete(&self, tx: &TenantTx, ids: &[String]) -> Result<(), PrivacyError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut sql = Sql::default();
        let t = sql.bind(tx.tenant().as_str());
        let list = sql.among(tx, ids);
        sql.text = format!("DELETE FROM account WHERE tenant_id = {t} AND id {list}");
        execute(tx, sql).await?;
        Ok(())
    }

    async fn lead_admins_of(&self, tx: &TenantTx, id: &str) -> Result<Vec<Alerted>, PrivacyError> {
        let mut sql = Sql::default();
        let t = sql.bind(tx.tenant().as_str());
        let a = sql.bind(id);
        let active = sql.bind(status::ACTIVE);
        sql.text = format!(
            "SELECT DISTINCT la.id AS id, la.email AS email, la.alert_frequency AS frequency \
             FROM membership m \
             JOIN membership lm ON lm.tenant_id = m.tenant_id AND lm.organisation_id = m.organisation_id \
             JOIN account la ON la.tenant_id = lm.tenant_id AND la.id = lm.account_id \
             WHERE m.tenant_id = {t} AND m.account_id = {a} AND m.status <> 'left' \
               AND lm.status = 'verified' AND lm.rights LIKE '%lead_admin%' AND la.id <> {a} \
               AND la.status = {active} ORDER BY la.email"
        );
        Ok(AdminRow::find_by_statement(sql.statement(backend(tx)))
            .all(&**tx)
            .await
            .map_err(StorageError::from)?
            .into_iter()
            .map(|r| Alerted {
                id: r.id,
                email: r.email,
                frequency: Frequency::stored(&r.frequency),
            })
            .collect())
    }

    async fn email_of(&self, tx: &TenantTx, id: &str) -> Result<Option<String>, PrivacyError> {
        Ok(store::find_by_id(tx, id)
            .await
            .map_err(privacy_error)?
            .map(|a| a.email))
    }

    async fn find_by_email(
        &self,
        tx: &TenantTx,
        email: &str,
    ) -> Result<Option<String>, PrivacyError> {
        Ok(store::find_by_email(tx, &email.trim().to_lowercase())
            .await
            .map_err(privacy_error)?
            .map(|a| a.id))
    }

    async fn active_holders(&self, tx: &TenantTx) -> Result<Vec<Recipient>, PrivacyError> {
        Ok(crate::store::active(tx)
            .await
            .map_err(privacy_error)?
            .into_iter()
            .map(recipient)
            .collect())
    }

    async fn consenting_to(
        &self,
        tx: &TenantTx,
        purpose: &str,
    ) -> Result<Vec<Recipient>, PrivacyError> {
        Ok(self
            .consenting(tx, purpose)
            .await
            .map_err(privacy_error)?
            .into_iter()
            .map(recipient)
            .collect())
    }

    fn withheld_columns(&self) -> &'static [&'static str] {
        &[
            "account.password_hash",
            "account_totp.secret_sealed",
            "account_totp_pending.secret_sealed",
            "account_secret.special_requirements",
            "account_secret.subject_key",
            "account_token.token_hash",
            "recovery_code.code_hash",
        ]
    }

    async fn unsealed(
        &self,
        tx: &TenantTx,
        id: &str,
    ) -> Result<Vec<(&'static str, String)>, PrivacyError> {
        let value =
            crate::store::secrets::special_requirements(tx, &self.keys, id, self.clock.now())
                .await
                .map_err(privacy_error)?;
        Ok(value
            .map(|v| ("account_secret.special_requirements", v))
            .into_iter()
            .collect())
    }

    async fn correct(
        &self,
        tx: &TenantTx,
        tenant: &TenantConfig,
        id: &str,
        c: &Correction<'_>,
        by: &str,
        base_url: &str,
    ) -> Result<Vec<&'static str>, PrivacyError> {
        let account = store::find_by_id(tx, id)
            .await
            .map_err(privacy_error)?
            .ok_or(PrivacyError::NoSuchAccount)?;
        crate::corrections::correct(tx, self.clock.now(), tenant, &account, c, by, base_url)
            .await
            .map_err(privacy_error)
    }

    async fn details_of(
        &self,
        tx: &TenantTx,
        id: &str,
    ) -> Result<Option<[String; 4]>, PrivacyError> {
        Ok(store::find_by_id(tx, id)
            .await
            .map_err(privacy_error)?
            .map(|a| {
                [
                    a.first_name,
                    a.last_name,
                    a.job_title.unwrap_or_default(),
                    a.email,
                ]
            }))
    }

    async fn privacy_officers(&self, tx: &TenantTx) -> Result<Vec<Recipient>, PrivacyError> {
        Ok(
            crate::store::organisations::acting_as(tx, crate::domain::rights::Role::PrivacyOfficer)
                .await
                .map_err(privacy_error)?
                .into_iter()
                .map(|a| Recipient {
                    id: a.id,
                    first_name: a.first_name,
                    email: a.email,
                })
                .collect(),
        )
    }

    fn unsubscribe_token(
        &self,
        tenant: &TenantId,
        id: &str,
        purpose: &str,
    ) -> Result<String, PrivacyError> {
        Identity::unsubscribe_token(self, tenant, id, purpose).map_err(privacy_error)
    }
}
