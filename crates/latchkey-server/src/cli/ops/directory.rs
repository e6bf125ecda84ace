//! `latchkey users`, `orgs` and `workspaces`: the operator commands for the built-in directory and its memberships.

use std::io::BufRead;

use anyhow::{Context, bail};
use clap::Subcommand;
use reqwest::Method;
use serde_json::json;

use super::{Body, Req, seg};

#[derive(Debug, Subcommand)]
pub enum UsersCmd {
    /// List users, newest first
    List {
        /// Only the user with this email
        #[arg(long)]
        email: Option<String>,
        /// At most this many (1 to 500; default 100)
        #[arg(long)]
        limit: Option<u32>,
        /// Continue after this cursor (the previous page's next_cursor)
        #[arg(long, value_name = "CURSOR")]
        before: Option<String>,
    },
    /// Show one user
    Get {
        /// The user's id
        id: String,
    },
    /// Create a user
    Create {
        /// Email address (the login name)
        #[arg(long)]
        email: String,
        /// Full name
        #[arg(long)]
        name: Option<String>,
        /// Given name
        #[arg(long)]
        given_name: Option<String>,
        /// Family name
        #[arg(long)]
        family_name: Option<String>,
        /// Mark the email address as verified
        #[arg(long)]
        email_verified: bool,
        /// Read a password from the first line of stdin (never pass it as an argument)
        #[arg(long)]
        password_stdin: bool,
    },
    /// Change a user; only the given options change
    Update {
        /// The user's id
        id: String,
        /// New email address
        #[arg(long)]
        email: Option<String>,
        /// New full name
        #[arg(long)]
        name: Option<String>,
        /// New given name
        #[arg(long)]
        given_name: Option<String>,
        /// New family name
        #[arg(long)]
        family_name: Option<String>,
        /// Whether the email address is verified
        #[arg(long, value_name = "true|false")]
        email_verified: Option<bool>,
        /// Whether the user may sign in
        #[arg(long, value_name = "true|false")]
        active: Option<bool>,
        /// Set a new password, read from the first line of stdin
        #[arg(long)]
        password_stdin: bool,
    },
    /// Delete a user
    Delete {
        /// The user's id
        id: String,
    },
    /// List a user's organization and workspace memberships
    Memberships {
        /// The user's id
        id: String,
    },
}

pub(super) fn users(cmd: UsersCmd) -> anyhow::Result<Req> {
    let user_path = |id: &str| format!("/users/{}", seg(id));
    Ok(match cmd {
        UsersCmd::List { email, limit, before } => Req::get("/users")
            .query("email", email)
            .query("limit", limit)
            .query("before", before)
            .more("--before"),
        UsersCmd::Get { id } => Req::get(user_path(&id)),
        UsersCmd::Create {
            email,
            name,
            given_name,
            family_name,
            email_verified,
            password_stdin,
        } => Req::post(
            "/users",
            json!({
                "email": email,
                "name": name,
                "given_name": given_name,
                "family_name": family_name,
                "email_verified": email_verified.then_some(true),
                "password": password_stdin.then(read_password).transpose()?,
            }),
        ),
        UsersCmd::Update {
            id,
            email,
            name,
            given_name,
            family_name,
            email_verified,
            active,
            password_stdin,
        } => Req::patch(
            user_path(&id),
            json!({
                "email": email,
                "name": name,
                "given_name": given_name,
                "family_name": family_name,
                "email_verified": email_verified,
                "is_active": active,
                "password": password_stdin.then(read_password).transpose()?,
            }),
        )?,
        UsersCmd::Delete { id } => Req::delete(user_path(&id)),
        UsersCmd::Memberships { id } => Req::get(format!("{}/memberships", user_path(&id))),
    })
}

/// The first line of stdin, without its line ending.
fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    let password = line.trim_end_matches(['\n', '\r']);
    if password.is_empty() {
        bail!(
            "--password-stdin: no password on stdin; pipe it in, e.g. `printf '%s\\n' \"$PASSWORD\" | latchkey users create … --password-stdin`"
        );
    }
    Ok(password.to_owned())
}

// ----- organizations and workspaces -----

/// Subcommands organizations and workspaces share.
#[derive(Debug, Subcommand)]
pub enum GroupCmd {
    /// Show one by its id
    Get {
        /// Its id
        id: String,
    },
    /// Rename one
    Rename {
        /// Its id
        id: String,
        /// The new name
        #[arg(long)]
        name: String,
    },
    /// Delete one
    Delete {
        /// Its id
        id: String,
    },
    /// List one's members
    Members {
        /// Its id
        id: String,
    },
    /// Add a user as a member
    AddMember {
        /// The organization's or workspace's id
        group: String,
        /// The user's id
        user: String,
        /// A permission the member holds (repeatable)
        #[arg(long = "permission", value_name = "P")]
        permissions: Vec<String>,
    },
    /// Replace a member's permissions (none given: the member keeps no permissions)
    SetPermissions {
        /// The organization's or workspace's id
        group: String,
        /// The user's id
        user: String,
        /// A permission the member holds (repeatable)
        #[arg(long = "permission", value_name = "P")]
        permissions: Vec<String>,
    },
    /// Remove a member
    RemoveMember {
        /// The organization's or workspace's id
        group: String,
        /// The user's id
        user: String,
    },
}

fn group(base: &str, cmd: GroupCmd) -> Req {
    let one = |id: &str| format!("{base}/{}", seg(id));
    let member = |g: &str, u: &str| format!("{}/memberships/{}", one(g), seg(u));
    match cmd {
        GroupCmd::Get { id } => Req::get(one(&id)),
        GroupCmd::Rename { id, name } => Req::new(Method::PATCH, one(&id), Body::Json(json!({ "name": name }))),
        GroupCmd::Delete { id } => Req::delete(one(&id)),
        GroupCmd::Members { id } => Req::get(format!("{}/memberships", one(&id))),
        GroupCmd::AddMember { group, user, permissions } => Req::post(
            format!("{}/memberships", one(&group)),
            json!({ "user_id": user, "permissions": permissions }),
        ),
        GroupCmd::SetPermissions { group, user, permissions } => Req::new(
            Method::PATCH,
            member(&group, &user),
            Body::Json(json!({ "permissions": permissions })),
        ),
        GroupCmd::RemoveMember { group, user } => {
            let mut r = Req::delete(member(&group, &user));
            r.view.done = "removed";
            r
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum OrgsCmd {
    /// List organizations, newest first
    List {
        /// At most this many (1 to 500; default 100)
        #[arg(long)]
        limit: Option<u32>,
        /// Continue after this cursor (the previous page's next_cursor)
        #[arg(long, value_name = "CURSOR")]
        before: Option<String>,
    },
    /// Create an organization
    Create {
        /// Its name
        #[arg(long)]
        name: String,
    },
    #[command(flatten)]
    Common(GroupCmd),
}

pub(super) fn orgs(cmd: OrgsCmd) -> Req {
    match cmd {
        OrgsCmd::List { limit, before } => Req::get("/organizations")
            .query("limit", limit)
            .query("before", before)
            .more("--before"),
        OrgsCmd::Create { name } => Req::post("/organizations", json!({ "name": name })),
        OrgsCmd::Common(c) => group("/organizations", c),
    }
}

#[derive(Debug, Subcommand)]
pub enum WorkspacesCmd {
    /// List workspaces, newest first
    List {
        /// Only the workspaces of this organization (its id)
        #[arg(long, value_name = "ID")]
        organization: Option<String>,
        /// At most this many (1 to 500; default 100)
        #[arg(long)]
        limit: Option<u32>,
        /// Continue after this cursor (the previous page's next_cursor)
        #[arg(long, value_name = "CURSOR")]
        before: Option<String>,
    },
    /// Create a workspace in an organization
    Create {
        /// The organization it belongs to (its id)
        #[arg(long, value_name = "ID")]
        organization: String,
        /// Its name
        #[arg(long)]
        name: String,
    },
    #[command(flatten)]
    Common(GroupCmd),
}

pub(super) fn workspaces(cmd: WorkspacesCmd) -> Req {
    match cmd {
        WorkspacesCmd::List {
            organization,
            limit,
            before,
        } => Req::get("/workspaces")
            .query("organization_id", organization)
            .query("limit", limit)
            .query("before", before)
            .more("--before"),
        WorkspacesCmd::Create { organization, name } => Req::post("/workspaces", json!({ "organization_id": organization, "name": name })),
        WorkspacesCmd::Common(c) => group("/workspaces", c),
    }
}
