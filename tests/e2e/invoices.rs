//! Invoices and credit notes: every order billed to an organisation gets a numbered
//! invoice with the lines, prices and SLA discounts the checkout computed; a place
//! cancelled within terms gets a credit note; the organisation's lead administrators and
//! purchasers list them and download each as PDF, CSV or JSON, and nobody else sees them.

use e2e::{Browser, error_code, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::bookings::{checkout, published_course};
use crate::organisations::{admin_with_org, appoint, change, create_org};
use crate::purchases::sla;

const SLUG: &str = "harrow";

async fn invoices(b: &Browser, org: &str) -> reqwest::Response {
    b.client
        .get(b.url(
            &format!("{SLUG}.localhost"),
            &format!("/api/v1/organisations/{org}/invoices"),
        ))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn orders_billed_to_an_organisation_are_invoiced_and_cancellations_credited() {
    let app = spawn_app().await;
    let (admin, org) = admin_with_org(&app, SLUG, "Kenton School").await;
    let other_org = create_org(&admin, SLUG, "Stanmore College").await;
    let service = sla(&admin).await;
    let body = json!({
        "provider_id": "ss4e", "title": "Moderating writing", "summary": "KS2.",
        "price_pence": 7500, "cancellation_notice_days": 0,
        "sla_service_id": service, "sla_price_pence": 2500
    });
    let (_, session) = published_course(&admin, SLUG, &body, 10, 10).await;
    let lead = app.person(SLUG, "lead@kenton.example", None).await;
    appoint(&admin, SLUG, &org, "lead@kenton.example").await;
    let member = app.person(SLUG, "member@kenton.example", Some(&org)).await;
    let member_id = app.account(SLUG, "member@kenton.example").await.unwrap().id;
    let res = change(&lead, SLUG, &org, &member_id, &[("action", "verify")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let place = |total: i64| json!({"organisation_id": org, "items": [{"session_id": session}], "expected_total_pence": total});

    // 1. A member's place at the list price.
    let res = checkout(&member, SLUG, "member-key-1", &place(7500)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let member_booking = res.json::<Value>().await.unwrap()["booked"][0]["booking_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // 2. The SLA, bought by the lead administrator.
    let res = lead
        .client
        .post(lead.url(
            &format!("{SLUG}.localhost"),
            &format!("/api/v1/services/{service}/purchase"),
        ))
        .header("idempotency-key", "lead-buy-1")
        .json(&json!({"organisation_id": org, "band": "Up to 200 pupils"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    // 3. The lead's own place, now at the SLA price.
    let res = checkout(&lead, SLUG, "lead-key-1", &place(2500)).await;
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        res.text().await.unwrap()
    );
    // A place billed to nobody is not invoiced.
    let self_billed = app.person(SLUG, "solo@school.example", None).await;
    let res = checkout(
        &self_billed,
        SLUG,
        "solo-key-1",
        &json!({"items": [{"session_id": session}]}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // 4. The member cancels within terms: a credit note.
    let res = member
        .send_json(
            Method::POST,
            SLUG,
            &format!("/api/v1/bookings/{member_booking}/cancel"),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    let res = invoices(&lead, &org).await;
    assert_eq!(res.status(), StatusCode::OK);
    let list: Value = res.json().await.unwrap();
    assert_eq!(list["organisation"], "Kenton School");
    let all = list["invoices"].as_array().unwrap();
    assert_eq!(all.len(), 4, "{list}");
    let find = |n: &str| all.iter().find(|i| i["number"] == n).unwrap().clone();
    let first = find("SS4E-INV-000001");
    assert_eq!(first["kind"], "invoice");
    assert_eq!(first["total_pence"], 7500);
    assert_eq!(first["lines"][0]["discount_pence"], 0);
    assert!(
        first["lines"][0]["description"]
            .as_str()
            .unwrap()
            .starts_with("Moderating writing, ")
    );
    let sla_invoice = find("SS4E-INV-000002");
    assert_eq!(sla_invoice["total_pence"], 60000);
    assert!(
        sla_invoice["lines"][0]["description"]
            .as_str()
            .unwrap()
            .starts_with("Training SLA (Up to 200 pupils)")
    );
    let discounted = find("SS4E-INV-000003");
    assert_eq!(
        discounted["lines"][0],
        json!({"description": first["lines"][0]["description"], "list_pence": 7500,
               "discount_pence": 5000, "amount_pence": 2500})
    );
    let credit = find("SS4E-CN-000001");
    assert_eq!(credit["kind"], "credit_note");
    assert_eq!(credit["total_pence"], -7500);
    assert_eq!(credit["credits"], "SS4E-INV-000001");
    assert_eq!(credit["order_id"], first["order_id"]);

    // The PDF and the CSV of the discounted invoice.
    let id = discounted["id"].as_str().unwrap();
    let res = lead
        .get_tenant(SLUG, &format!("/organisations/{org}/invoices/{id}/pdf"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let pdf = res.bytes().await.unwrap();
    let text = bookings::pdf_font::shown_text(&pdf);
    // Tagged: a screen reader is given the heading and a table of the lines.
    let tags = e2e::pdf::outline(&pdf);
    assert!(
        tags.contains(&"  H1: Invoice SS4E-INV-000003".to_owned()),
        "{tags:?}"
    );
    let table = tags.iter().position(|l| l == "  Table").unwrap();
    let description = discounted["lines"][0]["description"].as_str().unwrap();
    assert_eq!(
        tags[table..],
        [
            "  Table".to_owned(),
            "    TR".to_owned(),
            "      TH (Column): Item".to_owned(),
            "      TH (Column): Amount".to_owned(),
            "    TR".to_owned(),
            format!("      TD: {description} /     List price £75.00, less £50.00 at the SLA rate"),
            "      TD: £25.00".to_owned(),
            "    TR".to_owned(),
            "      TH (Row): Total".to_owned(),
            "      TD: £25.00".to_owned(),
        ]
    );
    for needle in [
        "Invoice SS4E-INV-000003",
        "Billed to Kenton School",
        "List price £75.00, less £50.00 at the SLA rate",
        "£25.00",
        "Total",
    ] {
        assert!(text.contains(needle), "{needle} in {text}");
    }
    let res = lead
        .get_tenant(
            SLUG,
            &format!(
                "/organisations/{org}/invoices/{}/csv",
                credit["id"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let csv = res.text().await.unwrap();
    assert!(
        csv.starts_with(
            "number,kind,issued,organisation,order,credits,description,list_price,discount,amount"
        ),
        "{csv}"
    );
    assert!(
        csv.contains("SS4E-CN-000001,credit_note,")
            && csv.contains(",SS4E-INV-000001,\"Cancelled within terms: Moderating writing, "),
        "{csv}"
    );
    assert!(csv.trim_end().ends_with("-75.00,0.00,-75.00"), "{csv}");
    let page = lead
        .page(SLUG, &format!("/organisations/{org}/invoices"))
        .await;
    assert!(
        page.contains("Credit note SS4E-CN-000001") && page.contains("-£75.00"),
        "{page}"
    );

    // Nobody else: a member without the right, another organisation's id, another
    // council's host, another organisation's invoice under this one.
    assert_eq!(
        invoices(&member, &org).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        invoices(&lead, &other_org).await.status(),
        StatusCode::NOT_FOUND
    );
    let res = lead
        .get_tenant(
            SLUG,
            &format!("/organisations/{other_org}/invoices/{id}/pdf"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let somerset = app
        .catalogue_manager("somerset", "admin@somerset.example", None)
        .await;
    let res = somerset
        .get_tenant("somerset", &format!("/api/v1/organisations/{org}/invoices"))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let anonymous = app.new_browser();
    let res = invoices(&anonymous, &org).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&res), "sign_in_required");
    // The council's administrator sees them.
    let res = invoices(&admin, &org).await;
    assert_eq!(res.status(), StatusCode::OK);
    // A purchaser who does not lead the organisation finds them from the console.
    let buyer = app.person(SLUG, "buyer@kenton.example", Some(&org)).await;
    let buyer_id = app.account(SLUG, "buyer@kenton.example").await.unwrap().id;
    let res = change(&lead, SLUG, &org, &buyer_id, &[("action", "verify")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = change(
        &lead,
        SLUG,
        &org,
        &buyer_id,
        &[
            ("action", "rights"),
            ("right_member", "on"),
            ("right_purchaser", "on"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let console = buyer.page(SLUG, "/manage").await;
    assert!(
        console.contains(&format!("/organisations/{org}/invoices"))
            && !console.contains(&format!("/organisations/{org}/people")),
        "{console}"
    );
    assert_eq!(invoices(&buyer, &org).await.status(), StatusCode::OK);
}

/// A place taken up from the waiting list is invoiced like any other; when the provider
/// cancels the session, what the organisation was invoiced for it is credited.
#[tokio::test]
async fn waiting_list_places_are_invoiced_and_a_cancelled_session_is_credited() {
    let app = spawn_app().await;
    let (admin, org) = admin_with_org(&app, SLUG, "Kenton School").await;
    let body = json!({
        "provider_id": "ss4e", "title": "Phonics leadership", "summary": "KS1.",
        "price_pence": 5000, "cancellation_notice_days": 0
    });
    let (course, session) = published_course(&admin, SLUG, &body, 1, 10).await;
    let lead = app.person(SLUG, "lead@kenton.example", None).await;
    appoint(&admin, SLUG, &org, "lead@kenton.example").await;
    let member = app.person(SLUG, "member@kenton.example", Some(&org)).await;
    let member_id = app.account(SLUG, "member@kenton.example").await.unwrap().id;
    let res = change(&lead, SLUG, &org, &member_id, &[("action", "verify")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let place = json!({"organisation_id": org, "items": [{"session_id": session}]});
    let res = checkout(&member, SLUG, "member-key-1", &place).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let booking = res.json::<Value>().await.unwrap()["booked"][0]["booking_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Full: the lead waits (nothing to invoice yet).
    let res = checkout(&lead, SLUG, "lead-key-1", &place).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let numbers = |v: &Value| -> Vec<String> {
        v["invoices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["number"].as_str().unwrap().to_owned())
            .collect()
    };
    let path = format!("/api/v1/organisations/{org}/invoices");
    assert_eq!(
        numbers(&lead.get_json(SLUG, &path).await),
        ["SS4E-INV-000001"]
    );
    // The member cancels (credited); the lead takes the place up from the offer.
    let res = member
        .send_json(
            Method::POST,
            SLUG,
            &format!("/api/v1/bookings/{booking}/cancel"),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // Cancelling twice credits once.
    let res = member
        .send_json(
            Method::POST,
            SLUG,
            &format!("/api/v1/bookings/{booking}/cancel"),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let link = app
        .emailed_link(SLUG, "lead@kenton.example", "/waiting-list/offers/")
        .await;
    let res = lead.submit(SLUG, &link, &link, &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let listed = lead.get_json(SLUG, &path).await;
    assert_eq!(
        numbers(&listed),
        ["SS4E-INV-000002", "SS4E-CN-000001", "SS4E-INV-000001"],
        "{listed}"
    );
    // The provider cancels the session: the lead's place is credited against its invoice.
    let res = admin
        .send_json(
            Method::POST,
            SLUG,
            &format!("/api/v1/courses/{course}/sessions/{session}/cancel"),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let listed = lead.get_json(SLUG, &path).await;
    let all = listed["invoices"].as_array().unwrap();
    let note = all
        .iter()
        .find(|i| i["number"] == "SS4E-CN-000002")
        .unwrap();
    assert_eq!(note["credits"], "SS4E-INV-000002");
    assert_eq!(note["total_pence"], -5000);
    assert_eq!(all.len(), 4, "{listed}");
}

#[tokio::test]
async fn invoices_of_checkouts_at_once_are_numbered_once_each_without_gaps() {
    let app = spawn_app().await;
    let (admin, org) = admin_with_org(&app, SLUG, "Canons School").await;
    let member = app.person(SLUG, "member@canons.example", Some(&org)).await;
    let lead = app.person(SLUG, "lead@canons.example", None).await;
    appoint(&admin, SLUG, &org, "lead@canons.example").await;
    let member_id = app.account(SLUG, "member@canons.example").await.unwrap().id;
    let res = change(&lead, SLUG, &org, &member_id, &[("action", "verify")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let mut sessions = Vec::new();
    for i in 0..6 {
        let body = json!({"provider_id": "ss4e", "title": format!("Phonics {i}"),
                          "summary": "KS1.", "price_pence": 1000 + i});
        sessions.push(published_course(&admin, SLUG, &body, 10, 10 + i).await.1);
    }
    // Six checkouts billed to the school at once.
    let tasks: Vec<_> = sessions
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let body = json!({"organisation_id": org, "items": [{"session_id": s}]});
            let member = member.clone();
            tokio::spawn(async move {
                checkout(&member, SLUG, &format!("at-once-{i}"), &body)
                    .await
                    .status()
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::CREATED);
    }
    // Listing numbers anything a checkout left waiting (another was numbering).
    let listed = lead
        .get_json(SLUG, &format!("/api/v1/organisations/{org}/invoices"))
        .await;
    assert_eq!(listed["invoices"].as_array().unwrap().len(), 6, "{listed}");
    // An invoice left waiting for its number (a replica stopped between its commit and the
    // numbering) is numbered by the next read, after those before it.
    {
        let tx = app.store.tenant_tx(&SLUG.parse().unwrap()).await.unwrap();
        sea_orm::ConnectionTrait::execute_unprepared(
            &*tx,
            "INSERT INTO invoice_pending (tenant_id, id, short_name, organisation_id, order_id, \
             issued_at, total_pence, lines) SELECT tenant_id, 'zz-left-waiting', 'SS4E', \
             organisation_id, order_id, issued_at, 1, '[]' FROM invoice \
             WHERE tenant_id = 'harrow' AND kind = 'invoice' ORDER BY issued_at DESC LIMIT 1",
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    let listed = lead
        .get_json(SLUG, &format!("/api/v1/organisations/{org}/invoices"))
        .await;
    let mut numbers: Vec<String> = listed["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["number"].as_str().unwrap().to_owned())
        .collect();
    numbers.sort();
    let expected: Vec<String> = (1..=7).map(|n| format!("SS4E-INV-{n:06}")).collect();
    assert_eq!(numbers, expected, "{listed}");
    let last = listed["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "zz-left-waiting")
        .unwrap();
    assert_eq!(last["number"], "SS4E-INV-000007");
}

#[tokio::test]
async fn orders_placed_before_invoices_were_issued_are_invoiced_once_for_what_they_still_charge() {
    let app = spawn_app().await;
    let (admin, org) = admin_with_org(&app, SLUG, "Kenton School").await;
    let course = |title: &str, price: i64| {
        json!({"provider_id": "ss4e", "title": title, "summary": "KS2.", "price_pence": price,
               "cancellation_notice_days": 0})
    };
    let (_, kept) =
        published_course(&admin, SLUG, &course("Moderating writing", 7500), 10, 10).await;
    let (_, dropped) =
        published_course(&admin, SLUG, &course("Phonics refresher", 5000), 10, 12).await;
    let lead = app.person(SLUG, "lead@kenton.example", None).await;
    appoint(&admin, SLUG, &org, "lead@kenton.example").await;
    let res = checkout(
        &lead,
        SLUG,
        "lead-key-0001",
        &json!({"organisation_id": org, "expected_total_pence": 12500,
                "items": [{"session_id": kept}, {"session_id": dropped}]}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let placed: Value = res.json().await.unwrap();
    let order = placed["order_id"].as_str().unwrap().to_owned();
    let cancelled = placed["booked"][1]["booking_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = lead
        .send_json(
            Method::POST,
            SLUG,
            &format!("/api/v1/bookings/{cancelled}/cancel"),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // As if placed before invoicing began: its invoice and credit note are not there (taken
    // out with the owner's connection; the tenant's may only add invoices).
    let listed = lead
        .get_json(SLUG, &format!("/api/v1/organisations/{org}/invoices"))
        .await;
    assert_eq!(listed["invoices"].as_array().unwrap().len(), 2, "{listed}");
    sea_orm::ConnectionTrait::execute_unprepared(
        app.store.platform(),
        &format!("DELETE FROM invoice WHERE tenant_id = '{SLUG}' AND order_id = '{order}'"),
    )
    .await
    .unwrap();
    let ours = |listed: &Value| -> Vec<Value> {
        listed["invoices"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["order_id"] == order.as_str())
            .cloned()
            .collect()
    };
    let cfg = app
        .registry
        .current()
        .get(&SLUG.parse().unwrap())
        .unwrap()
        .config
        .clone();
    // A dry run counts the order and issues nothing.
    assert_eq!(
        app.bookings
            .invoice_earlier_orders(&cfg, false)
            .await
            .unwrap(),
        1
    );
    let listed = lead
        .get_json(SLUG, &format!("/api/v1/organisations/{org}/invoices"))
        .await;
    assert!(ours(&listed).is_empty(), "{listed}");
    // Issued: one invoice, for the place still held, numbered after those issued before.
    assert_eq!(
        app.bookings
            .invoice_earlier_orders(&cfg, true)
            .await
            .unwrap(),
        1
    );
    let listed = lead
        .get_json(SLUG, &format!("/api/v1/organisations/{org}/invoices"))
        .await;
    let issued = ours(&listed);
    assert_eq!(issued.len(), 1, "{listed}");
    assert_eq!(issued[0]["total_pence"], 7500, "{listed}");
    assert_eq!(issued[0]["number"], "SS4E-INV-000002", "{listed}");
    let lines = issued[0]["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 1, "{listed}");
    assert!(
        lines[0]["description"]
            .as_str()
            .unwrap()
            .starts_with("Moderating writing, ")
    );
    // Again: nothing left to invoice.
    assert_eq!(
        app.bookings
            .invoice_earlier_orders(&cfg, true)
            .await
            .unwrap(),
        0
    );
}
