//! Complaints: anyone complains online and is acknowledged at once; a privacy officer logs
//! one that came by telephone, acknowledges it by the tenant's stated working days,
//! escalates it through the steps the notice lists, and closes it; every email names the
//! ICO; bad input changes nothing; other people and tenants see nothing.

use chrono::Datelike as _;
use e2e::{Browser, TestApp, error_code, spawn_app};
use reqwest::StatusCode;

const SLUG: &str = "harrow";

async fn officer(app: &TestApp, email: &str) -> Browser {
    app.role_holder(SLUG, email, "privacy-officer", None).await
}

/// The id of the first complaint in the officer's log.
async fn first_complaint(b: &Browser) -> String {
    let page = b
        .get_tenant(SLUG, "/manage/complaints")
        .await
        .text()
        .await
        .unwrap();
    page.split("href=\"/manage/complaints/")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_owned())
        .find(|id| id != "new")
        .expect("a complaint in the log")
}

async fn act(b: &Browser, id: &str, action: &str, note: &str) -> reqwest::Response {
    let page = format!("/manage/complaints/{id}");
    b.submit(SLUG, &page, &format!("{page}/{action}"), &[("note", note)])
        .await
}

#[tokio::test]
async fn anyone_complains_online_and_is_acknowledged_at_once() {
    let app = spawn_app().await;
    let visitor = app.new_browser();
    let res = visitor
        .submit(
            SLUG,
            "/complaints",
            "/complaints",
            &[
                ("name", "Sam Parent"),
                ("email", "sam@example.org"),
                ("about", "My details were sent to the wrong provider."),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    let reference = to.split("made=").nth(1).unwrap().to_owned();
    assert!(reference.starts_with("CP-"));
    let mail = app.outbox(SLUG, "sam@example.org").await;
    let ack = mail
        .iter()
        .find(|m| m.subject.contains(&reference))
        .expect("acknowledged");
    assert!(
        ack.body_text.contains("Information Commissioner"),
        "{}",
        ack.body_text
    );
    assert!(
        ack.body_text.contains("Head of Service"),
        "{}",
        ack.body_text
    );

    let officer = officer(&app, "complaints@harrow.example").await;
    let log = officer
        .get_tenant(SLUG, "/manage/complaints")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        log.contains(&reference) && log.contains("Acknowledged"),
        "{log}"
    );

    // Not a privacy officer, or another tenant's: nothing to see.
    let id = first_complaint(&officer).await;
    let person = app.person(SLUG, "nosy@example.org", None).await;
    for path in [
        "/manage/complaints".to_owned(),
        format!("/manage/complaints/{id}"),
    ] {
        assert_eq!(
            person.get_tenant(SLUG, &path).await.status(),
            StatusCode::NOT_FOUND
        );
    }
    let other = app
        .role_holder(
            "somerset",
            "officer@somerset.example",
            "privacy-officer",
            None,
        )
        .await;
    assert_eq!(
        other
            .get_tenant("somerset", &format!("/manage/complaints/{id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_logged_complaint_is_acknowledged_on_time_escalated_and_closed() {
    let app = spawn_app().await;
    let officer = officer(&app, "log@harrow.example").await;
    let today = privacy_engine::domain::calendar::uk_date(app.clock.now());
    let (d, m, y) = (
        today.day().to_string(),
        today.month().to_string(),
        today.year().to_string(),
    );
    let res = officer
        .submit(
            SLUG,
            "/manage/complaints/new",
            "/manage/complaints/new",
            &[
                ("name", "Pat Caller"),
                ("about", "Rang to complain that a request went unanswered."),
                ("channel", "phone"),
                ("received-day", &d),
                ("received-month", &m),
                ("received-year", &y),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let id = first_complaint(&officer).await;
    // Harrow acknowledges within five working days.
    let due = privacy_engine::domain::calendar::working_days_after(today, 5);
    let page = officer
        .get_tenant(SLUG, &format!("/manage/complaints/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&privacy_engine::domain::calendar::long_date(due)),
        "{page}"
    );
    app.clock.advance(chrono::Duration::days(10));
    let log = officer
        .get_tenant(SLUG, "/manage/complaints")
        .await
        .text()
        .await
        .unwrap();
    assert!(log.contains("Acknowledgement overdue"), "{log}");
    assert_eq!(
        act(
            &officer,
            &id,
            "acknowledge",
            "Called back and wrote to them."
        )
        .await
        .status(),
        StatusCode::SEE_OTHER
    );
    let res = act(&officer, &id, "acknowledge", "Again.").await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "already_acknowledged");

    // Harrow lists three steps after the service.
    for _ in 0..3 {
        assert_eq!(
            act(&officer, &id, "escalate", "Not resolved.")
                .await
                .status(),
            StatusCode::SEE_OTHER
        );
    }
    let res = act(&officer, &id, "escalate", "Once more.").await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "last_step");
    let res = act(&officer, &id, "close", "").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        act(
            &officer,
            &id,
            "close",
            "Upheld; the request is now answered."
        )
        .await
        .status(),
        StatusCode::SEE_OTHER
    );
    let res = act(&officer, &id, "note", "After closing.").await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "complaint_closed");
    let actions = app.audit_actions(SLUG).await;
    for a in [
        "complaints.received",
        "complaints.acknowledged",
        "complaints.escalated",
        "complaints.closed",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a}");
    }
}

#[tokio::test]
async fn a_complaint_without_its_details_changes_nothing() {
    let app = spawn_app().await;
    let visitor = app.new_browser();
    for fields in [
        vec![("name", ""), ("about", "Something")],
        vec![("name", "A"), ("about", " ")],
        vec![("name", "A"), ("about", "B"), ("email", "not-an-address")],
    ] {
        let res = visitor
            .submit(SLUG, "/complaints", "/complaints", &fields)
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
    }
    let res = visitor
        .post_form(SLUG, "/complaints", &[("name", "A"), ("about", "B")])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let cfg = app
        .registry
        .current()
        .iter()
        .find(|t| t.id.as_str() == SLUG)
        .unwrap()
        .config
        .clone();
    assert!(app.state.privacy.complaints(&cfg).await.unwrap().is_empty());
}

/// The notice says how long records of requests and complaints are kept after they close;
/// the daily job deletes them on that day, not before, with disposal records.
#[tokio::test]
async fn closed_requests_and_complaints_are_kept_as_long_as_the_notice_says() {
    let app = spawn_app().await;
    let officer = officer(&app, "kept@harrow.example").await;
    let person = app.person(SLUG, "asker@school.example", None).await;
    let res = person
        .submit(
            SLUG,
            "/account/requests",
            "/account/requests",
            &[("kind", "access"), ("details", "A copy, please.")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let request = crate::rights::newest_request(&officer).await;
    let page = format!("/manage/requests/{request}");
    let res = officer
        .submit(
            SLUG,
            &page,
            &format!("{page}/close"),
            &[
                ("outcome", "withdrawn"),
                ("note", "Withdrawn by telephone."),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = app
        .new_browser()
        .submit(
            SLUG,
            "/complaints",
            "/complaints",
            &[("name", "Sam"), ("about", "Slow answers.")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let complaint = first_complaint(&officer).await;
    assert_eq!(
        act(&officer, &complaint, "close", "Apologised.")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let notice = app.page(SLUG, "/privacy").await;
    assert!(
        notice
            .replace("&#39;", "'")
            .contains("for 2 years (the platform's standard period) after it is closed"),
        "the notice states the period: {}",
        notice
            .split("We answer requests")
            .nth(1)
            .unwrap_or(&notice)
            .chars()
            .take(600)
            .collect::<String>()
    );

    let cfg = app
        .registry
        .current()
        .iter()
        .find(|t| t.id.as_str() == SLUG)
        .unwrap()
        .config
        .clone();
    let held = |app: &TestApp| {
        let privacy = app.state.privacy.clone();
        let cfg = cfg.clone();
        async move {
            (
                privacy.requests(&cfg, true).await.unwrap().len(),
                privacy.complaints(&cfg).await.unwrap().len(),
            )
        }
    };
    // On the day two years on (2028 has a 29 February): kept.
    app.clock.advance(chrono::Duration::days(731));
    assert!(server::jobs::daily_jobs(&app.state, "test").await);
    assert_eq!(held(&app).await, (1, 1));
    // The day after: deleted.
    app.clock.advance(chrono::Duration::days(1));
    assert!(server::jobs::daily_jobs(&app.state, "test").await);
    assert_eq!(held(&app).await, (0, 0));
    let disposed: Vec<(String, i64)> = app
        .state
        .privacy
        .disposals(&SLUG.parse().unwrap(), None, 50)
        .await
        .unwrap()
        .into_iter()
        .filter(|d| d.rule.starts_with("Records of requests and complaints"))
        .map(|d| (d.record_kind, d.records))
        .collect();
    assert_eq!(disposed.len(), 2, "{disposed:?}");
    assert!(disposed.contains(&("rights_request".to_owned(), 1)));
    assert!(disposed.contains(&("complaint".to_owned(), 1)));
}
