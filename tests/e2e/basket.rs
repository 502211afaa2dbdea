//! The basket: places added (for oneself or a colleague) and removed, each in the
//! transaction log; checkout books them all as one order and empties the basket, or does
//! nothing at all; retries answer the first result; other people's and tenants' lines are
//! not found.

use e2e::{Browser, TestApp, error_code, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::bookings::course_with_session;
use crate::organisations::{admin_with_org, appoint, change};

const SLUG: &str = "harrow";

async fn add(b: &Browser, body: &Value) -> reqwest::Response {
    b.send_json(Method::POST, SLUG, "/api/v1/basket/items", body)
        .await
}

async fn checkout(b: &Browser, key: &str, body: &Value) -> reqwest::Response {
    b.client
        .post(b.url(&format!("{SLUG}.localhost"), "/api/v1/basket/checkout"))
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn log_actions(app: &TestApp) -> Vec<String> {
    use sea_orm::{ConnectionTrait, Statement};
    let tx = app.store.tenant_tx(&SLUG.parse().unwrap()).await.unwrap();
    let rows = tx
        .query_all_raw(Statement::from_string(
            tx.get_database_backend(),
            "SELECT action FROM transaction_log ORDER BY id",
        ))
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    rows.into_iter()
        .map(|r| r.try_get_by_index(0).unwrap())
        .collect()
}

#[tokio::test]
async fn a_basket_of_places_is_booked_as_one_order_all_or_nothing() {
    let app = spawn_app().await;
    let (admin, org) = admin_with_org(&app, SLUG, "Kenton School").await;
    let (_, first) = course_with_session(&app, &admin, SLUG, "ss4e", 10, 30).await;
    let (_, second) = course_with_session(&app, &admin, SLUG, "ss4e", 10, 40).await;
    let (_, full) = course_with_session(&app, &admin, SLUG, "ss4e", 1, 50).await;
    let lead = app.person(SLUG, "lead@kenton.example", None).await;
    appoint(&admin, SLUG, &org, "lead@kenton.example").await;
    let member = app.person(SLUG, "member@kenton.example", Some(&org)).await;
    let member_id = app.account(SLUG, "member@kenton.example").await.unwrap().id;
    let res = change(&lead, SLUG, &org, &member_id, &[("action", "verify")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    // Lines: for the lead, and for a colleague; a repeat, a bad session and another
    // tenant's person are refused.
    let res = add(&lead, &json!({"session_id": first})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = add(
        &lead,
        &json!({"session_id": second, "delegate_account_id": member_id}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = add(&lead, &json!({"session_id": first})).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "already_booked");
    let res = add(&lead, &json!({"session_id": "no-such-session"})).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    app.person("somerset", "sam@school.example", None).await;
    let sam = app
        .account("somerset", "sam@school.example")
        .await
        .unwrap()
        .id;
    let res = add(
        &lead,
        &json!({"session_id": first, "delegate_account_id": sam}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // Another tenant's person cannot put this tenant's session in their basket.
    let sam_browser = app.new_browser();
    assert_eq!(
        sam_browser
            .sign_in("somerset", "sam@school.example", e2e::PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let res = sam_browser
        .send_json(
            Method::POST,
            "somerset",
            "/api/v1/basket/items",
            &json!({"session_id": first}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let basket = lead.get_json(SLUG, "/api/v1/basket").await;
    assert_eq!(basket.as_array().unwrap().len(), 2, "{basket}");

    // Someone else cannot see or remove the lead's lines.
    let line = basket[1]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        member.get_json(SLUG, "/api/v1/basket").await,
        json!([]),
        "each basket is its owner's"
    );
    let res = member
        .send_json(
            Method::DELETE,
            SLUG,
            &format!("/api/v1/basket/items/{line}"),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // A colleague's place needs the organisation billed: refused, and the basket stays.
    let res = checkout(&lead, "lead-basket-1", &json!({})).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        lead.get_json(SLUG, "/api/v1/basket")
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // A full session in the basket goes to the waiting list; a tampered total is refused.
    let filler = app.person(SLUG, "filler@school.example", None).await;
    let res = add(&filler, &json!({"session_id": full})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = checkout(&filler, "filler-basket-1", &json!({})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = add(&lead, &json!({"session_id": full})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = checkout(
        &lead,
        "lead-basket-2",
        &json!({"organisation_id": org, "expected_total_pence": 1}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "price_changed");
    assert_eq!(
        lead.get_json(SLUG, "/api/v1/basket")
            .await
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // Booked as one order; the basket is empty; a retry answers the same order.
    let res = checkout(
        &lead,
        "lead-basket-3",
        // The total shown is every line's price; a place that goes to the waiting list
        // is not charged.
        &json!({"organisation_id": org, "expected_total_pence": 22500}),
    )
    .await;
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        res.text().await.unwrap()
    );
    let order: Value = res.json().await.unwrap();
    assert_eq!(order["booked"].as_array().unwrap().len(), 2);
    assert_eq!(order["waiting"].as_array().unwrap().len(), 1);
    assert_eq!(order["total_pence"], 15000);
    assert_eq!(lead.get_json(SLUG, "/api/v1/basket").await, json!([]));
    let res = checkout(&lead, "lead-basket-3", &json!({"organisation_id": org})).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.json::<Value>().await.unwrap()["order_id"],
        order["order_id"]
    );
    let res = checkout(&lead, "lead-basket-4", &json!({})).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "an empty basket");

    // Every basket action is in the transaction log.
    let actions = log_actions(&app).await;
    for (action, n) in [("basket.add", 4), ("checkout", 2)] {
        assert_eq!(
            actions.iter().filter(|a| *a == action).count(),
            n,
            "{action}: {actions:?}"
        );
    }

    // The pages: add from the course page, remove, book.
    let page = member
        .get_tenant(
            SLUG,
            &format!(
                "/courses/{}",
                crate::bookings::course_of_session(&app, &first).await
            ),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Add to basket"), "{page}");
    let res = member
        .submit_with_page(
            &page,
            SLUG,
            &format!(
                "/courses/{}/basket",
                crate::bookings::course_of_session(&app, &first).await
            ),
            &[("session_id", first.as_str())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = add(&member, &json!({"session_id": second})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let lines = member.get_json(SLUG, "/api/v1/basket").await;
    let second_line = lines[1]["id"].as_str().unwrap().to_owned();
    let page = member
        .get_tenant(SLUG, "/basket")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Moderating writing") && page.contains("Book these places"),
        "{page}"
    );
    let res = member
        .submit_with_page(
            &page,
            SLUG,
            &format!("/basket/items/{second_line}/remove"),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = member
        .get_tenant(SLUG, "/basket")
        .await
        .text()
        .await
        .unwrap();
    let res = member
        .submit_with_page(
            &page,
            SLUG,
            "/basket/checkout",
            &[("idempotency_key", "member-page-1")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("1 booked"));
    let actions = log_actions(&app).await;
    assert_eq!(actions.iter().filter(|a| *a == "basket.remove").count(), 1);
}

/// A basket line names the person twice over: as the one who made it and as the delegate.
/// A person with both kinds gets one `basket_item` table in their copy, with every line.
#[tokio::test]
async fn a_copy_holds_the_lines_a_person_made_and_those_made_for_them() {
    let app = spawn_app().await;
    let (admin, org) = admin_with_org(&app, SLUG, "Kenton School").await;
    let (_, first) = course_with_session(&app, &admin, SLUG, "ss4e", 10, 30).await;
    let (_, second) = course_with_session(&app, &admin, SLUG, "ss4e", 10, 40).await;
    let lead = app.person(SLUG, "lead@kenton.example", None).await;
    appoint(&admin, SLUG, &org, "lead@kenton.example").await;
    let member = app.person(SLUG, "member@kenton.example", Some(&org)).await;
    let member_id = app.account(SLUG, "member@kenton.example").await.unwrap().id;
    let res = change(&lead, SLUG, &org, &member_id, &[("action", "verify")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = add(
        &lead,
        &json!({"session_id": second, "delegate_account_id": member_id}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = add(&member, &json!({"session_id": first})).await;
    assert_eq!(res.status(), StatusCode::CREATED);

    let res = member
        .submit(
            SLUG,
            "/account/requests",
            "/account/requests",
            &[("kind", "access"), ("details", "Everything.")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let officer = app
        .role_holder(SLUG, "dpo@harrow.example", "privacy-officer", None)
        .await;
    let id = crate::rights::newest_request(&officer).await;
    let page = format!("/manage/requests/{id}");
    let res = officer
        .submit(SLUG, &page, &format!("{page}/copy"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let link = app
        .emailed_link(SLUG, "member@kenton.example", "/account/requests/")
        .await;
    let res = member.get_tenant(SLUG, &link).await;
    assert_eq!(res.status(), StatusCode::OK);
    let bytes = res.bytes().await.unwrap();
    let data: Value = serde_json::from_str(&crate::rights::unzip(&bytes, "data.json")).unwrap();
    let lines = data["tables"]["basket_item"].as_array().unwrap();
    assert_eq!(lines.len(), 2, "{lines:?}");
    let csv = crate::rights::unzip(&bytes, "basket_item.csv");
    assert_eq!(csv.lines().count(), 3, "{csv}");
}
