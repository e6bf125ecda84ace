//! `latchkey deployment`: the operator commands that show and change the deployment's settings.

use clap::Subcommand;
use serde_json::json;

use super::Req;

#[derive(Debug, Subcommand)]
pub enum DeploymentCmd {
    /// Show the deployment and its settings
    Get,
    /// Send /oauth/authorize to your own consent page instead of the hosted one
    SetConsentUrl {
        /// Absolute https URL; it receives ?handoff_id=…
        #[arg(value_name = "URL")]
        consent_url: String,
    },
    /// Go back to the hosted sign-in and consent pages
    ClearConsentUrl,
    /// Let callers without a backend API key check this deployment's tokens at the gateway
    AllowAnonymousGateway {
        /// true or false
        #[arg(value_name = "true|false", action = clap::ArgAction::Set)]
        allow: bool,
    },
}

pub(super) fn request(cmd: DeploymentCmd) -> Req {
    match cmd {
        DeploymentCmd::Get => Req::get("/deployment"),
        DeploymentCmd::SetConsentUrl { consent_url } => Req::patch_raw("/deployment", json!({"settings": {"consent_url": consent_url}})),
        DeploymentCmd::ClearConsentUrl => Req::patch_raw("/deployment", json!({"settings": {"consent_url": null}})),
        DeploymentCmd::AllowAnonymousGateway { allow } => {
            Req::patch_raw("/deployment", json!({"settings": {"allow_anonymous_gateway": allow}}))
        }
    }
}
