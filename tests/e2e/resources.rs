//! Resources: uploads checked by type and content, stored under the tenant's prefix in the
//! object store (a local folder, or a real S3-compatible server), downloads public or for
//! signed-in people only, and another tenant's ids not found.

use base64::Engine as _;
use e2e::{S3Server, TestApp, error_code, spawn_app, spawn_app_with};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n";

fn upload(provider: &str, title: &str, access: &str, name: &str, bytes: &[u8]) -> Value {
    json!({
        "provider_id": provider,
        "title": title,
        "summary": "For designated safeguarding leads.",
        "access": access,
        "file_name": name,
        "content_base64": base64::engine::general_purpose::STANDARD.encode(bytes),
    })
}

async fn upload_ok(app: &TestApp, admin: &e2e::Browser, body: &Value) -> String {
    let res = admin
        .send_json(Method::POST, "somerset", "/api/v1/resources", body)
        .await;
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        res.text().await.unwrap()
    );
    let _ = app;
    res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Upload, list, download by access, refuse bad files, delete: on whichever store `app` has.
async fn exercise(app: &TestApp) -> (String, String) {
    let admin = app
        .catalogue_manager("somerset", "admin@somerset.example", None)
        .await;
    let public = upload_ok(
        app,
        &admin,
        &upload(
            "somerset-sse",
            "Safeguarding policy template",
            "public",
            "Policy 2027.pdf",
            PDF,
        ),
    )
    .await;
    let private = upload_ok(
        app,
        &admin,
        &upload(
            "somerset-sse",
            "Pay scales",
            "signed_in",
            "pay.csv",
            b"grade,salary\nM1,31650\n",
        ),
    )
    .await;

    let anon = app.new_browser();
    let res = anon
        .get_tenant("somerset", &format!("/resources/{public}/file"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert_eq!(
        res.headers()["content-disposition"],
        "attachment; filename=\"Policy-2027.pdf\""
    );
    assert_eq!(res.bytes().await.unwrap().as_ref(), PDF);
    let res = anon
        .get_tenant("somerset", &format!("/resources/{private}/file"))
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&res), "sign_in_required");
    let res = admin
        .get_tenant("somerset", &format!("/resources/{private}/file"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "private, no-store");
    let list = anon
        .get_tenant("somerset", "/resources")
        .await
        .text()
        .await
        .unwrap();
    assert!(list.contains("Safeguarding policy template") && list.contains("Sign in to download"));

    // Another tenant's host does not find either.
    for id in [&public, &private] {
        assert_eq!(
            anon.get_tenant("harrow", &format!("/resources/{id}/file"))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
    }
    let harrow = app
        .catalogue_manager("harrow", "admin@harrow.example", None)
        .await;
    let res = harrow
        .send_json(
            Method::DELETE,
            "harrow",
            &format!("/api/v1/resources/{public}"),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // Bad files are refused and nothing is stored.
    let before = anon
        .get_json("somerset", "/api/v1/resources")
        .await
        .as_array()
        .unwrap()
        .len();
    for (body, why) in [
        (
            upload(
                "somerset-sse",
                "Script",
                "public",
                "evil.pdf",
                b"<script>alert(1)</script>",
            ),
            "not a PDF",
        ),
        (
            upload(
                "somerset-sse",
                "Program",
                "public",
                "run.exe",
                b"MZ\x90\x00",
            ),
            "wrong type",
        ),
        (
            upload(
                "somerset-sse",
                "Binary text",
                "public",
                "x.txt",
                b"\xff\xfe\x00",
            ),
            "not UTF-8",
        ),
        (
            upload("somerset-sse", "Empty", "public", "x.pdf", b""),
            "empty",
        ),
        (
            upload("somerset-sse", "", "public", "x.pdf", PDF),
            "no title",
        ),
        (
            upload("nobody", "Unknown provider", "public", "x.pdf", PDF),
            "unknown provider",
        ),
        (
            upload("somerset-sse", "Who", "everyone", "x.pdf", PDF),
            "bad access",
        ),
    ] {
        let res = admin
            .send_json(Method::POST, "somerset", "/api/v1/resources", &body)
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{why}");
    }
    assert_eq!(
        anon.get_json("somerset", "/api/v1/resources")
            .await
            .as_array()
            .unwrap()
            .len(),
        before
    );

    // The HTML upload form (multipart, with its CSRF token) works too.
    let token = admin.csrf("somerset", "/manage/resources").await;
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", token)
        .text("provider_id", "somerset-sse")
        .text("title", "Induction handbook")
        .text("access", "signed_in")
        .part(
            "file",
            reqwest::multipart::Part::bytes(PDF.to_vec()).file_name("handbook.pdf"),
        );
    let res = admin
        .client
        .post(admin.url("somerset.localhost", "/manage/resources"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", "wrong")
        .text("title", "Forged")
        .part(
            "file",
            reqwest::multipart::Part::bytes(PDF.to_vec()).file_name("f.pdf"),
        );
    let res = admin
        .client
        .post(admin.url("somerset.localhost", "/manage/resources"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        anon.get_json("somerset", "/api/v1/resources")
            .await
            .as_array()
            .unwrap()
            .len(),
        before + 1
    );
    let actions = app.audit_actions("somerset").await;
    assert_eq!(
        actions.iter().filter(|a| *a == "resource.uploaded").count(),
        3
    );
    (public, private)
}

#[tokio::test]
async fn resources_in_the_local_folder() {
    let app = spawn_app().await;
    let (public, _) = exercise(&app).await;
    let admin = app
        .catalogue_manager("somerset", "second@somerset.example", None)
        .await;
    let res = admin
        .send_json(
            Method::DELETE,
            "somerset",
            &format!("/api/v1/resources/{public}"),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get_tenant("somerset", &format!("/resources/{public}/file"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn resources_in_a_real_s3_compatible_store() {
    let Some(s3) = S3Server::start().await else {
        e2e::skip_or_fail("S3S_FS_BIN is not set (scripts/test.sh installs s3s-fs)");
        return;
    };
    let settings = s3.settings.clone();
    let app = spawn_app_with(move |s| {
        s.objects.backend = server::settings::ObjectBackend::S3;
        s.objects.s3 = Some(settings);
    })
    .await;
    let (public, private) = exercise(&app).await;
    // The bytes are in the bucket under the tenant's prefix, nowhere else.
    let stored = s3
        .dir
        .path()
        .join("portal-test/somerset/resources")
        .join(&public)
        .join("file.pdf");
    assert_eq!(std::fs::read(&stored).unwrap(), PDF);
    assert!(
        s3.dir
            .path()
            .join("portal-test/somerset/resources")
            .join(&private)
            .join("file.csv")
            .exists()
    );
    let admin = app
        .catalogue_manager("somerset", "second@somerset.example", None)
        .await;
    let res = admin
        .send_json(
            Method::DELETE,
            "somerset",
            &format!("/api/v1/resources/{public}"),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(!stored.exists(), "deleting a resource deletes its object");
}
