//! Managing traded services and SLAs: the editor with its price bands, publishing and
//! cancelling.

use super::*;

/// Price-band rows on the service form.
const BAND_ROWS: usize = 5;

#[derive(Debug, Default, Deserialize)]
pub(super) struct ServiceForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    provider_id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    audiences: Vec<String>,
    #[serde(default)]
    period_start: String,
    #[serde(default)]
    period_end: String,
    #[serde(default)]
    term: String,
    #[serde(default)]
    band_label: Vec<String>,
    #[serde(default)]
    band_price: Vec<String>,
}

impl ServiceForm {
    fn fields(&self) -> (ServiceFields, Vec<FieldError>) {
        let mut errors = Vec::new();
        let period_start = day(
            &mut errors,
            "period_start",
            "The first day",
            &self.period_start,
        );
        let period_end = day(&mut errors, "period_end", "The last day", &self.period_end);
        let mut price_bands = Vec::new();
        for (label, price) in self.band_label.iter().zip(&self.band_price) {
            if label.trim().is_empty() && price.trim().is_empty() {
                continue;
            }
            let price_pence = pounds(&mut errors, "price_bands", "Each band's price", price);
            price_bands.push(PriceBand {
                label: label.clone(),
                price_pence,
            });
        }
        (
            ServiceFields {
                provider_id: self.provider_id.clone(),
                title: self.title.clone(),
                summary: self.summary.clone(),
                description: self.description.clone(),
                audiences: self.audiences.clone(),
                period_start,
                period_end,
                term: self.term.clone(),
                price_bands,
            },
            errors,
        )
    }

    fn from_detail(d: &catalogue::ServiceDetail) -> Self {
        let s = &d.service;
        Self {
            csrf_token: String::new(),
            provider_id: s.provider_id.clone(),
            title: s.title.clone(),
            summary: s.summary.clone(),
            description: s.description.clone(),
            audiences: split_list(&s.audiences),
            period_start: s.period_start.format("%Y-%m-%d").to_string(),
            period_end: s.period_end.format("%Y-%m-%d").to_string(),
            term: s.term.clone(),
            band_label: d.bands.iter().map(|b| b.label.clone()).collect(),
            band_price: d
                .bands
                .iter()
                .map(|b| format!("{}.{:02}", b.price_pence / 100, b.price_pence % 100))
                .collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "catalogue/manage_service.html")]
struct ServiceEditor<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    id: Option<String>,
    status: &'static str,
    published: bool,
    cancelled: bool,
    form: ServiceForm,
    bands: Vec<(String, String)>,
    errors: Vec<FieldError>,
    providers: Vec<Opt>,
    audiences: Vec<Opt>,
}

impl ServiceEditor<'_> {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    fn chosen(list: &[String], v: &str) -> bool {
        list.iter().any(|x| x == v)
    }
}

async fn service_editor<'a>(
    state: &AppState,
    v: &'a Visitor,
    m: &Manager,
    id: Option<&str>,
    form: Option<ServiceForm>,
    errors: Vec<FieldError>,
) -> Result<ServiceEditor<'a>, Failure> {
    let cfg = &v.tenant().config;
    let (form, status, current) = match id {
        Some(id) => {
            let d = state.catalogue.service(&v.tenant().id, id, Some(m)).await?;
            if !m.manages(&d.service.provider_id) {
                return Err(super::super::not_found());
            }
            (
                form.unwrap_or_else(|| ServiceForm::from_detail(&d)),
                Status::parse(&d.service.status),
                Some(d.service.provider_id.clone()),
            )
        }
        None => (form.unwrap_or_default(), Status::Draft, None),
    };
    let mut bands: Vec<(String, String)> = form
        .band_label
        .iter()
        .cloned()
        .zip(form.band_price.iter().cloned())
        .collect();
    bands.resize(BAND_ROWS.max(bands.len()), (String::new(), String::new()));
    Ok(ServiceEditor {
        chrome: v.chrome("/manage"),
        csrf: v.csrf().to_owned(),
        id: id.map(str::to_owned),
        status: status_label(status.as_str()),
        published: status == Status::Published,
        cancelled: status == Status::Cancelled,
        form,
        bands,
        errors,
        providers: catalogue::domain::providers_for(
            cfg,
            m,
            tenant_router::config::ProviderKind::Services,
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
    })
}

pub(super) async fn new_service(State(state): State<AppState>, v: Visitor) -> Response {
    let m = guard!(require_manager(&state, &v).await);
    let page = service_editor(&state, &v, &m, None, None, Vec::new())
        .await
        .map(|p| render(StatusCode::OK, &p));
    show(v, page, None)
}

pub(super) async fn edit_service(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
) -> Response {
    let m = guard!(require_manager(&state, &v).await);
    let page = service_editor(&state, &v, &m, Some(&id), None, Vec::new())
        .await
        .map(|p| render(StatusCode::OK, &p));
    show(v, page, None)
}

impl EditorForm for ServiceForm {
    type Fields = ServiceFields;
    const BASE: &'static str = "/manage/services";
    const INVALID: &'static str = "invalid_service";

    fn token(&self) -> &str {
        &self.csrf_token
    }

    fn read(&self) -> (ServiceFields, Vec<FieldError>) {
        self.fields()
    }

    fn validate(cfg: &TenantConfig, m: &Manager, f: &ServiceFields) -> Result<(), Vec<FieldError>> {
        catalogue::domain::service::validate(cfg, m, f).map(|_| ())
    }

    async fn store(
        state: &AppState,
        cfg: &TenantConfig,
        m: &Manager,
        id: Option<&str>,
        f: &ServiceFields,
    ) -> Result<String, CatalogueError> {
        match id {
            Some(id) => state
                .catalogue
                .update_service(cfg, m, id, f)
                .await
                .map(|()| id.to_owned()),
            None => state.catalogue.create_service(cfg, m, f).await,
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
        service_editor(state, v, m, id, Some(form), errors)
            .await
            .map(|p| render(StatusCode::UNPROCESSABLE_ENTITY, &p))
    }
}

pub(super) async fn publish_service(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Form(f): Form<TokenForm>,
) -> Response {
    let tenant = v.tenant().id.clone();
    let back = format!("/manage/services/{id}");
    change(&state, v, &f.csrf_token, back, async |s, m| {
        s.catalogue.set_service_status(&tenant, m, &id, true).await
    })
    .await
}

pub(super) async fn cancel_service(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<String>,
    Form(f): Form<TokenForm>,
) -> Response {
    let tenant = v.tenant().id.clone();
    let back = format!("/manage/services/{id}");
    change(&state, v, &f.csrf_token, back, async |s, m| {
        s.catalogue.set_service_status(&tenant, m, &id, false).await
    })
    .await
}
