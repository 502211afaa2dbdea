//! Who a freed place is offered to: no one is offered a place they could not book.

use chrono::{Duration, Utc};
use e2e::{TestApp, error_code, spawn_app};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _};
use serde_json::json;

use crate::bookings::{
    ben_accepts_his_offer, cancel_first_booking, course_with_session, in_turn, offers_to,
    places_taken, published_course, run_sql,
};

#[tokio::test]
async fn a_place_freed_after_booking_closed_goes_back_and_is_offered_to_no_one() {
    let app = spawn_app().await;
    let admin = app
        .catalogue_manager("harrow", "admin@harrow.example", None)
        .await;
    let closes = Utc::now() + Duration::days(1);
    let body = json!({
        "provider_id": "ss4e", "title": "Moderating writing", "summary": "Key stage 2 moderation.",
        "price_pence": 7500, "cancellation_notice_days": 7, "booking_closes_at": closes
    });
    let (_, session) = published_course(&admin, "harrow", &body, 1, 30).await;
    let [ana, _ben] = in_turn(&app, &session, ["ana", "ben"]).await;
    // Booking closes; Ana then cancels, within the course's terms.
    app.clock.advance(Duration::days(2));
    assert_eq!(cancel_first_booking(&ana).await, StatusCode::NO_CONTENT);
    assert_eq!(offers_to(&app, "ben@school.example").await, 0);
    assert_eq!(places_taken(&app, &session).await, 0, "the place went back");
    // Nor do the minute's jobs offer it.
    server::jobs::minute_jobs(&app.state).await;
    assert_eq!(offers_to(&app, "ben@school.example").await, 0);
    assert_eq!(places_taken(&app, &session).await, 0);
    let waiting = run_sql(
        &app,
        "SELECT status FROM waiting_list_entry WHERE session_id = $1",
        &session,
    )
    .await
    .and_then(|r| r.try_get_by_index::<String>(0).ok());
    assert_eq!(waiting.as_deref(), Some("waiting"), "Ben is still in line");
}

/// `who`'s Harrow account id.
async fn id_of(app: &TestApp, who: &str) -> String {
    app.account("harrow", who).await.unwrap().id
}

/// Ben waits on behalf of the organisation `org`, which may hold one place on `session`.
async fn ben_waits_for_kenton_limited_to_one(app: &TestApp, org: &str, session: &str) {
    run_sql(
        app,
        &format!("UPDATE waiting_list_entry SET organisation_id = '{org}' WHERE account_id = $1"),
        &id_of(app, "ben@school.example").await,
    )
    .await;
    run_sql(
        app,
        "UPDATE course_session SET org_place_limit = 1 WHERE id = $1",
        session,
    )
    .await;
}

#[tokio::test]
async fn someone_waiting_for_an_organisation_at_its_limit_keeps_their_place_in_line() {
    use crate::organisations::admin_with_org;
    let app = spawn_app().await;
    let (admin, org) = admin_with_org(&app, "harrow", "Kenton School").await;
    let (_, session) = course_with_session(&app, &admin, "harrow", "ss4e", 2, 30).await;
    let [ana, carl, ben, _dee] = in_turn(&app, &session, ["ana", "carl", "ben", "dee"]).await;
    // Ana's place and Ben's turn are Kenton's, which may hold one place on the session.
    run_sql(
        &app,
        &format!("UPDATE booking SET organisation_id = '{org}' WHERE account_id = $1"),
        &id_of(&app, "ana@school.example").await,
    )
    .await;
    ben_waits_for_kenton_limited_to_one(&app, &org, &session).await;

    // Carl's place frees: Ben could not take it, so Dee, next in line, is offered it.
    assert_eq!(cancel_first_booking(&carl).await, StatusCode::NO_CONTENT);
    assert_eq!(offers_to(&app, "ben@school.example").await, 0);
    assert_eq!(offers_to(&app, "dee@school.example").await, 1);
    assert_eq!(places_taken(&app, &session).await, 2, "held for Dee");

    // Ana's place frees: Kenton is under its limit again, and Ben is first in line.
    assert_eq!(cancel_first_booking(&ana).await, StatusCode::NO_CONTENT);
    assert_eq!(offers_to(&app, "ben@school.example").await, 1);
    ben_accepts_his_offer(&app, &ben).await;
}

/// Offer lapse time of Ben's entry (Harrow), as the database holds it.
async fn ben_offer_expires(app: &TestApp) -> chrono::DateTime<Utc> {
    let id = id_of(app, "ben@school.example").await;
    let tx = app
        .store
        .tenant_tx(&"harrow".parse().unwrap())
        .await
        .unwrap();
    let entry = bookings::store::entity::waiting_list_entry::Entity::find()
        .filter(bookings::store::entity::waiting_list_entry::Column::AccountId.eq(id))
        .one(&*tx)
        .await
        .unwrap()
        .unwrap();
    tx.rollback().await.unwrap();
    entry.offer_expires_at.unwrap()
}

/// An offer never runs past the close of booking; and one accepted after booking closed
/// early (the course was changed) is refused, its place going back, as no one may book.
#[tokio::test]
async fn an_offer_ends_when_booking_closes_and_cannot_be_accepted_after() {
    let app = spawn_app().await;
    let admin = app
        .catalogue_manager("harrow", "admin@harrow.example", None)
        .await;
    let mut body = json!({
        "provider_id": "ss4e", "title": "Moderating writing", "summary": "Key stage 2 moderation.",
        "price_pence": 7500, "cancellation_notice_days": 7,
        "booking_closes_at": Utc::now() + Duration::hours(5)
    });
    let (course, session) = published_course(&admin, "harrow", &body, 1, 30).await;
    let [ana, ben] = in_turn(&app, &session, ["ana", "ben"]).await;
    assert_eq!(cancel_first_booking(&ana).await, StatusCode::NO_CONTENT);
    assert_eq!(offers_to(&app, "ben@school.example").await, 1);
    let expires = ben_offer_expires(&app).await;
    assert!(
        expires <= Utc::now() + Duration::hours(5),
        "the offer ends by the close of booking, not 48 hours on: {expires}"
    );

    // Booking is now closed early, while Ben's offer is open.
    body["booking_closes_at"] = json!(Utc::now() + Duration::hours(1));
    let res = admin
        .send_json(
            reqwest::Method::PUT,
            "harrow",
            &format!("/api/v1/courses/{course}"),
            &body,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    app.clock.advance(Duration::hours(2));
    let link = app
        .emailed_link("harrow", "ben@school.example", "/waiting-list/offers/")
        .await;
    let res = ben.submit("harrow", &link, &link, &[]).await;
    assert_eq!(error_code(&res), "booking_closed");
    assert!(
        ben.get_json("harrow", "/api/v1/bookings")
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(places_taken(&app, &session).await, 0, "the place went back");
}

/// A place held for an organisation's open offer counts towards its limit: a direct
/// booking for it is refused while the offer is open.
#[tokio::test]
async fn an_open_offer_counts_towards_the_organisations_limit() {
    use crate::organisations::admin_with_org;
    let app = spawn_app().await;
    let (admin, org) = admin_with_org(&app, "harrow", "Kenton School").await;
    let (_, session) = course_with_session(&app, &admin, "harrow", "ss4e", 3, 30).await;
    let [ana, carl, _dee, _ben] = in_turn(&app, &session, ["ana", "carl", "dee", "ben"]).await;
    ben_waits_for_kenton_limited_to_one(&app, &org, &session).await;
    // Ana's place goes to Ben, on Kenton's behalf; Kenton has no booking yet.
    assert_eq!(cancel_first_booking(&ana).await, StatusCode::NO_CONTENT);
    assert_eq!(offers_to(&app, "ben@school.example").await, 1);
    // Carl's place frees too, and goes back: no one else waits.
    assert_eq!(cancel_first_booking(&carl).await, StatusCode::NO_CONTENT);
    let taken = places_taken(&app, &session).await;
    assert_eq!(taken, 2, "Dee's, and the one held for Ben");

    // Kenton's lead books a place for Kenton directly: refused, the offer holds its one
    // place.
    let lead = app.person("harrow", "lead@kenton.example", None).await;
    crate::organisations::appoint(&admin, "harrow", &org, "lead@kenton.example").await;
    let res = crate::bookings::checkout(
        &lead,
        "harrow",
        "kenton-direct-1",
        &json!({"organisation_id": org, "items": [{"session_id": session}]}),
    )
    .await;
    assert_eq!(error_code(&res), "organisation_limit", "{}", res.status());
    assert_eq!(places_taken(&app, &session).await, taken, "nothing taken");
}

/// An offer its organisation's limit stops from being accepted (a colleague's booking
/// became the organisation's while it was open) is refused: the person keeps their turn,
/// and the place goes straight to the next person who may have it, not held until the offer
/// would have lapsed. When the organisation has room again, they are offered a place first.
#[tokio::test]
async fn an_offer_the_organisations_limit_stops_passes_the_place_on_and_keeps_the_turn() {
    use crate::organisations::admin_with_org;
    let app = spawn_app().await;
    let (admin, org) = admin_with_org(&app, "harrow", "Kenton School").await;
    let (_, session) = course_with_session(&app, &admin, "harrow", "ss4e", 2, 30).await;
    let [ana, carl, ben, _dee] = in_turn(&app, &session, ["ana", "carl", "ben", "dee"]).await;
    ben_waits_for_kenton_limited_to_one(&app, &org, &session).await;
    assert_eq!(cancel_first_booking(&ana).await, StatusCode::NO_CONTENT);
    assert_eq!(offers_to(&app, "ben@school.example").await, 1);
    // Meanwhile Carl's place becomes Kenton's: Kenton is at its limit.
    run_sql(
        &app,
        &format!("UPDATE booking SET organisation_id = '{org}' WHERE account_id = $1"),
        &id_of(&app, "carl@school.example").await,
    )
    .await;
    let link = app
        .emailed_link("harrow", "ben@school.example", "/waiting-list/offers/")
        .await;
    let res = ben.submit("harrow", &link, &link, &[]).await;
    assert_eq!(error_code(&res), "organisation_limit", "{}", res.status());
    let page = res.text().await.unwrap();
    assert!(page.contains("still on the waiting list"), "{page}");
    assert!(
        ben.get_json("harrow", "/api/v1/bookings")
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
    let status = run_sql(
        &app,
        "SELECT status FROM waiting_list_entry WHERE account_id = $1",
        &id_of(&app, "ben@school.example").await,
    )
    .await
    .and_then(|r| r.try_get_by_index::<String>(0).ok());
    assert_eq!(status.as_deref(), Some("waiting"), "Ben keeps his turn");
    assert_eq!(offers_to(&app, "dee@school.example").await, 1, "passed on");
    assert_eq!(
        places_taken(&app, &session).await,
        2,
        "Carl's, and Dee's offer"
    );
    // The old link is spent.
    let res = ben.submit("harrow", &link, &link, &[]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // Carl's place frees: Kenton has room again, and Ben, first in line, is offered it.
    assert_eq!(cancel_first_booking(&carl).await, StatusCode::NO_CONTENT);
    assert_eq!(offers_to(&app, "ben@school.example").await, 2);
}
