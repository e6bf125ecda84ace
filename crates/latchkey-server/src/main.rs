use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = latchkey_server::cli::Cli::parse();
    match latchkey_server::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
