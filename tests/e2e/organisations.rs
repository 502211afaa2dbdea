//! Organisations and User Management: tenant admins add organisations and appoint lead
//! administrators; lead administrators add colleagues, verify claims, change rights and mark
//! leavers. One school's administrator can do nothing to another school; another tenant's
//! ids are 404.

use e2e::{Browser, PASSWORD, TestApp, error_code, spawn_app};
use reqwest::StatusCode;

async fn sign_in(b: &Browser, slug: &str, email: &str) {
    let res = b.sign_in(slug, email, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "signing in {email}");
}

/// A tenant admin's browser and a new organisation's id.
pub(crate) async fn admin_with_org(app: &TestApp, slug: &str, org_name: &str) -> (Browser, String) {
    let admin_email = format!("admin@{slug}.example");
    app.person(slug, &admin_email, None).await;
    app.grant_role(slug, &admin_email, "tenant-admin", None)
        .await;
    // A tenant admin works only after setting up a second factor.
    let admin = app.new_browser();
    sign_in(&admin, slug, &admin_email).await;
    app.enrol_second_factor(&admin, slug).await;
    let org = create_org(&admin, slug, org_name).await;
    (admin, org)
}

pub(crate) async fn create_org(admin: &Browser, slug: &str, name: &str) -> String {
    let res = admin
        .submit(
            slug,
            "/admin/organisations",
            "/admin/organisations",
            &[("name", name), ("kind", "school")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = admin
        .get_tenant(slug, "/admin/organisations")
        .await
        .text()
        .await
        .unwrap();
    let at = page.find(&format!("\">{name}</a>")).unwrap();
    let start = page[..at].rfind("/organisations/").unwrap() + "/organisations/".len();
    page[start..at].trim_end_matches("/people").to_owned()
}

pub(crate) async fn appoint(admin: &Browser, slug: &str, org: &str, email: &str) {
    let res = admin
        .submit(
            slug,
            "/admin/organisations",
            &format!("/admin/organisations/{org}/lead-admin"),
            &[("email", email)],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap()
    );
}

pub(crate) async fn change(
    b: &Browser,
    slug: &str,
    org: &str,
    account: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    b.submit(
        slug,
        "/account",
        &format!("/organisations/{org}/people/{account}"),
        fields,
    )
    .await
}

#[tokio::test]
async fn a_lead_admin_adds_a_colleague_who_is_told_and_can_set_a_password() {
    let app = spawn_app().await;
    let (admin, org) = admin_with_org(&app, "harrow", "Roxeth Primary").await;
    let lead = app.person("harrow", "lead@roxeth.example", None).await;
    appoint(&admin, "harrow", &org, "lead@roxeth.example").await;

    let people = format!("/organisations/{org}/people");
    let res = lead
        .submit(
            "harrow",
            &people,
            &people,
            &[
                ("first_name", "Sam"),
                ("last_name", "Colleague"),
                ("email", "sam@roxeth.example"),
                ("job_title", "Teaching assistant"),
                ("right_booker", "yes"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(page.contains("Sam Colleague has been added"), "{page}");
    assert!(page.contains("sam@roxeth.example"));

    // The just-in-time notice goes out at once and names the controller and DPO.
    let mail = app.outbox("harrow", "sam@roxeth.example").await;
    assert_eq!(mail.len(), 1);
    let body = &mail[0].body_text;
    assert!(
        body.contains("Harrow Council is the data controller"),
        "{body}"
    );
    assert!(
        body.contains("name, work email address and job title"),
        "{body}"
    );
    assert!(body.contains("data protection officer"), "{body}");
    assert!(body.contains("Information Commissioner"), "{body}");
    let link = app
        .emailed_link("harrow", "sam@roxeth.example", "/set-password/")
        .await;

    let sam = app.new_browser();
    let res = sam
        .submit(
            "harrow",
            &link,
            &link,
            &[("password", PASSWORD), ("password_confirm", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    sign_in(&sam, "harrow", "sam@roxeth.example").await;
    let account = sam
        .get_tenant("harrow", "/account")
        .await
        .text()
        .await
        .unwrap();
    assert!(account.contains("Roxeth Primary"));
    assert!(account.contains("Booker"));

    // The audit log records who created the account and which notice was sent.
    let db = app.store.clone();
    let tx = db.tenant_tx(&"harrow".parse().unwrap()).await.unwrap();
    let events = storage::audit::list(&tx).await.unwrap();
    tx.rollback().await.unwrap();
    let created = events
        .iter()
        .find(|e| e.action == "account.created_for_person")
        .unwrap();
    assert!(created.actor.starts_with("account:"));
    assert!(
        created.detail.contains("privacy_notice_sent"),
        "{}",
        created.detail
    );
}

#[tokio::test]
async fn a_claimed_membership_is_verified_rights_change_and_a_leaver_is_deactivated() {
    let app = spawn_app().await;
    let (admin, org) = admin_with_org(&app, "havering", "Hornchurch High").await;
    let lead = app
        .person("havering", "lead@hornchurch.example", None)
        .await;
    appoint(&admin, "havering", &org, "lead@hornchurch.example").await;
    let kim = app
        .person("havering", "kim@hornchurch.example", Some(&org))
        .await;
    let kim_id = app
        .account("havering", "kim@hornchurch.example")
        .await
        .unwrap()
        .id;

    let people = format!("/organisations/{org}/people");
    let page = lead
        .get_tenant("havering", &people)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Waiting for you to confirm"), "{page}");

    let res = change(&lead, "havering", &org, &kim_id, &[("action", "verify")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = change(
        &lead,
        "havering",
        &org,
        &kim_id,
        &[("action", "rights"), ("right_purchaser", "yes")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let account = kim
        .get_tenant("havering", "/account")
        .await
        .text()
        .await
        .unwrap();
    assert!(account.contains("Purchaser"), "{account}");
    assert!(account.contains("Confirmed"));

    // A leaver is deactivated at once: their open session stops, sign-in is refused.
    let res = change(&lead, "havering", &org, &kim_id, &[("action", "leaver")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = kim.get_tenant("havering", "/account").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = kim
        .sign_in("havering", "kim@hornchurch.example", PASSWORD)
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(&res), "account_deactivated");
}

#[tokio::test]
async fn a_lead_admin_of_one_school_can_do_nothing_to_another() {
    let app = spawn_app().await;
    let (admin, school_x) = admin_with_org(&app, "somerset", "School X").await;
    let school_y = create_org(&admin, "somerset", "School Y").await;
    let lead_x = app.person("somerset", "lead@x.example", None).await;
    appoint(&admin, "somerset", &school_x, "lead@x.example").await;
    app.person("somerset", "staff@y.example", Some(&school_y))
        .await;
    let staff_y = app.account("somerset", "staff@y.example").await.unwrap().id;

    let y_people = format!("/organisations/{school_y}/people");
    let res = lead_x.get_tenant("somerset", &y_people).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    for action in [
        vec![("action", "verify")],
        vec![("action", "leaver")],
        vec![("action", "rights"), ("right_lead_admin", "yes")],
    ] {
        let res = change(&lead_x, "somerset", &school_y, &staff_y, &action).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{action:?}");
    }
    // Acting on Y's person through X's page fails too: they are not X's member.
    let res = change(
        &lead_x,
        "somerset",
        &school_x,
        &staff_y,
        &[("action", "leaver")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = lead_x
        .submit(
            "somerset",
            "/account",
            &y_people,
            &[
                ("first_name", "A"),
                ("last_name", "B"),
                ("email", "ab@y.example"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(app.outbox("somerset", "ab@y.example").await.is_empty());

    // Nothing changed for Y's member.
    let page = admin
        .get_tenant("somerset", &y_people)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Waiting for you to confirm"), "{page}");
}

#[tokio::test]
async fn members_and_other_tenants_cannot_reach_management_pages() {
    let app = spawn_app().await;
    let (admin, org) = admin_with_org(&app, "harrow", "Kenton School").await;
    let member = app
        .person("harrow", "member@kenton.example", Some(&org))
        .await;
    let people = format!("/organisations/{org}/people");
    assert_eq!(
        member.get_tenant("harrow", &people).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        member
            .get_tenant("harrow", "/admin/organisations")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let res = member
        .submit(
            "harrow",
            "/account",
            "/admin/organisations",
            &[("name", "Fake"), ("kind", "school")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // Havering's admin, on Havering's host, with Harrow's organisation id: not found.
    let (havering_admin, _) = admin_with_org(&app, "havering", "Elsewhere").await;
    assert_eq!(
        havering_admin
            .get_tenant("havering", &people)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // Signed out: sign in first.
    let anon = app.new_browser();
    assert_eq!(
        anon.get_tenant("harrow", &people).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // The real admin still sees it.
    assert_eq!(
        admin.get_tenant("harrow", &people).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn management_forms_need_the_csrf_token_and_valid_input() {
    let app = spawn_app().await;
    let (admin, org) = admin_with_org(&app, "segfl", "Exeter College").await;
    let res = admin
        .post_form(
            "segfl",
            "/admin/organisations",
            &[("name", "Sneaky"), ("kind", "school")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(&res), "csrf_failed");

    let res = admin
        .submit(
            "segfl",
            "/admin/organisations",
            "/admin/organisations",
            &[("name", "Exeter College"), ("kind", "college")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let res = admin
        .submit(
            "segfl",
            "/admin/organisations",
            "/admin/organisations",
            &[("name", ""), ("kind", "spaceship")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = admin
        .get_tenant("segfl", "/admin/organisations")
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains("Sneaky"));

    let people = format!("/organisations/{org}/people");
    let res = admin
        .submit(
            "segfl",
            &people,
            &people,
            &[("first_name", "No"), ("last_name", "Email")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Enter their email address")
    );
}

#[tokio::test]
async fn only_tenant_admins_see_special_requirements_and_the_view_is_audited() {
    let app = spawn_app().await;
    let (admin, org) = admin_with_org(&app, "harrow", "Whitmore High").await;
    let lead = app.person("harrow", "lead@whitmore.example", None).await;
    appoint(&admin, "harrow", &org, "lead@whitmore.example").await;
    let needs = app
        .person("harrow", "needs@whitmore.example", Some(&org))
        .await;
    let res = needs
        .submit(
            "harrow",
            "/account/special-requirements",
            "/account/special-requirements",
            &[("special_requirements", "Seating near the door, Zephyrine")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let id = app
        .account("harrow", "needs@whitmore.example")
        .await
        .unwrap()
        .id;
    let path = format!("/admin/people/{id}");

    let page = admin
        .get_tenant("harrow", &path)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Seating near the door, Zephyrine"), "{page}");
    // The lead administrator manages the person but does not see special-category data.
    assert_eq!(
        lead.get_tenant("harrow", &path).await.status(),
        StatusCode::NOT_FOUND
    );
    let people = lead
        .get_tenant("harrow", &format!("/organisations/{org}/people"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!people.contains("Zephyrine"));
    // Another tenant's admin with this id: not found.
    let (havering_admin, _) = admin_with_org(&app, "havering", "Elsewhere").await;
    assert_eq!(
        havering_admin.get_tenant("havering", &path).await.status(),
        StatusCode::NOT_FOUND
    );

    let db = app.store.clone();
    let tx = db.tenant_tx(&"harrow".parse().unwrap()).await.unwrap();
    let events = storage::audit::list(&tx).await.unwrap();
    tx.rollback().await.unwrap();
    let viewed: Vec<_> = events
        .iter()
        .filter(|e| e.action == "account.viewed_by_admin")
        .collect();
    assert_eq!(viewed.len(), 1);
    assert_eq!(viewed[0].subject, id);
    assert!(
        viewed[0]
            .detail
            .contains("\"special_requirements_shown\":true")
    );
}

#[tokio::test]
async fn a_role_granted_mid_session_does_nothing_until_a_second_factor_is_set_up() {
    let app = spawn_app().await;
    let b = app
        .person("stockport", "new-admin@stockport.example", None)
        .await;
    app.grant_role(
        "stockport",
        "new-admin@stockport.example",
        "tenant-admin",
        None,
    )
    .await;
    // Signed in before the grant: the role is not usable yet.
    assert_eq!(
        b.get_tenant("stockport", "/admin/organisations")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    app.enrol_second_factor(&b, "stockport").await;
    assert_eq!(
        b.get_tenant("stockport", "/admin/organisations")
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn another_tenants_organisation_and_account_ids_are_not_found_on_every_endpoint() {
    let app = spawn_app().await;
    let (harrow_admin, harrow_org) = admin_with_org(&app, "harrow", "Harrow School").await;
    app.person("harrow", "member@harrow-school.example", Some(&harrow_org))
        .await;
    let member = app
        .account("harrow", "member@harrow-school.example")
        .await
        .unwrap()
        .id;
    let (havering_admin, _) = admin_with_org(&app, "havering", "Havering School").await;

    let res = change(
        &havering_admin,
        "havering",
        &harrow_org,
        &member,
        &[("action", "leaver")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = havering_admin
        .submit(
            "havering",
            "/admin/organisations",
            &format!("/admin/organisations/{harrow_org}/lead-admin"),
            &[("email", "admin@havering.example")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = havering_admin
        .submit(
            "havering",
            "/admin/organisations",
            &format!("/organisations/{harrow_org}/people"),
            &[
                ("first_name", "A"),
                ("last_name", "B"),
                ("email", "ab@example.org"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // Nothing changed at Harrow.
    let page = harrow_admin
        .get_tenant("harrow", &format!("/organisations/{harrow_org}/people"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("member@harrow-school.example"));
    assert!(!page.contains("Left (account deactivated)"));
    assert!(!page.contains("admin@havering.example"));

    // Appointing someone without an account is a clear error that changes nothing.
    let res = harrow_admin
        .submit(
            "harrow",
            "/admin/organisations",
            &format!("/admin/organisations/{harrow_org}/lead-admin"),
            &[("email", "nobody@example.org")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// The rights of `email`'s membership of `org`, and its status.
pub(crate) async fn membership_of(
    app: &TestApp,
    slug: &str,
    org: &str,
    email: &str,
) -> (String, String) {
    use sea_orm::{ConnectionTrait, Statement};
    let id = app.account(slug, email).await.unwrap().id;
    let tx = app.store.system_tx(&slug.parse().unwrap()).await.unwrap();
    let row = tx
        .query_one_raw(Statement::from_sql_and_values(
            tx.get_database_backend(),
            "SELECT rights, status FROM membership WHERE organisation_id = $1 AND account_id = $2",
            [org.into(), id.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    tx.rollback().await.unwrap();
    (
        row.try_get_by_index(0).unwrap(),
        row.try_get_by_index(1).unwrap(),
    )
}

/// Havering asks everyone the level of access they need: it is required, anything beyond
/// booking for oneself needs an organisation, and what was asked for waits on the
/// membership until the organisation's lead administrator confirms it.
#[tokio::test]
async fn havering_asks_the_access_needed_and_the_lead_administrator_confirms_it() {
    let app = spawn_app().await;
    let slug = "havering";
    let (admin, org) = admin_with_org(&app, slug, "Hornchurch Academy").await;
    let form = |email: &'static str| {
        vec![
            ("first_name", "Sam"),
            ("last_name", "Day"),
            ("email", email),
            ("job_title", "Bursar"),
            ("organisation_name", "Hornchurch Academy"),
            ("organisation_telephone", "01708 000000"),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ]
    };
    let b = app.new_browser();
    let page = b.page(slug, "/sign-up").await;
    assert!(
        page.contains("The access you need at your organisation"),
        "{page}"
    );
    // Not chosen; or buying for the organisation without naming it: refused, no account.
    let res = b
        .submit(
            slug,
            "/sign-up",
            "/sign-up",
            &form("sam@hornchurch.example"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Choose the access you need")
    );
    let mut asks = form("sam@hornchurch.example");
    asks.push(("access", "purchaser"));
    let res = b.submit(slug, "/sign-up", "/sign-up", &asks).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text().await.unwrap().contains(
            "Choose your organisation, so its lead administrator can confirm that access"
        )
    );
    let mut odd = form("sam@hornchurch.example");
    odd.push(("access", "owner"));
    let res = b.submit(slug, "/sign-up", "/sign-up", &odd).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(app.account(slug, "sam@hornchurch.example").await.is_none());

    // Asked for with the organisation: held on the claim until confirmed.
    asks.push(("organisation_id", org.as_str()));
    let res = b.submit(slug, "/sign-up", "/sign-up", &asks).await;
    assert_eq!(res.status(), StatusCode::OK);
    let (rights, status) = membership_of(&app, slug, &org, "sam@hornchurch.example").await;
    assert_eq!(status, "claimed");
    assert!(
        rights.contains("purchaser") && rights.contains("booker"),
        "{rights}"
    );
    app.person(slug, "lead@hornchurch.example", None).await;
    appoint(&admin, slug, &org, "lead@hornchurch.example").await;
    let lead = app.new_browser();
    sign_in(&lead, slug, "lead@hornchurch.example").await;
    let sam = app
        .account(slug, "sam@hornchurch.example")
        .await
        .unwrap()
        .id;
    let res = change(&lead, slug, &org, &sam, &[("action", "verify")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (rights, status) = membership_of(&app, slug, &org, "sam@hornchurch.example").await;
    assert_eq!(status, "verified");
    assert!(rights.contains("purchaser"), "{rights}");
}

#[tokio::test]
async fn a_lead_administrator_cannot_mark_themself_a_leaver() {
    let app = spawn_app().await;
    let slug = "harrow";
    let (admin, org) = admin_with_org(&app, slug, "Kenton School").await;
    let lead = app.person(slug, "lead@kenton.example", None).await;
    appoint(&admin, slug, &org, "lead@kenton.example").await;
    let me = app.account(slug, "lead@kenton.example").await.unwrap().id;
    // Their own row offers no such button.
    let page = lead
        .get_tenant(slug, &format!("/organisations/{org}/people"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains("Mark as leaver"), "{page}");
    // And a crafted request is refused, changing nothing.
    let res = change(&lead, slug, &org, &me, &[("action", "leaver")]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(e2e::error_code(&res), "own_leaving");
    assert_eq!(
        lead.get_tenant(slug, &format!("/organisations/{org}/people"))
            .await
            .status(),
        StatusCode::OK,
        "still signed in and leading"
    );
    assert!(
        !app.audit_actions(slug)
            .await
            .iter()
            .any(|a| a == "membership.left")
    );
}
