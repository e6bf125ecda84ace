//! `GET /assets/latchkey.css`: the hosted pages' one stylesheet (the CSP allows only
//! `style-src 'self'`), cacheable for an hour.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::http::pages::CSS;

pub async fn css() -> Response {
    let mut resp = CSS.into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    resp
}
