//! Which resources a user may grant a set of scopes on, from each scope's category and
//! permission mapping and the user's memberships.
//!
//! Rules: a personal (or unmapped) scope concerns the user and can be granted on any
//! resource; an organization scope only on an organization the user belongs to, holding the
//! mapped organization permission if there is one; a workspace scope only on a workspace the
//! user belongs to, holding the mapped workspace permission, and the mapped organization
//! permission in the workspace's organization. A resource is offered when every requested
//! scope can be granted on it; the user's personal resource only when no scope needs an
//! organization or a workspace.

use serde::Serialize;

use crate::Id;
use crate::grant::{Grant, GrantedResource};
use crate::scope::{ScopeCategory, ScopeDefinition};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgMembership {
    pub membership_id: Id,
    pub organization_id: Id,
    pub name: String,
    pub permissions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceMembership {
    pub membership_id: Id,
    pub workspace_id: Id,
    pub organization_id: Id,
    pub name: String,
    pub permissions: Vec<String>,
}

/// Everything the directory knows about a user's groups, for consent and verification.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Memberships {
    pub organizations: Vec<OrgMembership>,
    pub workspaces: Vec<WorkspaceMembership>,
}

impl Memberships {
    pub fn org(&self, id: Id) -> Option<&OrgMembership> {
        self.organizations.iter().find(|o| o.organization_id == id)
    }

    pub fn workspace(&self, id: Id) -> Option<&WorkspaceMembership> {
        self.workspaces.iter().find(|w| w.workspace_id == id)
    }
}

fn holds(list: &[String], p: &Option<String>) -> bool {
    p.as_ref().is_none_or(|p| list.contains(p))
}

/// Whether `scope` may be granted (or, at verification time, still holds) on `resource`.
pub fn scope_holds_on(scope: &ScopeDefinition, resource: GrantedResource, user_id: Id, m: &Memberships) -> bool {
    match (scope.category, resource) {
        (ScopeCategory::Unset | ScopeCategory::Personal, GrantedResource::User(u)) => u == user_id,
        (ScopeCategory::Unset | ScopeCategory::Personal, GrantedResource::Organization(o)) => m.org(o).is_some(),
        (ScopeCategory::Unset | ScopeCategory::Personal, GrantedResource::Workspace(w)) => m.workspace(w).is_some(),
        (ScopeCategory::Organization, GrantedResource::Organization(o)) => {
            m.org(o).is_some_and(|om| holds(&om.permissions, &scope.organization_permission))
        }
        (ScopeCategory::Workspace, GrantedResource::Workspace(w)) => m.workspace(w).is_some_and(|wm| {
            holds(&wm.permissions, &scope.workspace_permission)
                && (scope.organization_permission.is_none()
                    || m.org(wm.organization_id)
                        .is_some_and(|om| holds(&om.permissions, &scope.organization_permission)))
        }),
        _ => false,
    }
}

/// A resource the user can choose on the consent page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceChoice {
    pub resource: GrantedResource,
    pub kind: &'static str,
    pub label: String,
}

/// The resources on which every one of `scopes` can be granted, personal first.
pub fn resource_choices(scopes: &[&ScopeDefinition], user_id: Id, m: &Memberships) -> Vec<ResourceChoice> {
    let mut candidates = vec![(GrantedResource::User(user_id), "Personal account".to_owned())];
    candidates.extend(
        m.organizations
            .iter()
            .map(|o| (GrantedResource::Organization(o.organization_id), o.name.clone())),
    );
    candidates.extend(m.workspaces.iter().map(|w| {
        let org = m.org(w.organization_id).map(|o| o.name.as_str()).unwrap_or("");
        (
            GrantedResource::Workspace(w.workspace_id),
            if org.is_empty() {
                w.name.clone()
            } else {
                format!("{org} / {}", w.name)
            },
        )
    }));
    candidates
        .into_iter()
        .filter(|(r, _)| scopes.iter().all(|s| scope_holds_on(s, *r, user_id, m)))
        .map(|(resource, label)| ResourceChoice {
            kind: resource.kind(),
            resource,
            label,
        })
        .collect()
}

/// Effective permissions of a grant now: its scopes, plus the directory permissions mapped
/// from those scopes that the user still holds on the granted resource.
pub fn effective_permissions(
    scopes: &[String],
    defs: &[ScopeDefinition],
    resource: GrantedResource,
    user_id: Id,
    m: &Memberships,
) -> Vec<String> {
    let mut out: Vec<String> = scopes.to_vec();
    let mut add = |p: &Option<String>| {
        if let Some(p) = p
            && !out.contains(p)
        {
            out.push(p.clone());
        }
    };
    for s in scopes {
        let Some(def) = defs.iter().find(|d| &d.scope == s) else {
            continue;
        };
        if def.archived || !scope_holds_on(def, resource, user_id, m) {
            continue;
        }
        match resource {
            GrantedResource::Organization(_) => add(&def.organization_permission),
            GrantedResource::Workspace(_) => {
                add(&def.workspace_permission);
                add(&def.organization_permission);
            }
            GrantedResource::User(_) => {}
        }
    }
    out
}

/// Remembered consent: a grant of this client to this user that already covers every
/// requested scope, on a resource where the user may still grant them (any such grant, not
/// only the newest).
pub fn covering_grant<'a>(grants: &'a [Grant], scopes: &[String], choices: &[ResourceChoice]) -> Option<&'a Grant> {
    grants
        .iter()
        .find(|g| scopes.iter().all(|s| g.scopes.contains(s)) && choices.iter().any(|c| c.resource == g.resource))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::ScopeMapping;

    fn def(name: &str, cat: ScopeCategory, org: Option<&str>, ws: Option<&str>) -> ScopeDefinition {
        let mut d = ScopeDefinition::bare(name);
        d.set_mapping(ScopeMapping::new(cat, org, ws, "").unwrap());
        d
    }

    fn memberships() -> Memberships {
        Memberships {
            organizations: vec![
                OrgMembership {
                    membership_id: Id::from_i64(100),
                    organization_id: Id::from_i64(10),
                    name: "Acme".into(),
                    permissions: vec!["org:read".into()],
                },
                OrgMembership {
                    membership_id: Id::from_i64(101),
                    organization_id: Id::from_i64(11),
                    name: "Beta".into(),
                    permissions: vec![],
                },
            ],
            workspaces: vec![WorkspaceMembership {
                membership_id: Id::from_i64(200),
                workspace_id: Id::from_i64(20),
                organization_id: Id::from_i64(10),
                name: "Research".into(),
                permissions: vec!["ws:write".into()],
            }],
        }
    }

    #[test]
    fn choices_follow_categories_and_permissions() {
        let me = Id::from_i64(1);
        let m = memberships();
        let personal = def("profile:read", ScopeCategory::Personal, None, None);
        let unset = ScopeDefinition::bare("misc");
        let org_read = def("org:read", ScopeCategory::Organization, Some("org:read"), None);
        let org_any = def("org:list", ScopeCategory::Organization, None, None);
        let ws_write = def("ws:write", ScopeCategory::Workspace, Some("org:read"), Some("ws:write"));
        let ws_admin = def("ws:admin", ScopeCategory::Workspace, None, Some("ws:admin"));
        let kinds = |scopes: &[&ScopeDefinition]| -> Vec<String> {
            resource_choices(scopes, me, &m).iter().map(|c| c.resource.to_string()).collect()
        };
        assert_eq!(
            kinds(&[&personal, &unset]),
            [
                "urn:latchkey:user:1",
                "urn:latchkey:organization:10",
                "urn:latchkey:organization:11",
                "urn:latchkey:workspace:20"
            ]
        );
        assert_eq!(kinds(&[&org_read]), ["urn:latchkey:organization:10"], "Beta lacks org:read");
        assert_eq!(
            kinds(&[&org_any, &personal]),
            ["urn:latchkey:organization:10", "urn:latchkey:organization:11"]
        );
        assert_eq!(kinds(&[&ws_write]), ["urn:latchkey:workspace:20"]);
        assert!(kinds(&[&ws_admin]).is_empty());
        assert!(kinds(&[&org_any, &ws_write]).is_empty(), "no single resource takes both");
        assert_eq!(resource_choices(&[&ws_write], me, &m)[0].label, "Acme / Research");
    }

    #[test]
    fn effective_permissions_need_current_membership() {
        let me = Id::from_i64(1);
        let defs = vec![
            def("ws:write", ScopeCategory::Workspace, Some("org:read"), Some("ws:write")),
            def("org:read", ScopeCategory::Organization, Some("org:read"), None),
        ];
        let scopes = vec!["ws:write".to_owned()];
        let m = memberships();
        let ws = GrantedResource::Workspace(Id::from_i64(20));
        assert_eq!(effective_permissions(&scopes, &defs, ws, me, &m), ["ws:write", "org:read"]);
        let mut lost = m.clone();
        lost.workspaces[0].permissions.clear();
        assert_eq!(
            effective_permissions(&scopes, &defs, ws, me, &lost),
            ["ws:write"],
            "scope stays, mapped permission goes"
        );
        let org = GrantedResource::Organization(Id::from_i64(10));
        assert_eq!(effective_permissions(&["org:read".into()], &defs, org, me, &m), ["org:read"]);
    }

    #[test]
    fn remembered_consent_needs_every_scope_on_a_resource_still_grantable() {
        let user = GrantedResource::User(Id::from_i64(1));
        let org = GrantedResource::Organization(Id::from_i64(10));
        let other_org = GrantedResource::Organization(Id::from_i64(11));
        let grant = |id: i64, resource: GrantedResource, scopes: &[&str]| Grant {
            id: Id::from_i64(id),
            deployment_id: Id::from_i64(1),
            app_id: Id::from_i64(1),
            app_slug: "acme".into(),
            client_record_id: Id::from_i64(1),
            client_id: "c".into(),
            user_id: Id::from_i64(1),
            resource,
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            status: crate::grant::GrantStatus::Active,
            granted_at: crate::Timestamp::from_millis(0),
            expires_at: None,
            revoked_at: None,
            revoked_by: None,
            revoke_reason: None,
            last_used_at: None,
            created_at: crate::Timestamp::from_millis(0),
            updated_at: crate::Timestamp::from_millis(0),
        };
        let choice = |resource| ResourceChoice {
            resource,
            kind: "x",
            label: String::new(),
        };
        let grants = [grant(1, org, &["read"]), grant(2, user, &["read", "write"])];
        // (requested scopes, resources the user may grant on now, the covering grant's id)
        let cases: &[(&[&str], &[GrantedResource], Option<i64>)] = &[
            (&["read"], &[user, org], Some(1)),
            (&["read", "write"], &[user, org], Some(2)),
            (&["read", "write"], &[org], None),
            (&["read"], &[user], Some(2)),
            (&["read"], &[other_org], None),
            (&["admin"], &[user, org], None),
            (&[], &[org], Some(1)),
            (&["read"], &[], None),
        ];
        for (scopes, grantable, want) in cases {
            let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
            let choices: Vec<ResourceChoice> = grantable.iter().map(|r| choice(*r)).collect();
            let got = covering_grant(&grants, &scopes, &choices).map(|g| g.id.get());
            assert_eq!(got, *want, "{scopes:?} on {grantable:?}");
        }
    }
}
