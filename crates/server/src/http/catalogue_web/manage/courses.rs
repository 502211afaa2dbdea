//! Managing courses and events: the editor, sessions, publishing and cancelling.

use super::*;

#[derive(Debug, Default, Deserialize)]
pub(super) struct CourseForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    provider_id: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    audiences: Vec<String>,
    #[serde(default)]
    job_categories: Vec<String>,
    #[serde(default)]
    phases: Vec<String>,
    #[serde(default)]
    cpd_hours: String,
    #[serde(default)]
    price: String,
    #[serde(default)]
    sla_service_id: String,
    #[serde(default)]
    sla_price: String,
    #[serde(default)]
    booking_opens: String,
    #[serde(default)]
    booking_closes: String,
    #[serde(default)]
    cancellation_notice_days: String,
    #[serde(default)]
    cancellation_terms: String,
    #[serde(default)]
    pre_course_info: String,
    /// A checkbox: `yes` when ticked, absent otherwise.
    #[serde(default)]
    certificate_after_feedback: String,
}

impl CourseForm {
    fn fields(&self) -> (CourseFields, Vec<FieldError>) {
        let mut errors = Vec::new();
        let cpd_minutes = match self.cpd_hours.trim() {
            "" => 0,
            h => match h.parse::<f64>() {
                Ok(x) if x.is_finite() && (0.0..=100.0).contains(&x) => (x * 60.0).round() as i64,
                _ => {
                    field_error(
                        &mut errors,
                        "cpd_minutes",
                        "CPD hours must be a number between 0 and 100, like 3 or 1.5",
                    );
                    0
                }
            },
        };
        let price_pence = pounds(&mut errors, "price_pence", "The price", &self.price);
        let sla = self.sla_service_id.trim();
        let sla_price_pence = (!sla.is_empty()).then(|| {
            pounds(
                &mut errors,
                "sla_price_pence",
                "The SLA price",
                &self.sla_price,
            )
        });
        let opens = day(
            &mut errors,
            "booking_opens_at",
            "The booking opening date",
            &self.booking_opens,
        );
        let closes = day(
            &mut errors,
            "booking_closes_at",
            "The booking closing date",
            &self.booking_closes,
        );
        let notice = match self.cancellation_notice_days.trim() {
            "" => 0,
            n => n.parse().unwrap_or_else(|_| {
                field_error(
                    &mut errors,
                    "cancellation_notice_days",
                    "Cancellation notice must be a whole number of days",
                );
                0
            }),
        };
        let fields = CourseFields {
            provider_id: self.provider_id.clone(),
            kind: self.kind.clone(),
            title: self.title.clone(),
            summary: self.summary.clone(),
            description: self.description.clone(),
            audiences: self.audiences.clone(),
            job_categories: self.job_categories.clone(),
            phases: self.phases.clone(),
            cpd_minutes,
            price_pence,
            sla_service_id: (!sla.is_empty()).then(|| sla.to_owned()),
            sla_price_pence,
            booking_opens_at: opens.map(uk_midnight),
            // Booking closes at the end of the day chosen.
            booking_closes_at: closes.and_then(|d| d.succ_opt()).map(uk_midnight),
            cancellation_notice_days: notice,
            cancellation_terms: self.cancellation_terms.clone(),
            pre_course_info: self.pre_course_info.clone(),
            certificate_after_feedback: self.certificate_after_feedback == "yes",
        };
        (fields, errors)
    }

    fn from_model(c: &catalogue::store::entity::course::Model) -> Self {
        let pounds = |p: i64| format!("{}.{:02}", p / 100, p % 100);
        let date = |t: Option<DateTime<Utc>>, back: i64| {
            t.map(|t| {
                (t.with_timezone(&London) - Duration::days(back))
                    .format("%Y-%m-%d")
                    .to_string()
            })
            .unwrap_or_default()
        };
        Self {
            csrf_token: String::new(),
            provider_id: c.provider_id.clone(),
            kind: c.kind.clone(),
            title: c.title.clone(),
            summary: c.summary.clone(),
            description: c.description.clone(),
            audiences: split_list(&c.audiences),
            job_categories: split_list(&c.job_categories),
            phases: split_list(&c.phases),
            cpd_hours: format!("{}", f64::from(c.cpd_minutes) / 60.0),
            price: pounds(c.price_pence),
            sla_service_id: c.sla_service_id.clone().unwrap_or_default(),
            sla_price: c.sla_price_pence.map(pounds).unwrap_or_default(),
            booking_opens: date(c.booking_opens_at, 0),
            booking_closes: date(c.booking_closes_at, 1),
            cancellation_notice_days: c.cancellation_notice_days.to_string(),
            cancellation_terms: c.cancellation_terms.clone(),
            pre_course_info: c.pre_course_info.clone(),
            certificate_after_feedback: if c.certificate_after_feedback {
                "yes".to_owned()
            } else {
                String::new()
            },
        }
    }
}

#[derive(Template)]
#[template(path = "catalogue/manage_course.html")]
struct CourseEditor<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    id: Option<String>,
    status: &'static str,
    published: bool,
    cancelled: bool,
    form: CourseForm,
    errors: Vec<FieldError>,
    providers: Vec<Opt>,
    audiences: Vec<Opt>,
    job_categories: Vec<Opt>,
    phases: Vec<Opt>,
    slas: Vec<Opt>,
    sessions: Vec<SessionView>,
    session_form: SessionForm,
    session_errors: Vec<FieldError>,
}

impl CourseEditor<'_> {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .chain(&self.session_errors)
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    fn chosen(list: &[String], v: &str) -> bool {
        list.iter().any(|x| x == v)
    }
}

async fn editor<'a>(
    state: &AppState,
    v: &'a Visitor,
    m: &Manager,
    id: Option<&str>,
    (form, errors): (Option<CourseForm>, Vec<FieldError>),
    (session_form, session_errors): (SessionForm, Vec<FieldError>),
) -> Result<CourseEditor<'a>, Failure> {
    let cfg = &v.tenant().config;
    let (form, status, sessions, current) = match id {
        Some(id) => {
            let d = state.catalogue.course(&v.tenant().id, id, Some(m)).await?;
            if !m.manages(&d.course.provider_id) {
                return Err(super::super::not_found());
            }
            (
                form.unwrap_or_else(|| CourseForm::from_model(&d.course)),
                Status::parse(&d.course.status),
                session_views(&d.sessions),
                Some(d.course.provider_id),
            )
        }
        None => (form.unwrap_or_default(), Status::Draft, Vec::new(), None),
    };
    let slas = state.catalogue.sla_choices(&v.tenant().id).await?;
    Ok(CourseEditor {
        chrome: v.chrome("/manage"),
        csrf: v.csrf().to_owned(),
        id: id.map(str::to_owned),
        status: status_label(status.as_str()),
        published: status == Status::Published,
        cancelled: status == Status::Cancelled,
        form,
        errors,
        providers: catalogue::domain::providers_for(
            cfg,
            m,
            tenant_router::config::ProviderKind::Training,
            current.as_deref(),
        )
        .map(|p| Opt {
            value: p.id.clone(),
            label: p.name.clone(),
        })
        .collect(),
        audiences: cfg
            .audiences
            .iter()
            .map(|a| Opt {
                value: a.as_str().to_owned(),
                label: a.label().to_owned(),
            })
            .collect(),
        job_categories: cfg
            .job_categories
            .iter()
            .map(|j| Opt {
                value: j.clone(),
                label: j.clone(),
            })
            .collect(),
        phases: PHASES
            .iter()
            .map(|(p, l)| Opt {
                value: (*p).to_owned(),
                label: (*l).to_owned(),
            })
            .collect(),
        slas: slas
            .into_iter()
            .map(|(value, label)| Opt { value, label })
            .collect(),
        sessions,
        session_form,
        session_errors,
    })
}
pub(super) async fn new_course(State(state): State<AppState>, v: Visitor) -> Response {
    let m = guard!(require_manager(&state, &v).await);
    let page = editor(
        &state,
        &v,
        &m,
        None,
        (None, Vec::new()),
        (SessionForm::default(), Vec::new()),
    )
    .await
    .map(|p| render(StatusCode::OK, &p));
    show(v, page, None)
}

pub(super) async fn edit_course(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
) -> Response {
    let m = guard!(require_manager(&state, &v).await);
    let page = editor(
        &state,
        &v,
        &m,
        Some(&id),
        (None, Vec::new()),
        (SessionForm::default(), Vec::new()),
    )
    .await
    .map(|p| render(StatusCode::OK, &p));
    show(v, page, None)
}
impl EditorForm for CourseForm {
    type Fields = CourseFields;
    const BASE: &'static str = "/manage/courses";
    const INVALID: &'static str = "invalid_course";

    fn token(&self) -> &str {
        &self.csrf_token
    }

    fn read(&self) -> (CourseFields, Vec<FieldError>) {
        self.fields()
    }

    fn validate(cfg: &TenantConfig, m: &Manager, f: &CourseFields) -> Result<(), Vec<FieldError>> {
        catalogue::domain::course::validate(cfg, m, f).map(|_| ())
    }

    async fn store(
        state: &AppState,
        cfg: &TenantConfig,
        m: &Manager,
        id: Option<&str>,
        f: &CourseFields,
    ) -> Result<String, CatalogueError> {
        match id {
            Some(id) => state
                .catalogue
                .update_course(cfg, m, id, f)
                .await
                .map(|()| id.to_owned()),
            None => state.catalogue.create_course(cfg, m, f).await,
        }
    }

    async fn again(
        state: &AppState,
        v: &Visitor,
        m: &Manager,
        id: Option<&str>,
        form: Self,
        errors: Vec<FieldError>,
    ) -> Result<Response, Failure> {
        editor(
            state,
            v,
            m,
            id,
            (Some(form), errors),
            (SessionForm::default(), Vec::new()),
        )
        .await
        .map(|p| render(StatusCode::UNPROCESSABLE_ENTITY, &p))
    }
}

/// A session as posted: a UK date and two clock times.
#[derive(Debug, Default, Deserialize)]
pub(super) struct SessionForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
    #[serde(default)]
    venue: String,
    #[serde(default)]
    online_url: String,
    #[serde(default)]
    capacity: String,
    #[serde(default)]
    org_place_limit: String,
}

impl SessionForm {
    fn fields(&self) -> Result<SessionFields, Vec<FieldError>> {
        let mut errors = Vec::new();
        let date = day(&mut errors, "date", "The date", &self.date);
        if date.is_none() && errors.is_empty() {
            field_error(&mut errors, "date", "Enter the date of the session");
        }
        let mut clock = |field: &'static str, text: &str, label: &str| {
            let t = NaiveTime::parse_from_str(text.trim(), "%H:%M").ok();
            if t.is_none() {
                field_error(
                    &mut errors,
                    field,
                    &format!("Enter the {label} time as hours and minutes, like 09:30"),
                );
            }
            t
        };
        let start = clock("start", &self.start, "start");
        let end = clock("end", &self.end, "end");
        let org_place_limit = match self.org_place_limit.trim() {
            "" => None,
            n => n.parse::<i64>().map(Some).unwrap_or_else(|_| {
                field_error(
                    &mut errors,
                    "org_place_limit",
                    "Places per organisation must be a whole number, or empty for no limit",
                );
                None
            }),
        };
        let capacity = self.capacity.trim().parse::<i64>().unwrap_or_else(|_| {
            field_error(
                &mut errors,
                "capacity",
                "Places must be a whole number between 1 and 10,000",
            );
            0
        });
        let at = |d: NaiveDate, t: NaiveTime| {
            d.and_time(t)
                .and_local_timezone(London)
                .earliest()
                .map(|x| x.with_timezone(&Utc))
        };
        match (date, start, end) {
            (Some(d), Some(s), Some(e)) if errors.is_empty() => match (at(d, s), at(d, e)) {
                (Some(starts_at), Some(ends_at)) => Ok(SessionFields {
                    starts_at,
                    ends_at,
                    venue: Some(self.venue.clone()),
                    online_url: Some(self.online_url.clone()),
                    capacity,
                    org_place_limit,
                }),
                _ => {
                    field_error(
                        &mut errors,
                        "start",
                        "That time does not exist on that day (the clocks change)",
                    );
                    Err(errors)
                }
            },
            _ => Err(errors),
        }
    }
}

pub(super) async fn add_session(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Form(form): Form<SessionForm>,
) -> Response {
    guard!(csrf(&v, &form.csrf_token));
    let m = guard!(require_manager(&state, &v).await);
    let result = match form.fields() {
        Ok(fields) => state
            .catalogue
            .add_session(&v.tenant().id, &m, &id, &fields)
            .await
            .map(|_| ()),
        Err(errors) => Err(CatalogueError::Invalid(errors)),
    };
    match result {
        Ok(()) => {
            v.respond(Redirect::to(&format!("/manage/courses/{id}#sessions")).into_response())
        }
        Err(CatalogueError::Invalid(errors)) => {
            let page = editor(
                &state,
                &v,
                &m,
                Some(&id),
                (None, Vec::new()),
                (form, errors),
            )
            .await
            .map(|p| render(StatusCode::UNPROCESSABLE_ENTITY, &p));
            show(v, page, Some("invalid_session"))
        }
        Err(e) => Failure::from(e).into_response(),
    }
}
pub(super) async fn cancel_session(
    State(state): State<AppState>,
    v: Visitor,
    Path((id, session)): Path<(String, String)>,
    Form(f): Form<TokenForm>,
) -> Response {
    let tenant = v.tenant().id.clone();
    let back = format!("/manage/courses/{id}#sessions");
    change(&state, v, &f.csrf_token, back, async |s, m| {
        s.catalogue.cancel_session(&tenant, m, &id, &session).await
    })
    .await
}

pub(super) async fn publish_course(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Form(f): Form<TokenForm>,
) -> Response {
    let tenant = v.tenant().id.clone();
    let back = format!("/manage/courses/{id}");
    change(&state, v, &f.csrf_token, back, async |s, m| {
        s.catalogue.publish_course(&tenant, m, &id).await
    })
    .await
}

pub(super) async fn cancel_course(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Form(f): Form<TokenForm>,
) -> Response {
    let tenant = v.tenant().id.clone();
    let back = format!("/manage/courses/{id}");
    change(&state, v, &f.csrf_token, back, async |s, m| {
        s.catalogue.cancel_course(&tenant, m, &id).await
    })
    .await
}
