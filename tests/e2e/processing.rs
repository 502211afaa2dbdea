//! The record of processing activities: generated for every tenant from the configuration
//! in force and the platform's declarations, as a page and a CSV, for administrators and
//! privacy officers only.

use e2e::{TestApp, spawn_app};
use reqwest::StatusCode;

fn config(app: &TestApp, slug: &str) -> tenant_router::TenantConfig {
    app.registry
        .current()
        .iter()
        .find(|t| t.id.as_str() == slug)
        .unwrap()
        .config
        .clone()
}

#[tokio::test]
async fn every_tenant_has_a_record_of_what_the_platform_does_with_each_category() {
    let app = spawn_app().await;
    for slug in ["somerset", "harrow", "havering", "segfl", "stockport"] {
        let cfg = config(&app, slug);
        let officer = app
            .role_holder(
                slug,
                &format!("dpo@{slug}.example"),
                "privacy-officer",
                None,
            )
            .await;
        let page = officer.page(slug, "/manage/privacy/record").await;
        for c in &cfg.data_categories {
            assert!(
                page.contains(&format!("id=\"{}\"", c.id)),
                "{slug}: {}",
                c.id
            );
        }
        assert!(page.contains("hash chain"), "{slug}: security measures");

        let res = officer.get_tenant(slug, "/manage/privacy/record.csv").await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        let body = res.text().await.unwrap();
        let mut reader = csv::Reader::from_reader(body.as_bytes());
        let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(records.len(), cfg.data_categories.len(), "{slug}");
        // Each row's retention is what the notice states for it, and where it is held is
        // what the platform declares.
        let notice = privacy_engine::domain::notice::compile(&cfg);
        for (row, section) in records.iter().zip(&notice.categories) {
            assert_eq!(&row[0], section.id.as_str());
            assert_eq!(&row[9], section.retention.join("; ").as_str(), "{slug}");
            if section.id == "account.contact" {
                assert!(row[10].contains("account.email"), "{slug}: {}", &row[10]);
            }
        }
        if cfg.has_module(tenant_router::config::Module::Induction) {
            assert!(page.contains("induction_record.trn"), "{slug}");
        } else {
            assert!(!page.contains("induction_record.trn"), "{slug}");
        }
    }
}

#[tokio::test]
async fn only_administrators_and_privacy_officers_see_the_record() {
    let app = spawn_app().await;
    let slug = "harrow";
    let admin = app
        .catalogue_manager(slug, "admin@harrow.example", None)
        .await;
    assert_eq!(
        admin
            .get_tenant(slug, "/manage/privacy/record")
            .await
            .status(),
        StatusCode::OK
    );
    let person = app.person(slug, "someone@school.example", None).await;
    let staff = app
        .catalogue_manager(slug, "staff@ss4e.example", Some("ss4e"))
        .await;
    for who in [&person, &staff] {
        for path in ["/manage/privacy/record", "/manage/privacy/record.csv"] {
            assert_eq!(
                who.get_tenant(slug, path).await.status(),
                StatusCode::NOT_FOUND,
                "{path}"
            );
        }
    }
}
