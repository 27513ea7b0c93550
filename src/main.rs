//! The `parcours` binary: `serve` (default), `migrate`, `openapi`,
//! `create-user`, `create-client`, `seed-demo`, `audit verify`, `purge`,
//! `grant-api`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use parcours::config::{LogSettings, Settings};
use parcours::http as api;
use parcours::server::{Application, Database};
use parcours::{cli, db, demo, telemetry};

#[derive(Parser)]
#[command(version, about, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    /// Settings of `serve`, the default command.
    #[command(flatten)]
    serve: Settings,

    #[command(flatten)]
    log: LogSettings,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the database and serve the API (the default).
    Serve(Settings),
    /// Apply pending database migrations, then exit.
    Migrate(Settings),
    /// Print the OpenAPI document (what `openapi/openapi.json` must hold).
    Openapi,
    /// Create a staff user (the first admin, say) and print its password once.
    CreateUser(cli::CreateUserArgs),
    /// Create a partner client and print its secret once.
    CreateClient(cli::CreateClientArgs),
    /// Fill the database with plausible, fictitious case files (not in production).
    SeedDemo(demo::SeedDemoArgs),
    /// The audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Anonymise the persons whose file is closed past retention
    /// (`PARCOURS_RETENTION_DAYS`, 730 by default).
    Purge(cli::PurgeArgs),
    /// Give the API's database role what it needs and no more (run as the
    /// owner after `migrate`): no DDL, and only INSERT and SELECT on the
    /// audit trail and the timelines.
    GrantApi(cli::GrantApiArgs),
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the hash chain from the last intact verification (or all
    /// of it with --full) and check the seals; exit 1 if anything was
    /// altered, removed or inserted out of place.
    Verify(cli::VerifyArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(&cli.log);
    let result = match cli.command {
        None => serve(cli.serve).await,
        Some(Command::Serve(settings)) => serve(settings).await,
        Some(Command::Migrate(settings)) => migrate(settings).await,
        Some(Command::Openapi) => api::openapi_json().map(|json| print!("{json}")),
        Some(Command::CreateUser(args)) => cli::create_user(args).await,
        Some(Command::CreateClient(args)) => cli::create_client(args).await,
        Some(Command::SeedDemo(args)) => demo::seed_demo(args).await,
        Some(Command::Purge(args)) => cli::purge(args).await,
        Some(Command::GrantApi(args)) => cli::grant_api(args).await,
        Some(Command::Audit(AuditCommand::Verify(args))) => match cli::audit_verify(args).await {
            Ok(true) => Ok(()),
            Ok(false) => return ExitCode::FAILURE,
            Err(error) => Err(error),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("parcours: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    Application::build(settings, None)
        .await?
        .run_until_stopped()
        .await
}

async fn migrate(settings: Settings) -> anyhow::Result<()> {
    let database = Database::resolve_for_command(&settings).await?;
    let result = db::migrations::run_pending(&database.url).await;
    database.shutdown().await?;
    let applied = result?;
    tracing::info!(count = applied.len(), applied = ?applied, "migrations applied");
    Ok(())
}
