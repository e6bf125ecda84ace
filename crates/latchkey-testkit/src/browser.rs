//! A headless HTTP "browser" for tests: it keeps cookies, follows redirects on request, and
//! submits the HTML forms it is shown — nothing else (no JavaScript, no guessing of URLs).

use std::collections::BTreeMap;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};

pub struct Browser {
    http: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct Page {
    pub url: String,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> Option<String> {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(|l| absolute(&self.url, l))
    }

    /// The first POST form on the page.
    pub fn form(&self) -> Form {
        parse_form(&self.body).unwrap_or_else(|| panic!("no form on {} ({}):\n{}", self.url, self.status, self.body))
    }

    pub fn has_form(&self) -> bool {
        parse_form(&self.body).is_some()
    }
}

#[derive(Debug, Clone)]
pub struct Form {
    pub action: String,
    /// Inputs that would be submitted (hidden, text, email, password; checked radios).
    pub fields: Vec<(String, String)>,
    /// Radio options: (name, value).
    pub radios: Vec<(String, String)>,
    /// Submit buttons: (name, value).
    pub buttons: Vec<(String, String)>,
}

impl Form {
    pub fn set(&mut self, name: &str, value: &str) -> &mut Self {
        self.fields.retain(|(k, _)| k != name);
        self.fields.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The fields as submitted with the button whose value is `button` (if any).
    pub fn submission(&self, button: Option<&str>) -> Vec<(String, String)> {
        let mut out = self.fields.clone();
        if let Some(b) = button {
            let (name, value) = self
                .buttons
                .iter()
                .find(|(_, v)| v == b)
                .unwrap_or_else(|| panic!("no button {b}: {:?}", self.buttons));
            out.push((name.clone(), value.clone()));
        }
        out
    }
}

fn absolute(base: &str, location: &str) -> String {
    url::Url::parse(base)
        .and_then(|b| b.join(location))
        .map(|u| u.to_string())
        .unwrap_or_else(|_| location.to_owned())
}

fn decode_entities(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Attributes of one tag's source (`<input a="b" c>`).
fn attrs(tag: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let inner = tag.trim_start_matches('<').trim_end_matches('>').trim_end_matches('/');
    let mut rest = inner.split_once(char::is_whitespace).map(|(_, r)| r).unwrap_or("");
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        let name_end = rest.find(|c: char| c == '=' || c.is_whitespace()).unwrap_or(rest.len());
        let name = rest[..name_end].to_ascii_lowercase();
        rest = &rest[name_end..];
        if let Some(r) = rest.strip_prefix('=') {
            let (value, after) = if let Some(r) = r.strip_prefix('"') {
                let end = r.find('"').unwrap_or(r.len());
                (&r[..end], &r[(end + 1).min(r.len())..])
            } else {
                let end = r.find(char::is_whitespace).unwrap_or(r.len());
                (&r[..end], &r[end..])
            };
            out.insert(name, decode_entities(value));
            rest = after;
        } else {
            out.insert(name, String::new());
        }
    }
    out
}

fn tags<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let open = format!("<{name}");
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = html[from..].find(&open) {
        let start = from + i;
        let end = html[start..].find('>').map(|e| start + e + 1).unwrap_or(html.len());
        out.push(&html[start..end]);
        from = end;
    }
    out
}

fn parse_form(html: &str) -> Option<Form> {
    let start = html.find("<form")?;
    let end = html[start..].find("</form>").map(|e| start + e).unwrap_or(html.len());
    let form_html = &html[start..end];
    let form_tag = tags(form_html, "form").into_iter().next()?;
    let action = attrs(form_tag).get("action").cloned().unwrap_or_default();
    let mut form = Form {
        action,
        fields: vec![],
        radios: vec![],
        buttons: vec![],
    };
    for tag in tags(form_html, "input") {
        let a = attrs(tag);
        let (Some(name), value) = (a.get("name"), a.get("value").cloned().unwrap_or_default()) else {
            continue;
        };
        match a.get("type").map(String::as_str).unwrap_or("text") {
            "radio" => {
                form.radios.push((name.clone(), value.clone()));
                if a.contains_key("checked") {
                    form.fields.push((name.clone(), value));
                }
            }
            "submit" => form.buttons.push((name.clone(), value)),
            _ => form.fields.push((name.clone(), value)),
        }
    }
    for tag in tags(form_html, "button") {
        let a = attrs(tag);
        if let Some(name) = a.get("name") {
            form.buttons.push((name.clone(), a.get("value").cloned().unwrap_or_default()));
        }
    }
    Some(form)
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    pub fn new() -> Self {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn absorb(&mut self, headers: &HeaderMap) {
        for sc in headers.get_all(SET_COOKIE) {
            let Ok(sc) = sc.to_str() else { continue };
            let first = sc.split(';').next().unwrap_or("");
            let Some((k, v)) = first.split_once('=') else {
                continue;
            };
            if sc.contains("Max-Age=0") {
                self.cookies.remove(k.trim());
            } else {
                self.cookies.insert(k.trim().to_owned(), v.trim().to_owned());
            }
        }
    }

    async fn finish(&mut self, url: &str, resp: reqwest::Response) -> Page {
        let status = resp.status();
        let headers = resp.headers().clone();
        self.absorb(&headers);
        let body = resp.text().await.unwrap_or_default();
        Page {
            url: url.to_owned(),
            status,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, url: &str) -> Page {
        let resp = self.http.get(url).header("cookie", self.cookie_header()).send().await.unwrap();
        self.finish(url, resp).await
    }

    pub async fn post_form(&mut self, url: &str, fields: &[(String, String)]) -> Page {
        let body: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        let resp = self
            .http
            .post(url)
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        self.finish(url, resp).await
    }

    /// Submits the page's form (with the given button), resolving the action against the page.
    pub async fn submit(&mut self, page: &Page, form: &Form, button: Option<&str>) -> Page {
        let action = absolute(&page.url, &form.action);
        self.post_form(&action, &form.submission(button)).await
    }

    /// GET `url` and follow redirects under `origin`.
    pub async fn goto(&mut self, url: &str, origin: &str) -> Page {
        let page = self.get(url).await;
        self.follow(page, origin).await
    }

    /// Submit the form and follow redirects under `origin`.
    pub async fn submit_follow(&mut self, page: &Page, form: &Form, button: Option<&str>, origin: &str) -> Page {
        let next = self.submit(page, form, button).await;
        self.follow(next, origin).await
    }

    /// Follows redirects while they stay under `origin`; stops at a page, or at a redirect
    /// leaving it (returned with its `Location`).
    pub async fn follow(&mut self, mut page: Page, origin: &str) -> Page {
        for _ in 0..20 {
            match page.location() {
                Some(next) if page.status.is_redirection() && next.starts_with(origin) => page = self.get(&next).await,
                _ => return page,
            }
        }
        panic!("redirect loop at {}", page.url)
    }
}
