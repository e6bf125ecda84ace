//! Output rendering for operator commands: the server's JSON pretty-printed (`--json`), or
//! for people: listings as aligned tables, single objects as `key: value` lines, and a
//! one-time secret set apart with a warning that it will not be shown again.
//!
//! Everything shown to people passes through [`clean`], so text that third parties can
//! set (a dynamically registered client's name, say) cannot smuggle terminal escapes.

use serde_json::{Map, Value};

/// How to show one command's answer.
#[derive(Debug, Clone, Copy)]
pub struct View {
    /// Show this field of the answer instead of the whole answer.
    pub focus: Option<&'static str>,
    /// The option that fetches the next page of a listing (`--before`, `--cursor`).
    pub more: Option<&'static str>,
    /// What to say for an empty (204) answer.
    pub done: &'static str,
}

impl Default for View {
    fn default() -> Self {
        View {
            focus: None,
            more: None,
            done: "done",
        }
    }
}

/// Fields that hold a secret the server returns exactly once.
const ONE_TIME_SECRETS: &[&str] = &["client_secret", "api_key", "initial_access_token"];

/// Fields listed first in `key: value` output; the rest follow alphabetically.
const LEADING_FIELDS: &[&str] = &["id", "slug", "client_id", "kid", "name", "email"];

/// A table column: its header and how to get the cell.
type Column = (&'static str, Cell);

#[derive(Debug, Clone, Copy)]
enum Cell {
    /// A field, shown with [`text`].
    Field(&'static str),
    /// The length of an array field.
    Count(&'static str),
    /// An audit event's actor: `type:id (name)`.
    Actor,
    /// An audit event's target: `type:id`.
    Target,
}

use Cell::{Actor, Count, Field, Target};

const SCOPE_COLUMNS: &[Column] = &[
    ("SCOPE", Field("scope")),
    ("DISPLAY NAME", Field("display_name")),
    ("ARCHIVED", Field("archived")),
    ("CATEGORY", Field("category")),
    ("ORG PERMISSION", Field("organization_permission")),
    ("WORKSPACE PERMISSION", Field("workspace_permission")),
];

/// The columns for each kind of listing, by the key the listing comes under.
const TABLES: &[(&str, &[Column])] = &[
    (
        "apps",
        &[
            ("SLUG", Field("slug")),
            ("NAME", Field("name")),
            ("ACTIVE", Field("is_active")),
            ("SCOPES", Count("supported_scopes")),
            ("FQDN", Field("fqdn")),
        ],
    ),
    ("scopes", SCOPE_COLUMNS),
    // An app's scopes, as scope changes answer with the whole app.
    ("scope_definitions", SCOPE_COLUMNS),
    (
        "clients",
        &[
            ("ID", Field("id")),
            ("CLIENT_ID", Field("client_id")),
            ("AUTH METHOD", Field("client_auth_method")),
            ("ACTIVE", Field("is_active")),
            ("NAME", Field("client_name")),
        ],
    ),
    (
        "secrets",
        &[
            ("ID", Field("id")),
            ("HINT", Field("hint")),
            ("CREATED", Field("created_at")),
            ("EXPIRES", Field("expires_at")),
            ("LAST USED", Field("last_used_at")),
        ],
    ),
    (
        "grants",
        &[
            ("ID", Field("id")),
            ("CLIENT_ID", Field("client_id")),
            ("USER", Field("user_id")),
            ("RESOURCE", Field("resource")),
            ("STATUS", Field("status")),
            ("SCOPES", Field("scopes")),
        ],
    ),
    (
        "keys",
        &[
            ("KID", Field("kid")),
            ("ALGORITHM", Field("algorithm")),
            ("STATUS", Field("status")),
            ("CREATED", Field("created_at")),
            ("RETIRED", Field("retired_at")),
            ("COMPROMISED", Field("compromised_at")),
        ],
    ),
    (
        "resource_servers",
        &[
            ("ID", Field("id")),
            ("IDENTIFIER", Field("identifier")),
            ("NAME", Field("name")),
            ("SCOPES", Field("scopes")),
            ("BINDING", Field("require_binding")),
        ],
    ),
    (
        "users",
        &[
            ("ID", Field("id")),
            ("EMAIL", Field("email")),
            ("NAME", Field("name")),
            ("ACTIVE", Field("is_active")),
            ("VERIFIED", Field("email_verified")),
        ],
    ),
    (
        "organizations",
        &[("ID", Field("id")), ("NAME", Field("name")), ("CREATED", Field("created_at"))],
    ),
    (
        "workspaces",
        &[
            ("ID", Field("id")),
            ("ORGANIZATION", Field("organization_id")),
            ("NAME", Field("name")),
            ("CREATED", Field("created_at")),
        ],
    ),
    (
        "memberships",
        &[
            ("KIND", Field("kind")),
            ("GROUP", Field("group_id")),
            ("USER", Field("user_id")),
            ("PERMISSIONS", Field("permissions")),
        ],
    ),
    (
        "events",
        &[
            ("TIME", Field("occurred_at")),
            ("ACTION", Field("action")),
            ("ACTOR", Actor),
            ("TARGET", Target),
            ("CLIENT_ID", Field("client_id")),
        ],
    ),
    (
        "api_keys",
        &[
            ("ID", Field("id")),
            ("NAME", Field("name")),
            ("HINT", Field("hint")),
            ("CREATED", Field("created_at")),
            ("LAST USED", Field("last_used_at")),
            ("REVOKED", Field("revoked_at")),
        ],
    ),
    (
        "rate_limits",
        &[
            ("ID", Field("id")),
            ("NAME", Field("name")),
            ("SCOPE", Field("scope")),
            ("CLIENT", Field("client_id")),
            ("WINDOW (S)", Field("window_seconds")),
            ("MAX", Field("max_requests")),
        ],
    ),
    (
        "initial_access_tokens",
        &[
            ("ID", Field("id")),
            ("NAME", Field("name")),
            ("USES", Field("uses")),
            ("CREATED", Field("created_at")),
            ("EXPIRES", Field("expires_at")),
            ("REVOKED", Field("revoked_at")),
        ],
    ),
];

/// The whole output for one answer (`None`: the server answered with no body).
pub fn render(answer: Option<&Value>, json: bool, view: &View) -> String {
    let Some(answer) = answer else {
        return if json { String::new() } else { format!("{}\n", view.done) };
    };
    if json {
        let pretty = serde_json::to_string_pretty(answer).unwrap_or_else(|_| answer.to_string());
        return format!("{pretty}\n");
    }
    let mut out = String::new();
    match view.focus.and_then(|f| Some((f, answer.get(f)?))) {
        Some((key, Value::Array(items))) => out.push_str(&table(key, items)),
        Some((_, v)) => out.push_str(&fields(v)),
        None => out.push_str(&whole(answer)),
    }
    if let (Some(flag), Some(cursor)) = (view.more, answer.get("next_cursor").and_then(cursor)) {
        out.push_str(&format!("\nmore results: rerun with {flag} {}\n", clean(&cursor)));
    }
    for key in ONE_TIME_SECRETS {
        if let Some(secret) = answer.get(key).and_then(Value::as_str) {
            out.push_str(&format!(
                "\n{key} (shown only now, it will not be shown again; store it safely):\n\n    {}\n\n",
                clean(secret)
            ));
        }
    }
    out
}

fn cursor(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A listing (`{"apps": [...]}`, perhaps with a `next_cursor`) as a table, anything else
/// (an app, which also has `scopes`) as fields.
fn whole(answer: &Value) -> String {
    if let Value::Object(m) = answer {
        let listing = m.iter().filter(|(k, _)| k.as_str() != "next_cursor").collect::<Vec<_>>();
        if let [(key, Value::Array(items))] = listing[..] {
            return table(key, items);
        }
    }
    fields(answer)
}

fn table(key: &str, items: &[Value]) -> String {
    if items.is_empty() {
        return format!("no {}\n", key.replace('_', " "));
    }
    let columns: Vec<Column> = match TABLES.iter().find(|(k, _)| *k == key) {
        Some((_, cols)) => cols.to_vec(),
        None => return items.iter().map(fields).collect::<Vec<_>>().join("\n"),
    };
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|item| {
            columns
                .iter()
                .map(|(_, c)| match clean(&cell(item, *c)).replace('\n', " ") {
                    empty if empty.is_empty() => "-".to_owned(),
                    text => text,
                })
                .collect()
        })
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, (h, _))| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([h.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(c);
                s.push_str(&" ".repeat(widths[i] - c.chars().count() + 2));
            }
        }
        format!("{}\n", s.trim_end())
    };
    let mut out = line(columns.iter().map(|(h, _)| *h).collect());
    for r in &rows {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    out
}

fn cell(item: &Value, c: Cell) -> String {
    match c {
        Field(k) => text(item.get(k).unwrap_or(&Value::Null)),
        Count(k) => item
            .get(k)
            .and_then(Value::as_array)
            .map_or_else(|| "-".into(), |a| a.len().to_string()),
        Actor => {
            let a = item.get("actor").unwrap_or(&Value::Null);
            let kind = a.get("type").map(text).unwrap_or_default();
            let id = a.get("id").map(text).unwrap_or_default();
            match a.get("name").and_then(Value::as_str) {
                Some(n) => format!("{kind}:{id} ({n})"),
                None => format!("{kind}:{id}"),
            }
        }
        Target => format!(
            "{}:{}",
            item.get("target_type").map(text).unwrap_or_default(),
            item.get("target_id").map(text).unwrap_or_default()
        ),
    }
}

/// One value as text: strings bare, lists of plain values comma-separated, `-` for
/// nothing, anything nested as compact JSON.
fn text(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(a) if a.iter().all(|x| !x.is_array() && !x.is_object()) => a.iter().map(text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// An object as `key: value` lines (one-time secrets are left for [`render`] to set apart).
fn fields(v: &Value) -> String {
    let Value::Object(m) = v else {
        return format!("{}\n", clean(&text(v)));
    };
    let mut out = String::new();
    for (k, v) in ordered(m) {
        if ONE_TIME_SECRETS.contains(&k.as_str()) {
            continue;
        }
        let value = match v {
            Value::Array(a) if a.is_empty() => "-".into(),
            other => text(other),
        };
        let value = clean(&value);
        if value.contains('\n') {
            // Multi-line text (a PEM key): indented under its key.
            out.push_str(&format!("{k}:\n"));
            for l in value.lines() {
                out.push_str(&format!("    {l}\n"));
            }
        } else {
            out.push_str(&format!("{k}: {value}\n"));
        }
    }
    out
}

fn ordered(m: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut entries: Vec<_> = m.iter().collect();
    let rank = |k: &str| LEADING_FIELDS.iter().position(|f| *f == k).unwrap_or(LEADING_FIELDS.len());
    entries.sort_by(|(a, _), (b, _)| rank(a).cmp(&rank(b)).then(a.cmp(b)));
    entries
}

/// Text safe to print to a terminal: control characters other than newline and tab
/// become `?`.
pub fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() && c != '\n' && c != '\t' { '?' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn listings_are_aligned_tables() {
        let out = render(
            Some(&json!({"apps": [
                {"slug": "a", "name": "Alpha", "is_active": true, "supported_scopes": ["r", "w"], "fqdn": ""},
                {"slug": "longer", "name": "B", "is_active": false, "supported_scopes": [], "fqdn": "b.example"}
            ]})),
            false,
            &View::default(),
        );
        assert_eq!(
            out,
            "SLUG    NAME   ACTIVE  SCOPES  FQDN\n\
             a       Alpha  true    2       -\n\
             longer  B      false   0       b.example\n"
        );
        assert_eq!(
            render(Some(&json!({"resource_servers": []})), false, &View::default()),
            "no resource servers\n"
        );
    }

    #[test]
    fn objects_are_fields_and_secrets_are_set_apart() {
        let out = render(
            Some(&json!({"client_id": "c1", "id": "7", "redirect_uris": ["https://x"], "jwks": {"keys": []}, "client_secret": "s3cret"})),
            false,
            &View::default(),
        );
        assert!(out.starts_with("id: 7\nclient_id: c1\njwks: {\"keys\":[]}\nredirect_uris: https://x\n"));
        assert_eq!(out.matches("s3cret").count(), 1);
        assert!(out.contains("will not be shown again"));
    }

    #[test]
    fn json_empty_answers_and_escapes() {
        let v = json!({"a": 1});
        assert_eq!(render(Some(&v), true, &View::default()), "{\n  \"a\": 1\n}\n");
        let view = View {
            done: "deleted",
            ..View::default()
        };
        assert_eq!(render(None, false, &view), "deleted\n");
        assert_eq!(render(None, true, &view), "");
        assert_eq!(clean("a\u{1b}[31mb\u{9b}"), "a?[31mb?");
    }

    #[test]
    fn pages_say_how_to_continue() {
        let view = View {
            more: Some("--cursor"),
            ..View::default()
        };
        let out = render(Some(&json!({"events": [], "next_cursor": "42"})), false, &view);
        assert!(out.ends_with("more results: rerun with --cursor 42\n"));
    }
}
