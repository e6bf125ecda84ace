//! The built-in directory of end users: users (with Argon2id password hashes), the
//! organizations and workspaces they belong to, and memberships carrying permission strings
//! that scopes map to.

use serde::{Deserialize, Serialize};

use crate::validate::{self, ValidationError, ValidationErrors};
use crate::{Id, Timestamp, password};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    pub id: Id,
    pub deployment_id: Id,
    pub email: String,
    pub email_verified: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    pub is_active: bool,
    pub has_password: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub email_verified: Option<bool>,
    #[serde(default, deserialize_with = "crate::app::double_option")]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::app::double_option")]
    pub given_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::app::double_option")]
    pub family_name: Option<Option<String>>,
    #[serde(default)]
    pub is_active: Option<bool>,
    /// Plaintext, hashed immediately; never stored or echoed.
    #[serde(default)]
    pub password: Option<crate::Secret>,
}

impl<'de> Deserialize<'de> for crate::Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(crate::Secret::new)
    }
}

/// The validated profile fields of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserProfile {
    pub email: String,
    pub email_verified: bool,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub is_active: bool,
}

impl User {
    pub fn profile(&self) -> UserProfile {
        UserProfile {
            email: self.email.clone(),
            email_verified: self.email_verified,
            name: self.name.clone(),
            given_name: self.given_name.clone(),
            family_name: self.family_name.clone(),
            is_active: self.is_active,
        }
    }
}

/// A validated user change: the new profile and, when a password was given, its hash.
#[derive(Debug, Clone)]
pub struct UserChange {
    pub profile: UserProfile,
    pub password_hash: Option<String>,
}

/// Emails are compared case-insensitively: stored lowercase. A pragmatic check, not RFC 5322.
pub fn validate_email(raw: &str) -> Result<String, ValidationError> {
    let e = raw.trim().to_lowercase();
    let ok = e.len() <= 254
        && e.split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.'))
        && e.matches('@').count() == 1
        && !e.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(e)
    } else {
        Err(ValidationError::new("email", format!("{raw:?} is not an email address")))
    }
}

impl UserInput {
    pub fn apply(&self, current: Option<&UserProfile>) -> Result<UserChange, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let email = match (&self.email, current) {
            (Some(e), _) => errors.check(validate_email(e)),
            (None, Some(c)) => Some(c.email.clone()),
            (None, None) => {
                errors.add("email", "is required");
                None
            }
        };
        let mut opt = |field: &str, input: &Option<Option<String>>, cur: Option<&Option<String>>| -> Option<String> {
            match input {
                Some(v) => errors.check(validate::optional_text(field, v.as_deref(), 200)).flatten(),
                None => cur.cloned().flatten(),
            }
        };
        let name = opt("name", &self.name, current.map(|c| &c.name));
        let given_name = opt("given_name", &self.given_name, current.map(|c| &c.given_name));
        let family_name = opt("family_name", &self.family_name, current.map(|c| &c.family_name));
        let password_hash = match &self.password {
            Some(p) => match password::check_password_policy(p.expose()) {
                Ok(()) => Some(password::hash_password(p.expose())),
                Err(m) => {
                    errors.add("password", m);
                    None
                }
            },
            None => None,
        };
        match email {
            Some(email) if errors.is_empty() => Ok(UserChange {
                profile: UserProfile {
                    email,
                    email_verified: self.email_verified.or(current.map(|c| c.email_verified)).unwrap_or(false),
                    name,
                    given_name,
                    family_name,
                    is_active: self.is_active.or(current.map(|c| c.is_active)).unwrap_or(true),
                },
                password_hash,
            }),
            _ => Err(errors),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Organization {
    pub id: Id,
    pub deployment_id: Id,
    pub name: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Workspace {
    pub id: Id,
    pub deployment_id: Id,
    pub organization_id: Id,
    pub name: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Body for creating or renaming an organization or workspace.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedInput {
    #[serde(default)]
    pub name: Option<String>,
    /// Only for workspaces: the organization it belongs to (create only).
    #[serde(default)]
    pub organization_id: Option<Id>,
}

pub fn validate_name(raw: Option<&str>) -> Result<String, ValidationErrors> {
    match raw {
        Some(n) => validate::text("name", n, 200).map_err(Into::into),
        None => Err(ValidationErrors::single("name", "is required")),
    }
}

/// Which kind of group a membership is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MembershipKind {
    Organization,
    Workspace,
}

impl MembershipKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MembershipKind::Organization => "organization",
            MembershipKind::Workspace => "workspace",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Membership {
    pub id: Id,
    pub kind: MembershipKind,
    /// The organization or workspace id.
    pub group_id: Id,
    pub user_id: Id,
    pub permissions: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MembershipInput {
    #[serde(default)]
    pub user_id: Option<Id>,
    #[serde(default)]
    pub permissions: Option<Vec<String>>,
}

pub fn validate_permissions(list: &[String]) -> Result<Vec<String>, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    if list.len() > 100 {
        errors.add("permissions", "at most 100 permissions");
    }
    let mut out: Vec<String> = Vec::new();
    for (i, p) in list.iter().enumerate() {
        if let Some(p) = errors.check(validate::permission(&format!("permissions[{i}]"), p))
            && !out.contains(&p)
        {
            out.push(p);
        }
    }
    errors.finish(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_rules() {
        assert_eq!(validate_email(" Ada@Example.COM ").unwrap(), "ada@example.com");
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "a@b@example.com",
            "ada@.com",
        ] {
            assert!(validate_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn user_input_hashes_password_and_keeps_unsent_fields() {
        let input: UserInput = serde_json::from_value(serde_json::json!({
            "email": "ada@example.com", "name": "Ada", "password": "correct horse battery"
        }))
        .unwrap();
        assert!(!format!("{input:?}").contains("correct horse"));
        let c = input.apply(None).unwrap();
        assert!(c.password_hash.as_deref().unwrap().starts_with("$argon2id$"));
        assert!(c.profile.is_active);

        let upd: UserInput = serde_json::from_value(serde_json::json!({"given_name": "Ada"})).unwrap();
        let c2 = upd.apply(Some(&c.profile)).unwrap();
        assert_eq!(c2.profile.name.as_deref(), Some("Ada"));
        assert_eq!(c2.profile.email, "ada@example.com");
        assert!(c2.password_hash.is_none());

        let weak: UserInput = serde_json::from_value(serde_json::json!({"email": "b@example.com", "password": "short"})).unwrap();
        assert_eq!(weak.apply(None).unwrap_err().0[0].field, "password");
    }
}
