//! The catalogue: browsing and search without signing in, management by tenant admins and
//! provider staff (HTML and JSON), every bad input refused with nothing changed, and another
//! tenant's ids answering 404.

use chrono::{Duration, Utc};
use e2e::{Browser, TestApp, error_code, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub(crate) async fn seed_demo(app: &TestApp, slug: &str) -> catalogue::demo::Seeded {
    let db = app.store.clone();
    let registry = storage::tenants::load_registry(&db).await.unwrap();
    let cfg = registry
        .iter()
        .find(|t| t.id.as_str() == slug)
        .unwrap()
        .config
        .clone();
    let objects = storage::Objects::local(&std::env::temp_dir().join("portal-test-objects"));
    let catalogue = catalogue::Catalogue::new(db, app.clock.clone(), objects);
    let operator = catalogue::domain::Manager::Operator { tool: "test" };
    catalogue::demo::seed(&catalogue, &cfg, &operator)
        .await
        .unwrap()
}

fn course_body(provider: &str, title: &str) -> Value {
    json!({
        "provider_id": provider,
        "kind": "course",
        "title": title,
        "summary": "A practical day on assessment in the early years.",
        "description": "## Who it is for\n\nEarly years practitioners.",
        "audiences": ["early_years"],
        "phases": ["early_years"],
        "cpd_minutes": 180,
        "price_pence": 8500,
        "cancellation_notice_days": 10,
        "cancellation_terms": "Cancel 10 days ahead for a refund."
    })
}

fn session_body(days_ahead: i64, capacity: i64) -> Value {
    let start = Utc::now() + Duration::days(days_ahead);
    json!({
        "starts_at": start,
        "ends_at": start + Duration::hours(3),
        "venue": "Taunton Library, meeting room",
        "capacity": capacity
    })
}

async fn send(
    b: &Browser,
    method: Method,
    slug: &str,
    path: &str,
    body: &Value,
) -> reqwest::Response {
    b.send_json(method, slug, path, body).await
}

/// Creates a draft course of `provider` with one session; returns its id.
pub(crate) async fn draft_course(b: &Browser, slug: &str, provider: &str) -> String {
    draft(b, slug, provider, "A draft course").await
}

/// Creates, schedules and publishes a course through the API; returns its id.
async fn published_course(b: &Browser, slug: &str, provider: &str, title: &str) -> String {
    let id = draft(b, slug, provider, title).await;
    let res = send(
        b,
        Method::POST,
        slug,
        &format!("/api/v1/courses/{id}/publish"),
        &json!({}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    id
}

/// Creates a course with one session through the API; returns its id.
async fn draft(b: &Browser, slug: &str, provider: &str, title: &str) -> String {
    let res = send(
        b,
        Method::POST,
        slug,
        "/api/v1/courses",
        &course_body(provider, title),
    )
    .await;
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        res.text().await.unwrap()
    );
    let id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = send(
        b,
        Method::POST,
        slug,
        &format!("/api/v1/courses/{id}/sessions"),
        &session_body(30, 20),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    id
}

#[tokio::test]
async fn demo_catalogue_can_be_browsed_filtered_and_searched_without_signing_in() {
    let app = spawn_app().await;
    let seeded = seed_demo(&app, "somerset").await;
    assert_eq!(seeded.courses, 24);
    assert!(seeded.services >= 3);

    let list = app.get_json("somerset", "/api/v1/courses").await;
    assert_eq!(list["total"], 24);
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        20,
        "first page of 20"
    );
    let page2 = app.get_json("somerset", "/api/v1/courses?page=2").await;
    assert_eq!(page2["items"].as_array().unwrap().len(), 4);
    // Soonest first.
    let starts: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["next_start"].as_str().unwrap())
        .collect();
    let mut sorted = starts.clone();
    sorted.sort_unstable();
    assert_eq!(starts, sorted);

    // Full-text search with stemming: "safeguard" finds the three safeguarding courses.
    let found = app
        .get_json("somerset", "/api/v1/courses?q=safeguard")
        .await;
    assert_eq!(found["total"], 3, "{found}");
    // Search text that looks like FTS or tsquery syntax is inert.
    for q in [
        "%22OR%20NEAR(",
        "a%26!b",
        "*",
        "%27%3B%20DROP%20TABLE%20course%3B--",
    ] {
        let res = app
            .get_tenant("somerset", &format!("/api/v1/courses?q={q}"))
            .await;
        assert_eq!(res.status(), StatusCode::OK, "q={q}");
    }
    let by_provider = app
        .get_json(
            "somerset",
            "/api/v1/courses?provider=wessex-teaching-school",
        )
        .await;
    let n = by_provider["total"].as_i64().unwrap();
    assert!(n > 0 && n < 24);
    assert!(
        by_provider["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["provider_id"] == "wessex-teaching-school")
    );
    let by_title = app.get_json("somerset", "/api/v1/courses?sort=title").await;
    let titles: Vec<&str> = by_title["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    let mut sorted = titles.clone();
    sorted.sort_unstable();
    assert_eq!(titles, sorted);
    // A date range narrows to courses with a session inside it.
    let to = (Utc::now() + Duration::days(40)).date_naive();
    let soon = app
        .get_json("somerset", &format!("/api/v1/courses?to={to}"))
        .await;
    assert!(soon["total"].as_i64().unwrap() < 24);
    let bad = app
        .get_tenant("somerset", "/api/v1/courses?from=someday")
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&bad), "invalid_query");

    // The HTML list works with the same filters, and a bad date only gets a message.
    let html = app
        .get_tenant(
            "somerset",
            "/courses?q=safeguarding&has_places=yes&from=nonsense",
        )
        .await;
    assert_eq!(html.status(), StatusCode::OK);
    let html = html.text().await.unwrap();
    assert!(html.contains("3 courses and events"), "{html}");
    assert!(html.contains("must be a real date"));
    assert!(
        html.contains(r##"<a href="#from-day">"##),
        "the summary links to the box"
    );

    // Dates are typed as day, month and year (no browser date picker) and filter as the
    // whole date does; the filters stay folded away unless something is wrong.
    let to = (chrono::Utc::now() + Duration::days(40)).date_naive();
    let (d, m, y) = (to.format("%-d"), to.format("%-m"), to.format("%Y"));
    let typed = app
        .get_tenant(
            "somerset",
            &format!("/courses?to-day={d}&to-month={m}&to-year={y}"),
        )
        .await
        .text()
        .await
        .unwrap();
    let whole = app
        .get_tenant("somerset", &format!("/courses?to={to}"))
        .await
        .text()
        .await
        .unwrap();
    let count = |page: &str| {
        page[page.find(r#"role="status">"#).unwrap()..]
            .split('<')
            .next()
            .unwrap()
            .to_owned()
    };
    assert_eq!(count(&typed), count(&whole));
    assert!(typed.contains("(1 filter applied)") && !typed.contains(r#"type="date""#));
    assert!(typed.contains(&format!(
        r#"id="to-day" name="to-day" type="text" inputmode="numeric" value="{d}""#
    )));
    assert!(!typed.contains("<details class=\"govuk-details govuk-!-margin-bottom-3\" open"));
    for bad in [
        "to-day=31&to-month=2&to-year=2027",
        "to-day=3&to-month=&to-year=2027",
    ] {
        let page = app
            .get_tenant("somerset", &format!("/courses?{bad}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains(r##"<a href="#to-day">"##), "{bad}");
        assert!(
            page.contains("govuk-details govuk-!-margin-bottom-3\" open"),
            "{bad}"
        );
    }
    let page1 = app
        .get_tenant("somerset", "/courses")
        .await
        .text()
        .await
        .unwrap();
    assert!(page1.contains("page 1 of 2") && page1.contains("rel=\"next\""));

    // A course page says before booking exactly what is shared with whom.
    let id = list["items"][0]["id"].as_str().unwrap();
    let page = app
        .get_tenant("somerset", &format!("/courses/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("When you book"), "{page}");
    assert!(
        page.contains("your name, your job role and your email address"),
        "{page}"
    );
    let detail = app
        .get_json("somerset", &format!("/api/v1/courses/{id}"))
        .await;
    assert_eq!(
        detail["sharing"]["categories"][0]["id"],
        "booking.delegate_details"
    );

    // Services list with prices from their lowest band.
    let services = app
        .get_tenant("somerset", "/services")
        .await
        .text()
        .await
        .unwrap();
    assert!(services.contains("From £450.00"), "{services}");
    // A tenant without the courses module has no course pages.
    assert_eq!(
        app.get_tenant("stockport", "/courses").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get_tenant("stockport", "/api/v1/courses")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // The OpenAPI document describes the API.
    let doc = app.get_json("somerset", "/api/openapi.json").await;
    assert!(doc["paths"]["/api/v1/courses"]["get"].is_object());
    assert!(doc["paths"]["/api/v1/courses/{id}/publish"]["post"].is_object());
    for path in [
        "/api/v1/providers",
        "/api/v1/basket/items",
        "/api/v1/resources",
        "/api/v1/checkout",
        "/api/v1/bookings",
        "/api/v1/waiting-list/offers/{token}/accept",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
}

#[tokio::test]
async fn drafts_are_private_until_published_and_every_change_is_audited() {
    let app = spawn_app().await;
    let admin = app
        .catalogue_manager("harrow", "admin@harrow.example", None)
        .await;
    let res = send(
        &admin,
        Method::POST,
        "harrow",
        "/api/v1/courses",
        &course_body("ss4e", "Assessment in the early years"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The public cannot see a draft; its manager can.
    assert_eq!(
        app.get_tenant("harrow", &format!("/courses/{id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get_tenant("harrow", &format!("/api/v1/courses/{id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let draft = admin
        .get_json("harrow", &format!("/api/v1/courses/{id}"))
        .await;
    assert_eq!(draft["status"], "draft");
    // Publishing needs a session.
    let res = send(
        &admin,
        Method::POST,
        "harrow",
        &format!("/api/v1/courses/{id}/publish"),
        &json!({}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = send(
        &admin,
        Method::POST,
        "harrow",
        &format!("/api/v1/courses/{id}/sessions"),
        &session_body(14, 25),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = send(
        &admin,
        Method::POST,
        "harrow",
        &format!("/api/v1/courses/{id}/publish"),
        &json!({}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let public = app
        .get_json("harrow", &format!("/api/v1/courses/{id}"))
        .await;
    assert_eq!(public["status"], "published");
    assert_eq!(public["sessions"][0]["places_left"], 25);
    assert_eq!(
        app.get_json("harrow", "/api/v1/courses?q=assessment").await["total"],
        1
    );
    // Cancelling hides it from the list, keeps the page readable, and blocks edits.
    let res = send(
        &admin,
        Method::POST,
        "harrow",
        &format!("/api/v1/courses/{id}/cancel"),
        &json!({}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get_json("harrow", "/api/v1/courses?q=assessment").await["total"],
        0
    );
    let page = app
        .get_tenant("harrow", &format!("/courses/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("has been cancelled"));
    let res = send(
        &admin,
        Method::PUT,
        "harrow",
        &format!("/api/v1/courses/{id}"),
        &course_body("ss4e", "Changed"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "cancelled");
    let actions = app.audit_actions("harrow").await;
    for a in [
        "course.created",
        "session.added",
        "course.published",
        "course.cancelled",
    ] {
        assert_eq!(
            actions.iter().filter(|x| *x == a).count(),
            1,
            "{a} in {actions:?}"
        );
    }
}

#[tokio::test]
async fn bad_input_is_refused_with_a_clear_error_and_changes_nothing() {
    let app = spawn_app().await;
    let admin = app
        .catalogue_manager("somerset", "admin@somerset.example", None)
        .await;
    let id = published_course(&admin, "somerset", "somerset-sse", "Phonics for beginners").await;
    let before = admin
        .get_json("somerset", &format!("/api/v1/courses/{id}"))
        .await;
    let audit_before = app.audit_actions("somerset").await.len();

    let mut cases: Vec<(Value, &str)> = Vec::new();
    let mut negative_price = course_body("somerset-sse", "X");
    negative_price["price_pence"] = json!(-100);
    cases.push((negative_price, "price_pence"));
    let mut unknown_provider = course_body("no-such-provider", "X");
    unknown_provider["title"] = json!("Fine title");
    cases.push((unknown_provider, "provider_id"));
    cases.push((course_body("somerset-sse", &"x".repeat(201)), "title"));
    cases.push((course_body("somerset-sse", "  "), "title"));
    let mut huge = course_body("somerset-sse", "X");
    huge["description"] = json!("a".repeat(20_001));
    cases.push((huge, "description"));
    let mut bad_audience = course_body("somerset-sse", "X");
    bad_audience["audiences"] = json!(["martians"]);
    cases.push((bad_audience, "audiences"));
    let mut bad_sla = course_body("somerset-sse", "X");
    bad_sla["sla_service_id"] = json!("not-a-service");
    bad_sla["sla_price_pence"] = json!(0);
    cases.push((bad_sla, "sla_service_id"));
    for (body, field) in &cases {
        for (method, path) in [
            (Method::POST, "/api/v1/courses".to_owned()),
            (Method::PUT, format!("/api/v1/courses/{id}")),
        ] {
            let res = send(&admin, method.clone(), "somerset", &path, body).await;
            assert_eq!(
                res.status(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "{method} {field}"
            );
            assert_eq!(error_code(&res), "invalid");
            let err: Value = res.json().await.unwrap();
            assert!(
                err["error"]["fields"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|f| f["field"] == *field),
                "{field}: {err}"
            );
        }
    }
    // Sessions: end before start, negative capacity, javascript link, past start on a
    // published course.
    let start = Utc::now() + Duration::days(10);
    for (body, field) in [
        (
            json!({"starts_at": start, "ends_at": start - Duration::hours(1), "venue": "Hall", "capacity": 10}),
            "ends_at",
        ),
        (
            json!({"starts_at": start, "ends_at": start + Duration::hours(1), "venue": "Hall", "capacity": -5}),
            "capacity",
        ),
        (
            json!({"starts_at": start, "ends_at": start + Duration::hours(1), "online_url": "javascript:alert(1)", "capacity": 5}),
            "online_url",
        ),
        (
            json!({"starts_at": Utc::now() - Duration::days(1), "ends_at": Utc::now() - Duration::days(1) + Duration::hours(2), "venue": "Hall", "capacity": 5}),
            "starts_at",
        ),
    ] {
        let res = send(
            &admin,
            Method::POST,
            "somerset",
            &format!("/api/v1/courses/{id}/sessions"),
            &body,
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let err: Value = res.json().await.unwrap();
        assert_eq!(err["error"]["fields"][0]["field"], field);
    }
    // Malformed requests: unknown field, wrong type, not JSON.
    let mut extra = course_body("somerset-sse", "X");
    extra["price_override"] = json!(1);
    let res = send(&admin, Method::POST, "somerset", "/api/v1/courses", &extra).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&res), "invalid_json");
    let res = admin
        .client
        .post(admin.url(
            "somerset.localhost",
            &format!("/api/v1/courses/{id}/cancel"),
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("x=1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "a cross-site form cannot cancel"
    );

    // Nothing changed, nothing audited.
    assert_eq!(
        admin
            .get_json("somerset", &format!("/api/v1/courses/{id}"))
            .await,
        before
    );
    assert_eq!(app.audit_actions("somerset").await.len(), audit_before);
    assert_eq!(
        app.get_json("somerset", "/api/v1/courses").await["total"],
        1
    );

    // A draft whose session has slipped into the past cannot be published.
    let res = send(
        &admin,
        Method::POST,
        "somerset",
        "/api/v1/courses",
        &course_body("somerset-sse", "Later"),
    )
    .await;
    let draft = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = send(
        &admin,
        Method::POST,
        "somerset",
        &format!("/api/v1/courses/{draft}/sessions"),
        &session_body(1, 10),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    app.clock.advance(Duration::days(2));
    let res = send(
        &admin,
        Method::POST,
        "somerset",
        &format!("/api/v1/courses/{draft}/publish"),
        &json!({}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err: Value = res.json().await.unwrap();
    assert!(
        err["error"]["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("in the past")
    );

    // Anonymous and ordinary accounts cannot manage.
    let res = send(
        &app.new_browser(),
        Method::POST,
        "somerset",
        "/api/v1/courses",
        &course_body("somerset-sse", "X"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let teacher = app.person("somerset", "teacher@school.example", None).await;
    let res = send(
        &teacher,
        Method::POST,
        "somerset",
        "/api/v1/courses",
        &course_body("somerset-sse", "X"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(&res), "not_catalogue_manager");
    assert_eq!(
        teacher
            .get_tenant("somerset", "/manage/catalogue")
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    // Nothing to manage: no console either.
    assert_eq!(
        teacher.get_tenant("somerset", "/manage").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn markdown_is_sanitised_before_anyone_sees_it() {
    let app = spawn_app().await;
    let admin = app
        .catalogue_manager("havering", "admin@havering.example", None)
        .await;
    let mut body = course_body("hes", "Safe descriptions");
    body["description"] = json!(
        "**Bold** <script>alert('x')</script>\n\n<img src=x onerror=alert(1)>\n\n[click](javascript:alert(1)) <a href=\"https://ok.example\" onclick=\"steal()\">ok</a>"
    );
    let res = send(&admin, Method::POST, "havering", "/api/v1/courses", &body).await;
    let id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = admin
        .get_json("havering", &format!("/api/v1/courses/{id}"))
        .await;
    let html = out["description_html"].as_str().unwrap();
    assert!(html.contains("<strong>Bold</strong>"));
    for bad in ["<script", "onerror", "javascript:", "onclick", "<img"] {
        assert!(!html.contains(bad), "{bad} in {html}");
    }
    let page = admin
        .get_tenant("havering", &format!("/courses/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !page.contains("<script>alert"),
        "page must not carry the script"
    );
}

#[tokio::test]
async fn provider_staff_manage_only_their_own_providers_items() {
    let app = spawn_app().await;
    let admin = app
        .catalogue_manager("somerset", "admin@somerset.example", None)
        .await;
    let council_course =
        published_course(&admin, "somerset", "somerset-sse", "Council course").await;
    let staff = app
        .catalogue_manager(
            "somerset",
            "staff@wessex.example",
            Some("wessex-teaching-school"),
        )
        .await;
    let own = published_course(
        &staff,
        "somerset",
        "wessex-teaching-school",
        "Wessex course",
    )
    .await;
    // Creating for another provider is refused on the field.
    let res = send(
        &staff,
        Method::POST,
        "somerset",
        "/api/v1/courses",
        &course_body("somerset-sse", "Not mine"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Another provider's course is not found for every management action.
    let before = admin
        .get_json("somerset", &format!("/api/v1/courses/{council_course}"))
        .await;
    for (method, path, body) in [
        (
            Method::PUT,
            format!("/api/v1/courses/{council_course}"),
            course_body("somerset-sse", "Taken over"),
        ),
        (
            Method::POST,
            format!("/api/v1/courses/{council_course}/cancel"),
            json!({}),
        ),
        (
            Method::POST,
            format!("/api/v1/courses/{council_course}/sessions"),
            session_body(20, 5),
        ),
    ] {
        let res = send(&staff, method, "somerset", &path, &body).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(
        staff
            .get_tenant("somerset", &format!("/manage/courses/{council_course}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        admin
            .get_json("somerset", &format!("/api/v1/courses/{council_course}"))
            .await,
        before
    );
    // Their dashboard lists only their own.
    let dash = staff
        .get_tenant("somerset", "/manage/catalogue")
        .await
        .text()
        .await
        .unwrap();
    assert!(dash.contains("Wessex course") && !dash.contains("Council course"));
    // The tenant admin manages both.
    let res = send(
        &admin,
        Method::POST,
        "somerset",
        &format!("/api/v1/courses/{own}/cancel"),
        &json!({}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn another_tenants_ids_are_not_found() {
    let app = spawn_app().await;
    let somerset = app
        .catalogue_manager("somerset", "admin@somerset.example", None)
        .await;
    let id = published_course(&somerset, "somerset", "somerset-sse", "Somerset only").await;
    let before = somerset
        .get_json("somerset", &format!("/api/v1/courses/{id}"))
        .await;
    let harrow = app
        .catalogue_manager("harrow", "admin@harrow.example", None)
        .await;
    assert_eq!(
        harrow
            .get_tenant("harrow", &format!("/courses/{id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        harrow
            .get_tenant("harrow", &format!("/api/v1/courses/{id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        harrow
            .get_tenant("harrow", &format!("/manage/courses/{id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let session = before["sessions"][0]["id"].as_str().unwrap();
    for (method, path, body) in [
        (
            Method::PUT,
            format!("/api/v1/courses/{id}"),
            course_body("ss4e", "Stolen"),
        ),
        (
            Method::POST,
            format!("/api/v1/courses/{id}/publish"),
            json!({}),
        ),
        (
            Method::POST,
            format!("/api/v1/courses/{id}/cancel"),
            json!({}),
        ),
        (
            Method::POST,
            format!("/api/v1/courses/{id}/sessions"),
            session_body(5, 5),
        ),
        (
            Method::PUT,
            format!("/api/v1/courses/{id}/sessions/{session}"),
            session_body(5, 5),
        ),
        (
            Method::POST,
            format!("/api/v1/courses/{id}/sessions/{session}/cancel"),
            json!({}),
        ),
    ] {
        let res = send(&harrow, method, "harrow", &path, &body).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(error_code(&res), "not_found");
    }
    let form = harrow.csrf("harrow", "/manage/catalogue").await;
    let res = harrow
        .post_form(
            "harrow",
            &format!("/manage/courses/{id}/cancel"),
            &[("csrf_token", &form)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        somerset
            .get_json("somerset", &format!("/api/v1/courses/{id}"))
            .await,
        before
    );
    assert_eq!(app.get_json("harrow", "/api/v1/courses").await["total"], 0);
}

#[tokio::test]
async fn managers_work_through_the_html_forms() {
    let app = spawn_app().await;
    let admin = app
        .catalogue_manager("harrow", "admin@harrow.example", None)
        .await;
    // A form with errors keeps what was typed and lists each problem.
    let res = admin
        .submit(
            "harrow",
            "/manage/courses/new",
            "/manage/courses",
            &[
                ("provider_id", "ss4e"),
                ("title", ""),
                ("summary", "Sum"),
                ("price", "-5"),
                ("cpd_hours", "lots"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&res), "invalid_course");
    let page = res.text().await.unwrap();
    assert!(page.contains("There is a problem"));
    assert!(
        page.contains("Enter a title")
            && page.contains("must be £0 or more")
            && page.contains("CPD hours"),
        "{page}"
    );
    assert!(page.contains(">Sum</textarea>"));
    assert!(app.get_json("harrow", "/api/v1/courses").await["total"] == 0);
    // A good form creates a draft, then a session is added and the course published.
    let res = admin
        .submit(
            "harrow",
            "/manage/courses/new",
            "/manage/courses",
            &[
                ("provider_id", "ss4e"),
                ("kind", "event"),
                ("title", "Headteachers' briefing"),
                ("summary", "Termly update."),
                ("audiences", "schools"),
                ("audiences", "early_years"),
                ("price", "0"),
                ("cpd_hours", "1.5"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let at = res.headers()["location"].to_str().unwrap().to_owned();
    let id = at.trim_start_matches("/manage/courses/").to_owned();
    let day = (Utc::now() + Duration::days(21)).date_naive().to_string();
    let res = admin
        .submit(
            "harrow",
            &at,
            &format!("{at}/sessions"),
            &[
                ("date", &day),
                ("start", "17:00"),
                ("end", "16:00"),
                ("venue", "Civic centre"),
                ("capacity", "60"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("must end after it starts")
    );
    let res = admin
        .submit(
            "harrow",
            &at,
            &format!("{at}/sessions"),
            &[
                ("date", &day),
                ("start", "16:00"),
                ("end", "17:30"),
                ("venue", "Civic centre"),
                ("capacity", "60"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = admin
        .submit("harrow", &at, &format!("{at}/publish"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let out = app
        .get_json("harrow", &format!("/api/v1/courses/{id}"))
        .await;
    assert_eq!(out["kind"], "event");
    assert_eq!(out["cpd_minutes"], 90);
    assert_eq!(out["audiences"], json!(["schools", "early_years"]));
    assert_eq!(out["sessions"][0]["capacity"], 60);
    // The session shows in UK time.
    let page = app
        .get_tenant("harrow", &format!("/courses/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("4pm to 5:30pm"), "{page}");
    // A form post without the CSRF token changes nothing.
    let res = admin
        .post_form("harrow", &format!("{at}/cancel"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.get_json("harrow", &format!("/api/v1/courses/{id}"))
            .await["status"],
        "published"
    );
}

/// A course needs a provider of training and a traded service a provider of services:
/// each form lists only those, and the API refuses the other kind, creating nothing.
#[tokio::test]
async fn courses_and_services_take_only_providers_that_offer_them() {
    let app = spawn_app().await;
    let admin = app
        .catalogue_manager("somerset", "admin@somerset.example", None)
        .await;
    // North Somerset Council sells services only; Wessex Teaching School trains only.
    let course = json!({
        "provider_id": "north-somerset-council", "title": "Phonics", "summary": "Early reading.",
        "price_pence": 5000
    });
    let service = json!({
        "provider_id": "wessex-teaching-school", "title": "Payroll SLA", "summary": "Payroll.",
        "audiences": ["schools"], "period_start": "2026-09-01", "period_end": "2027-08-31",
        "term": "Academic year 2026 to 2027",
        "price_bands": [{"label": "All schools", "price_pence": 45000}]
    });
    for (path, body, says) in [
        ("/api/v1/courses", &course, "Select a provider of training"),
        (
            "/api/v1/services",
            &service,
            "Select a provider of traded services",
        ),
    ] {
        let res = send(&admin, Method::POST, "somerset", path, body).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        let err = res.json::<Value>().await.unwrap();
        assert_eq!(err["error"]["fields"][0]["field"], "provider_id", "{path}");
        let message = err["error"]["fields"][0]["message"].as_str().unwrap();
        assert!(message.starts_with(says), "{path}: {message}");
    }
    let actions = app.audit_actions("somerset").await;
    assert!(
        !actions.iter().any(|a| a.ends_with(".created")),
        "nothing was created: {actions:?}"
    );
    // The forms offer only providers of the right kind.
    let courses = admin.get_tenant("somerset", "/manage/courses/new").await;
    let courses = courses.text().await.unwrap();
    assert!(courses.contains("value=\"wessex-teaching-school\""));
    assert!(!courses.contains("value=\"north-somerset-council\""));
    let services = admin.get_tenant("somerset", "/manage/services/new").await;
    let services = services.text().await.unwrap();
    assert!(services.contains("value=\"north-somerset-council\""));
    assert!(!services.contains("value=\"wessex-teaching-school\""));
    // The provider that does both is offered on both.
    for page in [&courses, &services] {
        assert!(page.contains("value=\"somerset-sse\""));
    }

    // A course made before kinds were checked keeps its provider when edited.
    let mut old = course.clone();
    old["provider_id"] = json!("somerset-sse");
    let res = send(&admin, Method::POST, "somerset", "/api/v1/courses", &old).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let tx = app
        .store
        .tenant_tx(&"somerset".parse().unwrap())
        .await
        .unwrap();
    let moved = sea_orm::ConnectionTrait::execute_unprepared(
        &*tx,
        &format!("UPDATE course SET provider_id = 'north-somerset-council' WHERE id = '{id}'"),
    )
    .await
    .unwrap();
    assert_eq!(moved.rows_affected(), 1);
    tx.commit().await.unwrap();
    let path = format!("/api/v1/courses/{id}");
    let res = send(&admin, Method::PUT, "somerset", &path, &course).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let form = admin
        .page("somerset", &format!("/manage/courses/{id}"))
        .await;
    assert!(form.contains("value=\"north-somerset-council\""));
}

#[tokio::test]
async fn services_have_price_bands_and_courses_name_the_sla_that_covers_them() {
    let app = spawn_app().await;
    let admin = app
        .catalogue_manager("somerset", "admin@somerset.example", None)
        .await;
    let service = json!({
        "provider_id": "somerset-sse",
        "title": "Training SLA",
        "summary": "Core training for all staff.",
        "audiences": ["schools"],
        "period_start": "2026-09-01",
        "period_end": "2027-08-31",
        "term": "Academic year 2026 to 2027",
        "price_bands": [{"label": "Up to 100 pupils", "price_pence": 45000}, {"label": "More", "price_pence": 90000}]
    });
    let mut bad = service.clone();
    bad["price_bands"] = json!([]);
    let res = send(&admin, Method::POST, "somerset", "/api/v1/services", &bad).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let mut bad = service.clone();
    bad["period_end"] = json!("2026-08-01");
    let res = send(&admin, Method::POST, "somerset", "/api/v1/services", &bad).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = send(
        &admin,
        Method::POST,
        "somerset",
        "/api/v1/services",
        &service,
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let sid = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = send(
        &admin,
        Method::POST,
        "somerset",
        &format!("/api/v1/services/{sid}/publish"),
        &json!({}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let out = app
        .get_json("somerset", &format!("/api/v1/services/{sid}"))
        .await;
    assert_eq!(out["price_bands"][1]["price_pence"], 90000);
    assert!(
        out["sharing"]["sentence"]
            .as_str()
            .unwrap()
            .contains("When you buy")
    );
    let list = app
        .get_json("somerset", "/api/v1/services?q=training")
        .await;
    assert_eq!(list["items"][0]["from_pence"], 45000);

    let mut body = course_body("somerset-sse", "Covered course");
    body["sla_service_id"] = json!(sid);
    body["sla_price_pence"] = json!(0);
    let res = send(&admin, Method::POST, "somerset", "/api/v1/courses", &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let cid = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = admin
        .get_tenant("somerset", &format!("/courses/{cid}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Free for schools with the"), "{page}");
    // Another tenant's service cannot be named as the SLA.
    let harrow = app
        .catalogue_manager("harrow", "admin@harrow.example", None)
        .await;
    let mut body = course_body("ss4e", "Borrowed SLA");
    body["sla_service_id"] = json!(sid);
    body["sla_price_pence"] = json!(0);
    let res = send(&harrow, Method::POST, "harrow", "/api/v1/courses", &body).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.get_tenant("harrow", &format!("/services/{sid}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // Every service endpoint answers another tenant's id with 404 and changes nothing.
    let before = admin
        .get_json("somerset", &format!("/api/v1/services/{sid}"))
        .await;
    assert_eq!(
        harrow
            .get_tenant("harrow", &format!("/api/v1/services/{sid}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        harrow
            .get_tenant("harrow", &format!("/manage/services/{sid}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let mut stolen = service.clone();
    stolen["provider_id"] = json!("ss4e");
    for (method, path, body) in [
        (Method::PUT, format!("/api/v1/services/{sid}"), stolen),
        (
            Method::POST,
            format!("/api/v1/services/{sid}/publish"),
            json!({}),
        ),
        (
            Method::POST,
            format!("/api/v1/services/{sid}/cancel"),
            json!({}),
        ),
    ] {
        let res = send(&harrow, method, "harrow", &path, &body).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(
        admin
            .get_json("somerset", &format!("/api/v1/services/{sid}"))
            .await,
        before
    );
}
