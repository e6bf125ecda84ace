//! The server starts: health, readiness (naming the database backend) and an empty app list.

use latchkey_testkit::TestServer;
use reqwest::StatusCode;

#[tokio::test]
async fn health_and_readiness() {
    let s = TestServer::start().await;
    let r = reqwest::get(format!("{}/healthz", s.base)).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = reqwest::get(format!("{}/readyz", s.base)).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["database"], latchkey_testkit::backend());
    let (status, apps) = s.get("/oauth/apps").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(apps["apps"], serde_json::json!([]));
}
