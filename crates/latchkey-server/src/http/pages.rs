//! Server-rendered pages (sign-in, consent, messages): plain HTML forms that work without
//! JavaScript, with headers that keep them out of frames and referrers.

use std::sync::LazyLock;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use minijinja::{Environment, Value, context};

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    // Fixed, compiled-in templates: a failure here is a build defect caught by every test.
    for (name, src) in [
        ("base.html", include_str!("../../templates/base.html")),
        ("login.html", include_str!("../../templates/login.html")),
        ("consent.html", include_str!("../../templates/consent.html")),
        ("message.html", include_str!("../../templates/message.html")),
    ] {
        env.add_template(name, src).expect("built-in template parses");
    }
    env
});

pub const CSS: &str = include_str!("../../templates/latchkey.css");

/// The security headers every page carries.
pub fn harden(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self' https: data:; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

pub fn render(status: StatusCode, template: &str, ctx: Value) -> Response {
    let body = TEMPLATES.get_template(template).and_then(|t| t.render(ctx)).unwrap_or_else(|e| {
        tracing::error!(error = %e, template, "template failed to render");
        "<!doctype html><title>Error</title><p>The page could not be shown.</p>".to_owned()
    });
    let mut resp = (status, Html(body)).into_response();
    harden(&mut resp);
    resp
}

/// Who is asking, shown at the top of every page.
#[derive(Debug, Clone, Default)]
pub struct Branding {
    pub app_name: String,
    pub app_logo: Option<String>,
}

/// A page with a title and one paragraph.
pub fn message(status: StatusCode, b: &Branding, title: &str, detail: &str) -> Response {
    render(
        status,
        "message.html",
        context! { title, detail, alert => status.is_client_error() || status.is_server_error(), app_name => b.app_name, app_logo => b.app_logo },
    )
}

/// A page asking the user to confirm an action with a POST form.
pub fn confirm(b: &Branding, title: &str, detail: &str, action: &str, label: &str, hidden: &[(&str, &str)]) -> Response {
    render(
        StatusCode::OK,
        "message.html",
        context! { title, detail, confirm_action => action, confirm_label => label, hidden => hidden, app_name => b.app_name, app_logo => b.app_logo },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_render_and_escape() {
        for t in ["login.html", "consent.html", "message.html"] {
            TEMPLATES.get_template(t).unwrap();
        }
        let html = TEMPLATES
            .get_template("message.html")
            .unwrap()
            .render(context! { title => "<script>x</script>", detail => "\"quoted\" & <b>" })
            .unwrap();
        assert!(html.contains("&lt;script&gt;x") && !html.contains("<script>"));
        assert!(!html.contains("<b>"));
    }
}
