//! Rights requests: a person files one from their account and follows it; a privacy
//! officer logs one that came by telephone, works its clock (identity, clarification,
//! extension) and closes it; the requester is told; the person's account is held while a
//! request is open; bad input changes nothing; other people and other tenants see nothing.

use chrono::{Datelike as _, Days, NaiveDate};
use e2e::{Browser, TestApp, error_code, spawn_app};
use privacy_engine::domain::calendar::{ONE_MONTH, deadline, long_date, uk_date};
use reqwest::StatusCode;

const SLUG: &str = "harrow";

async fn officer(app: &TestApp, email: &str) -> Browser {
    app.role_holder(SLUG, email, "privacy-officer", None).await
}

/// Harrow's configuration as the app runs it.
fn harrow(app: &TestApp) -> tenant_router::TenantConfig {
    app.registry
        .current()
        .iter()
        .find(|t| t.id.as_str() == SLUG)
        .unwrap()
        .config
        .clone()
}

fn today(app: &TestApp) -> NaiveDate {
    uk_date(app.clock.now())
}

/// The id of the newest request in the officer's queue (from its link).
pub(crate) async fn newest_request(b: &Browser) -> String {
    newest_request_of(b, SLUG).await
}

/// The id of the newest request in the queue of an officer of tenant `slug`.
pub(crate) async fn newest_request_of(b: &Browser, slug: &str) -> String {
    let page = b
        .get_tenant(slug, "/manage/requests?show=all")
        .await
        .text()
        .await
        .unwrap();
    page.split("href=\"/manage/requests/")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_owned())
        .find(|id| id != "new")
        .expect("a request in the queue")
}

/// The kinds of the holds in force on an account, sorted.
pub(crate) async fn holds_on(app: &TestApp, slug: &str, email: &str) -> Vec<String> {
    let account = app.account(slug, email).await.unwrap();
    let mut kinds: Vec<String> = app
        .state
        .privacy
        .holds(&slug.parse().unwrap())
        .await
        .unwrap()
        .into_iter()
        .filter(|h| h.account_id == account.id)
        .map(|h| h.kind)
        .collect();
    kinds.sort();
    kinds
}

fn day_fields(prefix: &str, d: NaiveDate) -> [(String, String); 3] {
    [
        (format!("{prefix}-day"), d.day().to_string()),
        (format!("{prefix}-month"), d.month().to_string()),
        (format!("{prefix}-year"), d.year().to_string()),
    ]
}

async fn act(b: &Browser, id: &str, action: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let page = format!("/manage/requests/{id}");
    b.submit(SLUG, &page, &format!("{page}/{action}"), fields)
        .await
}

#[tokio::test]
async fn a_person_files_a_request_and_a_privacy_officer_sees_it_due_a_month_later() {
    let app = spawn_app().await;
    let person = app.person(SLUG, "asker@example.org", None).await;
    let officer = officer(&app, "dpo-desk@harrow.example").await;

    let res = person
        .submit(
            SLUG,
            "/account/requests",
            "/account/requests",
            &[
                ("kind", "access"),
                ("details", "Everything you hold about me."),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(to.starts_with("/account/requests?made=RR-"), "{to}");
    let reference = to.split("made=").nth(1).unwrap().to_owned();

    let due = long_date(deadline(today(&app), ONE_MONTH, 0, 0).day);
    let mine = person.get_tenant(SLUG, &to).await.text().await.unwrap();
    assert!(mine.contains(&reference) && mine.contains(&due), "{mine}");

    // The requester is told the reference and the date.
    let mail = app.outbox(SLUG, "asker@example.org").await;
    let ack = mail
        .iter()
        .find(|m| m.subject.contains(&reference))
        .expect("an acknowledgement");
    assert!(ack.body_text.contains(&due), "{}", ack.body_text);

    // Nothing of theirs is deleted while it is open.
    assert_eq!(
        holds_on(&app, SLUG, "asker@example.org").await,
        ["subject_request"]
    );

    // The officer's queue has it, with the same date.
    let queue = officer
        .get_tenant(SLUG, "/manage/requests")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        queue.contains(&reference) && queue.contains(&due),
        "{queue}"
    );
    let id = newest_request(&officer).await;
    let detail = officer
        .get_tenant(SLUG, &format!("/manage/requests/{id}"))
        .await;
    assert_eq!(detail.status(), StatusCode::OK);
    assert!(
        detail
            .text()
            .await
            .unwrap()
            .contains("Everything you hold about me.")
    );

    // The person, another person and another tenant's officer find no desk.
    for path in [
        "/manage/requests".to_owned(),
        format!("/manage/requests/{id}"),
    ] {
        assert_eq!(
            person.get_tenant(SLUG, &path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let other = app
        .role_holder("somerset", "dpo@somerset.example", "privacy-officer", None)
        .await;
    let res = other
        .get_tenant("somerset", &format!("/manage/requests/{id}"))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let page = format!("/manage/requests/{id}");
    let res = other
        .submit(
            "somerset",
            "/manage/requests",
            &format!("{page}/note"),
            &[("note", "x")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // Someone else's requests are not on a person's own page.
    let stranger = app.person(SLUG, "stranger@example.org", None).await;
    let theirs = stranger
        .get_tenant(SLUG, "/account/requests")
        .await
        .text()
        .await
        .unwrap();
    assert!(!theirs.contains(&reference));
}

#[tokio::test]
async fn the_clock_waits_for_identity_stops_for_clarification_extends_once_and_closes() {
    let app = spawn_app().await;
    app.person(SLUG, "caller@example.org", None).await;
    let officer = officer(&app, "officer@harrow.example").await;
    let received = today(&app) - Days::new(3);
    let mut fields: Vec<(String, String)> = vec![
        ("kind".into(), "erasure".into()),
        ("channel".into(), "phone".into()),
        ("requester_name".into(), "Chris Caller".into()),
        ("requester_email".into(), "Caller@Example.org".into()),
        (
            "details".into(),
            "Delete my account, said on the phone.".into(),
        ),
        ("identity".into(), "no".into()),
    ];
    fields.extend(day_fields("received", received));
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let res = officer
        .submit(
            SLUG,
            "/manage/requests/new",
            "/manage/requests/new",
            &borrowed,
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap()
    );
    let id = newest_request(&officer).await;
    // Logged with the address of an account: linked, and held.
    assert_eq!(
        holds_on(&app, SLUG, "caller@example.org").await,
        ["subject_request"]
    );
    let page = officer
        .get_tenant(SLUG, &format!("/manage/requests/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Waiting for proof of identity"), "{page}");
    // What the right covers, from each category's lawful basis: Harrow's public-task data
    // is not open to erasure, its consent data is; and a reply to start from.
    assert!(
        page.contains("used for a public task set out in law"),
        "{page}"
    );
    assert!(page.contains("A reply to start from") && page.contains("Information Commissioner"));

    // Nothing can be paused or extended before the clock starts.
    let res = act(&officer, &id, "pause", &[("note", "Which account?")]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "identity_not_confirmed");

    // Proof arrived yesterday: the month runs from then.
    let proof = today(&app) - Days::new(1);
    let on: Vec<(String, String)> = day_fields("on", proof).into();
    let on: Vec<(&str, &str)> = on.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(
        act(&officer, &id, "identity", &on).await.status(),
        StatusCode::SEE_OTHER
    );
    let due = deadline(proof, ONE_MONTH, 0, 0).day;
    let page = officer
        .get_tenant(SLUG, &format!("/manage/requests/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(&long_date(due)), "{page}");

    // Stopped today for clarification; the requester is asked.
    assert_eq!(
        act(
            &officer,
            &id,
            "pause",
            &[("note", "Which of your two accounts?")]
        )
        .await
        .status(),
        StatusCode::SEE_OTHER
    );
    let mail = app.outbox(SLUG, "caller@example.org").await;
    assert!(
        mail.iter()
            .any(|m| m.body_text.contains("Which of your two accounts?"))
    );

    // Five days later the answer comes: five days are added back.
    app.clock.advance(chrono::Duration::days(5));
    let back: Vec<(String, String)> = day_fields("on", today(&app)).into();
    let back: Vec<(&str, &str)> = back.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(
        act(&officer, &id, "resume", &back).await.status(),
        StatusCode::SEE_OTHER
    );
    let due = deadline(proof, ONE_MONTH, 0, 5).day;
    let page = officer
        .get_tenant(SLUG, &format!("/manage/requests/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(&long_date(due)), "{page}");

    // Two further months, with a reason the requester is sent.
    let res = act(
        &officer,
        &id,
        "extend",
        &[("months", "2"), ("reason", "Records in three systems.")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let extended = deadline(proof, ONE_MONTH, 2, 5).day;
    let mail = app.outbox(SLUG, "caller@example.org").await;
    assert!(
        mail.iter()
            .any(|m| m.body_text.contains("Records in three systems.")
                && m.body_text.contains(&long_date(extended)))
    );
    // Once only.
    let res = act(
        &officer,
        &id,
        "extend",
        &[("months", "1"), ("reason", "More.")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "already_extended");

    // Closed: the hold goes, and nothing more changes.
    let res = act(
        &officer,
        &id,
        "close",
        &[
            ("outcome", "completed"),
            ("note", "Account deleted; reply sent."),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(holds_on(&app, SLUG, "caller@example.org").await.is_empty());
    let res = act(&officer, &id, "pause", &[("note", "Again?")]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "request_closed");
    let actions = app.audit_actions(SLUG).await;
    for a in [
        "rights.request_received",
        "rights.identity_confirmed",
        "rights.paused",
        "rights.resumed",
        "rights.extended",
        "rights.completed",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
}

#[tokio::test]
async fn bad_input_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let officer = officer(&app, "officer2@harrow.example").await;
    let tomorrow = today(&app) + Days::new(1);
    let day = tomorrow.day().to_string();
    let month = tomorrow.month().to_string();
    let year = tomorrow.year().to_string();
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![("channel", "email"), ("identity", "yes")],
            "Choose what the person asked for",
        ),
        (
            vec![
                ("kind", "access"),
                ("channel", "online"),
                ("identity", "yes"),
            ],
            "Choose how the request arrived",
        ),
        (
            vec![
                ("kind", "access"),
                ("channel", "email"),
                ("identity", "yes"),
                ("requester_name", "A"),
                ("details", "B"),
                ("received-day", "31"),
                ("received-month", "2"),
                ("received-year", "2026"),
            ],
            "Enter a real date",
        ),
        (
            vec![
                ("kind", "access"),
                ("channel", "email"),
                ("identity", "yes"),
                ("requester_name", "A"),
                ("details", "B"),
                ("received-day", &day),
                ("received-month", &month),
                ("received-year", &year),
            ],
            "today or in the past",
        ),
        (
            vec![
                ("kind", "access"),
                ("channel", "email"),
                ("identity", "yes"),
                ("requester_name", ""),
                ("details", "B"),
                ("requester_email", "not-an-address"),
                ("received-day", "1"),
                ("received-month", "12"),
                ("received-year", "2026"),
            ],
            "correct format",
        ),
    ];
    for (fields, message) in cases {
        let res = officer
            .submit(
                SLUG,
                "/manage/requests/new",
                "/manage/requests/new",
                &fields,
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        let body = res.text().await.unwrap();
        assert!(body.contains(message), "{message}: {body}");
    }
    assert!(
        app.state
            .privacy
            .requests(&harrow(&app), true)
            .await
            .unwrap()
            .is_empty()
    );
    // Without the form's token: refused.
    let res = officer
        .post_form(SLUG, "/manage/requests/new", &[("kind", "access")])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // A person's own form: a kind is needed, and the details.
    let person = app.person(SLUG, "p@example.org", None).await;
    for fields in [
        vec![("details", "x")],
        vec![("kind", "erasure"), ("details", " ")],
    ] {
        let res = person
            .submit(SLUG, "/account/requests", "/account/requests", &fields)
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    assert!(
        app.state
            .privacy
            .requests(&harrow(&app), true)
            .await
            .unwrap()
            .is_empty()
    );
    // An unknown request or action is 404.
    let res = act(&officer, "no-such-request", "note", &[("note", "x")]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // Signed out: off to sign in.
    let res = app
        .new_browser()
        .get_tenant(SLUG, "/account/requests")
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn privacy_officers_are_sent_what_falls_due_this_week() {
    let app = spawn_app().await;
    let person = app.person(SLUG, "due@example.org", None).await;
    officer(&app, "weekly@harrow.example").await;
    let res = person
        .submit(
            SLUG,
            "/account/requests",
            "/account/requests",
            &[
                ("kind", "rectification"),
                ("details", "My surname is wrong."),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let reference = res.headers()["location"]
        .to_str()
        .unwrap()
        .split("made=")
        .nth(1)
        .unwrap()
        .to_owned();
    // Three weeks on, it is not yet due within the week: no list.
    let cfg = app
        .registry
        .current()
        .iter()
        .find(|t| t.id.as_str() == SLUG)
        .unwrap()
        .config
        .clone();
    app.clock.advance(chrono::Duration::days(21));
    assert_eq!(
        app.state
            .privacy
            .send_due_list(&cfg, "http://harrow.localhost")
            .await
            .unwrap(),
        0
    );
    // Within the week of its deadline, the officer is sent it.
    app.clock.advance(chrono::Duration::days(6));
    assert!(server::jobs::daily_jobs(&app.state, "test").await);
    let mail = app.outbox(SLUG, "weekly@harrow.example").await;
    let list = mail
        .iter()
        .find(|m| m.subject.contains("due this week"))
        .expect("the list");
    assert!(list.body_text.contains(&reference), "{}", list.body_text);
}

/// Reads one file of a zip archive.
pub(crate) fn unzip(bytes: &[u8], name: &str) -> String {
    use std::io::Read as _;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut file = archive.by_name(name).unwrap();
    let mut out = String::new();
    file.read_to_string(&mut out).unwrap();
    out
}

#[tokio::test]
async fn a_copy_of_a_persons_data_holds_every_declared_value_and_is_fetched_once_by_them() {
    use privacy_engine::Accounts as _;
    use privacy_engine::store::retention::SubjectKey;

    let app = spawn_app().await;
    let admin = app
        .catalogue_manager(SLUG, "admin@harrow.example", None)
        .await;
    let body = serde_json::json!({
        "provider_id": "ss4e", "title": "Phonics leadership", "summary": "For phonics leads.",
        "price_pence": 0, "cpd_minutes": 90, "cancellation_notice_days": 0
    });
    let (_, session) = crate::bookings::published_course(&admin, SLUG, &body, 10, 2).await;
    let ana = app.person(SLUG, "ana@school.example", None).await;
    let res = crate::bookings::checkout(
        &ana,
        SLUG,
        "ana-copy-0001",
        &serde_json::json!({"items": [{"session_id": session}], "expected_total_pence": 0}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let needs = "Step-free access to the training room";
    let res = ana
        .submit(
            SLUG,
            "/account/special-requirements",
            "/account/special-requirements",
            &[("special_requirements", needs)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = ana
        .submit(
            SLUG,
            "/account/requests",
            "/account/requests",
            &[("kind", "access"), ("details", "Everything, please.")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let officer = officer(&app, "copies@harrow.example").await;
    let id = newest_request(&officer).await;

    // Only for access and portability: a rectification request of someone else is refused.
    let bob = app.person(SLUG, "bob@school.example", None).await;
    let res = bob
        .submit(
            SLUG,
            "/account/requests",
            "/account/requests",
            &[("kind", "rectification"), ("details", "My name is Robert.")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let all = app
        .state
        .privacy
        .requests(&harrow(&app), false)
        .await
        .unwrap();
    let bobs = all
        .iter()
        .find(|r| r.row.kind == "rectification")
        .unwrap()
        .row
        .id
        .clone();
    let res = act(&officer, &bobs, "copy", &[]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "not_an_access_request");

    // Every declared personal value held about Ana now, to find in the copy.
    let account = app.account(SLUG, "ana@school.example").await.unwrap();
    let tables: Vec<(&str, &str, &str)> = std::iter::once(("account", "id", account.id.as_str()))
        .chain(server::subject_tables().map(|t| match t.key {
            SubjectKey::AccountId(c) => (t.table, c, account.id.as_str()),
            SubjectKey::Email(c) => (t.table, c, "ana@school.example"),
        }))
        .collect();
    let tx = app.store.tenant_tx(&SLUG.parse().unwrap()).await.unwrap();
    let mut expected: Vec<(&str, &str, serde_json::Value)> = Vec::new();
    for p in server::personal_data() {
        let Some((table, key, value)) = tables.iter().find(|(t, _, _)| *t == p.table) else {
            continue;
        };
        for row in privacy_engine::store::rights::rows_about(&tx, table, key, value, &[p.column])
            .await
            .unwrap()
        {
            if !row[p.column].is_null() {
                expected.push((table, p.column, row[p.column].clone()));
            }
        }
    }
    tx.rollback().await.unwrap();

    let res = act(&officer, &id, "copy", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let link = app
        .emailed_link(SLUG, "ana@school.example", "/account/requests/")
        .await;
    assert!(
        link.starts_with(&format!("/account/requests/{id}/copy/")),
        "{link}"
    );

    // Not signed in: to the sign-in page; someone else, or another tenant: not found.
    let res = app.new_browser().get_tenant(SLUG, &link).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        bob.get_tenant(SLUG, &link).await.status(),
        StatusCode::NOT_FOUND
    );
    let other = app.person("somerset", "ana@school.example", None).await;
    assert_eq!(
        other.get_tenant("somerset", &link).await.status(),
        StatusCode::NOT_FOUND
    );

    let res = ana.get_tenant(SLUG, &link).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/zip");
    let bytes = res.bytes().await.unwrap();
    let data: serde_json::Value = serde_json::from_str(&unzip(&bytes, "data.json")).unwrap();
    let summary = unzip(&bytes, "summary.html");
    assert!(summary.contains("Your rights") && summary.contains("Information Commissioner"));
    assert!(unzip(&bytes, "account.csv").contains("ana@school.example"));
    // The sealed value, readable.
    assert!(data.to_string().contains(needs));

    // Every value held before the copy was made is in it; credentials are not.
    let withheld = app.state.identity.withheld_columns();
    let mut checked = 0;
    for (table, column, v) in &expected {
        let in_copy = data["tables"][*table]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let name = format!("{table}.{column}");
        if withheld.contains(&name.as_str()) {
            // Credentials are left out; a sealed value appears only in readable form.
            assert!(
                in_copy.iter().all(|r| r.get(*column) != Some(v)),
                "{name} shown"
            );
        } else {
            assert!(
                in_copy.iter().any(|r| &r[*column] == v),
                "{name} = {v} is not in the copy"
            );
            checked += 1;
        }
    }
    assert!(checked >= 8, "only {checked} values checked");

    // Once only.
    let res = ana.get_tenant(SLUG, &link).await;
    assert_eq!(res.status(), StatusCode::GONE);
    assert_eq!(error_code(&res), "link_used");
}

#[tokio::test]
async fn a_copys_link_lapses_after_a_week() {
    let app = spawn_app().await;
    let ana = app.person(SLUG, "late@school.example", None).await;
    let res = ana
        .submit(
            SLUG,
            "/account/requests",
            "/account/requests",
            &[
                ("kind", "portability"),
                ("details", "My data, to take elsewhere."),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let officer = officer(&app, "lapse@harrow.example").await;
    let id = newest_request(&officer).await;
    assert_eq!(
        act(&officer, &id, "copy", &[]).await.status(),
        StatusCode::SEE_OTHER
    );
    let link = app
        .emailed_link(SLUG, "late@school.example", "/account/requests/")
        .await;
    app.clock.advance(chrono::Duration::days(8));
    let res = ana.get_tenant(SLUG, &link).await;
    assert_eq!(res.status(), StatusCode::GONE);
    assert_eq!(error_code(&res), "link_expired");
    // The daily clear-out removes the lapsed archive.
    assert_eq!(
        app.state
            .privacy
            .clear_spent_bundles(&SLUG.parse().unwrap())
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn erasure_on_request_waits_for_holds_and_bookings_then_erases_keeping_what_rules_keep() {
    use privacy_engine::HoldRequest;
    use privacy_engine::domain::retention::HoldKind;

    let app = spawn_app().await;
    let admin = app
        .catalogue_manager(SLUG, "admin@harrow.example", None)
        .await;
    let body = serde_json::json!({
        "provider_id": "ss4e", "title": "Phonics leadership", "summary": "For phonics leads.",
        "price_pence": 0, "cpd_minutes": 90, "cancellation_notice_days": 0
    });
    let (_, session) = crate::bookings::published_course(&admin, SLUG, &body, 10, 2).await;
    let eve = app.person(SLUG, "eve@school.example", None).await;
    let res = crate::bookings::checkout(
        &eve,
        SLUG,
        "eve-erase-0001",
        &serde_json::json!({"items": [{"session_id": session}], "expected_total_pence": 0}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = eve
        .submit(
            SLUG,
            "/account/requests",
            "/account/requests",
            &[
                ("kind", "erasure"),
                ("details", "Please delete my account."),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let account = app.account(SLUG, "eve@school.example").await.unwrap();
    let officer = officer(&app, "eraser@harrow.example").await;
    let id = newest_request(&officer).await;
    // An unsent email to someone else that names her.
    let tenant: tenant_router::TenantId = SLUG.parse().unwrap();
    let tx = app.store.tenant_tx(&tenant).await.unwrap();
    storage::outbox::enqueue(
        &tx,
        app.clock.now(),
        storage::outbox::Email {
            to: "lead@school.example",
            subject: "A copy for the CPD lead",
            body: "eve@school.example booked Phonics leadership.",
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    // A legal claim holds the account: refused, nothing changes.
    let hold = app
        .state
        .privacy
        .place_hold(
            &tenant,
            &HoldRequest {
                email: "eve@school.example",
                kind: HoldKind::LegalClaim,
                reason: "Claim about a course fee",
                by: "operator:test",
                until: None,
            },
        )
        .await
        .unwrap();
    let res = act(&officer, &id, "erase", &[]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "erasure_deferred");
    assert!(res.text().await.unwrap().contains("a legal claim"));
    assert!(app.account(SLUG, "eve@school.example").await.is_some());
    app.state
        .privacy
        .release_hold(&tenant, &hold, "operator:test")
        .await
        .unwrap();

    // A place on a session still to come: deferred, with the reason.
    let res = act(&officer, &id, "erase", &[]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("sessions still to come"));
    assert!(app.account(SLUG, "eve@school.example").await.is_some());

    // Once the session has taken place: erased.
    app.clock.advance(chrono::Duration::days(3));
    let res = act(&officer, &id, "erase", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(app.account(SLUG, "eve@school.example").await.is_none());
    assert!(app.outbox(SLUG, "lead@school.example").await.is_empty());
    // The request stays, closed, as the record; the reply says what was done.
    let (request, events) = app.state.privacy.request(&harrow(&app), &id).await.unwrap();
    assert_eq!(request.row.stage, "closed");
    assert_eq!(request.row.account_id, None);
    assert!(events.iter().any(|e| e.action == "erased"));
    let mail = app.outbox(SLUG, "eve@school.example").await;
    let reply = mail
        .iter()
        .find(|m| m.subject.contains("erased"))
        .expect("the reply");
    assert!(
        reply.body_text.contains("Information Commissioner"),
        "{}",
        reply.body_text
    );
    let disposals = app
        .state
        .privacy
        .disposals(&tenant, Some(&account.id), 10)
        .await
        .unwrap();
    assert_eq!(disposals.len(), 1);
    assert!(
        app.audit_actions(SLUG)
            .await
            .iter()
            .any(|a| a == "rights.erased")
    );
    // Closed: no second erasure.
    let res = act(&officer, &id, "erase", &[]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "request_not_open");
}
