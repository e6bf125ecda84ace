//! The error type for operator input that breaks a rule: which field, and what is wrong
//! with it, in words an operator can act on.

use std::fmt;

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidationError {
    pub field: String,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        ValidationError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Every problem found in one input, so the operator can fix them all at once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ValidationErrors(pub Vec<ValidationError>);

impl ValidationErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(ValidationError::new(field, message));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when nothing was added, the collected errors otherwise.
    pub fn finish<T>(self, value: T) -> Result<T, ValidationErrors> {
        if self.0.is_empty() { Ok(value) } else { Err(self) }
    }

    pub fn single(field: impl Into<String>, message: impl Into<String>) -> Self {
        ValidationErrors(vec![ValidationError::new(field, message)])
    }

    /// Keeps the value when `r` is Ok, records the error and returns None otherwise.
    pub fn check<T>(&mut self, r: Result<T, ValidationError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join("; "))
    }
}

impl std::error::Error for ValidationErrors {}

impl From<ValidationError> for ValidationErrors {
    fn from(e: ValidationError) -> Self {
        ValidationErrors(vec![e])
    }
}

/// Trims and checks a human-readable text field: non-empty unless `optional`, at most
/// `max` characters, no control characters.
pub fn text(field: &str, value: &str, max: usize) -> Result<String, ValidationError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    if v.chars().count() > max {
        return Err(ValidationError::new(field, format!("must be at most {max} characters")));
    }
    if v.chars().any(|c| c.is_control()) {
        return Err(ValidationError::new(field, "must not contain control characters"));
    }
    Ok(v.to_owned())
}

/// Like [`text`] but an empty value becomes `None`.
pub fn optional_text(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>, ValidationError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => text(field, v, max).map(Some),
    }
}

/// A permission string as held by memberships and mapped from scopes:
/// 1 to 128 of `a-z A-Z 0-9 : . _ - /`.
pub fn permission(field: &str, value: &str) -> Result<String, ValidationError> {
    let ok = !value.is_empty()
        && value.len() <= 128
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'.' | b'_' | b'-' | b'/'));
    if ok {
        Ok(value.to_owned())
    } else {
        Err(ValidationError::new(
            field,
            "must be 1-128 characters of letters, digits, ':', '.', '_', '-' or '/'",
        ))
    }
}

/// An absolute http(s) URL for display metadata (client_uri, logo_uri, tos_uri, policy_uri).
pub fn web_url(field: &str, value: &str) -> Result<String, ValidationError> {
    match url::Url::parse(value) {
        Ok(u) if (u.scheme() == "https" || u.scheme() == "http") && u.host().is_some() => {
            if value.len() > 2048 {
                Err(ValidationError::new(field, "must be at most 2048 characters"))
            } else {
                Ok(value.to_owned())
            }
        }
        _ => Err(ValidationError::new(field, "must be an absolute http or https URL")),
    }
}
