//! Broken tenant files stop start-up with a message naming the file, the key and the
//! problem, and change nothing: the database is not even opened.

use e2e::{TestDb, copy_tenants, edit_tenant};
use server::Application;

/// Breaks one file, starts the app, and returns the error text after checking that start-up
/// failed without creating the embedded database.
async fn start_with(slug: &str, from: &str, to: &str) -> (String, String) {
    let tenants = copy_tenants();
    let file = edit_tenant(tenants.path(), slug, from, to);
    let db = TestDb::new().await;
    let result = Application::build(db.settings(tenants.path())).await;
    let err = match result {
        Ok(_) => panic!("start-up accepted a broken {slug} file ({from} -> {to})"),
        Err(e) => format!("{e:#}"),
    };
    assert!(
        !db.dir.path().join("portal.sqlite").exists(),
        "a failed start-up created the database"
    );
    (err, file.display().to_string())
}

#[tokio::test]
async fn unknown_key_is_named_with_its_table() {
    let (err, file) = start_with(
        "somerset",
        "[branding]\n",
        "[branding]\nfont = \"Comic Sans\"\n",
    )
    .await;
    assert!(err.contains(&file), "{err}");
    assert!(err.contains("branding"), "{err}");
    assert!(err.contains("unknown field `font`"), "{err}");
}

#[tokio::test]
async fn missing_mandatory_detail_is_named() {
    let (err, file) = start_with("harrow", "name = \"Darren Davies\"\n", "").await;
    assert!(err.contains(&file), "{err}");
    assert!(err.contains("dpo"), "{err}");
    assert!(err.contains("missing field `name`"), "{err}");
}

#[tokio::test]
async fn bad_retention_period_is_named() {
    let (err, file) = start_with("harrow", "after = \"7y\"", "after = \"seven years\"").await;
    assert!(err.contains(&file), "{err}");
    assert!(err.contains("retention[0].after"), "{err}");
    assert!(err.contains("`seven years` is not a period"), "{err}");
}

#[tokio::test]
async fn duplicate_hostname_across_tenants_names_both() {
    let (err, file) = start_with(
        "havering",
        "hostnames = [\"havering.localhost\", \"www.hes.org.uk\"]",
        "hostnames = [\"havering.localhost\", \"www.ss4eharrow.uk\"]",
    )
    .await;
    assert!(err.contains(&file), "{err}");
    assert!(err.contains("hostnames[1]"), "{err}");
    assert!(
        err.contains("`www.ss4eharrow.uk` is already a hostname of tenant `harrow`"),
        "{err}"
    );
}

#[tokio::test]
async fn low_contrast_brand_colour_is_refused() {
    let (err, file) = start_with("harrow", "colour = \"#5b2a86\"", "colour = \"#ffdd00\"").await;
    assert!(err.contains(&file), "{err}");
    assert!(err.contains("branding.colour"), "{err}");
    assert!(err.contains("WCAG 2.2 AA needs 4.5:1"), "{err}");
}

#[tokio::test]
async fn retention_rule_for_an_unknown_category_is_refused() {
    let (err, _) = start_with(
        "harrow",
        "category = \"purchase.record\"",
        "category = \"purchase.recrod\"",
    )
    .await;
    assert!(err.contains("retention[0].category"), "{err}");
    assert!(err.contains("purchase.recrod"), "{err}");
}

#[tokio::test]
async fn slug_must_match_its_folder() {
    let (err, _) = start_with("segfl", "slug = \"segfl\"", "slug = \"sefgl\"").await;
    assert!(err.contains("slug"), "{err}");
    assert!(err.contains("must equal the folder name `segfl`"), "{err}");
}

#[tokio::test]
async fn toml_syntax_error_names_the_line() {
    let (err, file) = start_with("stockport", "[dpo]", "[dpo").await;
    assert!(err.contains(&file), "{err}");
    assert!(err.contains("(line "), "{err}");
}

#[tokio::test]
async fn every_problem_is_reported_at_once() {
    let tenants = copy_tenants();
    edit_tenant(
        tenants.path(),
        "harrow",
        "after = \"7y\"",
        "after = \"7 years\"",
    );
    edit_tenant(
        tenants.path(),
        "somerset",
        "colour = \"#00594f\"",
        "colour = \"red\"",
    );
    let db = TestDb::new().await;
    let err = match Application::build(db.settings(tenants.path())).await {
        Ok(_) => panic!("accepted two broken files"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("2 problem(s)"), "{err}");
    assert!(err.contains("harrow"), "{err}");
    assert!(err.contains("somerset"), "{err}");
}

#[tokio::test]
async fn a_time_to_answer_rights_requests_beyond_a_month_is_refused() {
    let (err, file) = start_with(
        "harrow",
        "respond_within = \"1m\"",
        "respond_within = \"2m\"",
    )
    .await;
    assert!(err.contains(&file), "{err}");
    assert!(err.contains("subject_rights.respond_within"), "{err}");
    assert!(err.contains("at most one month"), "{err}");
}

#[tokio::test]
async fn a_category_on_a_basis_the_notice_does_not_list_is_refused() {
    // Stockport's consent category, with consent taken off the bases it lists.
    let (err, file) = start_with(
        "stockport",
        "    \"consent\",\n    \"contract\",",
        "    \"contract\",",
    )
    .await;
    assert!(err.contains(&file), "{err}");
    assert!(err.contains(".lawful_basis"), "{err}");
    assert!(
        err.contains("relies on a basis `lawful_bases` does not list"),
        "{err}"
    );
}

#[tokio::test]
async fn automated_decisions_are_refused_as_nothing_makes_or_reviews_them() {
    let (err, file) = start_with(
        "harrow",
        "automated_decisions = false",
        "automated_decisions = true",
    )
    .await;
    assert!(err.contains(&file), "{err}");
    assert!(err.contains("subject_rights.automated_decisions"), "{err}");
}

#[tokio::test]
async fn only_an_inactivity_rule_can_be_put_off_by_the_person() {
    // Harrow's leavers' rule: signing in does not put off a step triggered by leaving.
    let (err, file) = start_with(
        "harrow",
        "trigger = \"left_organisation\"\nafter = \"0d\"\naction = \"deactivate\"\n",
        "trigger = \"left_organisation\"\nafter = \"0d\"\naction = \"deactivate\"\nuser_may_extend = true\n",
    )
    .await;
    assert!(err.contains(&file), "{err}");
    assert!(err.contains(".user_may_extend"), "{err}");
}
