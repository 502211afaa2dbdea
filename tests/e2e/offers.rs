//! Who a freed place is offered to: no one is offered a place they could not book.

use chrono::{Duration, Utc};
use e2e::{TestApp, spawn_app};
use reqwest::StatusCode;
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
    run_sql(
        &app,
        &format!("UPDATE waiting_list_entry SET organisation_id = '{org}' WHERE account_id = $1"),
        &id_of(&app, "ben@school.example").await,
    )
    .await;
    run_sql(
        &app,
        "UPDATE course_session SET org_place_limit = 1 WHERE id = $1",
        &session,
    )
    .await;

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
