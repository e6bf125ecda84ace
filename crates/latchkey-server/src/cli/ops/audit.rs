//! `latchkey audit`: the operator command that reads the audit trail (`/audit-events`).

use clap::Args;

use super::Req;

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only this action (client.secret_rotated), or a prefix ending in '.' (client.)
    #[arg(long)]
    action: Option<String>,
    /// Only events about this public client_id
    #[arg(long)]
    client_id: Option<String>,
    /// Only events about this app (its id)
    #[arg(long, value_name = "ID")]
    app_id: Option<String>,
    /// Only events by this actor (api_key:ID, or just the kind: api_key, user, client, system)
    #[arg(long)]
    actor: Option<String>,
    /// Only events about this object id
    #[arg(long, value_name = "ID")]
    target_id: Option<String>,
    /// Only events at or after this time (RFC 3339, e.g. 2026-01-31T12:00:00Z)
    #[arg(long, value_name = "RFC3339")]
    since: Option<String>,
    /// Only events before this time (RFC 3339)
    #[arg(long, value_name = "RFC3339")]
    until: Option<String>,
    /// At most this many (1 to 500; default 100)
    #[arg(long, value_name = "N")]
    limit: Option<u32>,
    /// Continue after this cursor (the previous page's next_cursor)
    #[arg(long)]
    cursor: Option<String>,
}

pub(super) fn request(a: AuditArgs) -> Req {
    Req::get("/audit-events")
        .query("action", a.action)
        .query("client_id", a.client_id)
        .query("app_id", a.app_id)
        .query("actor", a.actor)
        .query("target_id", a.target_id)
        .query("since", a.since)
        .query("until", a.until)
        .query("limit", a.limit)
        .query("cursor", a.cursor)
        .more("--cursor")
}
