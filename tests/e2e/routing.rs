//! Host → tenant routing, the branded pages and the probes.

use e2e::{LAUNCH_TENANTS, spawn_app, spawn_app_with, tenants_dir};
use tenant_router::load::load_dir;

#[tokio::test]
async fn every_tenant_host_shows_its_own_name_and_dpo() {
    let app = spawn_app().await;
    let configs = load_dir(&tenants_dir()).unwrap();
    assert_eq!(configs.len(), LAUNCH_TENANTS.len());
    for t in &configs {
        let cfg = &t.config;
        let home = app.get_tenant(cfg.slug.as_str(), "/").await;
        assert_eq!(home.status(), 200, "{}", cfg.slug);
        let body = home.text().await.unwrap();
        assert!(
            body.contains(&cfg.display_name),
            "{} home lacks its name",
            cfg.slug
        );
        assert!(
            body.contains("/assets/tenant.css"),
            "{} home lacks branding",
            cfg.slug
        );
        for other in configs.iter().filter(|o| o.config.slug != cfg.slug) {
            assert!(
                !body.contains(&other.config.dpo.name),
                "{} home mentions {}'s DPO",
                cfg.slug,
                other.config.slug
            );
        }

        let page = app.get_tenant(cfg.slug.as_str(), "/data-controller").await;
        assert_eq!(page.status(), 200);
        let body = page.text().await.unwrap();
        assert!(body.contains(&cfg.controller.name));
        assert!(body.contains(&cfg.dpo.name), "{} lacks its DPO", cfg.slug);
        match &cfg.dpo.email {
            Some(email) => assert!(body.contains(email)),
            None => assert!(body.contains("Not yet published")),
        }
        if let Some(reg) = &cfg.controller.ico_registration {
            assert!(body.contains(reg));
        }
        for c in &cfg.contacts {
            if let Some(e) = &c.email {
                assert!(body.contains(e), "{} lacks contact {e}", cfg.slug);
            }
        }

        let css = app
            .get_tenant(cfg.slug.as_str(), "/assets/tenant.css")
            .await;
        assert_eq!(css.status(), 200);
        let css = css.text().await.unwrap();
        assert!(css.contains(&cfg.branding.colour), "{}: {css}", cfg.slug);
    }
}

#[tokio::test]
async fn somerset_data_controller_page_states_the_registration_and_dpo() {
    let app = spawn_app().await;
    let body = app
        .get_tenant("somerset", "/data-controller")
        .await
        .text()
        .await
        .unwrap();
    assert!(body.contains("Somerset County Council"));
    assert!(body.contains("Z5957592"));
    assert!(body.contains("Rebecca Martin"));
    assert!(body.contains("informationgovernance@somerset.gov.uk"));
}

#[tokio::test]
async fn unknown_or_missing_host_is_a_plain_404_that_lists_no_tenant() {
    let app = spawn_app().await;
    let unknown = app.get("unknown.localhost", "/").await;
    assert_eq!(unknown.status(), 404);
    let body = unknown.text().await.unwrap();
    for slug in LAUNCH_TENANTS {
        assert!(!body.to_lowercase().contains(slug), "404 page names {slug}");
    }
    assert!(!body.contains("Support Services"));
    // An IP literal is a valid host that no tenant serves.
    let by_ip = app
        .client
        .get(format!("http://{}/data-controller", app.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(by_ip.status(), 404);
    // HTTP/1.0 allows no Host header at all.
    let raw = raw_request(app.addr, "GET / HTTP/1.0\r\n\r\n").await;
    assert!(
        raw.starts_with("HTTP/1.0 404") || raw.starts_with("HTTP/1.1 404"),
        "{raw}"
    );
}

#[tokio::test]
async fn host_matching_folds_case_and_ignores_the_port() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("somerset.localhost", "/"))
        .header("host", "SoMeRsEt.LOCALHOST:1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Support Services for Education")
    );
}

#[tokio::test]
async fn malformed_or_oversized_hosts_are_400() {
    let app = spawn_app().await;
    let long = format!("{}.localhost", "a".repeat(300));
    for host in [
        "bad_host.localhost",
        "a..b",
        "somerset.localhost:99999",
        long.as_str(),
    ] {
        let raw = raw_request(
            app.addr,
            &format!("GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
        )
        .await;
        assert!(raw.starts_with("HTTP/1.1 400"), "{host}: {raw}");
    }
}

#[tokio::test]
async fn forwarded_host_is_ignored_unless_the_proxy_is_trusted() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("unknown.localhost", "/"))
        .header("x-forwarded-host", "harrow.localhost")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        404,
        "an untrusted X-Forwarded-Host picked a tenant"
    );

    let trusted = spawn_app_with(|s| s.http.trust_forwarded_host = true).await;
    let res = trusted
        .client
        .get(trusted.url("unknown.localhost", "/"))
        .header("x-forwarded-host", "harrow.localhost, proxy.internal")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("Harrow"));
}

#[tokio::test]
async fn responses_carry_a_request_id_and_security_headers() {
    let app = spawn_app().await;
    let res = app.get_tenant("havering", "/").await;
    let h = res.headers();
    assert!(h.get("x-request-id").is_some_and(|v| v.len() >= 32));
    assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff");
    assert!(
        h.get("content-security-policy")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    // A caller's request id is never taken as ours (it is logged beside ours instead, as
    // `client_request_id`, when it is a plain token).
    let res = app
        .client
        .get(app.url("havering.localhost", "/"))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .unwrap();
    let ours = res.headers().get("x-request-id").unwrap().to_str().unwrap();
    assert_ne!(ours, "trace-me-123");
    assert!(uuid::Uuid::parse_str(ours).is_ok());
}

#[tokio::test]
async fn unknown_path_on_a_tenant_is_a_branded_404() {
    let app = spawn_app().await;
    let res = app.get_tenant("stockport", "/no-such-page").await;
    assert_eq!(res.status(), 404);
    let body = res.text().await.unwrap();
    assert!(body.contains("Page not found"));
    assert!(body.contains("Stockport"));
}

#[tokio::test]
async fn shared_stylesheet_is_served_without_crown_or_gds_font() {
    let app = spawn_app().await;
    let res = app.get_tenant("segfl", "/assets/app.css").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/css; charset=utf-8");
    let css = res.text().await.unwrap();
    assert!(css.contains(".govuk-summary-list"));
    assert!(css.contains("--brand-colour"));
    assert!(!css.contains("GDS Transport"));
}

#[tokio::test]
async fn probes_answer_on_any_host() {
    let app = spawn_app().await;
    let health = app
        .client
        .get(format!("http://{}/healthz", app.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready = app
        .client
        .get(format!("http://{}/readyz", app.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["database"], "ok");
    let expected_redis = if std::env::var("REDIS_URL").is_ok_and(|u| !u.is_empty()) {
        "ok"
    } else {
        "not_configured"
    };
    assert_eq!(body["redis"], expected_redis);
}

#[tokio::test]
async fn readyz_fails_when_redis_is_unreachable() {
    // Port 1 on loopback refuses connections at once.
    let app =
        spawn_app_with(|s| s.redis.url = Some("redis://127.0.0.1:1/".to_owned().into())).await;
    let ready = app
        .client
        .get(format!("http://{}/readyz", app.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["database"], "ok");
    assert_ne!(body["redis"], "ok");
}

async fn raw_request(addr: std::net::SocketAddr, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    String::from_utf8_lossy(&out).into_owned()
}
