//! Newsletters that honour choices: tenant staff write one, preview it and send it; it goes
//! to exactly those whose latest choice at the moment of sending is "yes" (someone who
//! withdraws between writing and sending gets nothing), each message with a one-click
//! unsubscribe link for its purpose (also in its `List-Unsubscribe` header) that works
//! once, only for its tenant and only unaltered. Bad drafts, a purpose the tenant does not
//! ask about, a second send and other people's or tenants' access change nothing.

use e2e::{Browser, TestApp, error_code, spawn_app};
use reqwest::StatusCode;

const SLUG: &str = "somerset";

async fn choose(b: &Browser, newsletter: bool) {
    let mut fields = vec![("alert_frequency", "weekly")];
    if newsletter {
        fields.push(("newsletter", "yes"));
    }
    let res = b
        .submit(
            SLUG,
            "/account/preferences",
            "/account/preferences",
            &fields,
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

async fn newsletters_to(app: &TestApp, to: &str) -> Vec<storage::entity::outbox_email::Model> {
    app.outbox(SLUG, to)
        .await
        .into_iter()
        .filter(|m| m.subject == "Spring courses")
        .collect()
}

/// The id in a `/manage/communications/{id}` redirect.
fn id_of(res: &reqwest::Response) -> String {
    res.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/manage/communications/")
        .to_owned()
}

#[tokio::test]
async fn a_newsletter_goes_only_to_those_who_chose_it_when_it_is_sent() {
    let app = spawn_app().await;
    let ann = app.person(SLUG, "ann@school.example", None).await;
    let bob = app.person(SLUG, "bob@school.example", None).await;
    app.person(SLUG, "cat@school.example", None).await;
    choose(&ann, true).await;
    choose(&bob, true).await;
    let staff = app
        .catalogue_manager(SLUG, "comms@somerset.example", None)
        .await;

    // Bad drafts are refused with the problems named, and nothing is saved.
    for (fields, needle) in [
        (
            vec![("purpose", "newsletter"), ("body", "Hello")],
            "Enter a subject line",
        ),
        (
            vec![("purpose", "newsletter"), ("subject", "Hi")],
            "Write the email",
        ),
        (
            vec![
                ("purpose", "notice_changes"),
                ("subject", "Hi"),
                ("body", "Hello"),
            ],
            "Choose one of the kinds of email",
        ),
        (
            vec![("purpose", "surveys"), ("subject", "Hi"), ("body", "Hello")],
            "Choose one of the kinds of email",
        ),
    ] {
        let res = staff
            .submit(
                SLUG,
                "/manage/communications/new",
                "/manage/communications",
                &fields,
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{needle}");
        assert!(res.text().await.unwrap().contains(needle), "{needle}");
    }
    let list = staff.page(SLUG, "/manage/communications").await;
    assert!(list.contains("No emails have been written yet."), "{list}");

    // Written and previewed: two people would get it now.
    let res = staff
        .submit(
            SLUG,
            "/manage/communications/new",
            "/manage/communications",
            &[
                ("purpose", "newsletter"),
                ("subject", "Spring courses"),
                ("body", "New this term\n\nPhonics and <maths> courses."),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let id = id_of(&res);
    let preview = staff
        .page(SLUG, &format!("/manage/communications/{id}"))
        .await;
    // Shown as the plain text that is sent, line breaks kept and nothing run as markup.
    assert!(
        preview.contains("New this term<br/>")
            && preview.contains("Phonics and &#60;maths&#62; courses."),
        "{preview}"
    );
    assert!(preview.contains("<strong>2 people</strong>"), "{preview}");

    // Bob changes his mind before it is sent: he gets nothing.
    choose(&bob, false).await;
    let res = staff
        .submit(
            SLUG,
            &format!("/manage/communications/{id}"),
            &format!("/manage/communications/{id}/send"),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to_ann = newsletters_to(&app, "ann@school.example").await;
    assert_eq!(to_ann.len(), 1);
    assert!(newsletters_to(&app, "bob@school.example").await.is_empty());
    assert!(newsletters_to(&app, "cat@school.example").await.is_empty());
    let m = &to_ann[0];
    assert!(m.body_text.contains("Phonics and <maths> courses."));
    let link = m.unsubscribe_url.clone().unwrap();
    assert!(m.body_text.contains(&link), "{}", m.body_text);
    let path = link
        .split_once(".localhost")
        .map_or(link.as_str(), |(_, p)| {
            p.trim_start_matches(|c: char| c == ':' || c.is_ascii_digit())
        })
        .to_owned();
    assert!(path.starts_with("/unsubscribe/"), "{path}");
    let list = staff.page(SLUG, "/manage/communications").await;
    assert!(list.contains("to 1 person"), "{list}");
    assert!(
        app.audit_actions(SLUG)
            .await
            .contains(&"communication.sent".to_owned())
    );

    // Sent is final: no second send, no edit.
    let res = staff
        .submit(
            SLUG,
            &format!("/manage/communications/{id}"),
            &format!("/manage/communications/{id}/send"),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "communication_sent");
    assert_eq!(newsletters_to(&app, "ann@school.example").await.len(), 1);

    // Others: a member of the public, and another tenant's administrator, find nothing.
    assert_eq!(
        ann.get_tenant(SLUG, &format!("/manage/communications/{id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let harrow = app
        .catalogue_manager("harrow", "admin@harrow.example", None)
        .await;
    assert_eq!(
        harrow
            .get_tenant("harrow", "/manage/communications")
            .await
            .status(),
        StatusCode::NOT_FOUND,
        "Harrow sends no newsletter"
    );
    let havering = app
        .catalogue_manager("havering", "admin@havering.example", None)
        .await;
    assert_eq!(
        havering
            .get_tenant("havering", &format!("/manage/communications/{id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // The unsubscribe link: altered or on another tenant it does nothing; one click (the
    // POST mail programs make) stops the newsletter, as a consent event.
    let stranger = app.new_browser();
    let tampered = format!("{path}x");
    let res = stranger
        .post_form(SLUG, &tampered, &[("List-Unsubscribe", "One-Click")])
        .await;
    assert!(res.status().is_client_error());
    let res = stranger
        .post_form("havering", &path, &[("List-Unsubscribe", "One-Click")])
        .await;
    assert!(res.status().is_client_error());
    let res = stranger
        .post_form(SLUG, &path, &[("List-Unsubscribe", "One-Click")])
        .await;
    assert!(res.status().is_success() || res.status().is_redirection());
    let prefs = ann.page(SLUG, "/account/preferences").await;
    assert!(
        !prefs.contains("name=\"newsletter\" type=\"checkbox\" value=\"yes\" checked"),
        "{prefs}"
    );
    // A second newsletter now reaches no one.
    let res = staff
        .submit(
            SLUG,
            "/manage/communications/new",
            "/manage/communications",
            &[
                ("purpose", "newsletter"),
                ("subject", "Summer courses"),
                ("body", "More courses."),
            ],
        )
        .await;
    let second = id_of(&res);
    let res = staff
        .submit(
            SLUG,
            &format!("/manage/communications/{second}"),
            &format!("/manage/communications/{second}/send"),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(
        app.outbox(SLUG, "ann@school.example")
            .await
            .iter()
            .all(|m| m.subject != "Summer courses")
    );
}
