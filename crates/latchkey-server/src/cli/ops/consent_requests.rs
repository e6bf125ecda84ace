//! `latchkey consent-requests`: the operator commands that answer consent requests for an external consent page.

use clap::Subcommand;
use serde_json::json;

use super::{Req, non_empty, seg};

#[derive(Debug, Subcommand)]
pub enum ConsentRequestsCmd {
    /// Show a pending request (client, scopes, resources)
    Get {
        /// The handoff_id your consent page received
        handoff_id: String,
    },
    /// Approve it for a user and a resource; prints the URL to send the browser to
    Accept {
        /// The handoff_id your consent page received
        handoff_id: String,
        /// The user who approved
        #[arg(long)]
        user: String,
        /// urn:latchkey:user:ID, urn:latchkey:organization:ID or urn:latchkey:workspace:ID
        #[arg(long, value_name = "URN")]
        resource: String,
        /// Grant only these of the requested scopes (repeatable; default: all)
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
    },
    /// Deny it; prints the URL to send the browser to
    Reject {
        /// The handoff_id your consent page received
        handoff_id: String,
    },
}

pub(super) fn request(cmd: ConsentRequestsCmd) -> Req {
    match cmd {
        ConsentRequestsCmd::Get { handoff_id } => Req::get(format!("/consent-requests/{}", seg(&handoff_id))),
        ConsentRequestsCmd::Accept {
            handoff_id,
            user,
            resource,
            scopes,
        } => Req::post(
            format!("/consent-requests/{}/accept", seg(&handoff_id)),
            json!({"user_id": user, "granted_resource": resource, "scopes": non_empty(scopes)}),
        ),
        ConsentRequestsCmd::Reject { handoff_id } => Req::post_empty(format!("/consent-requests/{}/reject", seg(&handoff_id))),
    }
}
