//! Who may learn what from the introspection endpoint (RFC 7662 §2.1, §4): the endpoint must
//! not be an oracle for tokens of other parties. A client learns about its own tokens only; a
//! resource server only about access tokens meant for it (bound to it, or unbound when it does
//! not require binding), never about refresh tokens; public clients may not ask at all (that
//! is decided at client authentication). The user's e-mail is disclosed only to a token that
//! holds the `email` scope.

use crate::Id;
use crate::verify::{TokenKind, TokenState};

/// Who authenticated at the introspection endpoint.
#[derive(Debug, Clone, Copy)]
pub enum Asker<'a> {
    /// A confidential client of the app, by its record id.
    Client(Id),
    /// A resource server of the app, by its identifier.
    ResourceServer { identifier: &'a str, require_binding: bool },
}

/// Whether `asker` may see that `token` is active; otherwise it is answered `{"active": false}`.
pub fn visible_to(token: &TokenState, asker: Asker<'_>) -> bool {
    match asker {
        Asker::Client(id) => token.client_record_id == id,
        Asker::ResourceServer {
            identifier,
            require_binding,
        } => {
            token.kind == TokenKind::Access
                && (token.resources.iter().any(|r| r == identifier) || (token.resources.is_empty() && !require_binding))
        }
    }
}

/// Whether the introspection answer may carry the user's e-mail (`username`).
pub fn discloses_email(scopes: &[String]) -> bool {
    scopes.iter().any(|s| s == "email")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(kind: TokenKind, client: i64, resources: &[&str]) -> TokenState {
        TokenState {
            kind,
            client_record_id: Id::from_i64(client),
            client_id: format!("c{client}"),
            resources: resources.iter().map(|r| r.to_string()).collect(),
            ..TokenState::sample()
        }
    }

    #[test]
    fn only_the_tokens_owner_or_audience_sees_it() {
        use TokenKind::{Access, Refresh};
        let api = "https://api.example/mcp";
        let rs = |require_binding| Asker::ResourceServer {
            identifier: api,
            require_binding,
        };
        let cases: &[(TokenState, Asker, bool, &str)] = &[
            (token(Access, 1, &[]), Asker::Client(Id::from_i64(1)), true, "own access token"),
            (token(Refresh, 1, &[]), Asker::Client(Id::from_i64(1)), true, "own refresh token"),
            (
                token(Access, 1, &[]),
                Asker::Client(Id::from_i64(2)),
                false,
                "another client's access token",
            ),
            (
                token(Refresh, 1, &[]),
                Asker::Client(Id::from_i64(2)),
                false,
                "another client's refresh token",
            ),
            (token(Access, 1, &[api]), rs(true), true, "bound to this resource server"),
            (
                token(Access, 1, &["https://other.example"]),
                rs(false),
                false,
                "bound to another one",
            ),
            (token(Access, 1, &[]), rs(false), true, "unbound, binding not required"),
            (token(Access, 1, &[]), rs(true), false, "unbound, binding required"),
            (token(Refresh, 1, &[api]), rs(false), false, "a refresh token, even bound"),
            (token(Refresh, 1, &[]), rs(false), false, "a refresh token, unbound"),
        ];
        for (t, asker, want, case) in cases {
            assert_eq!(visible_to(t, *asker), *want, "{case}");
        }
    }

    #[test]
    fn email_needs_the_email_scope() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(discloses_email(&s(&["openid", "email"])));
        assert!(!discloses_email(&s(&["openid", "profile", "read"])));
        assert!(!discloses_email(&s(&[])));
    }
}
