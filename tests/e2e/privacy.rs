//! The privacy engine's inventory covers everything the platform stores.

use e2e::tenants_dir;

#[test]
fn every_tenant_inventory_covers_the_declared_personal_data() {
    let configs = tenant_router::load::load_dir(&tenants_dir()).unwrap();
    let columns: Vec<_> = server::personal_data().copied().collect();
    for t in &configs {
        let problems = privacy_engine::coverage_problems(&t.config, &columns);
        assert!(problems.is_empty(), "{problems:#?}");
    }
}

#[test]
fn a_column_in_a_category_the_tenant_lacks_is_reported() {
    let configs = tenant_router::load::load_dir(&tenants_dir()).unwrap();
    let column = privacy_engine::PersonalColumn {
        table: "account",
        column: "favourite_colour",
        category: "account.favourite_colour",
        module: None,
    };
    for t in &configs {
        let problems = privacy_engine::coverage_problems(&t.config, &[column]);
        assert_eq!(problems.len(), 1, "{}", t.config.slug);
        let message = problems[0].to_string();
        assert!(message.contains("account.favourite_colour"), "{message}");
    }
}
