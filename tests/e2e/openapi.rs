//! The OpenAPI document is one a client can follow: every reference resolves, every path
//! parameter is declared, operation ids are unique, and the operations that take no body
//! answer a request without one (never 415) with a status the document lists.

use std::collections::HashSet;

use e2e::{error_code, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// Every `$ref` in the document.
fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match (k.as_str(), x) {
                    ("$ref", Value::String(r)) => out.push(r),
                    _ => refs(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

/// (path, method, operation) for every operation.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in METHODS {
            if let Some(op) = item.get(m) {
                out.push((path.clone(), m.to_owned(), op.clone()));
            }
        }
    }
    out
}

#[tokio::test]
async fn the_openapi_document_is_valid() {
    let app = spawn_app().await;
    let doc = app.get_json("somerset", "/api/openapi.json").await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));

    let mut all = Vec::new();
    refs(&doc, &mut all);
    for r in all {
        let target = r
            .strip_prefix("#/")
            .unwrap_or_else(|| panic!("not a local reference: {r}"))
            .split('/')
            .fold(&doc, |v, part| &v[part]);
        assert!(!target.is_null(), "{r} refers to nothing");
    }

    let mut ids = HashSet::new();
    for (path, method, op) in operations(&doc) {
        let templated: HashSet<&str> = path
            .split('{')
            .skip(1)
            .map(|p| &p[..p.find('}').unwrap()])
            .collect();
        let declared: HashSet<&str> = op["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .filter(|p| p["in"] == "path")
                    .map(|p| p["name"].as_str().unwrap())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(templated, declared, "{method} {path}: path parameters");
        let id = op["operationId"].as_str().unwrap_or_default().to_owned();
        assert!(
            !id.is_empty() && ids.insert(id.clone()),
            "{method} {path}: operationId {id}"
        );
        let codes: Vec<&String> = op["responses"].as_object().unwrap().keys().collect();
        assert!(
            codes.iter().any(|c| c.starts_with('2')),
            "{method} {path}: no success response"
        );
    }
}

#[tokio::test]
async fn operations_without_a_body_take_none() {
    let app = spawn_app().await;
    let slug = "somerset";
    let admin = app
        .catalogue_manager(slug, "admin@somerset.example", None)
        .await;
    let doc = app.get_json(slug, "/api/openapi.json").await;
    let mut tried = 0;
    for (path, method, op) in operations(&doc) {
        if method == "get" || !op["requestBody"].is_null() {
            continue;
        }
        // Ids that name nothing: the answer is whatever the document says for that.
        let concrete = path
            .split('{')
            .enumerate()
            .map(|(i, p)| match (i, p.find('}')) {
                (0, _) | (_, None) => p.to_owned(),
                (_, Some(end)) => format!("no-such-id{}", &p[end + 1..]),
            })
            .collect::<String>();
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let res = admin
            .client
            .request(m, admin.url(&format!("{slug}.localhost"), &concrete))
            .send()
            .await
            .unwrap();
        let status = res.status();
        assert_ne!(
            status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{method} {path}"
        );
        assert!(
            op["responses"].get(status.as_str()).is_some(),
            "{method} {path} answered {status} ({}), which the document does not list",
            error_code(&res)
        );
        tried += 1;
    }
    assert!(tried >= 5, "only {tried} body-less operations");
}

#[tokio::test]
async fn a_body_less_write_from_another_site_is_refused() {
    let app = spawn_app().await;
    let slug = "somerset";
    let admin = app
        .catalogue_manager(slug, "admin@somerset.example", None)
        .await;
    let course = crate::catalogue::draft_course(&admin, slug, "somerset-sse").await;
    let url = admin.url(
        &format!("{slug}.localhost"),
        &format!("/api/v1/courses/{course}/publish"),
    );
    let res = admin
        .client
        .post(&url)
        .header("origin", "http://evil.localhost")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(&res), "cross_site_request");
    let before = admin
        .get_json(slug, &format!("/api/v1/courses/{course}"))
        .await;
    assert_eq!(before["status"], "draft");
    // The same request from the portal's own pages, or from a client that is not a
    // browser (no Origin), publishes.
    let own = url.split("/api/").next().unwrap().to_owned();
    let res = admin
        .client
        .post(&url)
        .header("origin", own)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::NO_CONTENT,
        "{}",
        res.text().await.unwrap()
    );
    let after = admin
        .get_json(slug, &format!("/api/v1/courses/{course}"))
        .await;
    assert_eq!(after["status"], "published");
}
