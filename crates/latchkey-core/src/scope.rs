//! Scopes: the RFC 6749 §3.3 scope-token syntax, an app's scope definitions (display name,
//! description, archive flag, the category of resource they are granted on and the
//! directory permission they map to), and the merge rules operators rely on: changing some
//! scopes never resets the others.

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::validate::{self, ValidationError, ValidationErrors};

/// Most scopes one app may define.
pub const MAX_SCOPES: usize = 200;
const MAX_SCOPE_LEN: usize = 128;
const MAX_DISPLAY_NAME: usize = 100;
const MAX_DESCRIPTION: usize = 1000;

/// RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )` (printable ASCII except
/// space, `"` and `\`), here also capped at 128 characters.
pub fn is_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_SCOPE_LEN
        && s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

/// A scope an app defines: a scope token without `,` — the published SDKs send an app's
/// scopes comma-joined in multipart forms, so a comma inside a name could not survive that.
pub fn scope_token(field: &str, s: &str) -> Result<String, ValidationError> {
    if s.contains(',') {
        return Err(ValidationError::new(field, format!("{s:?}: a scope name must not contain ','")));
    }
    if is_scope_token(s) {
        Ok(s.to_owned())
    } else {
        Err(ValidationError::new(
            field,
            format!("{s:?} is not a valid scope: use 1-{MAX_SCOPE_LEN} printable ASCII characters without spaces, '\"' or '\\'"),
        ))
    }
}

/// Which kind of resource a scope is granted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ScopeCategory {
    /// Not mapped yet (`""` on the wire): granted on the user's personal resource.
    #[default]
    Unset,
    Personal,
    Organization,
    Workspace,
}

impl ScopeCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeCategory::Unset => "",
            ScopeCategory::Personal => "personal",
            ScopeCategory::Organization => "organization",
            ScopeCategory::Workspace => "workspace",
        }
    }

    pub fn parse(field: &str, s: &str) -> Result<Self, ValidationError> {
        match s {
            "" => Ok(ScopeCategory::Unset),
            "personal" => Ok(ScopeCategory::Personal),
            "organization" => Ok(ScopeCategory::Organization),
            "workspace" => Ok(ScopeCategory::Workspace),
            other => Err(ValidationError::new(
                field,
                format!("{other:?} is not a category: use personal, organization or workspace"),
            )),
        }
    }
}

impl fmt::Display for ScopeCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ScopeCategory {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The resource category a scope is granted on and the directory permissions it maps to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScopeMapping {
    pub category: ScopeCategory,
    pub organization_permission: Option<String>,
    pub workspace_permission: Option<String>,
}

impl ScopeMapping {
    /// Checks that the permissions fit the category: a personal (or unset) scope maps to no
    /// permission; an organization scope may map to an organization permission; a workspace
    /// scope may map to a workspace permission and to a permission on the workspace's
    /// organization.
    pub fn new(
        category: ScopeCategory,
        organization_permission: Option<&str>,
        workspace_permission: Option<&str>,
        field: &str,
    ) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let org = organization_permission
            .filter(|p| !p.is_empty())
            .and_then(|p| errors.check(validate::permission(&format!("{field}organization_permission"), p)));
        let ws = workspace_permission
            .filter(|p| !p.is_empty())
            .and_then(|p| errors.check(validate::permission(&format!("{field}workspace_permission"), p)));
        match category {
            ScopeCategory::Unset | ScopeCategory::Personal => {
                if org.is_some() {
                    errors.add(
                        format!("{field}organization_permission"),
                        format!("a {} scope cannot map to an organization permission", category_label(category)),
                    );
                }
                if ws.is_some() {
                    errors.add(
                        format!("{field}workspace_permission"),
                        format!("a {} scope cannot map to a workspace permission", category_label(category)),
                    );
                }
            }
            ScopeCategory::Organization => {
                if ws.is_some() {
                    errors.add(
                        format!("{field}workspace_permission"),
                        "an organization scope cannot map to a workspace permission",
                    );
                }
            }
            ScopeCategory::Workspace => {}
        }
        errors.finish(ScopeMapping {
            category,
            organization_permission: org,
            workspace_permission: ws,
        })
    }
}

fn category_label(c: ScopeCategory) -> &'static str {
    match c {
        ScopeCategory::Unset => "unmapped",
        other => other.as_str(),
    }
}

/// One scope of an app, as stored and as sent on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScopeDefinition {
    pub scope: String,
    pub display_name: String,
    pub description: String,
    pub archived: bool,
    pub category: ScopeCategory,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_permission: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workspace_permission: Option<String>,
}

impl ScopeDefinition {
    /// A scope nobody has described yet: its display name is its name.
    pub fn bare(scope: &str) -> Self {
        ScopeDefinition {
            scope: scope.to_owned(),
            display_name: scope.to_owned(),
            description: String::new(),
            archived: false,
            category: ScopeCategory::Unset,
            organization_permission: None,
            workspace_permission: None,
        }
    }

    pub fn mapping(&self) -> ScopeMapping {
        ScopeMapping {
            category: self.category,
            organization_permission: self.organization_permission.clone(),
            workspace_permission: self.workspace_permission.clone(),
        }
    }

    pub fn set_mapping(&mut self, m: ScopeMapping) {
        self.category = m.category;
        self.organization_permission = m.organization_permission;
        self.workspace_permission = m.workspace_permission;
    }
}

/// A scope definition as sent by an operator: everything but the name is optional, and
/// what is left out keeps its current value.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ScopeDefinitionInput {
    pub scope: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub archived: Option<bool>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub organization_permission: Option<String>,
    #[serde(default)]
    pub workspace_permission: Option<String>,
}

/// Changes to one scope's text (the PATCH .../scopes/{scope} body).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeTextPatch {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// The result of merging operator input into an app's scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeMerge {
    pub scopes: Vec<ScopeDefinition>,
    /// Scopes that existed before and are gone now; the store refuses the change if a live
    /// grant still holds one of them.
    pub removed: Vec<String>,
}

/// Merges `supported` (the full list of scope names, when given) and `definitions` (some
/// scopes' descriptions, when given) into `existing`.
///
/// - `supported` given: the app's scopes become exactly that list, in that order; scopes
///   already defined keep their definitions, new ones start bare, missing ones are removed.
/// - `definitions` given: each named scope is updated with the fields it carries; a scope
///   that does not exist yet is added, unless `supported` was given and leaves it out.
/// - Scopes mentioned by neither keep everything, archive flag and mapping included.
pub fn merge_scopes(
    existing: &[ScopeDefinition],
    supported: Option<&[String]>,
    definitions: Option<&[ScopeDefinitionInput]>,
) -> Result<ScopeMerge, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let mut scopes: Vec<ScopeDefinition> = match supported {
        None => existing.to_vec(),
        Some(list) => {
            let mut seen = HashSet::new();
            let mut out = Vec::with_capacity(list.len());
            for (i, name) in list.iter().enumerate() {
                let name = name.trim();
                let field = format!("supported_scopes[{i}]");
                let Some(name) = errors.check(scope_token(&field, name)) else {
                    continue;
                };
                if !seen.insert(name.clone()) {
                    errors.add(field, format!("{name:?} is listed twice"));
                    continue;
                }
                out.push(
                    existing
                        .iter()
                        .find(|d| d.scope == name)
                        .cloned()
                        .unwrap_or_else(|| ScopeDefinition::bare(&name)),
                );
            }
            out
        }
    };

    if let Some(defs) = definitions {
        let mut seen = HashSet::new();
        for (i, def) in defs.iter().enumerate() {
            let field = format!("scope_definitions[{i}].");
            let Some(name) = errors.check(scope_token(&format!("{field}scope"), def.scope.trim())) else {
                continue;
            };
            if !seen.insert(name.clone()) {
                errors.add(format!("{field}scope"), format!("{name:?} is defined twice"));
                continue;
            }
            let idx = match scopes.iter().position(|d| d.scope == name) {
                Some(idx) => idx,
                None if supported.is_some() => {
                    errors.add(format!("{field}scope"), format!("{name:?} is not in supported_scopes"));
                    continue;
                }
                None => {
                    scopes.push(ScopeDefinition::bare(&name));
                    scopes.len() - 1
                }
            };
            let target = &mut scopes[idx];
            if let Err(e) = apply_definition(target, def, &field) {
                errors.0.extend(e.0);
            }
        }
    }

    if scopes.len() > MAX_SCOPES {
        errors.add("supported_scopes", format!("an app may define at most {MAX_SCOPES} scopes"));
    }
    let removed = existing
        .iter()
        .filter(|old| !scopes.iter().any(|d| d.scope == old.scope))
        .map(|d| d.scope.clone())
        .collect();
    errors.finish(ScopeMerge { scopes, removed })
}

fn apply_definition(target: &mut ScopeDefinition, def: &ScopeDefinitionInput, field: &str) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::new();
    apply_text(
        target,
        &ScopeTextPatch {
            display_name: def.display_name.clone(),
            description: def.description.clone(),
        },
        field,
        &mut errors,
    );
    if let Some(archived) = def.archived {
        target.archived = archived;
    }
    let permissions_sent = def.organization_permission.is_some() || def.workspace_permission.is_some();
    if def.category.is_some() || permissions_sent {
        // A category without permissions clears them; permissions without a category apply
        // to the scope's current category.
        let category = match &def.category {
            Some(c) => errors.check(ScopeCategory::parse(&format!("{field}category"), c)),
            None => Some(target.category),
        };
        if let Some(category) = category {
            match ScopeMapping::new(
                category,
                def.organization_permission.as_deref(),
                def.workspace_permission.as_deref(),
                field,
            ) {
                Ok(m) => target.set_mapping(m),
                Err(e) => errors.0.extend(e.0),
            }
        }
    }
    errors.finish(())
}

fn apply_text(target: &mut ScopeDefinition, patch: &ScopeTextPatch, field: &str, errors: &mut ValidationErrors) {
    if let Some(name) = &patch.display_name
        && let Some(v) = errors.check(validate::text(&format!("{field}display_name"), name, MAX_DISPLAY_NAME))
    {
        target.display_name = v;
    }
    if let Some(desc) = &patch.description {
        let desc = desc.trim();
        if desc.chars().count() > MAX_DESCRIPTION {
            errors.add(
                format!("{field}description"),
                format!("must be at most {MAX_DESCRIPTION} characters"),
            );
        } else if desc.chars().any(|c| c.is_control() && c != '\n') {
            errors.add(format!("{field}description"), "must not contain control characters");
        } else {
            target.description = desc.to_owned();
        }
    }
}

/// Applies a display name / description change to one scope.
pub fn patch_text(target: &mut ScopeDefinition, patch: &ScopeTextPatch) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::new();
    apply_text(target, patch, "", &mut errors);
    errors.finish(())
}

/// Space-separated scope list as in RFC 6749 `scope` parameters and as stored on grants.
pub fn join(scopes: &[String]) -> String {
    scopes.join(" ")
}

pub fn split(s: &str) -> Vec<String> {
    s.split(' ').filter(|t| !t.is_empty()).map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(m: &ScopeMerge) -> Vec<&str> {
        m.scopes.iter().map(|d| d.scope.as_str()).collect()
    }

    fn def(scope: &str) -> ScopeDefinitionInput {
        ScopeDefinitionInput {
            scope: scope.into(),
            ..Default::default()
        }
    }

    #[test]
    fn scope_token_syntax_follows_rfc_6749() {
        for (s, ok) in [
            ("read", true),
            ("mcp:invoke", true),
            ("https://api.example.com/read", true),
            ("a!#[]~", true),
            ("", false),
            ("two words", false),
            ("quote\"", false),
            ("back\\slash", false),
            ("tab\t", false),
            ("ünïcode", false),
            (&"x".repeat(129), false),
        ] {
            assert_eq!(is_scope_token(s), ok, "{s:?}");
        }
        assert!(is_scope_token("a,b"), "a request may carry any scope token");
        assert!(scope_token("scope", "a,b").is_err(), "an app may not define one with a comma");
        assert!(scope_token("scope", "mcp:invoke").is_ok());
    }

    #[test]
    fn mapping_rules_per_category() {
        use ScopeCategory::*;
        for (cat, org, ws, ok) in [
            (Personal, None, None, true),
            (Personal, Some("org:read"), None, false),
            (Personal, None, Some("ws:read"), false),
            (Unset, Some("org:read"), None, false),
            (Organization, Some("org:read"), None, true),
            (Organization, None, None, true),
            (Organization, None, Some("ws:read"), false),
            (Workspace, None, Some("ws:read"), true),
            (Workspace, Some("org:read"), Some("ws:read"), true),
            (Workspace, None, Some("bad permission"), false),
        ] {
            assert_eq!(ScopeMapping::new(cat, org, ws, "").is_ok(), ok, "{cat:?} {org:?} {ws:?}");
        }
        assert!(ScopeCategory::parse("c", "team").is_err());
    }

    #[test]
    fn supported_list_replaces_names_but_keeps_definitions() {
        let mut read = ScopeDefinition::bare("read");
        read.archived = true;
        read.display_name = "Read".into();
        let existing = vec![read.clone(), ScopeDefinition::bare("write")];
        let m = merge_scopes(&existing, Some(&["write".into(), "read".into(), "admin".into()]), None).unwrap();
        assert_eq!(names(&m), ["write", "read", "admin"]);
        assert_eq!(m.scopes[1], read, "read keeps its archive flag and display name");
        assert!(m.removed.is_empty());

        let m = merge_scopes(&existing, Some(&["write".into()]), None).unwrap();
        assert_eq!(m.removed, ["read"]);
    }

    #[test]
    fn definitions_update_only_what_they_carry() {
        let mut read = ScopeDefinition::bare("read");
        read.archived = true;
        read.set_mapping(ScopeMapping::new(ScopeCategory::Organization, Some("org:read"), None, "").unwrap());
        let existing = vec![read, ScopeDefinition::bare("write")];
        let input = ScopeDefinitionInput {
            description: Some("Read things".into()),
            ..def("read")
        };
        let m = merge_scopes(&existing, None, Some(&[input])).unwrap();
        assert_eq!(m.scopes[0].description, "Read things");
        assert!(m.scopes[0].archived, "archive flag not sent, so kept");
        assert_eq!(m.scopes[0].organization_permission.as_deref(), Some("org:read"), "mapping kept");
        assert_eq!(m.scopes[1], existing[1]);

        // A definition for a new scope adds it when no supported list is given.
        let m = merge_scopes(&existing, None, Some(&[def("admin")])).unwrap();
        assert_eq!(names(&m), ["read", "write", "admin"]);
        // ...but not when the supported list leaves it out.
        assert!(merge_scopes(&existing, Some(&["read".into()]), Some(&[def("admin")])).is_err());
    }

    #[test]
    fn bad_input_is_reported_per_field() {
        let err = merge_scopes(
            &[],
            Some(&["ok".into(), "bad scope".into(), "ok".into()]),
            Some(&[
                ScopeDefinitionInput {
                    category: Some("galaxy".into()),
                    ..def("ok")
                },
                ScopeDefinitionInput {
                    display_name: Some("".into()),
                    ..def("ok")
                },
            ]),
        )
        .unwrap_err();
        let fields: Vec<&str> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "supported_scopes[1]",
                "supported_scopes[2]",
                "scope_definitions[0].category",
                "scope_definitions[1].scope"
            ]
        );
    }

    #[test]
    fn category_without_permissions_clears_them() {
        let mut s = ScopeDefinition::bare("x");
        s.set_mapping(ScopeMapping::new(ScopeCategory::Organization, Some("p"), None, "").unwrap());
        let m = merge_scopes(
            &[s],
            None,
            Some(&[ScopeDefinitionInput {
                category: Some("personal".into()),
                ..def("x")
            }]),
        )
        .unwrap();
        assert_eq!(
            m.scopes[0].mapping(),
            ScopeMapping {
                category: ScopeCategory::Personal,
                ..Default::default()
            }
        );
    }
}
