//! Providers' delegate lists (only what the notice gives each provider, every read logged),
//! the attendance register, CPD records and "My CPD".

use chrono::Duration;
use e2e::{Browser, TestApp, error_code, spawn_app};
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::bookings::{checkout, published_course};

/// A published 3-hour course of `provider` worth 180 CPD minutes, with one session
/// `days` ahead; returns (course id, session id).
pub(crate) async fn course(
    admin: &Browser,
    slug: &str,
    provider: &str,
    days: i64,
) -> (String, String) {
    let body = json!({
        "provider_id": provider, "title": "Phonics leadership", "summary": "For phonics leads.",
        "price_pence": 0, "cpd_minutes": 180, "cancellation_notice_days": 0
    });
    published_course(admin, slug, &body, 10, days).await
}

async fn book(b: &Browser, slug: &str, key: &str, session: &str) {
    let body = json!({"items": [{"session_id": session}], "expected_total_pence": 0});
    assert_eq!(
        checkout(b, slug, key, &body).await.status(),
        StatusCode::CREATED
    );
}

pub(crate) async fn disclosures(app: &TestApp, slug: &str) -> Vec<(String, String, String)> {
    let db = app.store.clone();
    let tx = db.tenant_tx(&slug.parse().unwrap()).await.unwrap();
    let rows = tx
        .query_all_raw(Statement::from_string(
            tx.get_database_backend(),
            "SELECT provider_id, fields, format FROM disclosure_log ORDER BY id",
        ))
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    rows.into_iter()
        .map(|r| {
            (
                r.try_get_by_index(0).unwrap(),
                r.try_get_by_index(1).unwrap(),
                r.try_get_by_index(2).unwrap(),
            )
        })
        .collect()
}

/// A Harrow session of SS4E in ten days with Ana and Ben booked on it; returns the session
/// id, Ana, Ben and a member of SS4E's staff.
pub(crate) async fn two_booked(app: &TestApp) -> (String, Browser, Browser, Browser) {
    let slug = "harrow";
    let admin = app
        .catalogue_manager(slug, "admin@harrow.example", None)
        .await;
    let (_, session) = course(&admin, slug, "ss4e", 10).await;
    let ana = app.person(slug, "ana@school.example", None).await;
    let ben = app.person(slug, "ben@school.example", None).await;
    book(&ana, slug, "ana-key-0001", &session).await;
    book(&ben, slug, "ben-key-0001", &session).await;
    let staff = app
        .catalogue_manager(slug, "staff@ss4e.example", Some("ss4e"))
        .await;
    (session, ana, ben, staff)
}

async fn get(b: &Browser, slug: &str, path: &str) -> reqwest::Response {
    b.get_tenant(slug, path).await
}

/// Harrow's notice gives SS4E delegates' names, job titles, organisations and special
/// requirements (so the organiser can make arrangements), not their email addresses: the
/// page, the CSV and the API show exactly those, special requirements decrypted for the
/// view, and each read is logged per delegate with the fields shown.
#[tokio::test]
async fn a_provider_sees_exactly_the_fields_the_notice_gives_it_and_each_read_is_logged() {
    let app = spawn_app().await;
    let slug = "harrow";
    let (session, ana, _ben, staff) = two_booked(&app).await;
    let needs = "Step-free access and a vegan lunch";
    ana.set_special_requirements(slug, needs).await;
    // The notice says so: SS4E is named as receiving them.
    let notice = app.get_json(slug, "/privacy.json").await;
    let section = notice["notice"]["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "account.special_requirements")
        .unwrap()
        .clone();
    assert!(
        section["recipients"]
            .to_string()
            .contains("Support Services for Education Harrow"),
        "{section}"
    );
    assert!(
        section["conditions"]
            .to_string()
            .contains("Article 9(2)(a)"),
        "{section}"
    );

    let list = staff
        .get_json(slug, &format!("/api/v1/sessions/{session}/delegates"))
        .await;
    assert_eq!(
        list["fields"],
        json!(["name", "job_title", "organisation", "special_requirements"])
    );
    let delegates = list["delegates"].as_array().unwrap();
    assert_eq!(delegates.len(), 2);
    assert_eq!(delegates[0]["fields"]["name"], "Pat ana");
    assert_eq!(delegates[0]["fields"]["job_title"], "Teacher");
    assert_eq!(delegates[0]["fields"]["organisation"], "A school");
    assert_eq!(delegates[0]["fields"]["special_requirements"], needs);
    assert_eq!(delegates[1]["fields"]["special_requirements"], "");
    assert!(!list.to_string().contains("@school.example"), "{list}");

    let res = get(
        &staff,
        slug,
        &format!("/manage/sessions/{session}/delegates.csv"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let csv = res.text().await.unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("Booking,Name,Job title,Organisation,Special requirements,Attendance")
    );
    assert!(
        csv.contains(&format!("Pat ana,Teacher,A school,{needs},Not marked")),
        "{csv}"
    );
    assert!(!csv.contains("@school.example"));

    let res = get(
        &staff,
        slug,
        &format!("/manage/sessions/{session}/delegates"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("Pat ben") && !html.contains("ben@school.example"));
    assert!(html.contains(needs));
    assert!(html.contains("The register can be marked once the session has started."));

    let log = disclosures(&app, slug).await;
    assert_eq!(log.len(), 6, "two delegates, three reads");
    for format in ["json", "csv", "page"] {
        assert_eq!(
            log.iter()
                .filter(|(p, f, x)| p == "ss4e"
                    && f == "name,job_title,organisation,special_requirements"
                    && x == format)
                .count(),
            2
        );
    }
    assert!(
        app.audit_actions(slug)
            .await
            .contains(&"delegates.disclosed".to_owned())
    );
}

/// A provider's staff cannot read or mark another provider's list, nor can anyone read
/// another tenant's; refused reads disclose nothing and log nothing.
#[tokio::test]
async fn another_providers_or_tenants_delegate_list_is_not_found() {
    let app = spawn_app().await;
    let slug = "somerset";
    let admin = app
        .catalogue_manager(slug, "admin@somerset.example", None)
        .await;
    let (_, session) = course(&admin, slug, "somerset-sse", 10).await;
    let ana = app.person(slug, "ana@school.example", None).await;
    book(&ana, slug, "ana-key-0001", &session).await;
    let wessex = app
        .catalogue_manager(slug, "staff@wessex.example", Some("wessex-teaching-school"))
        .await;
    let harrow = app
        .catalogue_manager("harrow", "admin@harrow.example", None)
        .await;

    for (who, host) in [(&wessex, slug), (&harrow, "harrow")] {
        for path in [
            format!("/api/v1/sessions/{session}/delegates"),
            format!("/manage/sessions/{session}/delegates"),
            format!("/manage/sessions/{session}/delegates.csv"),
        ] {
            assert_eq!(
                get(who, host, &path).await.status(),
                StatusCode::NOT_FOUND,
                "{host}{path}"
            );
        }
        let res = who
            .send_json(
                Method::POST,
                host,
                &format!("/api/v1/sessions/{session}/attendance"),
                &json!({"marks": []}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    // A signed-in person who manages nothing, and an anonymous visitor.
    let res = get(&ana, slug, &format!("/api/v1/sessions/{session}/delegates")).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(&res), "not_catalogue_manager");
    let res = get(
        &app.new_browser(),
        slug,
        &format!("/api/v1/sessions/{session}/delegates"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(disclosures(&app, slug).await.is_empty());
    // Its own provider's staff (and the tenant admin) can.
    let sse = app
        .catalogue_manager(slug, "staff@sse.example", Some("somerset-sse"))
        .await;
    let list = sse
        .get_json(slug, &format!("/api/v1/sessions/{session}/delegates"))
        .await;
    assert_eq!(list["fields"], json!(["name", "email", "job_title"]));
    assert_eq!(
        list["delegates"][0]["fields"]["email"],
        "ana@school.example"
    );
}

/// The register: not before the session starts; all marks or none; attending makes a CPD
/// record with the course's hours, which the person sees and downloads; a correction to
/// "did not attend" removes it.
#[tokio::test]
async fn marking_attendance_makes_cpd_records_that_the_person_can_export() {
    let app = spawn_app().await;
    let slug = "harrow";
    let admin = app
        .catalogue_manager(slug, "admin@harrow.example", None)
        .await;
    let (_, session) = course(&admin, slug, "ss4e", 3).await;
    let (_, other_session) = course(&admin, slug, "ss4e", 3).await;
    let ana = app.person(slug, "ana@school.example", None).await;
    let ben = app.person(slug, "ben@school.example", None).await;
    book(&ana, slug, "ana-key-0001", &session).await;
    book(&ben, slug, "ben-key-0001", &session).await;
    book(&ben, slug, "ben-key-0002", &other_session).await;
    let list = admin
        .get_json(slug, &format!("/api/v1/sessions/{session}/delegates"))
        .await;
    let ids: Vec<String> = list["delegates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["booking_id"].as_str().unwrap().to_owned())
        .collect();
    let other = admin
        .get_json(slug, &format!("/api/v1/sessions/{other_session}/delegates"))
        .await;
    let other_id = other["delegates"][0]["booking_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mark = |marks: Value| {
        let admin = admin.clone();
        let session = session.clone();
        async move {
            admin
                .send_json(
                    Method::POST,
                    slug,
                    &format!("/api/v1/sessions/{session}/attendance"),
                    &json!({"marks": marks}),
                )
                .await
        }
    };

    let res = mark(json!([{"booking_id": ids[0], "attendance": "attended"}])).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "session_not_started");

    app.clock.advance(Duration::days(4));
    // A bad mark, or a booking of another session, refuses the whole request.
    let res = mark(json!([{"booking_id": ids[0], "attendance": "attended"}, {"booking_id": ids[1], "attendance": "maybe"}])).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&res), "invalid_mark");
    let res = mark(json!([{"booking_id": ids[0], "attendance": "attended"}, {"booking_id": other_id, "attendance": "attended"}])).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    for who in [&ana, &ben] {
        let csv = get(who, slug, "/account/cpd.csv")
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(csv.trim(), "Course,Completed,Hours", "nothing was recorded");
    }

    let res = mark(json!([{"booking_id": ids[0], "attendance": "attended"}, {"booking_id": ids[1], "attendance": "no_show"}])).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["changed"], 2);
    let (attended, absent) = {
        let list = admin
            .get_json(slug, &format!("/api/v1/sessions/{session}/delegates"))
            .await;
        let d = list["delegates"].as_array().unwrap().clone();
        (d[0].clone(), d[1].clone())
    };
    assert_eq!(attended["attendance"], "attended");
    assert_eq!(absent["attendance"], "no_show");

    let page = get(&ana, slug, "/account/cpd").await.text().await.unwrap();
    assert!(
        page.contains("Phonics leadership") && page.contains("3 hours in total"),
        "{page}"
    );
    let csv = get(&ana, slug, "/account/cpd.csv")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        csv.lines()
            .nth(1)
            .unwrap()
            .starts_with("Phonics leadership,"),
        "{csv}"
    );
    assert!(csv.lines().nth(1).unwrap().ends_with(",3"), "{csv}");
    let csv = get(&ben, slug, "/account/cpd.csv")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(csv.lines().count(), 1, "no CPD for a no-show");

    // The page's register, with its form: a correction removes the CPD record.
    let page = get(
        &admin,
        slug,
        &format!("/manage/sessions/{session}/delegates"),
    )
    .await
    .text()
    .await
    .unwrap();
    let res = admin
        .submit_with_page(
            &page,
            slug,
            &format!("/manage/sessions/{session}/delegates"),
            &[(format!("mark_{}", ids[0]).as_str(), "no_show")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let csv = get(&ana, slug, "/account/cpd.csv")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(csv.lines().count(), 1, "{csv}");
    assert!(
        app.audit_actions(slug)
            .await
            .contains(&"attendance.marked".to_owned())
    );
}
