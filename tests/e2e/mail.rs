//! Outgoing mail over SMTP: what the outbox holds reaches a real SMTP server on loopback,
//! once, with the tenant as sender; mail queued while the server is down goes when it
//! comes back.

use e2e::{OidcProvider, SmtpSink, TestDb, spawn_on, tenants_dir};

fn settings_with_smtp(db: &TestDb, port: u16) -> server::Settings {
    let mut s = db.settings(&tenants_dir());
    s.smtp.url = Some(format!("smtp://127.0.0.1:{port}").into());
    s.smtp.from = "portal@ss4e.example".to_owned();
    s.smtp.poll_secs = 1;
    s
}

#[tokio::test]
async fn queued_mail_is_sent_by_smtp_once_from_the_tenant() {
    let sink = SmtpSink::start(0).await;
    let db = TestDb::new().await;
    let settings = settings_with_smtp(&db, sink.port);
    let app = spawn_on(db, settings).await;
    app.person("harrow", "ana@school.example", None).await;

    let got = sink.wait_for(1, 20).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let mail = &got[0];
    assert!(mail.contains("To: ana@school.example"), "{mail}");
    assert!(
        mail.contains("From: \"Support Services for Education Harrow\" <portal@ss4e.example>"),
        "{mail}"
    );
    let queued = app.outbox("harrow", "ana@school.example").await;
    assert_eq!(queued.len(), 1);
    assert!(queued[0].sent_at.is_some());
    assert!(
        mail.contains(&format!("Message-ID: <{}@harrow.portal>", queued[0].id)),
        "{mail}"
    );
    // Long subjects are folded onto a second line; the start is enough.
    assert!(queued[0].subject.starts_with("Confirm your email address"));
    assert!(
        mail.contains("Subject: Confirm your email address"),
        "{mail}"
    );
    // Sent once: later looks at the outbox find nothing to send.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(sink.messages.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn mail_queued_while_the_server_is_down_goes_when_it_is_back() {
    let port = OidcProvider::free_port();
    let db = TestDb::new().await;
    let settings = settings_with_smtp(&db, port);
    let app = spawn_on(db, settings).await;
    // Sign-up queues a confirmation email; nothing listens on the port yet.
    let b = app.new_browser();
    let res = b
        .submit(
            "segfl",
            "/sign-up",
            "/sign-up",
            &[
                ("first_name", "Bo"),
                ("last_name", "Day"),
                ("email", "bo@school.example"),
                ("job_title", "Technician"),
                ("organisation_name", "A school"),
                ("telephone", "01632 960002"),
                ("password", e2e::PASSWORD),
                ("password_confirm", e2e::PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), reqwest::StatusCode::OK);
    let mut failed = None;
    for _ in 0..100 {
        let queued = app.outbox("segfl", "bo@school.example").await;
        if queued[0].attempts > 0 {
            failed = Some(queued[0].clone());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let failed = failed.expect("the sender tried");
    assert!(failed.sent_at.is_none());
    assert!(failed.last_error.is_some());

    // The server comes back; after the retry time the message goes, once.
    let sink = SmtpSink::start(port).await;
    app.clock.advance(chrono::Duration::minutes(2));
    let got = sink.wait_for(1, 20).await;
    assert_eq!(got.len(), 1);
    assert!(got[0].contains("To: bo@school.example"));
    // The sender marks it sent once the server has taken it: just after the sink has it.
    let mut sent = false;
    for _ in 0..50 {
        if app.outbox("segfl", "bo@school.example").await[0]
            .sent_at
            .is_some()
        {
            sent = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(sent, "the message was not marked sent");
}

/// A booking confirmation goes to the delegate with the course's details and an iCalendar
/// entry attached.
#[tokio::test]
async fn a_booking_confirmation_carries_a_calendar_entry() {
    let sink = SmtpSink::start(0).await;
    let db = TestDb::new().await;
    let settings = settings_with_smtp(&db, sink.port);
    let app = spawn_on(db, settings).await;
    let admin = app
        .catalogue_manager("harrow", "admin@harrow.example", None)
        .await;
    let (_, session) =
        crate::bookings::course_with_session(&app, &admin, "harrow", "ss4e", 5, 20).await;
    let ana = app.person("harrow", "ana@school.example", None).await;
    let body =
        serde_json::json!({"items": [{"session_id": session}], "expected_total_pence": 7500});
    let res = crate::bookings::checkout(&ana, "harrow", "ana-key-0001", &body).await;
    assert_eq!(res.status(), reqwest::StatusCode::CREATED);
    let order: serde_json::Value = res.json().await.unwrap();

    let queued = app.outbox("harrow", "ana@school.example").await;
    let confirmation = queued
        .iter()
        .find(|m| m.subject == "Booking confirmed: Moderating writing")
        .expect("a confirmation");
    assert!(
        confirmation
            .body_text
            .contains(order["number"].as_str().unwrap())
    );
    assert!(
        confirmation.body_text.contains("£75.00"),
        "{}",
        confirmation.body_text
    );
    assert_eq!(confirmation.attachment_name.as_deref(), Some("booking.ics"));
    let ics = confirmation.attachment_text.as_deref().unwrap();
    let booking = order["booked"][0]["booking_id"].as_str().unwrap();
    assert!(
        ics.contains("BEGIN:VCALENDAR") && ics.contains("BEGIN:VEVENT"),
        "{ics}"
    );
    assert!(
        ics.contains(&format!("UID:{booking}@harrow.portal")),
        "{ics}"
    );
    assert!(ics.contains("SUMMARY:Moderating writing"), "{ics}");
    assert!(ics.contains("LOCATION:Hall"), "{ics}");

    // Over SMTP it is a two-part message: the text and the calendar file. Four messages:
    // the admin's verification and second-factor notice, Ana's verification, the booking.
    let got = sink.wait_for(4, 20).await;
    let sent = got
        .iter()
        .find(|m| m.contains("Booking confirmed"))
        .expect("the confirmation was sent");
    assert!(sent.contains("Content-Type: multipart/mixed"), "{sent}");
    assert!(sent.contains("Content-Type: text/calendar"), "{sent}");
    assert!(sent.contains("booking.ics"), "{sent}");
}

/// A newsletter message reaches the mail server with its one-click unsubscribe headers
/// (RFC 8058); other mail carries none.
#[tokio::test]
async fn a_newsletter_carries_its_one_click_unsubscribe_headers() {
    let sink = SmtpSink::start(0).await;
    let db = TestDb::new().await;
    let settings = settings_with_smtp(&db, sink.port);
    let app = spawn_on(db, settings).await;
    let tx = app
        .store
        .tenant_tx(&"havering".parse().unwrap())
        .await
        .unwrap();
    storage::outbox::enqueue_with_unsubscribe(
        &tx,
        app.clock.now(),
        storage::outbox::Email {
            to: "reader@school.example",
            subject: "News",
            body: "Hello",
        },
        "http://havering.localhost/unsubscribe/abc",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let got = sink.wait_for(1, 20).await;
    let mail = &got[0];
    assert!(
        mail.contains("List-Unsubscribe: <http://havering.localhost/unsubscribe/abc>"),
        "{mail}"
    );
    assert!(
        mail.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
        "{mail}"
    );
    app.person("havering", "ana@school.example", None).await;
    let got = sink.wait_for(2, 20).await;
    let confirm = got
        .iter()
        .find(|m| m.contains("ana@school.example"))
        .unwrap();
    assert!(!confirm.contains("List-Unsubscribe"), "{confirm}");
}
