//! Changing and correcting a person's details: a person changes their own email address
//! (confirmed at the new one, the old one told); a lead administrator corrects a member; a
//! privacy officer corrects a requester's details for a rectification request. Bad input,
//! an address another account uses, spent links and other organisations' or tenants' ids
//! change nothing.

use e2e::{Browser, PASSWORD, TestApp, error_code, spawn_app};
use reqwest::StatusCode;

use crate::organisations::{admin_with_org, appoint, change, create_org};
use crate::rights::newest_request;

async fn email_of(app: &TestApp, slug: &str, id: &str) -> Option<String> {
    let db = app.store.clone();
    let tx = db.tenant_tx(&slug.parse().unwrap()).await.unwrap();
    let found = identity::store::find_by_id(&tx, id).await.unwrap();
    tx.rollback().await.unwrap();
    found.map(|a| a.email)
}

async fn change_email(b: &Browser, slug: &str, email: &str, password: &str) -> reqwest::Response {
    b.submit(
        slug,
        "/account/email",
        "/account/email",
        &[("email", email), ("password", password)],
    )
    .await
}

#[tokio::test]
async fn a_person_changes_their_own_email_once_the_new_address_confirms_it() {
    let app = spawn_app().await;
    let slug = "somerset";
    let pat = app.person(slug, "pat@old.example", None).await;
    app.person(slug, "taken@school.example", None).await;
    let id = app.account(slug, "pat@old.example").await.unwrap().id;

    // Wrong password, malformed or unchanged address: refused, nothing sent.
    for (email, password, field) in [
        ("pat@new.example", "not my password", "password"),
        ("not an address", PASSWORD, "email"),
        ("pat@old.example", PASSWORD, "email"),
    ] {
        let res = change_email(&pat, slug, email, password).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{email}");
        assert!(
            res.text()
                .await
                .unwrap()
                .contains(&format!("href=\"#{field}\"")),
            "{email}"
        );
    }
    assert!(app.outbox(slug, "pat@new.example").await.is_empty());

    // An address another account uses: the same answer, its owner is told, nothing changes.
    let res = change_email(&pat, slug, "taken@school.example", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Check your new email address")
    );
    let taken = app.outbox(slug, "taken@school.example").await;
    assert_eq!(
        taken.last().unwrap().subject,
        "Your address was not changed"
    );
    assert_eq!(email_of(&app, slug, &id).await.unwrap(), "pat@old.example");

    let res = change_email(&pat, slug, "Pat@New.example", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    let told = app.outbox(slug, "pat@old.example").await;
    assert_eq!(
        told.last().unwrap().subject,
        "A change of your email address"
    );
    // Nothing changes until the new address confirms.
    assert_eq!(email_of(&app, slug, &id).await.unwrap(), "pat@old.example");
    let link = app
        .emailed_link(slug, "pat@new.example", "/account/email/confirm/")
        .await;
    let page = app.new_browser();
    let res = page.get_tenant(slug, &link).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = page.submit(slug, &link, &link, &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(email_of(&app, slug, &id).await.unwrap(), "pat@new.example");
    let told = app.outbox(slug, "pat@old.example").await;
    assert_eq!(
        told.last().unwrap().subject,
        "Your email address has changed"
    );
    assert!(
        app.audit_actions(slug)
            .await
            .contains(&"account.email_changed".to_owned())
    );

    // The link works once; the new address signs in, the old one no longer does.
    let res = page.submit(slug, &link, &link, &[]).await;
    assert_eq!(res.status(), StatusCode::GONE);
    assert_eq!(error_code(&res), "link_expired");
    let fresh = app.new_browser();
    assert_eq!(
        fresh
            .sign_in(slug, "pat@new.example", PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let res = app
        .new_browser()
        .sign_in(slug, "pat@old.example", PASSWORD)
        .await;
    assert_ne!(res.status(), StatusCode::SEE_OTHER);

    // Another tenant's host does not know the link.
    let res = page.get_tenant("harrow", &link).await;
    assert_eq!(res.status(), StatusCode::GONE);
}

#[tokio::test]
async fn a_lead_administrator_corrects_a_member_and_no_one_else() {
    let app = spawn_app().await;
    let slug = "havering";
    let (admin, org) = admin_with_org(&app, slug, "Hornchurch High").await;
    let lead = app.person(slug, "lead@hornchurch.example", None).await;
    appoint(&admin, slug, &org, "lead@hornchurch.example").await;
    app.person(slug, "kim@hornchurch.example", Some(&org)).await;
    let kim = app
        .account(slug, "kim@hornchurch.example")
        .await
        .unwrap()
        .id;
    let other_org = create_org(&admin, slug, "Upminster Juniors").await;
    let details = format!("/organisations/{org}/people/{kim}/details");
    // A claimed membership is not the organisation's to correct until confirmed.
    assert_eq!(
        lead.get_tenant(slug, &details).await.status(),
        StatusCode::NOT_FOUND
    );
    let res = change(&lead, slug, &org, &kim, &[("action", "verify")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let page = lead.page(slug, &details).await;
    assert!(page.contains("value=\"kim@hornchurch.example\""), "{page}");
    let correct = |first: &'static str, email: &'static str| {
        [
            ("first_name", first),
            ("last_name", "Khan"),
            ("job_title", "Head of science"),
            ("email", email),
        ]
    };

    // An empty name: nothing changes.
    let res = lead
        .submit(
            slug,
            &details,
            &details,
            &correct("", "kim@hornchurch.example"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let account = app.account(slug, "kim@hornchurch.example").await.unwrap();
    assert_eq!(account.last_name, "kim");

    let res = lead
        .submit(
            slug,
            &details,
            &details,
            &correct("Kim", "kim.khan@hornchurch.example"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let account = app.account(slug, "kim@hornchurch.example").await.unwrap();
    assert_eq!(
        (account.first_name.as_str(), account.last_name.as_str()),
        ("Kim", "Khan")
    );
    assert_eq!(account.job_title.as_deref(), Some("Head of science"));
    // Told at the current address, which alone can approve the new one: nothing goes to
    // the new address, which whoever corrects may control.
    let told = app.outbox(slug, "kim@hornchurch.example").await;
    assert!(
        told.iter()
            .any(|m| m.subject == "Your details have been corrected"
                && m.body_text.contains("last name, job title, email address")),
        "{told:?}"
    );
    assert!(
        app.outbox(slug, "kim.khan@hornchurch.example")
            .await
            .is_empty()
    );
    let link = app
        .emailed_link(slug, "kim@hornchurch.example", "/account/email/confirm/")
        .await;
    let holder = app.new_browser();
    assert_eq!(
        holder.submit(slug, &link, &link, &[]).await.status(),
        StatusCode::OK
    );
    assert!(
        app.account(slug, "kim.khan@hornchurch.example")
            .await
            .is_some()
    );

    // Another account's address is not revealed to the corrector; approving it fails and
    // changes nothing.
    let details_now = format!("/organisations/{org}/people/{kim}/details");
    let res = lead
        .submit(
            slug,
            &details_now,
            &details_now,
            &correct("Kim", "lead@hornchurch.example"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let link = app
        .emailed_link(
            slug,
            "kim.khan@hornchurch.example",
            "/account/email/confirm/",
        )
        .await;
    let res = holder.submit(slug, &link, &link, &[]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "email_taken");
    assert!(
        app.account(slug, "kim.khan@hornchurch.example")
            .await
            .is_some()
    );
    assert!(
        app.audit_actions(slug)
            .await
            .contains(&"account.corrected".to_owned())
    );

    // The same person through another organisation's address, another school's lead, a
    // plain member and another tenant's administrator: not found.
    let kim_browser = app.new_browser();
    kim_browser
        .sign_in(slug, "kim.khan@hornchurch.example", PASSWORD)
        .await;
    let other_lead = app.person(slug, "lead@upminster.example", None).await;
    appoint(&admin, slug, &other_org, "lead@upminster.example").await;
    let (harrow_admin, _) = admin_with_org(&app, "harrow", "Harrow School").await;
    for (who, host, path) in [
        (
            &lead,
            slug,
            format!("/organisations/{other_org}/people/{kim}/details"),
        ),
        (&other_lead, slug, details.clone()),
        (&kim_browser, slug, details.clone()),
        (&harrow_admin, "harrow", details.clone()),
    ] {
        assert_eq!(
            who.get_tenant(host, &path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
        let res = who
            .submit(
                host,
                "/account",
                &path,
                &correct("Mallory", "m@evil.example"),
            )
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let account = app
        .account(slug, "kim.khan@hornchurch.example")
        .await
        .unwrap();
    assert_eq!(account.first_name, "Kim");
}

#[tokio::test]
async fn a_rectification_request_corrects_the_persons_details() {
    let app = spawn_app().await;
    let slug = "harrow";
    let person = app.person(slug, "rect@school.example", None).await;
    let officer = app
        .role_holder(slug, "dpo@harrow.example", "privacy-officer", None)
        .await;
    let res = person
        .submit(
            slug,
            "/account/requests",
            "/account/requests",
            &[
                ("kind", "rectification"),
                ("details", "My surname is Rahman, not rect."),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let id = newest_request(&officer).await;
    let form = format!("/manage/requests/{id}/rectify");
    let page = officer.page(slug, &format!("/manage/requests/{id}")).await;
    assert!(page.contains(&form), "{page}");
    let page = officer.page(slug, &form).await;
    assert!(page.contains("value=\"rect@school.example\""), "{page}");

    // Nothing changed, or an empty name: refused, nothing saved.
    let same = [
        ("first_name", "Pat"),
        ("last_name", "rect"),
        ("job_title", "Teacher"),
        ("email", "rect@school.example"),
    ];
    let res = officer.submit(slug, &form, &form, &same).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("Nothing has changed"));
    let fixed = [
        ("first_name", "Pat"),
        ("last_name", "Rahman"),
        ("job_title", "Teacher"),
        ("email", "rect@school.example"),
    ];
    // The person cannot use the desk.
    let res = person.submit(slug, "/account", &form, &fixed).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.account(slug, "rect@school.example")
            .await
            .unwrap()
            .last_name,
        "rect"
    );

    let res = officer.submit(slug, &form, &form, &fixed).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.account(slug, "rect@school.example")
            .await
            .unwrap()
            .last_name,
        "Rahman"
    );
    let page = officer.page(slug, &format!("/manage/requests/{id}")).await;
    assert!(
        page.contains("Details corrected") && page.contains("Corrected: last name."),
        "{page}"
    );
    let told = app.outbox(slug, "rect@school.example").await;
    assert_eq!(
        told.last().unwrap().subject,
        "Your details have been corrected"
    );

    // Closed, the form is gone and a correction is refused.
    let page = format!("/manage/requests/{id}");
    let res = officer
        .submit(
            slug,
            &page,
            &format!("{page}/close"),
            &[("outcome", "completed"), ("note", "Surname corrected.")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        officer.get_tenant(slug, &form).await.status(),
        StatusCode::NOT_FOUND
    );
    let res = officer.submit(slug, &page, &form, &same).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "request_closed");

    // A request by telephone from someone not yet identified changes nothing of the
    // account its address names: whoever called may not be its holder.
    let res = officer
        .send_json(
            reqwest::Method::POST,
            slug,
            "/api/v1/rights-requests",
            &serde_json::json!({
                "kind": "rectification", "channel": "phone",
                "requester_name": "Someone", "requester_email": "rect@school.example",
                "details": "Change my email to mine@elsewhere.example",
                "received_on": privacy_engine::domain::calendar::uk_date(app.clock.now()).to_string(),
                "identity_known": false
            }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let phoned: serde_json::Value = res.json().await.unwrap();
    assert_eq!(phoned["status"], "awaiting_identity");
    let form = format!(
        "/manage/requests/{}/rectify",
        phoned["id"].as_str().unwrap()
    );
    assert_eq!(
        officer.get_tenant(slug, &form).await.status(),
        StatusCode::NOT_FOUND
    );
    let takeover = [
        ("first_name", "Pat"),
        ("last_name", "Rahman"),
        ("job_title", "Teacher"),
        ("email", "mine@elsewhere.example"),
    ];
    let res = officer
        .submit(slug, "/manage/requests", &form, &takeover)
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "request_not_open");
    assert!(app.outbox(slug, "mine@elsewhere.example").await.is_empty());
}

#[tokio::test]
async fn a_person_closes_their_own_account_unless_something_stands_in_the_way() {
    let app = spawn_app().await;
    let slug = "harrow";
    let pat = app.person(slug, "closer@school.example", None).await;
    let sam = app.person(slug, "waiting@school.example", None).await;
    let close = |b: &Browser, password: &'static str| {
        let b = b.clone();
        async move {
            b.submit(
                slug,
                "/account/close",
                "/account/close",
                &[("password", password)],
            )
            .await
        }
    };

    // A wrong password closes nothing.
    let res = close(&pat, "not my password").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(app.account(slug, "closer@school.example").await.is_some());

    // An open rights request holds the account: refused with the reason.
    let res = sam
        .submit(
            slug,
            "/account/requests",
            "/account/requests",
            &[("kind", "access"), ("details", "A copy, please.")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = close(&sam, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "erasure_deferred");
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("an open subject-rights request")
    );
    assert!(app.account(slug, "waiting@school.example").await.is_some());

    let res = close(&pat, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(app.account(slug, "closer@school.example").await.is_none());
    let mail = app.outbox(slug, "closer@school.example").await;
    assert_eq!(
        mail.iter().map(|m| m.subject.as_str()).collect::<Vec<_>>(),
        ["Your account is closed"]
    );
    assert!(
        app.audit_actions(slug)
            .await
            .contains(&"account.closed_by_holder".to_owned())
    );
    // Signed out: the account page asks to sign in; signing in fails.
    let res = pat.get_tenant(slug, "/account").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = app
        .new_browser()
        .sign_in(slug, "closer@school.example", PASSWORD)
        .await;
    assert_ne!(res.status(), StatusCode::SEE_OTHER);
}
