//! OAuth clients: the stored model and its wire shape (the client information of RFC 7591
//! §3.2.1 and RFC 7592 §3 is built from it in [`crate::registration`]), with the pieces it is
//! made of in submodules whose items are re-exported here:
//!
//! - `method`: the five token-endpoint authentication methods (RFC 7591 §2, RFC 6749 §2.3.1,
//!   RFC 7523 §2.2) and what a change of method does to the client's secrets;
//! - `config`: the configuration an operator or a registering client gives, and the rules
//!   it must satisfy whether it is being created or changed;
//! - `key_material`: the `private_key_jwt` public keys (`jwks_uri`, `jwks`, `public_key_pem`).

mod config;
mod key_material;
mod method;

use serde::{Deserialize, Serialize, Serializer};

use crate::{Id, Timestamp};

pub use config::{
    AccessTokenFormat, ApplicationType, ClientConfig, ClientInput, DEFAULT_ACCESS_TOKEN_TTL, GrantType, MAX_ACCESS_TOKEN_TTL,
    MAX_REDIRECT_URIS, MAX_REFRESH_GRACE, MIN_ACCESS_TOKEN_TTL, parse_grant_types,
};
pub use key_material::{check_public_key_pem, pem_decode};
pub use method::{AuthMethod, AuthMethodField, SecretTransition, secret_transition};

/// How the client came to exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Registration {
    /// Created by an operator through the backend API or CLI.
    Manual,
    /// Registered by itself at the app's RFC 7591 endpoint.
    Dynamic,
}

impl Registration {
    pub fn as_str(self) -> &'static str {
        match self {
            Registration::Manual => "manual",
            Registration::Dynamic => "dynamic",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "manual" => Some(Registration::Manual),
            "dynamic" => Some(Registration::Dynamic),
            _ => None,
        }
    }
}

/// A client as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Client {
    pub id: Id,
    pub app_id: Id,
    pub deployment_id: Id,
    pub client_id: String,
    pub config: ClientConfig,
    pub registration: Registration,
    pub is_active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Serialize for Client {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ClientView {
            client: self,
            client_secret: None,
        }
        .serialize(s)
    }
}

/// A client on the wire, with its secret when one was just created (shown once).
pub struct ClientView<'a> {
    pub client: &'a Client,
    pub client_secret: Option<&'a str>,
}

impl Serialize for ClientView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a> {
            id: Id,
            oauth_app_id: Id,
            client_id: &'a str,
            #[serde(flatten)]
            config: &'a ClientConfig,
            registration: Registration,
            is_active: bool,
            created_at: Timestamp,
            updated_at: Timestamp,
            #[serde(skip_serializing_if = "Option::is_none")]
            client_secret: Option<&'a str>,
        }
        let c = self.client;
        Wire {
            id: c.id,
            oauth_app_id: c.app_id,
            client_id: &c.client_id,
            config: &c.config,
            registration: c.registration,
            is_active: c.is_active,
            created_at: c.created_at,
            updated_at: c.updated_at,
            client_secret: self.client_secret,
        }
        .serialize(s)
    }
}

/// A client secret's record (never the secret itself).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClientSecretInfo {
    pub id: Id,
    pub hint: String,
    pub created_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<Timestamp>,
}

/// What the submodules' table-driven tests share: create requests as JSON, checked row by row.
#[cfg(test)]
mod test_support {
    use serde_json::{Value, json};

    use super::{ClientConfig, ClientInput};
    use crate::validate::ValidationErrors;

    pub(super) fn create(v: Value) -> Result<ClientConfig, ValidationErrors> {
        serde_json::from_value::<ClientInput>(v).unwrap().into_new_config()
    }

    pub(super) fn rsa_pem() -> String {
        crate::signing_key::generate_rs256().public_key_pem
    }

    /// A valid public client's create request with `patch`'s members set over it.
    pub(super) fn with(patch: Value) -> Value {
        let mut v = json!({
            "client_auth_method": "none",
            "grant_types": ["authorization_code"],
            "redirect_uris": ["https://app.example.com/cb"]
        });
        for (k, val) in patch.as_object().unwrap() {
            v[k] = val.clone();
        }
        v
    }

    /// Runs `(name, create request, field)` rows: `None` means the request is accepted,
    /// `Some(field)` that it is refused with (at least) an error on `field`.
    pub(super) fn assert_rules(cases: Vec<(&str, Value, Option<&str>)>) {
        for (name, input, field) in cases {
            let r = create(input);
            match field {
                None => assert!(r.is_ok(), "{name}: {r:?}"),
                Some(f) => {
                    let e = r.expect_err(name);
                    assert!(e.0.iter().any(|x| x.field == f), "{name}: expected error on {f}, got {e}");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::client::test_support::create;

    #[test]
    fn wire_shape() {
        let config = create(json!({
            "client_auth_method": "none",
            "grant_types": ["authorization_code"],
            "redirect_uris": ["https://app.example.com/cb"]
        }))
        .unwrap();
        let client = Client {
            id: Id::from_i64(7),
            app_id: Id::from_i64(3),
            deployment_id: Id::from_i64(1),
            client_id: "lkc_x".into(),
            config,
            registration: Registration::Manual,
            is_active: true,
            created_at: Timestamp::from_millis(0),
            updated_at: Timestamp::from_millis(0),
        };
        let v = serde_json::to_value(&client).unwrap();
        assert_eq!(v["id"], "7");
        assert_eq!(v["oauth_app_id"], "3");
        assert_eq!(v["client_auth_method"], "none");
        assert_eq!(v["grant_types"], json!(["authorization_code"]));
        assert_eq!(v["access_token_ttl_seconds"], 3600);
        assert_eq!(v["skip_consent"], false);
        assert!(v.get("client_secret").is_none());
        let v = serde_json::to_value(ClientView {
            client: &client,
            client_secret: Some("lk_cs_x"),
        })
        .unwrap();
        assert_eq!(v["client_secret"], "lk_cs_x");
    }
}
