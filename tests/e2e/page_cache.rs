//! The public page cache and first visits: on a council that asks about analytics cookies,
//! a visitor not yet asked gets the banner, whose form carries their own token. The page is
//! kept once with the token cut out; each visitor gets it with their own token put back.

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
