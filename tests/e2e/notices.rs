//! Privacy-notice versions: a tenant administrator's changes go into a draft, which can be
//! previewed and compared, and take effect only when published; publishing is refused
//! until the ICO's checklist is met; published versions are immutable and stay readable;
//! a significant change is announced until acknowledged; prose is sanitised; and one
//! tenant's administrator can do nothing to another's notice.

use chrono::Duration;
use e2e::{Browser, TestApp, error_code, spawn_app};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use tenant_router::config::RetentionAction;

async fn admin(app: &TestApp, slug: &str) -> Browser {
    app.catalogue_manager(slug, &format!("notice-admin@{slug}.example"), None)
        .await
}

/// The index of Somerset's "delete 4 years after last activity" rule, in force now.
fn somerset_delete_rule(app: &TestApp) -> usize {
    let reg = app.registry.current();
    let cfg = &reg.get(&"somerset".parse().unwrap()).unwrap().config;
    cfg.retention
        .iter()
        .position(|r| {
            r.category == "account" && r.action == RetentionAction::Delete && r.after.is_some()
        })
        .unwrap()
}

fn delete_period_in_force(app: &TestApp) -> String {
    let reg = app.registry.current();
    let cfg = &reg.get(&"somerset".parse().unwrap()).unwrap().config;
    cfg.retention[somerset_delete_rule(app)]
        .after
        .unwrap()
        .describe()
}

async fn publish(b: &Browser, slug: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    b.submit(slug, "/manage/privacy", "/manage/privacy/publish", fields)
        .await
}

/// Sets the controller, DPO and DPO email (`details`) and publishes the draft as a
/// significant change summed up as `summary`.
async fn significant_dpo_change(b: &Browser, slug: &str, details: [&str; 3], summary: &str) {
    let [controller, dpo, email] = details;
    let res = set_details(b, slug, controller, dpo, email).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = publish(b, slug, &[("summary", summary), ("significant", "yes")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

async fn set_details(
    b: &Browser,
    slug: &str,
    controller: &str,
    dpo: &str,
    email: &str,
) -> reqwest::Response {
    let fields = [
        ("controller_name", controller),
        ("dpo_name", dpo),
        ("dpo_email", email),
    ];
    b.submit(
        slug,
        "/manage/privacy/details",
        "/manage/privacy/details",
        &fields,
    )
    .await
}

async fn change_delete_rule(b: &Browser, i: usize, count: &str) -> reqwest::Response {
    let path = format!("/manage/privacy/retention/{i}");
    b.submit(
        "somerset",
        &path,
        &path,
        &[
            ("category", "account"),
            ("action", "delete"),
            ("trigger", "inactivity"),
            ("count", count),
            ("unit", "y"),
        ],
    )
    .await
}

/// Every launch tenant whose notice meets the ICO checklist starts with version 1; SEGfL,
/// whose DPO has no published contact, and Stockport, one of whose rules nothing applies,
/// show a provisional notice saying what is missing.
#[tokio::test]
async fn tenants_start_with_version_one_unless_the_checklist_is_unmet() {
    let app = spawn_app().await;
    for slug in ["somerset", "harrow", "havering"] {
        let json = app.get_json(slug, "/privacy.json").await;
        assert_eq!(json["status"], "published", "{slug}");
        assert_eq!(json["version"], 1, "{slug}");
        let v1 = app.get_json(slug, "/privacy/versions/1.json").await;
        assert_eq!(v1["notice"], json["notice"], "{slug}");
    }
    // Stockport's casework rule has nothing in the portal to apply it until the Inclusion
    // Service comes, so its notice is not published, and says which rule and why.
    let stockport = app.get_json("stockport", "/privacy.json").await;
    assert_eq!(stockport["status"], "provisional");
    let missing = stockport["missing"].to_string();
    assert!(
        missing.contains("retention_applied") && missing.contains("inclusion"),
        "{missing}"
    );
    assert!(!missing.contains("dpo_contact"), "{missing}");
    let segfl = app.get_json("segfl", "/privacy.json").await;
    assert_eq!(segfl["status"], "provisional");
    assert!(segfl["version"].is_null());
    let missing: Vec<&str> = segfl["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["code"].as_str().unwrap())
        .collect();
    assert_eq!(missing, ["dpo_contact"]);
    let page = app
        .get_tenant("segfl", "/privacy")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("has not yet published this notice"));
    assert!(page.contains("How to contact the data protection officer"));
    let res = app.get_tenant("somerset", "/privacy/versions/9").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app.get_tenant("somerset", "/privacy/versions/x.json").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

/// Changing a retention rule makes a draft: the notice and the engine both keep the old
/// period until the draft is published, then both have the new one at once; version 1
/// stays readable as it was, and every step is audited.
#[tokio::test]
async fn a_rule_change_takes_effect_only_with_the_notice_that_states_it() {
    let app = spawn_app().await;
    let admin = admin(&app, "somerset").await;
    let i = somerset_delete_rule(&app);
    assert_eq!(delete_period_in_force(&app), "4 years");

    let res = change_delete_rule(&admin, i, "3").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // Drafted, not in force: the published notice and the engine still say 4 years.
    assert_eq!(delete_period_in_force(&app), "4 years");
    let public = app.get_json("somerset", "/privacy.json").await.to_string();
    assert!(public.contains("Deleted 4 years after your account was last active"));
    assert!(!public.contains("Deleted 3 years"));
    let preview = admin
        .get_tenant("somerset", "/manage/privacy/preview")
        .await
        .text()
        .await
        .unwrap();
    assert!(preview.contains("Preview of the draft"));
    assert!(preview.contains("Deleted 3 years after your account was last active"));
    let changes = admin
        .get_tenant("somerset", "/manage/privacy/changes")
        .await
        .text()
        .await
        .unwrap();
    assert!(changes.contains("<del>") && changes.contains("Deleted 4 years"));
    assert!(changes.contains("<ins>") && changes.contains("Deleted 3 years"));

    // CPD records go with the account: while their rule still says 4 years, nothing would
    // apply it, so publishing is refused and names the rule.
    let res = publish(
        &admin,
        "somerset",
        &[(
            "summary",
            "Accounts are now deleted after 3 years without use.",
        )],
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused = res.text().await.unwrap();
    assert!(
        refused.contains("cpd")
            && refused.contains("same period as the rule that deletes inactive accounts"),
        "{refused}"
    );
    assert_eq!(delete_period_in_force(&app), "4 years");
    let cpd = {
        let reg = app.registry.current();
        let cfg = &reg.get(&"somerset".parse().unwrap()).unwrap().config;
        cfg.retention
            .iter()
            .position(|r| r.category == "cpd")
            .unwrap()
    };
    let path = format!("/manage/privacy/retention/{cpd}");
    let res = admin
        .submit(
            "somerset",
            &path,
            &path,
            &[
                ("category", "cpd"),
                ("action", "delete"),
                ("trigger", "inactivity"),
                ("count", "3"),
                ("unit", "y"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = publish(
        &admin,
        "somerset",
        &[(
            "summary",
            "Accounts are now deleted after 3 years without use.",
        )],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/manage/privacy?published=2");
    assert_eq!(delete_period_in_force(&app), "3 years");
    let v2 = app.get_json("somerset", "/privacy.json").await;
    assert_eq!(v2["version"], 2);
    assert!(
        v2.to_string()
            .contains("Deleted 3 years after your account was last active")
    );
    let v1 = app.get_json("somerset", "/privacy/versions/1.json").await;
    assert_eq!(v1["status"], "superseded");
    assert!(
        v1.to_string()
            .contains("Deleted 4 years after your account was last active")
    );
    let list = app
        .get_tenant("somerset", "/privacy/versions")
        .await
        .text()
        .await
        .unwrap();
    assert!(list.contains("Version 2") && list.contains("Version 1"));
    assert!(list.contains("Accounts are now deleted after 3 years without use."));

    let actions = app.audit_actions("somerset").await;
    assert!(actions.contains(&"notice.draft_changed".to_owned()));
    assert!(actions.contains(&"notice.published".to_owned()));
    // Nothing left to publish.
    let res = publish(&admin, "somerset", &[]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "notice_not_publishable");
}

/// A published version cannot be changed or removed, even by the connecting role.
#[tokio::test]
async fn published_versions_are_immutable() {
    let app = spawn_app().await;
    let db = app.store.clone();
    for sql in [
        "UPDATE notice_version SET summary = 'rewritten' WHERE version = 1",
        "DELETE FROM notice_version WHERE version = 1",
    ] {
        let tx = db.system_tx(&"harrow".parse().unwrap()).await.unwrap();
        let res = tx
            .execute_raw(Statement::from_string(tx.get_database_backend(), sql))
            .await;
        assert!(res.is_err(), "{sql} succeeded");
        drop(tx);
    }
    let v1 = app.get_json("harrow", "/privacy/versions/1.json").await;
    assert_eq!(v1["summary"], "First version on this portal.");
}

/// SEGfL cannot publish until its DPO can be contacted: the refusal lists what is
/// missing and changes nothing; once the email is given, version 1 is published.
#[tokio::test]
async fn publishing_is_refused_until_the_ico_checklist_is_met() {
    let app = spawn_app().await;
    let admin = admin(&app, "segfl").await;
    let res = publish(&admin, "segfl", &[]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&res), "notice_incomplete");
    let body = res.text().await.unwrap();
    assert!(body.contains("How to contact the data protection officer"));
    assert_eq!(
        app.get_json("segfl", "/privacy.json").await["status"],
        "provisional"
    );

    // A malformed email is refused and saves nothing.
    let res = set_details(
        &admin,
        "segfl",
        "South East Grid for Learning (SEGfL)",
        "Paul Platts",
        "not an address",
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = publish(&admin, "segfl", &[]).await;
    assert_eq!(error_code(&res), "notice_incomplete");

    let res = set_details(
        &admin,
        "segfl",
        "South East Grid for Learning (SEGfL)",
        "Paul Platts",
        "dpo@segfl.example",
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = publish(&admin, "segfl", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let json = app.get_json("segfl", "/privacy.json").await;
    assert_eq!(json["status"], "published");
    assert_eq!(json["version"], 1);
    assert!(json.to_string().contains("dpo@segfl.example"));
    // The footer and "who controls your data" use the contact now in force.
    let page = app
        .get_tenant("segfl", "/data-controller")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("dpo@segfl.example"), "{page}");
}

/// Bad rule input is refused with the reason and nothing is drafted.
#[tokio::test]
async fn a_bad_rule_is_refused_and_nothing_is_drafted() {
    let app = spawn_app().await;
    let admin = admin(&app, "somerset").await;
    let i = somerset_delete_rule(&app);
    for count in ["abc", "-1", "", "2000"] {
        let res = change_delete_rule(&admin, i, count).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{count:?}");
    }
    let res = admin
        .submit(
            "somerset",
            "/manage/privacy/retention/new",
            "/manage/privacy/retention/new",
            &[
                ("category", "no.such_category"),
                ("action", "delete"),
                ("trigger", "inactivity"),
                ("count", "1"),
                ("unit", "y"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("no.such_category"));
    let res = admin
        .get_tenant("somerset", "/manage/privacy/retention/99")
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let overview = admin
        .get_tenant("somerset", "/manage/privacy")
        .await
        .text()
        .await
        .unwrap();
    assert!(overview.contains("There are no unpublished changes."));
    assert!(
        !app.audit_actions("somerset")
            .await
            .contains(&"notice.draft_changed".to_owned())
    );
}

/// Script in the prose never reaches a reader.
#[tokio::test]
async fn notice_prose_is_sanitised() {
    let app = spawn_app().await;
    let admin = admin(&app, "havering").await;
    let prose = "## About HES\n\nWe run **training**.<script>alert(1)</script>\
                 <img src=x onerror=alert(1)> [x](javascript:alert(1))";
    let res = admin
        .submit(
            "havering",
            "/manage/privacy/prose",
            "/manage/privacy/prose",
            &[("introduction", prose), ("more", "Ask us anything.")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = publish(&admin, "havering", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = app
        .get_tenant("havering", "/privacy")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("<h2>About HES</h2>"));
    assert!(page.contains("<strong>training</strong>"));
    assert!(page.contains("Ask us anything."));
    for bad in ["<script", "onerror", "javascript:"] {
        assert!(!page.contains(bad), "{bad} reached the page");
    }
}

/// A significant change is shown to people with accounts until they acknowledge it; the
/// acknowledgement is recorded. People who join afterwards are not asked.
#[tokio::test]
async fn a_significant_change_is_announced_until_acknowledged() {
    let app = spawn_app().await;
    let reader = app.person("harrow", "reader@harrow.example", None).await;
    let admin = admin(&app, "harrow").await;
    app.clock.advance(Duration::minutes(1));
    significant_dpo_change(
        &admin,
        "harrow",
        ["Harrow Council", "Darren Davies", "dpo@harrow.example"],
        "Our data protection officer has a new address.",
    )
    .await;
    app.clock.advance(Duration::minutes(1));

    let page = reader
        .get_tenant("harrow", "/account")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Our privacy notice has changed"), "{page}");
    assert!(page.contains("Our data protection officer has a new address."));
    let res = reader
        .submit(
            "harrow",
            "/account",
            "/privacy/acknowledge",
            &[("version", "2"), ("back", "/account")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/account");
    let page = reader
        .get_tenant("harrow", "/account")
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains("Our privacy notice has changed"));

    let db = app.store.clone();
    let tx = db.tenant_tx(&"harrow".parse().unwrap()).await.unwrap();
    let acks = tx
        .query_all_raw(Statement::from_string(
            tx.get_database_backend(),
            "SELECT version FROM notice_ack",
        ))
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(acks.len(), 1);

    // Someone who joins after the change read the new notice when they signed up.
    let newcomer = app.person("harrow", "newcomer@harrow.example", None).await;
    let page = newcomer
        .get_tenant("harrow", "/account")
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains("Our privacy notice has changed"));
}

/// Only the tenant's own administrators reach the notice pages: a member gets 404, and
/// another tenant's administrator's session means nothing on this tenant's host.
#[tokio::test]
async fn another_tenants_admin_cannot_read_or_change_the_notice() {
    let app = spawn_app().await;
    let harrow_admin = admin(&app, "harrow").await;
    let member = app
        .person("somerset", "member@somerset.example", None)
        .await;
    let res = member.get_tenant("somerset", "/manage/privacy").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = harrow_admin.get_tenant("somerset", "/manage/privacy").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // A Harrow token posted to Somerset fails, and Somerset's rules are untouched.
    let token = harrow_admin.csrf("harrow", "/manage/privacy").await;
    let i = somerset_delete_rule(&app);
    let res = harrow_admin
        .post_form(
            "somerset",
            &format!("/manage/privacy/retention/{i}"),
            &[
                ("csrf_token", token.as_str()),
                ("category", "account"),
                ("action", "delete"),
                ("trigger", "inactivity"),
                ("count", "1"),
                ("unit", "d"),
            ],
        )
        .await;
    assert!(res.status().is_client_error());
    let res = harrow_admin
        .post_form(
            "somerset",
            "/manage/privacy/publish",
            &[("csrf_token", token.as_str())],
        )
        .await;
    assert!(res.status().is_client_error());
    assert_eq!(delete_period_in_force(&app), "4 years");
    let json = app.get_json("somerset", "/privacy.json").await;
    assert_eq!(json["version"], 1);
}

/// People who asked to be told get an email about a significant change, with a link that
/// stops these emails without signing in. A tampered link, or one used on another tenant,
/// is refused and changes nothing; after unsubscribing, the next change is not emailed.
#[tokio::test]
async fn a_significant_change_is_emailed_to_those_who_asked_and_the_link_unsubscribes() {
    let app = spawn_app().await;
    let slug = "havering";
    let keen = app.person(slug, "keen@havering.example", None).await;
    app.person(slug, "quiet@havering.example", None).await;
    let res = keen
        .submit(
            slug,
            "/account/preferences",
            "/account/preferences",
            &[("alert_frequency", "daily"), ("notice_changes", "yes")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let admin = admin(&app, slug).await;
    let controller = "London Borough of Havering";
    significant_dpo_change(
        &admin,
        slug,
        [controller, "Ian Gibbs", "dpo@havering.example"],
        "There is a new way to reach our DPO.",
    )
    .await;

    let mail = app.outbox(slug, "keen@havering.example").await;
    let news: Vec<_> = mail
        .iter()
        .filter(|m| m.subject == "Our privacy notice has changed")
        .collect();
    assert_eq!(news.len(), 1);
    assert!(
        news[0]
            .body_text
            .contains("There is a new way to reach our DPO.")
    );
    assert!(news[0].body_text.contains("/privacy/versions/2"));
    assert!(
        app.outbox(slug, "quiet@havering.example")
            .await
            .iter()
            .all(|m| m.subject != "Our privacy notice has changed")
    );

    let link = app
        .emailed_link(slug, "keen@havering.example", "/unsubscribe/")
        .await;
    let stranger = app.new_browser();
    let mut tampered = link.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    for (tenant, path) in [(slug, tampered.as_str()), ("harrow", link.as_str())] {
        let res = stranger.get_tenant(tenant, path).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{tenant} {path}");
        assert_eq!(error_code(&res), "bad_link");
        let res = stranger.post_form(tenant, path, &[]).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    let page = stranger.get_tenant(slug, &link).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Stop these emails"));
    // One click, no sign-in, no form token (as a mail program's one-click unsubscribe).
    let res = stranger
        .post_form(slug, &link, &[("List-Unsubscribe", "One-Click")])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("You have unsubscribed"));

    let id = app.account(slug, "keen@havering.example").await.unwrap().id;
    let tx = app.store.tenant_tx(&slug.parse().unwrap()).await.unwrap();
    let events = privacy_engine::store::consent::history(&tx, &id)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    let seen: Vec<(&str, bool, &str)> = events
        .iter()
        .map(|e| (e.purpose.as_str(), e.given, e.method.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("notice_changes", true, "profile_page"),
            ("notice_changes", false, "unsubscribe_link")
        ]
    );
    // The withdrawal is recorded under the version then in force.
    assert_eq!(events[1].notice_version, "2");

    let res = set_details(
        &admin,
        slug,
        controller,
        "Ian Gibbs",
        "ian.gibbs@havering.example",
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = publish(&admin, slug, &[("significant", "yes")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let news = app
        .outbox(slug, "keen@havering.example")
        .await
        .into_iter()
        .filter(|m| m.subject == "Our privacy notice has changed")
        .count();
    assert_eq!(news, 1);
}

/// Where a council's notice says significant changes are emailed (SEGfL), everyone with
/// an account is told, with no link to stop it, and the preferences page does not ask;
/// where it does not (Havering), only those who asked are told.
#[tokio::test]
async fn where_the_notice_says_changes_are_emailed_everyone_with_an_account_is_told() {
    let app = spawn_app().await;
    let amy = app.person("segfl", "amy@school.example", None).await;
    app.person("segfl", "bob@school.example", None).await;
    // Cy's address was never confirmed: nothing is sent to it.
    app.person("segfl", "cy@school.example", None).await;
    let tx = app
        .store
        .tenant_tx(&"segfl".parse().unwrap())
        .await
        .unwrap();
    let unconfirmed = tx
        .execute_unprepared(
            "UPDATE account SET email_verified_at = NULL WHERE email = 'cy@school.example'",
        )
        .await
        .unwrap();
    assert_eq!(unconfirmed.rows_affected(), 1);
    tx.commit().await.unwrap();
    let asks = |page: &str| page.contains("name=\"notice_changes\"");
    assert!(!asks(&amy.page("segfl", "/account/preferences").await));
    let hal = app.person("havering", "hal@school.example", None).await;
    assert!(asks(&hal.page("havering", "/account/preferences").await));
    // An opt-in sent anyway is not recorded as a choice SEGfL offers.
    let res = amy
        .submit(
            "segfl",
            "/account/preferences",
            "/account/preferences",
            &[("alert_frequency", "daily"), ("notice_changes", "yes")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let id = app.account("segfl", "amy@school.example").await.unwrap().id;
    let choices = segfl_choices(&app, &id).await;
    assert!(choices.is_empty(), "{choices:?}");

    let admin = admin(&app, "segfl").await;
    significant_dpo_change(
        &admin,
        "segfl",
        [
            "South East Grid for Learning (SEGfL)",
            "Paul Platts",
            "dpo@segfl.example",
        ],
        "Our DPO can now be emailed.",
    )
    .await;
    for who in ["amy@school.example", "bob@school.example"] {
        let told: Vec<_> = app
            .outbox("segfl", who)
            .await
            .into_iter()
            .filter(|m| m.subject == "Our privacy notice has changed")
            .collect();
        assert_eq!(told.len(), 1, "{who}");
        assert!(told[0].body_text.contains("Our DPO can now be emailed."));
        assert!(!told[0].body_text.contains("/unsubscribe/"), "{who}");
    }
    assert!(
        app.outbox("segfl", "cy@school.example")
            .await
            .iter()
            .all(|m| m.subject != "Our privacy notice has changed")
    );
    assert!(
        app.outbox("havering", "hal@school.example")
            .await
            .iter()
            .all(|m| m.subject != "Our privacy notice has changed")
    );

    // A link from before SEGfL told everyone (made as the portal made them then) is
    // genuine: its page says these emails are no longer a choice and changes nothing. Amy
    // had said yes then; one click from her mail program records her withdrawal, so the
    // old "yes" cannot come back if SEGfL asks again. A made-up link, or another
    // council's, is still not valid.
    let link = |slug: &str, purpose: &str| {
        format!(
            "/unsubscribe/{}",
            app.state
                .identity
                .unsubscribe_token(&slug.parse().unwrap(), &id, purpose)
                .unwrap()
        )
    };
    let tx = app
        .store
        .tenant_tx(&"segfl".parse().unwrap())
        .await
        .unwrap();
    privacy_engine::store::consent::record(
        &tx,
        chrono::Utc::now(),
        privacy_engine::store::consent::Decision {
            account_id: &id,
            purpose: "notice_changes",
            given: true,
            method: "profile_page",
            notice_version: "1",
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let old_link = link("segfl", "notice_changes");
    let stranger = app.new_browser();
    let page = stranger.get_tenant("segfl", &old_link).await;
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(page.contains("no longer a choice"), "{page}");
    assert!(!page.contains("Stop these emails"), "{page}");
    assert_eq!(
        segfl_choices(&app, &id).await.len(),
        1,
        "the page changes nothing"
    );
    let res = stranger
        .post_form("segfl", &old_link, &[("List-Unsubscribe", "One-Click")])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("no longer a choice"));
    let seen: Vec<_> = segfl_choices(&app, &id)
        .await
        .into_iter()
        .map(|e| (e.purpose, e.given, e.method))
        .collect();
    assert_eq!(
        seen,
        [
            ("notice_changes".to_owned(), true, "profile_page".to_owned()),
            (
                "notice_changes".to_owned(),
                false,
                "unsubscribe_link".to_owned()
            )
        ]
    );
    // SEGfL has no newsletter: a newsletter link says there is nothing to stop.
    let page = stranger
        .get_tenant("segfl", &link("segfl", "newsletter"))
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("no longer sends these emails")
    );
    for bad in [format!("{old_link}A"), link("harrow", "notice_changes")] {
        let res = stranger.get_tenant("segfl", &bad).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{bad}");
        assert_eq!(error_code(&res), "bad_link");
        let res = stranger.post_form("segfl", &bad, &[]).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{bad}");
    }
}

/// The consent events of SEGfL's account `id`.
async fn segfl_choices(app: &TestApp, id: &str) -> Vec<privacy_engine::store::consent::Model> {
    let tx = app
        .store
        .tenant_tx(&"segfl".parse().unwrap())
        .await
        .unwrap();
    let choices = privacy_engine::store::consent::history(&tx, id)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    choices
}

/// The notice states the facts of the council's file that have no other home: every
/// lawful basis it relies on, how changes are announced (as publishing does it), and
/// when its notice before the portal was last updated.
#[tokio::test]
async fn the_notice_lists_every_basis_how_changes_are_announced_and_the_earlier_notice() {
    let app = spawn_app().await;
    let stockport = app.get_json("stockport", "/privacy.json").await;
    let bases = stockport["notice"]["lawful_bases"].to_string();
    for basis in [
        "Vital interests",
        "Legitimate interests",
        "Consent",
        "Contract",
    ] {
        assert!(bases.contains(basis), "{basis}: {bases}");
    }
    let somerset = app.get_json("somerset", "/privacy.json").await;
    assert_eq!(somerset["notice"]["previous_version"], "18 June 2018");
    let asked = somerset["notice"]["changes"].as_str().unwrap();
    assert!(asked.contains("if you ask us to"), "{asked}");
    let segfl = app.get_json("segfl", "/privacy.json").await;
    let everyone = segfl["notice"]["changes"].as_str().unwrap();
    assert!(everyone.contains("confirmed email address"), "{everyone}");
    let page = app.new_browser().page("somerset", "/privacy").await;
    assert!(page.contains("last updated on 18 June 2018"));
}

/// Harrow's configuration in force, with automated decisions claimed: a configuration
/// made before the platform refused that claim.
fn harrow_claiming_automated_decisions(app: &TestApp) -> tenant_router::TenantConfig {
    let reg = app.registry.current();
    let mut cfg = reg.get(&"harrow".parse().unwrap()).unwrap().config.clone();
    cfg.subject_rights.automated_decisions = true;
    assert!(!cfg.validate().is_empty());
    cfg
}

/// A draft whose configuration fails the platform's checks (one saved before a check was
/// added) is not published: the administrator is told why, and nothing changes.
#[tokio::test]
async fn a_draft_that_fails_the_platforms_checks_is_not_published() {
    let app = spawn_app().await;
    let admin = admin(&app, "harrow").await;
    let cfg = harrow_claiming_automated_decisions(&app);
    let tx = app
        .store
        .tenant_tx(&"harrow".parse().unwrap())
        .await
        .unwrap();
    privacy_engine::store::notice::save_draft(
        &tx,
        app.clock.now(),
        "test",
        &cfg,
        &privacy_engine::domain::notice::Prose::default(),
        "An old draft",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let before = app.get_json("harrow", "/privacy.json").await["version"].clone();
    let res = publish(&admin, "harrow", &[("summary", "Old draft.")]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("subject_rights.automated_decisions"),
        "{page}"
    );
    assert_eq!(
        app.get_json("harrow", "/privacy.json").await["version"],
        before
    );
    let reg = app.registry.current();
    let in_force = &reg.get(&"harrow".parse().unwrap()).unwrap().config;
    assert!(!in_force.subject_rights.automated_decisions);
}

/// A council whose stored configuration fails a check (stored before the check existed)
/// is still served, and every other council too; applying its corrected folder makes a
/// draft that, once published, puts the correction in force.
#[tokio::test]
async fn a_stored_configuration_that_fails_a_check_is_served_until_corrected() {
    let app = spawn_app().await;
    let admin = admin(&app, "harrow").await;
    let cfg = harrow_claiming_automated_decisions(&app);
    let tx = app
        .store
        .system_tx(&"harrow".parse().unwrap())
        .await
        .unwrap();
    storage::tenants::put_in_force(&tx, &cfg, app.clock.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    server::notices::reload_everywhere(&app.state)
        .await
        .unwrap();
    let served: Vec<String> = app
        .registry
        .current()
        .iter()
        .map(|t| t.id.to_string())
        .collect();
    assert_eq!(served.len(), 5, "{served:?}");
    assert_eq!(
        app.new_browser().get_tenant("harrow", "/").await.status(),
        StatusCode::OK
    );

    let applied = server::onboarding::apply(
        &app.state,
        &e2e::tenants_dir().join("harrow"),
        app.clock.now(),
    )
    .await
    .unwrap();
    assert!(
        matches!(applied, server::onboarding::Applied::Drafted(_)),
        "{applied:?}"
    );
    let res = publish(&admin, "harrow", &[("summary", "Corrected.")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let reg = app.registry.current();
    let in_force = &reg.get(&"harrow".parse().unwrap()).unwrap().config;
    assert!(in_force.validate().is_empty());
}

/// A council with no notice yet whose configuration fails a check added since it was
/// stored gets its first version as a draft (as an incomplete one does): publishing the
/// first versions goes on, so start-up and onboarding are not stopped by it.
#[tokio::test]
async fn a_first_notice_that_fails_a_check_stays_a_draft_and_nothing_stops() {
    let app = spawn_app().await;
    let mut cfg = harrow_claiming_automated_decisions(&app);
    cfg.slug = "newtown".parse().unwrap();
    cfg.hostnames = vec!["newtown.localhost".to_owned()];
    let loaded = tenant_router::load::LoadedTenant {
        file: std::path::PathBuf::from("newtown/tenant.toml"),
        config: cfg,
        logo: None,
    };
    let report = storage::tenants::import_new(&app.store, &[loaded], app.clock.now())
        .await
        .unwrap();
    assert_eq!(report.imported.len(), 1);
    let registry = tenant_router::LiveRegistry::new(
        storage::tenants::load_registry(&app.store).await.unwrap(),
    );
    server::notices::publish_first_versions(&app.store, &registry, app.clock.now())
        .await
        .unwrap();
    let tx = app
        .store
        .tenant_tx(&"newtown".parse().unwrap())
        .await
        .unwrap();
    let draft = privacy_engine::store::notice::draft(&tx).await.unwrap();
    let current = privacy_engine::store::notice::current(&tx).await.unwrap();
    tx.rollback().await.unwrap();
    assert!(draft.is_some() && current.is_none());
}
