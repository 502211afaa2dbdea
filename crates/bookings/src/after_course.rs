//! After the course: the feedback questionnaire (one answer per attended booking, kept per
//! course and shown to the course's managers without names) and certificates of attendance
//! (made when the register is marked, kept in object storage, downloaded by the delegate;
//! a course may hold them until the delegate has given feedback).

use std::collections::HashSet;

use crate::common::find_course;
use catalogue::domain::Manager;
use catalogue::domain::uk::uk_span;
use catalogue::store::entity::course;
use chrono::{DateTime, Utc};
use identity::store::entity::account;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _,
};
use serde::Deserialize;
use storage::TenantTx;
use tenant_router::TenantConfig;
use utoipa::ToSchema;

use crate::certificate::{self, Certificate};
use crate::store::entity::{booking, course_feedback, cpd_record};
use crate::{BookingError, Bookings};

/// The longest answer to a free-text question, in characters.
pub const ANSWER_MAX: usize = 2_000;

/// The questionnaire as submitted (strings, so a form and JSON read the same way).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct FeedbackFields {
    /// Overall, 1 (poor) to 5 (excellent).
    #[serde(default)]
    pub rating: String,
    /// What was most useful (optional).
    #[serde(default)]
    pub useful: String,
    /// What could be better (optional).
    #[serde(default)]
    pub improve: String,
}

impl FeedbackFields {
    /// The rating, or every problem with the answers.
    ///
    /// # Errors
    /// Each problem with its field.
    pub fn check(&self) -> Result<i32, Vec<(&'static str, String)>> {
        let mut errors = Vec::new();
        let rating = match self.rating.trim().parse::<i32>() {
            Ok(r @ 1..=5) => r,
            _ => {
                errors.push(("rating", "Choose a rating from 1 to 5".to_owned()));
                0
            }
        };
        for (field, label, text) in [
            ("useful", "What was most useful", &self.useful),
            ("improve", "What could be better", &self.improve),
        ] {
            if text.chars().count() > ANSWER_MAX {
                errors.push((
                    field,
                    format!("{label} must be {ANSWER_MAX} characters or fewer"),
                ));
            }
        }
        if errors.is_empty() {
            Ok(rating)
        } else {
            Err(errors)
        }
    }
}

/// What the questionnaire page shows about the booking.
#[derive(Debug, Clone)]
pub struct FeedbackTarget {
    /// The booking.
    pub booking_id: String,
    /// The course's title.
    pub course_title: String,
    /// When the session was, in words.
    pub when: String,
    /// Whether feedback was already given.
    pub given: bool,
}

/// One answer, without the person.
#[derive(Debug, Clone, serde::Serialize, ToSchema)]
pub struct Answer {
    /// 1 to 5.
    pub rating: i32,
    /// What was most useful.
    pub useful: String,
    /// What could be better.
    pub improve: String,
    /// When it was given.
    pub submitted_at: DateTime<Utc>,
}

/// A course's feedback.
#[derive(Debug, Clone, serde::Serialize, ToSchema)]
pub struct CourseFeedback {
    /// The course's title.
    pub title: String,
    /// How many answered.
    pub count: usize,
    /// The mean rating, when anyone answered.
    pub average_rating: Option<f64>,
    /// The answers, newest first.
    pub answers: Vec<Answer>,
}

/// A line of someone's CPD history.
#[derive(Debug, Clone)]
pub struct CpdEntry {
    /// The record.
    pub record: cpd_record::Model,
    /// Whether the delegate has given feedback on it.
    pub feedback_given: bool,
    /// Whether the certificate waits for that feedback.
    pub certificate_held: bool,
}

impl Bookings {
    /// The booking a person is asked about, if it is theirs and they attended.
    ///
    /// # Errors
    /// [`BookingError::NotFound`] for anyone else's booking (or another tenant's);
    /// [`BookingError::FeedbackNotOpen`] before they are marked as attended.
    pub async fn feedback_target(
        &self,
        cfg: &TenantConfig,
        account_id: &str,
        booking_id: &str,
    ) -> Result<FeedbackTarget, BookingError> {
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let b = attended_booking(&tx, account_id, booking_id).await?;
        let course = find_course(&tx, &b.course_id).await?;
        let session = crate::common::find_session(&tx, &b.session_id).await?;
        let given = course_feedback::Entity::find()
            .filter(course_feedback::Column::TenantId.eq(cfg.slug.as_str()))
            .filter(course_feedback::Column::BookingId.eq(booking_id))
            .one(&*tx)
            .await?
            .is_some();
        tx.rollback().await?;
        Ok(FeedbackTarget {
            booking_id: b.id,
            course_title: course.title,
            when: uk_span(session.starts_at, session.ends_at),
            given,
        })
    }

    /// Records a person's answers about a course they attended, once.
    ///
    /// # Errors
    /// As [`Bookings::feedback_target`]; [`BookingError::InvalidFeedback`] for bad answers
    /// and [`BookingError::FeedbackGiven`] for a second answer. Nothing is saved then.
    pub async fn give_feedback(
        &self,
        cfg: &TenantConfig,
        account_id: &str,
        booking_id: &str,
        fields: &FeedbackFields,
    ) -> Result<(), BookingError> {
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let b = attended_booking(&tx, account_id, booking_id).await?;
        let rating = fields.check().map_err(BookingError::InvalidFeedback)?;
        let row = course_feedback::ActiveModel {
            tenant_id: Set(cfg.slug.to_string()),
            id: Set(uuid::Uuid::now_v7().to_string()),
            booking_id: Set(b.id.clone()),
            course_id: Set(b.course_id.clone()),
            session_id: Set(b.session_id.clone()),
            account_id: Set(b.account_id.clone()),
            rating: Set(rating),
            useful: Set(fields.useful.trim().to_owned()),
            improve: Set(fields.improve.trim().to_owned()),
            submitted_at: Set(self.clock.now()),
        };
        let inserted = course_feedback::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([
                    course_feedback::Column::TenantId,
                    course_feedback::Column::BookingId,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(&*tx)
            .await?;
        if inserted == 0 {
            tx.rollback().await?;
            return Err(BookingError::FeedbackGiven);
        }
        identity::store::touch(&tx, &b.account_id, self.clock.now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A course's feedback, for the managers of its provider; answers carry no names.
    ///
    /// # Errors
    /// [`BookingError::NotFound`] for a course the manager does not manage (or another
    /// tenant's).
    pub async fn course_feedback(
        &self,
        cfg: &TenantConfig,
        manager: &Manager,
        course_id: &str,
    ) -> Result<CourseFeedback, BookingError> {
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let course = find_course(&tx, course_id).await?;
        if !manager.manages(&course.provider_id) {
            return Err(BookingError::NotFound);
        }
        let rows = course_feedback::Entity::find()
            .filter(course_feedback::Column::TenantId.eq(cfg.slug.as_str()))
            .filter(course_feedback::Column::CourseId.eq(course_id))
            .order_by_desc(course_feedback::Column::SubmittedAt)
            .order_by_desc(course_feedback::Column::Id)
            .all(&*tx)
            .await?;
        tx.rollback().await?;
        let count = rows.len();
        let sum: i64 = rows.iter().map(|r| i64::from(r.rating)).sum();
        #[allow(clippy::cast_precision_loss)] // counts far below 2^52
        let average_rating = (count > 0).then(|| sum as f64 / count as f64);
        Ok(CourseFeedback {
            title: course.title,
            count,
            average_rating,
            answers: rows
                .into_iter()
                .map(|r| Answer {
                    rating: r.rating,
                    useful: r.useful,
                    improve: r.improve,
                    submitted_at: r.submitted_at,
                })
                .collect(),
        })
    }

    /// A person's CPD history, most recent first, with what each certificate waits for.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn cpd_history(
        &self,
        cfg: &TenantConfig,
        account_id: &str,
    ) -> Result<Vec<CpdEntry>, BookingError> {
        let records = self.cpd_records(cfg, account_id).await?;
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let given: HashSet<String> = course_feedback::Entity::find()
            .filter(course_feedback::Column::TenantId.eq(cfg.slug.as_str()))
            .filter(course_feedback::Column::AccountId.eq(account_id))
            .all(&*tx)
            .await?
            .into_iter()
            .map(|f| f.booking_id)
            .collect();
        let holding: HashSet<String> = course::Entity::find()
            .filter(course::Column::TenantId.eq(cfg.slug.as_str()))
            .filter(course::Column::Id.is_in(records.iter().map(|r| r.course_id.as_str())))
            .filter(course::Column::CertificateAfterFeedback.eq(true))
            .all(&*tx)
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect();
        tx.rollback().await?;
        Ok(records
            .into_iter()
            .map(|record| {
                let feedback_given = given.contains(&record.booking_id);
                CpdEntry {
                    certificate_held: !feedback_given && holding.contains(&record.course_id),
                    feedback_given,
                    record,
                }
            })
            .collect())
    }

    /// A person's certificate for one of their CPD records, as PDF bytes. Made again (and
    /// stored) if the object store lost it.
    ///
    /// # Errors
    /// [`BookingError::NotFound`] for anyone else's record; [`BookingError::FeedbackFirst`]
    /// while the course holds it until feedback.
    pub async fn certificate(
        &self,
        cfg: &TenantConfig,
        account_id: &str,
        record_id: &str,
    ) -> Result<Vec<u8>, BookingError> {
        let entry = self
            .cpd_history(cfg, account_id)
            .await?
            .into_iter()
            .find(|e| e.record.id == record_id)
            .ok_or(BookingError::NotFound)?;
        if entry.certificate_held {
            return Err(BookingError::FeedbackFirst {
                booking_id: entry.record.booking_id,
            });
        }
        let key = certificate::key(account_id, record_id);
        if let Some(pdf) = self.catalogue.objects().get(&cfg.slug, &key).await? {
            return Ok(pdf);
        }
        self.store_certificate(cfg, &entry.record).await
    }

    /// Makes and stores the certificate for a CPD record; returns its bytes.
    ///
    /// # Errors
    /// When the database or the object store fails.
    pub async fn store_certificate(
        &self,
        cfg: &TenantConfig,
        record: &cpd_record::Model,
    ) -> Result<Vec<u8>, BookingError> {
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let person = account::Entity::find()
            .filter(account::Column::TenantId.eq(cfg.slug.as_str()))
            .filter(account::Column::Id.eq(record.account_id.as_str()))
            .one(&*tx)
            .await?
            .ok_or(BookingError::NotFound)?;
        tx.rollback().await?;
        let name = format!("{} {}", person.first_name, person.last_name);
        let pdf = certificate::render(&Certificate {
            issuer: &cfg.display_name,
            person: &name,
            course: &record.title,
            completed_on: record.completed_on,
            minutes: record.minutes,
            reference: &record.id,
        })?;
        self.catalogue
            .objects()
            .put(
                &cfg.slug,
                &certificate::key(&record.account_id, &record.id),
                pdf.clone(),
                certificate::CONTENT_TYPE,
            )
            .await?;
        Ok(pdf)
    }
}

/// The person's booking, if they were marked as attended.
async fn attended_booking(
    tx: &TenantTx,
    account_id: &str,
    booking_id: &str,
) -> Result<booking::Model, BookingError> {
    let b = booking::Entity::find()
        .filter(booking::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(booking::Column::Id.eq(booking_id))
        .filter(booking::Column::AccountId.eq(account_id))
        .one(&**tx)
        .await?
        .ok_or(BookingError::NotFound)?;
    if b.status != "confirmed" || b.attendance.as_deref() != Some("attended") {
        return Err(BookingError::FeedbackNotOpen);
    }
    Ok(b)
}

/// The object keys of the certificates kept for `accounts` (for erasure).
///
/// # Errors
/// When the database fails.
pub async fn certificate_keys(
    tx: &TenantTx,
    accounts: &[String],
) -> Result<Vec<String>, BookingError> {
    let records = cpd_record::Entity::find()
        .filter(cpd_record::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(cpd_record::Column::AccountId.is_in(accounts.iter().map(String::as_str)))
        .all(&**tx)
        .await?;
    Ok(records
        .iter()
        .map(|r| certificate::key(&r.account_id, &r.id))
        .collect())
}
