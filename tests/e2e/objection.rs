//! Objection and restriction take effect: an objection to marketing withdraws every
//! marketing consent at once; a restriction keeps the person's data, hides it from the
//! providers' delegate lists (page, CSV, API) and stops their feedback request until it is
//! lifted; each step is in the request's history, the consent ledger or the holds, and the
//! person is told. Actions of the wrong kind, twice, or without a reason change nothing.

use e2e::{Browser, TestApp, error_code, spawn_app};
use reqwest::StatusCode;

use crate::delegates::{disclosures, two_booked};
use crate::rights::{holds_on, newest_request, newest_request_of};

async fn file(person: &Browser, slug: &str, kind: &str) -> reqwest::Response {
    person
        .submit(
            slug,
            "/account/requests",
            "/account/requests",
            &[("kind", kind), ("details", "Please act on this.")],
        )
        .await
}

async fn act(
    b: &Browser,
    slug: &str,
    id: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let page = format!("/manage/requests/{id}");
    b.submit(slug, &page, &format!("{page}/{action}"), fields)
        .await
}

async fn consents(app: &TestApp, slug: &str, email: &str) -> Vec<(String, bool, String)> {
    let id = app.account(slug, email).await.unwrap().id;
    let tx = app.store.tenant_tx(&slug.parse().unwrap()).await.unwrap();
    let events = privacy_engine::store::consent::history(&tx, &id)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    events
        .into_iter()
        .map(|e| (e.purpose, e.given, e.method))
        .collect()
}

#[tokio::test]
async fn an_objection_to_marketing_withdraws_every_marketing_consent_at_once() {
    let app = spawn_app().await;
    let slug = "somerset";
    let person = app.person(slug, "objector@example.org", None).await;
    let res = person
        .submit(
            slug,
            "/account/preferences",
            "/account/preferences",
            &[
                ("alert_frequency", "daily"),
                ("newsletter", "yes"),
                ("marketing", "yes"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let officer = app
        .role_holder(slug, "dpo@somerset.example", "privacy-officer", None)
        .await;

    assert_eq!(
        file(&person, slug, "objection").await.status(),
        StatusCode::SEE_OTHER
    );
    let id = newest_request_of(&officer, slug).await;
    // A restriction is no answer to an objection.
    let res = act(&officer, slug, &id, "restrict", &[("reason", "No")]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "not_a_restriction");
    assert_eq!(consents(&app, slug, "objector@example.org").await.len(), 2);
    let page = officer.page(slug, &format!("/manage/requests/{id}")).await;
    assert!(page.contains("Stop marketing"), "{page}");
    let res = act(&officer, slug, &id, "stop-marketing", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let events = consents(&app, slug, "objector@example.org").await;
    let latest: Vec<_> = events[2..]
        .iter()
        .map(|(p, g, m)| (p.as_str(), *g, m.as_str()))
        .collect();
    assert_eq!(
        latest,
        [
            ("newsletter", false, "objection_request"),
            ("marketing", false, "objection_request"),
        ]
    );
    // The preferences page shows both unticked.
    let prefs = person.page(slug, "/account/preferences").await;
    assert!(!prefs.contains("value=\"yes\" checked"), "{prefs}");
    // The person is told; the history says what was withdrawn.
    let mail = app.outbox(slug, "objector@example.org").await;
    assert!(
        mail.iter()
            .any(|m| m.subject.starts_with("We have stopped marketing to you")),
        "{mail:?}"
    );
    let page = officer.page(slug, &format!("/manage/requests/{id}")).await;
    assert!(
        page.contains("Marketing stopped")
            && page.contains("Marketing consent withdrawn: newsletter, marketing."),
        "{page}"
    );

    // Closed, it cannot be applied again.
    let res = act(
        &officer,
        slug,
        &id,
        "close",
        &[("outcome", "completed"), ("note", "Marketing stopped.")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = act(&officer, slug, &id, "stop-marketing", &[]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(consents(&app, slug, "objector@example.org").await.len(), 4);
}

#[tokio::test]
async fn a_restriction_hides_the_person_from_providers_and_keeps_their_data_until_lifted() {
    let app = spawn_app().await;
    let slug = "harrow";
    let (session, ana, _ben, staff) = two_booked(&app).await;
    let officer = app
        .role_holder(slug, "dpo@harrow.example", "privacy-officer", None)
        .await;

    assert_eq!(
        file(&ana, slug, "restriction").await.status(),
        StatusCode::SEE_OTHER
    );
    let id = newest_request(&officer).await;

    // Stopping marketing is no answer to a restriction.
    let res = act(&officer, slug, &id, "stop-marketing", &[]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "not_an_objection");
    // Without a reason, nothing happens.
    let res = act(&officer, slug, &id, "restrict", &[("reason", " ")]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        holds_on(&app, slug, "ana@school.example").await,
        ["subject_request"]
    );
    // Nor can a restriction be lifted that does not stand.
    let res = act(&officer, slug, &id, "lift", &[("reason", "Checked")]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "not_restricted");

    let res = act(
        &officer,
        slug,
        &id,
        "restrict",
        &[("reason", "She contests her job title while we check it.")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        holds_on(&app, slug, "ana@school.example").await,
        ["restriction", "subject_request"]
    );
    let res = act(&officer, slug, &id, "restrict", &[("reason", "Again")]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "already_restricted");
    let told = app.outbox(slug, "ana@school.example").await;
    assert!(
        told.iter().any(|m| m
            .subject
            .starts_with("We have restricted the use of your data")),
        "{told:?}"
    );

    // The provider sees a marker for Ana, never her details; Ben as before.
    let before = disclosures(&app, slug).await.len();
    let list = staff
        .get_json(slug, &format!("/api/v1/sessions/{session}/delegates"))
        .await;
    let delegates = list["delegates"].as_array().unwrap();
    assert_eq!(delegates.len(), 2);
    assert_eq!(delegates[0]["fields"]["name"], "Pat ben");
    assert_eq!(delegates[0]["restricted"], false);
    assert_eq!(delegates[1]["restricted"], true);
    assert_eq!(delegates[1]["fields"], serde_json::json!({}));
    assert!(!list.to_string().contains("Pat ana"), "{list}");
    let csv = staff
        .page(slug, &format!("/manage/sessions/{session}/delegates.csv"))
        .await;
    assert!(
        csv.contains("Restricted,Restricted,Restricted") && !csv.contains("Pat ana"),
        "{csv}"
    );
    let html = staff
        .page(slug, &format!("/manage/sessions/{session}/delegates"))
        .await;
    assert!(
        html.contains("has restricted the use of their data") && !html.contains("Pat ana"),
        "{html}"
    );
    // Only Ben's details were disclosed, once per read.
    let log = disclosures(&app, slug).await;
    assert_eq!(log.len() - before, 3, "{log:?}");

    // Closing the request releases its own hold; the restriction stands.
    let res = act(
        &officer,
        slug,
        &id,
        "close",
        &[("outcome", "completed"), ("note", "Restricted.")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        holds_on(&app, slug, "ana@school.example").await,
        ["restriction"]
    );

    // Lifted (after the request closed): she is told why, and providers see her again.
    let res = act(
        &officer,
        slug,
        &id,
        "lift",
        &[("reason", "Her job title is confirmed by her school.")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(holds_on(&app, slug, "ana@school.example").await.is_empty());
    let lifted = app.outbox(slug, "ana@school.example").await;
    assert!(
        lifted.iter().any(|m| m
            .body_text
            .contains("Her job title is confirmed by her school.")),
        "{lifted:?}"
    );
    let list = staff
        .get_json(slug, &format!("/api/v1/sessions/{session}/delegates"))
        .await;
    assert!(list.to_string().contains("Pat ana"), "{list}");
    let page = officer.page(slug, &format!("/manage/requests/{id}")).await;
    assert!(
        page.contains("Use of their data restricted") && page.contains("Restriction lifted"),
        "{page}"
    );

    // A restriction request of another tenant's officer is not found.
    let other = app
        .role_holder("somerset", "dpo@somerset.example", "privacy-officer", None)
        .await;
    let res = other
        .submit(
            "somerset",
            "/manage/requests",
            &format!("/manage/requests/{id}/restrict"),
            &[("reason", "x")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
