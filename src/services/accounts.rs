//! Creating accounts, shared by the admin API and the command line: the
//! checks, the password or secret, the insert.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::passwords::PasswordHasherPool;
use crate::auth::secrets::{digest, one_time_password, random_secret};
use crate::db::clients::{self, Client, NewClient};
use crate::db::error::{Violation, violation};
use crate::db::users::{self, NewUser, User, present};
use crate::db::{Error, Tx};
use crate::domain::validation::{Checks, is_email};
use crate::domain::{Domain, Role, passwords};
use crate::services::change::transaction;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    #[schema(example = "anne.martin@hautes-alpes.fr")]
    pub email: String,
    #[schema(example = "Anne Martin")]
    pub display_name: String,
    /// A staff role: `admin`, `supervisor`, `coordinator` or `auditor`.
    pub role: Role,
    /// Ids of the territories the user works in.
    #[serde(default)]
    pub territories: Vec<Uuid>,
    /// Domains the user works in.
    #[serde(default)]
    pub domains: Vec<Domain>,
    /// A first password for the account. Given or generated, it is a
    /// one-time password: until its holder sets their own with
    /// `POST /v1/me/password`, every other route answers 403
    /// `password-change-required`. Omit it to have one generated and
    /// returned once in `one_time_password`.
    #[serde(default)]
    pub password: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClient {
    /// Public identifier used to log in: lower-case letters, digits, `.`, `_`, `-` (3 to 64).
    #[schema(example = "caf05-referrals")]
    pub client_id: String,
    #[schema(example = "CAF des Hautes-Alpes — signalements")]
    pub name: String,
    /// The partner organization this client speaks for.
    pub organization_id: Uuid,
}

// A staff account as an admin reads it (never its password): the API's
// view, and what the audit trail keeps of it before and after a change.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub territories: Vec<Uuid>,
    pub domains: Vec<Domain>,
    /// A deactivated user cannot log in; their tokens stop working within a second.
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl UserView {
    pub fn new(user: User, territories: Vec<Uuid>) -> Self {
        Self {
            id: user.id,
            email: user.email,
            display_name: user.display_name,
            role: user.role,
            territories,
            domains: present(&user.domains),
            active: user.active,
            created_at: user.created_at,
            updated_at: user.updated_at,
        }
    }
}

/// A new user and, when it was generated, the password to hand over once.
/// Creates a staff account. With `handed_out`, whoever creates it knows the
/// password (an admin, or a generated one shown once): its holder must set
/// a new one before anything else.
pub async fn create_user(
    tx: &mut Tx<'_>,
    passwords: &PasswordHasherPool,
    input: CreateUser,
    handed_out: bool,
) -> Result<(User, Vec<Uuid>, Option<String>), Error> {
    let mut checks = Checks::new();
    let email = checks.pattern("email", &input.email, is_email, "an e-mail address");
    let display_name = checks.text("display_name", &input.display_name, 200);
    if !input.role.is_staff() {
        checks.fail(
            "role",
            "must be a staff role; partners are clients (POST /v1/clients)",
        );
    }
    let generated = input.password.is_none();
    let password = input.password.unwrap_or_else(one_time_password);
    if let Err(message) = passwords::check(&password) {
        checks.fail("password", message);
    }
    checks.finish()?;
    let password_hash = passwords
        .hash(password.clone())
        .await
        .map_err(|e| Error::internal(anyhow::anyhow!(e)))?;
    let mut domains = input.domains;
    domains.sort();
    domains.dedup();
    let mut territories = input.territories;
    territories.sort();
    territories.dedup();
    let new = NewUser {
        id: Uuid::now_v7(),
        email,
        display_name,
        role: input.role,
        domains: domains.into_iter().map(Some).collect(),
        password_hash,
        password_change_required: handed_out || generated,
    };
    let user = users::insert(tx, &new, &territories)
        .await
        .map_err(|e| match violation(&e) {
            Some(Violation::Unique) => Error::conflict("A user with this e-mail already exists."),
            Some(Violation::ForeignKey) => {
                Error::unprocessable("territories", "names a territory that does not exist")
            }
            None => e.into(),
        })?;
    Ok((user, territories, generated.then_some(password)))
}

/// A new client and its secret, to hand over once.
pub async fn create_client(
    tx: &mut Tx<'_>,
    input: CreateClient,
) -> Result<(Client, String), Error> {
    let mut checks = Checks::new();
    let client_id = checks.pattern(
        "client_id",
        &input.client_id,
        is_client_id,
        "3 to 64 of a-z, 0-9, `.`, `_`, `-`",
    );
    let name = checks.text("name", &input.name, 200);
    checks.finish()?;
    let secret = random_secret("pcs_");
    let new = NewClient {
        id: Uuid::now_v7(),
        client_id,
        name,
        organization_id: input.organization_id,
        secret_digest: digest(&secret),
    };
    let client = clients::insert(tx, &new)
        .await
        .map_err(|e| match violation(&e) {
            Some(Violation::Unique) => {
                Error::conflict("A client with this client_id already exists.")
            }
            Some(Violation::ForeignKey) => Error::unprocessable(
                "organization_id",
                "names an organization that does not exist",
            ),
            None => e.into(),
        })?;
    Ok((client, secret))
}

/// An operator's account, made at the command line (no one is logged in
/// to record it under): see [`create_user`].
pub async fn create_user_as_operator(
    conn: &mut AsyncPgConnection,
    passwords: &PasswordHasherPool,
    input: CreateUser,
    handed_out: bool,
) -> Result<(User, Vec<Uuid>, Option<String>), Error> {
    transaction(conn, async |tx| {
        create_user(tx, passwords, input, handed_out).await
    })
    .await
}

/// An operator's partner client, made at the command line.
pub async fn create_client_as_operator(
    conn: &mut AsyncPgConnection,
    input: CreateClient,
) -> Result<(Client, String), Error> {
    transaction(conn, async |tx| create_client(tx, input).await).await
}

fn is_client_id(value: &str) -> bool {
    let mut chars = value.chars();
    (3..=64).contains(&value.len())
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
}
