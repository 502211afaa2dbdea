//! The notice use cases of [`Privacy`]: the working copy (draft or what is in force),
//! editing the draft, publishing it (with its announcement to those who asked), discarding
//! it, and a person's acknowledgement. Each change is one transaction with its audit
//! event; a publication puts the draft's configuration in force in the same transaction,
//! so the notice never states a rule the platform does not apply.

use storage::audit::{self, AuditEntry};
use storage::outbox::{self, Email};
use tenant_router::{TenantConfig, TenantId};

use crate::domain::notice::Prose;
use crate::store::consent::NOTICE_CHANGES;
use crate::store::notice::{self as versions, Draft, Listed, Publication, PublishError, Published};
use crate::{Privacy, PrivacyError};

/// What the next notice would be: the draft, or (with no draft) what is in force.
#[derive(Clone, Debug)]
pub struct Working {
    /// The configuration it would put in force.
    pub config: TenantConfig,
    /// The council's own words.
    pub prose: Prose,
    /// The draft, when there is one.
    pub draft: Option<Draft>,
    /// The version in force, when one was published.
    pub published: Option<Published>,
}

/// A publication done: the version, and how many people were emailed about it.
#[derive(Clone, Debug)]
pub struct Announced {
    /// The version now in force.
    pub published: Published,
    /// People emailed (significant changes only).
    pub emailed: usize,
}

impl Privacy {
    /// The working copy of the next notice for a tenant whose configuration in force is
    /// `in_force`. Reads only.
    ///
    /// # Errors
    /// When the database fails or a stored draft no longer decodes.
    pub async fn working(&self, in_force: &TenantConfig) -> Result<Working, PrivacyError> {
        let tx = self.db.tenant_tx(&in_force.slug).await?;
        let draft = versions::draft(&tx).await?;
        let published = versions::current(&tx).await?;
        tx.rollback().await?;
        Ok(match &draft {
            Some(d) => Working {
                config: d.config.clone(),
                prose: d.prose.clone(),
                draft,
                published,
            },
            None => Working {
                config: in_force.clone(),
                prose: published
                    .as_ref()
                    .map(|p| p.rendered.prose.clone())
                    .unwrap_or_default(),
                draft,
                published,
            },
        })
    }

    /// Applies one edit to the draft (started from what is in force when there is none),
    /// validates the whole configuration and prose, and saves and audits it; or returns
    /// the problems (`edit`'s own, then the configuration's and prose's, made into `E`
    /// by `problem`), saving nothing. An edit that changes nothing records nothing.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn change_draft<E>(
        &self,
        in_force: &TenantConfig,
        by: &str,
        describe: &str,
        edit: impl FnOnce(&mut TenantConfig, &mut Prose) -> Vec<E>,
        problem: impl Fn(&'static str, String) -> E,
    ) -> Result<Result<(), Vec<E>>, PrivacyError> {
        let now = self.clock.now();
        let tx = self.db.tenant_tx(&in_force.slug).await?;
        let (mut config, mut prose) = match versions::draft(&tx).await? {
            Some(d) => (d.config, d.prose),
            None => (
                in_force.clone(),
                versions::current(&tx)
                    .await?
                    .map(|p| p.rendered.prose)
                    .unwrap_or_default(),
            ),
        };
        let before = (config.clone(), prose.clone());
        let mut errors = edit(&mut config, &mut prose);
        if errors.is_empty() {
            errors.extend(
                config
                    .validate()
                    .into_iter()
                    .map(|p| problem("config", format!("{}: {}", p.key, p.message))),
            );
            errors.extend(
                prose
                    .problems()
                    .into_iter()
                    .map(|(field, message)| problem(field, message)),
            );
        }
        if !errors.is_empty() {
            tx.rollback().await?;
            return Ok(Err(errors));
        }
        if before == (config.clone(), prose.clone()) {
            tx.rollback().await?;
            return Ok(Ok(()));
        }
        versions::save_draft(&tx, now, by, &config, &prose, describe).await?;
        audit::record(
            &tx,
            now,
            AuditEntry {
                actor: by,
                action: "notice.draft_changed",
                subject: "privacy_notice",
                detail: serde_json::json!({ "change": describe }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Publishes the draft: the next version, its configuration in force, and (for a
    /// significant change) an email to everyone who asked to be told, with links from
    /// `base_url`; all in one transaction, audited. The running registry is the caller's
    /// to reload afterwards.
    ///
    /// # Errors
    /// [`PublishError`]; nothing changes.
    pub async fn publish(
        &self,
        tenant: &TenantId,
        publication: Publication<'_>,
        base_url: &str,
    ) -> Result<Announced, PublishError> {
        let now = self.clock.now();
        // The connecting role: publishing changes the tenant's row, which requests only read.
        let tx = self
            .db
            .system_tx(tenant)
            .await
            .map_err(PrivacyError::from)?;
        let published = match versions::publish(&tx, now, publication).await {
            Ok(p) => p,
            Err(e) => {
                // Rolled back at once, not left to the connection's next use.
                tx.rollback().await.map_err(PrivacyError::from)?;
                return Err(e);
            }
        };
        match storage::tenants::put_in_force(&tx, &published.config, now).await {
            Ok(()) => {}
            Err(storage::StorageError::HostnameTaken(hosts)) => {
                tx.rollback().await.map_err(PrivacyError::from)?;
                return Err(PublishError::HostnameTaken(hosts));
            }
            Err(e) => return Err(PrivacyError::from(e).into()),
        }
        let emailed = if publication.significant {
            self.announce(&tx, tenant, &published, base_url).await?
        } else {
            0
        };
        audit::record(
            &tx,
            now,
            AuditEntry {
                actor: publication.by,
                action: "notice.published",
                subject: "privacy_notice",
                detail: serde_json::json!({
                    "version": published.version,
                    "significant": publication.significant,
                    "summary": published.summary,
                    "changes": published.changes,
                    "emailed": emailed,
                }),
            },
        )
        .await
        .map_err(PrivacyError::from)?;
        tx.commit().await.map_err(PrivacyError::from)?;
        Ok(Announced { published, emailed })
    }

    /// Emails a significant change, in the publishing transaction: to every account
    /// holder where the tenant's notice says changes are emailed
    /// ([`TenantConfig::announces_changes_by_email`]); otherwise to everyone who asked to
    /// be told, each with a link that stops these emails without signing in.
    async fn announce(
        &self,
        tx: &storage::TenantTx,
        tenant: &TenantId,
        published: &Published,
        base: &str,
    ) -> Result<usize, PrivacyError> {
        let now = self.clock.now();
        let cfg = &published.config;
        let to_everyone = cfg.announces_changes_by_email();
        let people = if to_everyone {
            self.accounts.active_holders(tx).await?
        } else {
            self.accounts.consenting_to(tx, NOTICE_CHANGES).await?
        };
        for p in &people {
            let why = if to_everyone {
                format!(
                    "{} emails everyone with a confirmed address when its privacy notice changes \
                     significantly.",
                    cfg.controller.name
                )
            } else {
                let token = self
                    .accounts
                    .unsubscribe_token(tenant, &p.id, NOTICE_CHANGES)?;
                format!(
                    "You get this email because you asked to be told about significant changes \
                     to the notice. To stop these emails (no sign-in needed): \
                     {base}/unsubscribe/{token}"
                )
            };
            let body = format!(
                "Dear {first},\n\n{controller} has changed the privacy notice of {service}.\n\n\
                 What changed: {summary}\n\n\
                 Read version {n}: {base}/privacy/versions/{n}\n\n{why}\n",
                first = p.first_name,
                controller = cfg.controller.name,
                service = cfg.display_name,
                summary = published.summary,
                n = published.version,
            );
            outbox::enqueue(
                tx,
                now,
                Email {
                    to: &p.email,
                    subject: "Our privacy notice has changed",
                    body: &body,
                },
            )
            .await?;
        }
        Ok(people.len())
    }

    /// Throws the draft away; audited when there was one. Returns whether there was.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn discard_draft(&self, tenant: &TenantId, by: &str) -> Result<bool, PrivacyError> {
        let now = self.clock.now();
        let tx = self.db.tenant_tx(tenant).await?;
        let discarded = versions::discard_draft(&tx).await?;
        if discarded {
            audit::record(
                &tx,
                now,
                AuditEntry {
                    actor: by,
                    action: "notice.draft_discarded",
                    subject: "privacy_notice",
                    detail: serde_json::json!({}),
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(discarded)
    }

    /// Records that `account` has read version `number`; `false` (nothing written) when
    /// there is no such version.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn acknowledge(
        &self,
        tenant: &TenantId,
        account: &str,
        number: i32,
    ) -> Result<bool, PrivacyError> {
        let tx = self.db.tenant_tx(tenant).await?;
        if versions::get(&tx, number).await?.is_none() {
            tx.rollback().await?;
            return Ok(false);
        }
        versions::acknowledge(&tx, self.clock.now(), account, number).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The latest published version, if any. Reads only.
    ///
    /// # Errors
    /// When the database fails or the stored version no longer decodes.
    pub async fn version_in_force(
        &self,
        tenant: &TenantId,
    ) -> Result<Option<Published>, PrivacyError> {
        let tx = self.db.tenant_tx(tenant).await?;
        let current = versions::current(&tx).await?;
        tx.rollback().await?;
        Ok(current)
    }

    /// Every published version, newest first. Reads only.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn versions(&self, tenant: &TenantId) -> Result<Vec<Listed>, PrivacyError> {
        let tx = self.db.tenant_tx(tenant).await?;
        let list = versions::list(&tx).await?;
        tx.rollback().await?;
        Ok(list)
    }

    /// Version `number`, if published, with the number of the latest version. Reads only.
    ///
    /// # Errors
    /// When the database fails or the stored version no longer decodes.
    pub async fn version(
        &self,
        tenant: &TenantId,
        number: i32,
    ) -> Result<Option<(Published, i32)>, PrivacyError> {
        let tx = self.db.tenant_tx(tenant).await?;
        let found = versions::get(&tx, number).await?;
        let current = versions::current(&tx).await?;
        tx.rollback().await?;
        Ok(found.map(|p| {
            let latest = current.map_or(p.version, |c| c.version);
            (p, latest)
        }))
    }

    /// The latest significant version `account` (made at `account_created`) has yet to
    /// acknowledge, if any. Reads only.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn unacknowledged(
        &self,
        tenant: &TenantId,
        account: &str,
        account_created: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<Listed>, PrivacyError> {
        let tx = self.db.tenant_tx(tenant).await?;
        let owed = versions::unacknowledged(&tx, account, account_created).await?;
        tx.rollback().await?;
        Ok(owed)
    }
}
