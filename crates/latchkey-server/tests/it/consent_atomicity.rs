//! Approving consent is one transaction: decision, grant, consent event and code commit
//! together or not at all.

use latchkey_testkit::TestServer;
use latchkey_testkit::browser::Browser;
use latchkey_testkit::oauth::{self, REDIRECT};
use reqwest::StatusCode;

#[tokio::test]
async fn a_failed_code_insert_leaves_no_grant_no_consent_event_and_the_request_open() {
    let s = TestServer::start().await;
    let st = oauth::setup(&s).await;
    let (verifier, challenge) = oauth::pkce();
    let url = oauth::url_of(&st.issuer, &oauth::request(&st.client_id, &challenge, "openid read", &[]));
    let mut b = Browser::new();
    let page = b.goto(&url, &s.base).await;
    let mut form = page.form();
    form.set("email", &st.email).set("password", oauth::PASSWORD);
    let consent = b.submit_follow(&page, &form, None, &s.base).await;
    assert_eq!(consent.status, StatusCode::OK);
    assert!(consent.body.contains("Allow access"), "{}", consent.body);

    s.fail_writes("authorization_codes", "INSERT").await;
    let failed = b.submit(&consent, &consent.form(), Some("approve")).await;
    assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", failed.body);
    assert!(failed.location().is_none());
    let (status, grants) = s.get(&format!("/users/{}/grants", st.user_id)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(grants["grants"].as_array().map(Vec::len), Some(0), "no grant: {grants}");
    for action in ["consent.", "grant.", "code."] {
        let (_, events) = s.get(&format!("/audit-events?action={action}")).await;
        assert_eq!(events["events"].as_array().map(Vec::len), Some(0), "no {action} event: {events}");
    }

    // Nothing was decided either: the same consent form works once codes can be stored.
    s.heal("authorization_codes", "INSERT").await;
    let done = b.submit(&consent, &consent.form(), Some("approve")).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let loc = done.location().unwrap();
    assert!(loc.starts_with(REDIRECT), "{loc}");
    let code = oauth::query(&loc)["code"].clone();
    let (status, tokens) = oauth::exchange(&s, &st, &code, &verifier).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let (_, grants) = s.get(&format!("/users/{}/grants", st.user_id)).await;
    assert_eq!(grants["grants"].as_array().map(Vec::len), Some(1), "{grants}");
    for action in ["consent.approved", "grant.created", "code.issued"] {
        let (_, events) = s.get(&format!("/audit-events?action={action}")).await;
        assert_eq!(events["events"].as_array().map(Vec::len), Some(1), "one {action}: {events}");
    }
}
