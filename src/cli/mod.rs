//! Account commands of the binary: `create-user` and `create-client`. They
//! work on the database directly (the first admin cannot log in to create
//! itself) through the same checks as the admin API.

pub mod privileges;

use std::io::{BufRead, IsTerminal};

use clap::Args;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::auth::passwords::PasswordHasherPool;
use crate::config::Settings;
use crate::db::schema::{organizations, territories};
use crate::domain::{Domain, Role};
use crate::server::{Database, on_migrated_database};
use crate::services::accounts::{self, CreateClient, CreateUser};

#[derive(Debug, Args)]
pub struct CreateUserArgs {
    #[arg(long)]
    pub email: String,
    /// Name shown to colleagues; defaults to the e-mail.
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long, value_enum)]
    pub role: CliRole,
    /// Territory code (e.g. 05-GAP); repeat for several.
    #[arg(long = "territory")]
    pub territories: Vec<String>,
    /// Domain; repeat for several.
    #[arg(long = "domain", value_enum)]
    pub domains: Vec<CliDomain>,
    /// Read the password from the first line of standard input instead of
    /// generating one (PARCOURS_PASSWORD is read first, when set).
    #[arg(long)]
    pub password_stdin: bool,
    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Debug, Args)]
pub struct CreateClientArgs {
    /// Public identifier used to log in, e.g. `caf05-referrals`.
    #[arg(long)]
    pub client_id: String,
    #[arg(long)]
    pub name: String,
    /// Name of the partner organization, as in GET /v1/organizations.
    #[arg(long)]
    pub organization: String,
    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum CliRole {
    Admin,
    Supervisor,
    Coordinator,
    Auditor,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum CliDomain {
    Disability,
    Elderly,
    Childhood,
    Insertion,
}

impl From<CliRole> for Role {
    fn from(role: CliRole) -> Self {
        match role {
            CliRole::Admin => Role::Admin,
            CliRole::Supervisor => Role::Supervisor,
            CliRole::Coordinator => Role::Coordinator,
            CliRole::Auditor => Role::Auditor,
        }
    }
}

impl From<CliDomain> for Domain {
    fn from(domain: CliDomain) -> Self {
        match domain {
            CliDomain::Disability => Domain::Disability,
            CliDomain::Elderly => Domain::Elderly,
            CliDomain::Childhood => Domain::Childhood,
            CliDomain::Insertion => Domain::Insertion,
        }
    }
}

pub async fn create_user(args: CreateUserArgs) -> anyhow::Result<()> {
    let password = match std::env::var("PARCOURS_PASSWORD") {
        Ok(password) if !password.is_empty() => Some(password),
        _ if args.password_stdin => Some(read_password()?),
        _ => None,
    };
    let passwords = PasswordHasherPool::new(&args.settings.auth)?;
    on_migrated_database(&args.settings, async |conn| {
        let territory_ids = territory_ids(conn, &args.territories).await?;
        let input = CreateUser {
            display_name: args.name.clone().unwrap_or_else(|| args.email.clone()),
            email: args.email.clone(),
            role: args.role.into(),
            territories: territory_ids,
            domains: args.domains.iter().map(|d| (*d).into()).collect(),
            password,
        };
        // The operator chose the password: it is theirs. A generated one
        // must be replaced at first login.
        let (user, _, generated) =
            accounts::create_user_as_operator(conn, &passwords, input, false)
                .await
                .map_err(explain)?;
        println!("created user {} ({})", user.email, user.id);
        if let Some(password) = generated {
            println!("one-time password (shown once): {password}");
        }
        anyhow::Ok(())
    })
    .await
}

pub async fn create_client(args: CreateClientArgs) -> anyhow::Result<()> {
    on_migrated_database(&args.settings, async |conn| {
        let organization_id: Option<Uuid> = organizations::table
            .filter(organizations::name.eq(&args.organization))
            .select(organizations::id)
            .first(conn)
            .await
            .optional()?;
        let Some(organization_id) = organization_id else {
            let known: Vec<String> = organizations::table
                .select(organizations::name)
                .order(organizations::name)
                .load(conn)
                .await?;
            anyhow::bail!(
                "no organization is named `{}`; known: {}",
                args.organization,
                known.join(", ")
            );
        };
        let input = CreateClient {
            client_id: args.client_id.clone(),
            name: args.name.clone(),
            organization_id,
        };
        let (client, secret) = accounts::create_client_as_operator(conn, input)
            .await
            .map_err(explain)?;
        println!("created client {} ({})", client.client_id, client.id);
        println!("client secret (shown once): {secret}");
        anyhow::Ok(())
    })
    .await
}

async fn territory_ids(
    conn: &mut AsyncPgConnection,
    codes: &[String],
) -> anyhow::Result<Vec<Uuid>> {
    let found: Vec<(String, Uuid)> = territories::table
        .filter(territories::code.eq_any(codes))
        .select((territories::code, territories::id))
        .load(conn)
        .await?;
    if let Some(missing) = codes
        .iter()
        .find(|code| !found.iter().any(|(c, _)| c == *code))
    {
        let known: Vec<String> = territories::table
            .select(territories::code)
            .order(territories::code)
            .load(conn)
            .await?;
        anyhow::bail!(
            "no territory has the code `{missing}`; known: {}",
            known.join(", ")
        );
    }
    Ok(found.into_iter().map(|(_, id)| id).collect())
}

fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        eprint!("password: ");
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

/// The API's error, in words for a terminal.
/// A refusal as one line per field, for the terminal.
fn explain(error: crate::db::Error) -> anyhow::Error {
    use crate::domain::refusal::Refusal;
    match error {
        crate::db::Error::Refused(
            Refusal::Invalid { errors, .. } | Refusal::Unprocessable { errors, .. },
        ) if !errors.is_empty() => {
            let lines: Vec<String> = errors
                .iter()
                .map(|e| format!("{} {}", e.field, e.message))
                .collect();
            anyhow::anyhow!("{}", lines.join("; "))
        }
        other => anyhow::anyhow!("{other}"),
    }
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Recompute the whole chain from the first record, not only what was
    /// sealed since the last intact verification: the only way to find a
    /// record altered after it was verified once. Run it regularly (say,
    /// each month) besides the daily incremental run.
    #[arg(long)]
    pub full: bool,

    #[command(flatten)]
    pub settings: Settings,
}

/// `parcours audit verify`: recomputes the audit chain (from the last
/// intact verification, or all of it with `--full`), checks the seals and
/// prints the result as JSON. `Ok(false)` when something was tampered with
/// (the exit status says so).
pub async fn audit_verify(args: VerifyArgs) -> anyhow::Result<bool> {
    let VerifyArgs { full, settings } = args;
    let scope = crate::audit::verify::Scope::full_if(full);
    let key = crate::audit::keys::SealKey::load(
        settings.audit_signing_key_file.as_deref(),
        settings.environment,
        &settings.database.data_dir,
    )?;
    let database = Database::resolve_for_command(&settings).await?;
    let result = async {
        let mut conn = AsyncPgConnection::establish(&database.url).await?;
        let report = crate::audit::verify::verify(&mut conn, &key, scope).await?;
        println!("{}", serde_json::to_string_pretty(&report)?);
        anyhow::Ok(report.intact)
    }
    .await;
    database.shutdown().await?;
    result
}

#[derive(Debug, Args)]
pub struct PurgeArgs {
    /// Report who is due, change nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Days after the last contact (every pathway closed, no activity)
    /// before a person is anonymised (CNIL: two years).
    #[arg(long, env = "PARCOURS_RETENTION_DAYS", default_value_t = 730)]
    pub retention_days: u32,

    #[command(flatten)]
    pub settings: Settings,
}

/// `parcours purge`: anonymises the persons past retention; prints a JSON
/// report.
pub async fn purge(args: PurgeArgs) -> anyhow::Result<()> {
    on_migrated_database(&args.settings, async |conn| {
        let report =
            crate::services::retention::purge(conn, args.retention_days, args.dry_run).await?;
        println!("{}", serde_json::to_string_pretty(&report)?);
        anyhow::Ok(())
    })
    .await
}

#[derive(Debug, Args)]
pub struct GrantApiArgs {
    /// The role the API connects as (it must exist).
    #[arg(long)]
    pub role: String,

    #[command(flatten)]
    pub settings: Settings,
}

/// `parcours grant-api`: migrates, then gives the API's role its rights
/// (read and write case files; only append to the audit trail and the
/// timelines; no DDL). Run as the database owner; prints a JSON report.
pub async fn grant_api(args: GrantApiArgs) -> anyhow::Result<()> {
    on_migrated_database(&args.settings, async |conn| {
        let granted = crate::cli::privileges::grant_api_role(conn, &args.role).await?;
        println!("{}", serde_json::to_string_pretty(&granted)?);
        anyhow::Ok(())
    })
    .await
}
