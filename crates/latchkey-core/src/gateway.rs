//! The gateway's decision for one check, after the token-level checks of
//! [`verify::check_token`]: tenant, resource binding (RFC 8707 with the app's registered
//! resource servers and their aliases), then permissions (all of `required_permissions`
//! among the effective permissions). Rate limits come last and live in the server.

use serde::Serialize;

use crate::consent::{Memberships, effective_permissions};
use crate::grant::GrantedResource;
use crate::resource_server::ResourceServer;
use crate::scope::ScopeDefinition;
use crate::verify::{self, DenyReason, TokenState};
use crate::{Id, Timestamp};

/// What a check is about, beyond the token.
#[derive(Debug, Clone, Copy)]
pub struct CheckRequest<'a> {
    /// The caller's deployment (None for an anonymous check, allowed by the token's deployment).
    pub caller_deployment: Option<Id>,
    pub resource: &'a str,
    pub required_permissions: &'a [String],
}

/// Everything the decision reads about the token's app and user.
#[derive(Debug, Clone, Copy)]
pub struct CheckContext<'a> {
    pub token: &'a TokenState,
    pub scope_defs: &'a [ScopeDefinition],
    pub servers: &'a [ResourceServer],
    pub memberships: &'a Memberships,
}

/// A decision on a token that is good for this caller and resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// The token's scopes that still hold ([`verify::standing_scopes`]).
    pub scopes: Vec<String>,
    /// Effective permissions: those scopes plus the directory permissions mapped from them that
    /// the user still holds on the granted resource.
    pub permissions: Vec<String>,
    /// Required permissions the token lacks (empty when allowed).
    pub missing: Vec<String>,
    /// The canonical identifier of the resource server the check was for, when registered.
    pub oauth_resource: Option<String>,
}

impl Decision {
    pub fn allowed(&self) -> bool {
        self.missing.is_empty()
    }
}

/// Which resource server `resource` names, and whether the token may be used there: a token
/// bound to resources only where one of them is named; an unbound token anywhere, except at a
/// resource server that requires binding.
pub fn match_resource<'a>(
    bound: &[String],
    servers: &'a [ResourceServer],
    resource: &str,
) -> Result<Option<&'a ResourceServer>, DenyReason> {
    let server = servers.iter().find(|s| s.answers_to(resource));
    if !bound.is_empty() {
        return match server {
            Some(s) if bound.contains(&s.identifier) => Ok(Some(s)),
            _ => Err(DenyReason::ResourceMismatch),
        };
    }
    match server {
        Some(s) if s.require_binding => Err(DenyReason::ResourceMismatch),
        other => Ok(other),
    }
}

/// The whole gateway decision short of rate limiting. An `Err` is a token-level denial
/// (answered 401); an `Ok` whose `missing` is not empty is a permission denial (200).
pub fn decide(ctx: &CheckContext<'_>, req: &CheckRequest<'_>, now: Timestamp) -> Result<Decision, DenyReason> {
    let t = verify::check_token(Some(ctx.token), now)?;
    if req.caller_deployment.is_some_and(|d| d != t.deployment_id) {
        return Err(DenyReason::WrongTenant);
    }
    let server = match_resource(&t.resources, ctx.servers, req.resource)?;
    let scopes = verify::standing_scopes(t, ctx.scope_defs, ctx.memberships)?;
    let permissions = effective_permissions(&scopes, ctx.scope_defs, t.granted_resource, t.user_id, ctx.memberships);
    let missing = req
        .required_permissions
        .iter()
        .filter(|p| !permissions.contains(p))
        .cloned()
        .collect();
    Ok(Decision {
        scopes,
        permissions,
        missing,
        oauth_resource: server.map(|s| s.identifier.clone()).or_else(|| match t.resources.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        }),
    })
}

/// Organization and workspace of a granted resource, with the user's membership ids.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ResourceIdentity {
    pub organization_id: Option<Id>,
    pub workspace_id: Option<Id>,
    pub organization_membership_id: Option<Id>,
    pub workspace_membership_id: Option<Id>,
}

pub fn resource_identity(resource: GrantedResource, m: &Memberships) -> ResourceIdentity {
    match resource {
        GrantedResource::User(_) => ResourceIdentity::default(),
        GrantedResource::Organization(o) => ResourceIdentity {
            organization_id: Some(o),
            organization_membership_id: m.org(o).map(|om| om.membership_id),
            ..Default::default()
        },
        GrantedResource::Workspace(w) => {
            let wm = m.workspace(w);
            let org = wm.map(|wm| wm.organization_id);
            ResourceIdentity {
                organization_id: org,
                workspace_id: Some(w),
                organization_membership_id: org.and_then(|o| m.org(o)).map(|om| om.membership_id),
                workspace_membership_id: wm.map(|wm| wm.membership_id),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::{OrgMembership, WorkspaceMembership};
    use crate::scope::{ScopeCategory, ScopeMapping};

    fn server(id: &str, aliases: &[&str], require_binding: bool) -> ResourceServer {
        ResourceServer {
            id: Id::from_i64(1),
            app_id: Id::from_i64(1),
            identifier: id.into(),
            name: id.into(),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            scopes: vec![],
            require_binding,
            credential_id: None,
            created_at: Timestamp::from_millis(0),
            updated_at: Timestamp::from_millis(0),
        }
    }

    #[test]
    fn resource_binding_rules() {
        let servers = vec![
            server("https://api.test/mcp", &["mcp"], false),
            server("https://api.test/admin", &["admin"], true),
        ];
        let bound = vec!["https://api.test/mcp".to_owned()];
        for (tokens_resources, asked, ok) in [
            (&bound[..], "https://api.test/mcp", true),
            (&bound[..], "mcp", true),
            (&bound[..], "admin", false),
            (&bound[..], "https://elsewhere.test/", false),
            (&[][..], "mcp", true),
            (&[][..], "/v1/anything", true),
            (&[][..], "admin", false),
            (&[][..], "https://api.test/admin", false),
        ] {
            assert_eq!(
                match_resource(tokens_resources, &servers, asked).is_ok(),
                ok,
                "{tokens_resources:?} at {asked}"
            );
        }
        assert_eq!(
            match_resource(&bound, &servers, "mcp").unwrap().unwrap().identifier,
            "https://api.test/mcp"
        );
    }

    fn token(resource: GrantedResource, scopes: &[&str]) -> TokenState {
        TokenState {
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            granted_resource: resource,
            ..TokenState::sample()
        }
    }

    #[test]
    fn tenant_resource_and_permissions_in_order() {
        let mut write = ScopeDefinition::bare("projects:write");
        write.set_mapping(ScopeMapping::new(ScopeCategory::Organization, Some("org:projects:write"), None, "").unwrap());
        let defs = vec![write, ScopeDefinition::bare("read")];
        let org = Id::from_i64(10);
        let m = Memberships {
            organizations: vec![OrgMembership {
                membership_id: Id::from_i64(99),
                organization_id: org,
                name: "Acme".into(),
                permissions: vec!["org:projects:write".into()],
            }],
            workspaces: vec![],
        };
        let t = token(GrantedResource::Organization(org), &["projects:write", "read"]);
        let servers = vec![server("https://api.test/mcp", &["mcp"], false)];
        let ctx = CheckContext {
            token: &t,
            scope_defs: &defs,
            servers: &servers,
            memberships: &m,
        };
        let now = Timestamp::from_millis(1);
        let req = |dep: Option<i64>, resource, perms: &'static [&'static str]| -> (Option<Id>, &'static str, Vec<String>) {
            (dep.map(Id::from_i64), resource, perms.iter().map(|p| p.to_string()).collect())
        };
        let run = |(dep, resource, perms): (Option<Id>, &str, Vec<String>)| {
            decide(
                &ctx,
                &CheckRequest {
                    caller_deployment: dep,
                    resource,
                    required_permissions: &perms,
                },
                now,
            )
        };

        let d = run(req(Some(1), "mcp", &["read", "org:projects:write"])).unwrap();
        assert!(d.allowed());
        assert_eq!(d.permissions, ["projects:write", "read", "org:projects:write"]);
        assert_eq!(d.oauth_resource.as_deref(), Some("https://api.test/mcp"));
        assert_eq!(
            run(req(None, "mcp", &[])).unwrap().missing,
            Vec::<String>::new(),
            "anonymous checks skip the tenant test"
        );
        assert_eq!(run(req(Some(2), "mcp", &[])).unwrap_err(), DenyReason::WrongTenant);
        let denied = run(req(Some(1), "mcp", &["admin", "read"])).unwrap();
        assert_eq!(denied.missing, ["admin"]);

        // The user lost the org permission: the scope stays, the mapped permission goes.
        let lost = Memberships {
            organizations: vec![OrgMembership {
                permissions: vec![],
                ..m.organizations[0].clone()
            }],
            workspaces: vec![],
        };
        let ctx2 = CheckContext { memberships: &lost, ..ctx };
        let d = decide(
            &ctx2,
            &CheckRequest {
                caller_deployment: Some(Id::from_i64(1)),
                resource: "mcp",
                required_permissions: &["org:projects:write".into()],
            },
            now,
        )
        .unwrap();
        assert_eq!(d.missing, ["org:projects:write"]);

        // Token-level reasons come first.
        let mut revoked = t.clone();
        revoked.grant_active = false;
        let ctx3 = CheckContext { token: &revoked, ..ctx };
        assert_eq!(
            decide(
                &ctx3,
                &CheckRequest {
                    caller_deployment: Some(Id::from_i64(2)),
                    resource: "mcp",
                    required_permissions: &[]
                },
                now
            )
            .unwrap_err(),
            DenyReason::GrantRevoked
        );

        let ri = resource_identity(GrantedResource::Organization(org), &m);
        assert_eq!(
            (ri.organization_id, ri.organization_membership_id, ri.workspace_id),
            (Some(org), Some(Id::from_i64(99)), None)
        );
        let wm = Memberships {
            workspaces: vec![WorkspaceMembership {
                membership_id: Id::from_i64(5),
                workspace_id: Id::from_i64(20),
                organization_id: org,
                name: "R".into(),
                permissions: vec![],
            }],
            ..m.clone()
        };
        let ri = resource_identity(GrantedResource::Workspace(Id::from_i64(20)), &wm);
        assert_eq!(
            (ri.organization_id, ri.workspace_membership_id, ri.organization_membership_id),
            (Some(org), Some(Id::from_i64(5)), Some(Id::from_i64(99)))
        );
    }
}
