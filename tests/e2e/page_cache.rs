//! The public page cache and first visits: on a council that asks about analytics cookies,
//! a visitor not yet asked gets the banner, whose form carries their own token. The page is
//! kept once with the token cut out; each visitor gets it with their own token put back.

use chrono::Utc;
use e2e::{csrf_in, spawn_app};
use reqwest::StatusCode;

/// The CSRF cookie a response sets, if any.
fn set_token(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("portal_csrf="))
        .map(|c| c.split(';').next().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn first_visits_share_a_kept_page_each_with_their_own_token() {
    let app = spawn_app().await;
    // Somerset's notice turns analytics on, so its pages ask first visitors.
    let (first, second) = (app.new_browser(), app.new_browser());
    let res = first.get_tenant("somerset", "/courses").await;
    assert_eq!(res.status(), StatusCode::OK);
    let first_token = set_token(&res).expect("a first visit is given a token");
    let page = res.text().await.unwrap();
    assert_eq!(csrf_in(&page).as_deref(), Some(first_token.as_str()));

    // The second visitor's page comes from the cache, with a token of their own.
    let res = second.get_tenant("somerset", "/courses").await;
    assert_eq!(res.status(), StatusCode::OK);
    let second_token = set_token(&res).expect("a first visit is given a token");
    assert_ne!(first_token, second_token);
    let cached = res.text().await.unwrap();
    assert!(
        !cached.contains(&first_token),
        "another visitor's token leaked"
    );
    assert!(!cached.contains('\u{1}'), "the cache's mark was left in");
    assert_eq!(csrf_in(&cached).as_deref(), Some(second_token.as_str()));
    assert_eq!(
        cached.replace(&second_token, ""),
        page.replace(&first_token, ""),
        "the same page apart from the token"
    );

    // The first visitor again: their own token back, no new cookie.
    let res = first.get_tenant("somerset", "/courses").await;
    assert_eq!(set_token(&res), None);
    let again = res.text().await.unwrap();
    assert_eq!(csrf_in(&again).as_deref(), Some(first_token.as_str()));

    // And the token works: the banner's answer is accepted with it.
    let res = second
        .post_form(
            "somerset",
            "/cookies",
            &[
                ("analytics", "no"),
                ("back", "/courses"),
                ("csrf_token", &second_token),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/courses");
    // A token planted in the browser by someone else is replaced, from the cache too.
    let planted = app.new_browser();
    let res = planted
        .client
        .get(planted.url("somerset.localhost", "/courses"))
        .header("cookie", format!("portal_csrf={first_token}x"))
        .send()
        .await
        .unwrap();
    let fresh = set_token(&res).expect("a planted token is replaced");
    assert_ne!(fresh, format!("{first_token}x"));
    assert_eq!(csrf_in(&res.text().await.unwrap()), Some(fresh));
}

#[tokio::test]
async fn a_course_page_shares_its_description_but_each_visitor_has_their_own_form() {
    use crate::bookings::{checkout, course_with_session};
    use reqwest::Method;
    use serde_json::{Value, json};
    const SLUG: &str = "harrow";
    let app = spawn_app().await;
    let admin = app
        .catalogue_manager(SLUG, "admin@harrow.example", None)
        .await;
    let (course, session) = course_with_session(&app, &admin, SLUG, "ss4e", 10, 10).await;
    let (ann, bob) = (
        app.person(SLUG, "ann@school.example", None).await,
        app.person(SLUG, "bob@school.example", None).await,
    );
    let page = |who: &e2e::Browser, path: String| {
        let who = who.clone();
        async move {
            let res = who.get_tenant(SLUG, &path).await;
            (res.status(), res.text().await.unwrap())
        }
    };
    let path = format!("/courses/{course}");
    let (status, ann_page) = page(&ann, path.clone()).await;
    assert_eq!(status, StatusCode::OK);
    let (_, bob_page) = page(&bob, path.clone()).await;
    for p in [&ann_page, &bob_page] {
        assert!(
            p.contains("Moderating writing") && p.contains("10 of 10"),
            "{p}"
        );
        assert!(
            p.contains("Book a place") && !p.contains("Manage this"),
            "{p}"
        );
    }
    let (ann_token, bob_token) = (csrf_in(&ann_page).unwrap(), csrf_in(&bob_page).unwrap());
    assert_ne!(ann_token, bob_token);
    assert!(
        !bob_page.contains(&ann_token),
        "another person's token leaked"
    );
    // A place booked shows to the next reader at once.
    let res = checkout(
        &ann,
        SLUG,
        "ann-key-0001",
        &json!({"items": [{"session_id": session}], "expected_total_pence": 7500}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let (_, bob_page) = page(&bob, path.clone()).await;
    assert!(bob_page.contains("9 of 10"), "{bob_page}");
    // The dates to choose from are shared too, and a date that has started drops out of
    // the form at once, though nothing in the catalogue changed.
    let start = (Utc::now().date_naive() + chrono::Duration::days(20))
        .and_hms_opt(10, 0, 0)
        .unwrap()
        .and_utc();
    let res = admin
        .send_json(
            Method::POST,
            SLUG,
            &format!("/api/v1/courses/{course}/sessions"),
            &json!({"starts_at": start, "ends_at": start + chrono::Duration::hours(3),
                    "venue": "Civic Centre", "capacity": 5}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let choices = |p: &str| p.matches(r#"name="session_id""#).count();
    let (_, ann_page) = page(&ann, path.clone()).await;
    let (_, bob_page) = page(&bob, path.clone()).await;
    assert_eq!(
        (choices(&ann_page), choices(&bob_page)),
        (2, 2),
        "{bob_page}"
    );
    app.clock.advance(chrono::Duration::days(11));
    let (_, bob_page) = page(&bob, path.clone()).await;
    assert_eq!(choices(&bob_page), 1, "{bob_page}");
    assert!(bob_page.contains("(Civic Centre)"), "{bob_page}");
    // The manager's page is their own: a link to manage it, and drafts, which no one else
    // sees (from the shared part or otherwise).
    let (_, managed) = page(&admin, path.clone()).await;
    assert!(managed.contains("Manage this course"), "{managed}");
    let res = admin
        .send_json(
            Method::POST,
            SLUG,
            "/api/v1/courses",
            &json!({"provider_id": "ss4e", "title": "Draft phonics", "summary": "Not yet.",
                    "price_pence": 5000}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let draft = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, own) = page(&admin, format!("/courses/{draft}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(own.contains("This is a draft"), "{own}");
    let (status, _) = page(&bob, format!("/courses/{draft}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
