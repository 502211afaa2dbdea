//! The providers' view of a session: the delegate list, showing only the fields the
//! tenant's configuration gives that provider (the same categories the course page says
//! booking shares) with every read logged as a disclosure; the attendance register; and
//! the CPD records attending creates.

use std::collections::{BTreeSet, HashMap};

use catalogue::domain::Manager;
use catalogue::domain::uk::uk_date;
use catalogue::store::entity::{course, course_session};
use chrono::{DateTime, Utc};
use identity::store::entity::{account, organisation};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _,
    Set,
};
use storage::TenantTx;
use storage::audit::{self, AuditEntry};
use tenant_router::TenantConfig;
use tenant_router::config::PersonField;

use crate::store::entity::{booking, cpd_record, disclosure_log};
use crate::{BookingError, Bookings};

/// What a delegate list shows in place of each field of a person who has restricted the
/// use of their data.
pub const RESTRICTED: &str = "Restricted";

/// How a delegate list was read, for the disclosure log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The web page.
    Page,
    /// The CSV download.
    Csv,
    /// The JSON API.
    Json,
}

impl Format {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Page => "page",
            Self::Csv => "csv",
            Self::Json => "json",
        }
    }
}

/// A mark in the attendance register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attendance {
    /// Came: a CPD record is made.
    Attended,
    /// Did not come.
    NoShow,
}

impl Attendance {
    /// Stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Attended => "attended",
            Self::NoShow => "no_show",
        }
    }

    /// The mark with stored name `s`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "attended" => Some(Self::Attended),
            "no_show" => Some(Self::NoShow),
            _ => None,
        }
    }
}

/// One delegate on the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delegate {
    /// The booking.
    pub booking_id: String,
    /// One value per field of the list, in its order ([`RESTRICTED`] in each when the
    /// person has restricted the use of their data).
    pub values: Vec<String>,
    /// Whether the person has restricted the use of their data: nothing of theirs is shown
    /// or disclosed.
    pub restricted: bool,
    /// The register mark, once made.
    pub attendance: Option<Attendance>,
}

/// A session's delegate list as one provider may see it.
#[derive(Debug, Clone)]
pub struct DelegateList {
    /// The session.
    pub session: course_session::Model,
    /// Its course.
    pub course: course::Model,
    /// The fields shown, from the provider's shared categories.
    pub fields: Vec<PersonField>,
    /// Confirmed bookings, by name.
    pub delegates: Vec<Delegate>,
    /// Whether the register can be marked (the session has started).
    pub started: bool,
}

/// The fields a provider receives about delegates: those of every `booking` or `account`
/// category in its `receives` list that names fields (the delegate details, and special
/// requirements where the notice gives them to course organisers), in a fixed order.
/// Empty for an unknown provider.
#[must_use]
pub fn delegate_fields(cfg: &TenantConfig, provider_id: &str) -> Vec<PersonField> {
    fields_for(cfg, provider_id, &["booking", "account"])
}

/// The fields of the categories of `groups` that the provider receives, in a fixed order.
pub(crate) fn fields_for(
    cfg: &TenantConfig,
    provider_id: &str,
    groups: &[&str],
) -> Vec<PersonField> {
    let Some(provider) = cfg.providers.iter().find(|p| p.id == provider_id) else {
        return Vec::new();
    };
    let fields: BTreeSet<PersonField> = cfg
        .data_categories
        .iter()
        .filter(|c| groups.contains(&c.group()) && provider.receives.contains(&c.id))
        .flat_map(|c| c.fields.iter().copied())
        .collect();
    fields.into_iter().collect()
}

/// The accounts `ids` and the names of organisations `org_ids`, by id, for a list of
/// people shown to a provider.
pub(crate) async fn people_and_organisations(
    tx: &TenantTx,
    ids: &[String],
    org_ids: Vec<String>,
) -> Result<(HashMap<String, account::Model>, HashMap<String, String>), BookingError> {
    let tenant = tx.tenant().as_str();
    let people = account::Entity::find()
        .filter(account::Column::TenantId.eq(tenant))
        .filter(account::Column::Id.is_in(ids.iter().cloned()))
        .all(&**tx)
        .await?
        .into_iter()
        .map(|a| (a.id.clone(), a))
        .collect();
    let orgs = organisation::Entity::find()
        .filter(organisation::Column::TenantId.eq(tenant))
        .filter(organisation::Column::Id.is_in(org_ids))
        .all(&**tx)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    Ok((people, orgs))
}

/// One read of a list of people by a provider's staff, for the disclosure log.
pub(crate) struct Disclosure<'a> {
    /// The provider whose staff read it.
    pub provider: &'a str,
    /// The session (delegate list) or service (purchasers) it was of.
    pub of: &'a str,
    /// Who read it.
    pub actor: &'a str,
    /// The fields shown.
    pub fields: &'a [PersonField],
    /// How it was read.
    pub format: Format,
    /// The audit action (`delegates.disclosed`, `purchasers.disclosed`).
    pub action: &'a str,
}

/// Writes one disclosure-log row per person shown and one audit event, in `tx`. Nothing
/// is written when no one was shown.
pub(crate) async fn log_disclosure(
    tx: &TenantTx,
    now: DateTime<Utc>,
    d: &Disclosure<'_>,
    shown: &[String],
    withheld: usize,
) -> Result<(), BookingError> {
    if shown.is_empty() {
        return Ok(());
    }
    let disclosure = uuid::Uuid::now_v7().to_string();
    let names: Vec<&str> = d.fields.iter().map(|f| f.as_str()).collect();
    disclosure_log::Entity::insert_many(shown.iter().map(|account| disclosure_log::ActiveModel {
        tenant_id: Set(tx.tenant().to_string()),
        id: Set(uuid::Uuid::now_v7().to_string()),
        disclosure_id: Set(disclosure.clone()),
        account_id: Set(account.clone()),
        provider_id: Set(d.provider.to_owned()),
        session_id: Set(d.of.to_owned()),
        actor_id: Set(d.actor.to_owned()),
        fields: Set(names.join(",")),
        format: Set(d.format.as_str().to_owned()),
        occurred_at: Set(now),
    }))
    .exec_without_returning(&**tx)
    .await?;
    audit::record(
        tx,
        now,
        AuditEntry {
            actor: d.actor,
            action: d.action,
            subject: d.of,
            detail: serde_json::json!({
                "disclosure": disclosure,
                "provider": d.provider,
                "people": shown.len(),
                "restricted": withheld,
                "fields": names,
                "format": d.format.as_str(),
            }),
        },
    )
    .await?;
    Ok(())
}

impl Bookings {
    /// The delegate list of a session for `manager`, logging who received whose data.
    ///
    /// # Errors
    /// [`BookingError::NotFound`] for an unknown session, another tenant's, or one of a
    /// provider the manager does not work for.
    pub async fn delegate_list(
        &self,
        cfg: &TenantConfig,
        manager: &Manager,
        session_id: &str,
        format: Format,
        identity: &identity::Identity,
    ) -> Result<DelegateList, BookingError> {
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let (session, course) = managed_session(&tx, manager, session_id).await?;
        let fields = delegate_fields(cfg, &course.provider_id);
        let bookings = booking::Entity::find()
            .filter(booking::Column::TenantId.eq(cfg.slug.as_str()))
            .filter(booking::Column::SessionId.eq(session_id))
            .filter(booking::Column::Status.eq("confirmed"))
            .order_by_asc(booking::Column::Id)
            .all(&*tx)
            .await?;
        let ids: Vec<String> = bookings.iter().map(|b| b.account_id.clone()).collect();
        let org_ids: Vec<String> = bookings
            .iter()
            .filter_map(|b| b.organisation_id.clone())
            .collect();
        let (people, orgs) = people_and_organisations(&tx, &ids, org_ids).await?;
        let now = self.clock.now();
        let restricted = privacy_engine::effects::restricted(&tx, &ids, now).await?;
        // Special requirements are opened only for this view, and only where the notice
        // gives them to the course's provider; never for a restricted person.
        let needs = if fields.contains(&PersonField::SpecialRequirements) {
            let shown: Vec<String> = ids
                .iter()
                .filter(|id| !restricted.contains(*id))
                .cloned()
                .collect();
            identity.special_requirements_of(&tx, cfg, &shown).await?
        } else {
            HashMap::new()
        };
        let mut delegates: Vec<(String, Delegate)> = bookings
            .iter()
            .map(|b| {
                if restricted.contains(&b.account_id) {
                    // Sorted last, and nothing of theirs is shown.
                    return (
                        "\u{10FFFF}".to_owned(),
                        Delegate {
                            booking_id: b.id.clone(),
                            values: vec![RESTRICTED.to_owned(); fields.len()],
                            restricted: true,
                            attendance: b.attendance.as_deref().and_then(Attendance::parse),
                        },
                    );
                }
                let person = people.get(&b.account_id);
                let org = b
                    .organisation_id
                    .as_ref()
                    .and_then(|o| orgs.get(o).cloned())
                    .or_else(|| person.and_then(|p| p.organisation_name.clone()));
                let values = fields
                    .iter()
                    .map(|f| match f {
                        PersonField::SpecialRequirements if person.is_some() => {
                            needs.get(&b.account_id).cloned().unwrap_or_default()
                        }
                        _ => value(*f, person, org.as_deref()),
                    })
                    .collect();
                let sort = person.map_or_else(String::new, |p| {
                    format!("{} {}", p.last_name, p.first_name).to_lowercase()
                });
                (
                    sort,
                    Delegate {
                        booking_id: b.id.clone(),
                        values,
                        restricted: false,
                        attendance: b.attendance.as_deref().and_then(Attendance::parse),
                    },
                )
            })
            .collect();
        delegates.sort_by(|a, b| a.0.cmp(&b.0));
        let shown: Vec<String> = bookings
            .iter()
            .filter(|b| !restricted.contains(&b.account_id))
            .map(|b| b.account_id.clone())
            .collect();
        let actor = manager.actor();
        log_disclosure(
            &tx,
            now,
            &Disclosure {
                provider: &course.provider_id,
                of: &session.id,
                actor: &actor,
                fields: &fields,
                format,
                action: "delegates.disclosed",
            },
            &shown,
            bookings.len() - shown.len(),
        )
        .await?;
        tx.commit().await?;
        Ok(DelegateList {
            started: session.starts_at <= now,
            session,
            course,
            fields,
            delegates: delegates.into_iter().map(|(_, d)| d).collect(),
        })
    }

    /// Marks the register for bookings of a session. Attending makes the delegate's CPD
    /// record and certificate (and counts as activity for retention) and emails them the
    /// feedback link; a no-show removes a record made in error. All the marks or none.
    /// Returns how many changed.
    ///
    /// # Errors
    /// [`BookingError::NotFound`] as for [`Bookings::delegate_list`], or for a booking that
    /// is not a confirmed booking of this session; [`BookingError::NotStarted`] before the
    /// session starts.
    pub async fn mark_attendance(
        &self,
        cfg: &TenantConfig,
        manager: &Manager,
        session_id: &str,
        marks: &[(String, Attendance)],
        base_url: &str,
    ) -> Result<usize, BookingError> {
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let (session, course) = managed_session(&tx, manager, session_id).await?;
        let now = self.clock.now();
        if session.starts_at > now {
            return Err(BookingError::NotStarted);
        }
        let mut changed = 0;
        let mut attended = Vec::new();
        for (booking_id, mark) in marks {
            let b = booking::Entity::find()
                .filter(booking::Column::TenantId.eq(cfg.slug.as_str()))
                .filter(booking::Column::Id.eq(booking_id.as_str()))
                .filter(booking::Column::SessionId.eq(session_id))
                .filter(booking::Column::Status.eq("confirmed"))
                .one(&*tx)
                .await?
                .ok_or(BookingError::NotFound)?;
            if b.attendance.as_deref() == Some(mark.as_str()) {
                continue;
            }
            booking::Entity::update_many()
                .filter(booking::Column::TenantId.eq(cfg.slug.as_str()))
                .filter(booking::Column::Id.eq(b.id.as_str()))
                .col_expr(booking::Column::Attendance, Expr::value(mark.as_str()))
                .col_expr(booking::Column::AttendanceMarkedAt, Expr::value(now))
                .exec(&*tx)
                .await?;
            match mark {
                Attendance::Attended => {
                    let record = cpd_record::ActiveModel {
                        tenant_id: Set(cfg.slug.to_string()),
                        id: Set(uuid::Uuid::now_v7().to_string()),
                        account_id: Set(b.account_id.clone()),
                        booking_id: Set(b.id.clone()),
                        course_id: Set(course.id.clone()),
                        title: Set(course.title.clone()),
                        minutes: Set(course.cpd_minutes),
                        completed_on: Set(uk_date(session.ends_at)),
                        created_at: Set(now),
                    }
                    .insert(&*tx)
                    .await?;
                    identity::store::touch(&tx, &b.account_id, now).await?;
                    thank(&tx, now, &course, &b, base_url).await?;
                    attended.push(record);
                }
                Attendance::NoShow => {
                    cpd_record::Entity::delete_many()
                        .filter(cpd_record::Column::TenantId.eq(cfg.slug.as_str()))
                        .filter(cpd_record::Column::BookingId.eq(b.id.as_str()))
                        .exec(&*tx)
                        .await?;
                }
            }
            changed += 1;
        }
        if changed > 0 {
            let marked: Vec<serde_json::Value> = marks
                .iter()
                .map(|(id, m)| serde_json::json!({ "booking": id, "mark": m.as_str() }))
                .collect();
            audit::record(
                &tx,
                now,
                AuditEntry {
                    actor: &manager.actor(),
                    action: "attendance.marked",
                    subject: &session.id,
                    detail: serde_json::json!({ "marks": marked }),
                },
            )
            .await?;
        }
        tx.commit().await?;
        // Certificates are made once the marks are safe; one that fails here is made when
        // the delegate first downloads it.
        for record in &attended {
            if let Err(e) = self.store_certificate(cfg, record).await {
                tracing::warn!(error = %e, record = %record.id, "certificate not stored yet");
            }
        }
        Ok(changed)
    }

    /// A person's CPD records, most recent first.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn cpd_records(
        &self,
        cfg: &TenantConfig,
        account_id: &str,
    ) -> Result<Vec<cpd_record::Model>, BookingError> {
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let records = cpd_record::Entity::find()
            .filter(cpd_record::Column::TenantId.eq(cfg.slug.as_str()))
            .filter(cpd_record::Column::AccountId.eq(account_id))
            .order_by_desc(cpd_record::Column::CompletedOn)
            .order_by_desc(cpd_record::Column::Id)
            .all(&*tx)
            .await?;
        tx.rollback().await?;
        Ok(records)
    }
}

/// The session and course, if `manager` manages the course's provider.
async fn managed_session(
    tx: &TenantTx,
    manager: &Manager,
    session_id: &str,
) -> Result<(course_session::Model, course::Model), BookingError> {
    let session = crate::common::find_session(tx, session_id).await?;
    let course = course::Entity::find()
        .filter(course::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(course::Column::Id.eq(session.course_id.as_str()))
        .one(&**tx)
        .await?
        .ok_or(BookingError::NotFound)?;
    if !manager.manages(&course.provider_id) {
        return Err(BookingError::NotFound);
    }
    Ok((session, course))
}

pub(crate) fn value(
    field: PersonField,
    person: Option<&account::Model>,
    org: Option<&str>,
) -> String {
    let Some(p) = person else {
        return "(removed)".to_owned();
    };
    match field {
        PersonField::Name => format!("{} {}", p.first_name, p.last_name),
        PersonField::Email => p.email.clone(),
        PersonField::JobTitle => p.job_title.clone().unwrap_or_default(),
        PersonField::Organisation => org.unwrap_or_default().to_owned(),
        PersonField::OrganisationTelephone => p.organisation_telephone.clone().unwrap_or_default(),
        // Decrypted by the caller, for the view only.
        PersonField::SpecialRequirements => String::new(),
    }
}

/// Thanks an attendee: where to give feedback and find the certificate.
async fn thank(
    tx: &TenantTx,
    now: DateTime<Utc>,
    course: &course::Model,
    b: &booking::Model,
    base_url: &str,
) -> Result<(), BookingError> {
    // A person who restricted the use of their data is not asked for feedback.
    let restricted =
        privacy_engine::effects::restricted(tx, std::slice::from_ref(&b.account_id), now).await?;
    if !restricted.is_empty() {
        return Ok(());
    }
    let Some(person) = account::Entity::find()
        .filter(account::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(account::Column::Id.eq(b.account_id.as_str()))
        .one(&**tx)
        .await?
    else {
        return Ok(());
    };
    let certificate = if course.certificate_after_feedback {
        "Your certificate will be in your CPD record once you have answered."
    } else {
        "Your certificate is in your CPD record."
    };
    let body = format!(
        "Thank you for attending {title}.\n\n\
         Tell us how it went (three questions):\n{base_url}/account/bookings/{booking}/feedback\n\n\
         {certificate}\n{base_url}/account/cpd\n",
        title = course.title,
        booking = b.id,
    );
    storage::outbox::enqueue(
        tx,
        now,
        storage::outbox::Email {
            to: &person.email,
            subject: &format!("Your feedback on {}", course.title),
            body: &body,
        },
    )
    .await?;
    Ok(())
}
