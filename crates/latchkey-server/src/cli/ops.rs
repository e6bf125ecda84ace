//! Operator commands (filled in below).

#[derive(Debug, clap::Subcommand)]
pub enum OpsCommand {}

pub async fn run(cmd: OpsCommand) -> anyhow::Result<()> {
    match cmd {}
}
