//! `parcours seed-demo`: fills a database with plausible, fictitious case
//! files — French names distributed as a département's (`names.rs`), Hautes-Alpes communes and territories, the four
//! domains in proportion and never before their opening date, every status
//! and plan stage with consistent dates, some critical situations and
//! overdue reviews. Deterministic for a given `--seed`; rows go in by
//! batches, each batch one transaction of `INSERT … SELECT unnest(…)`.

mod data;
mod generate;
mod insert;
mod names;

use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use rand::SeedableRng;
use rand::rngs::StdRng;
use uuid::Uuid;

use crate::auth::passwords::PasswordHasherPool;
use crate::auth::secrets::random_secret;
use crate::config::{Environment, Settings};
use crate::db::schema::{domain_calendar, organizations, territories, user_territories, users};
use crate::demo::generate::{Batch, Territory, World};
use crate::domain::{Domain, OrganizationKind, Role};
use crate::privacy::PersonalDataKeys;
use crate::server::on_migrated_database;
use crate::services::change::transaction;

#[derive(Debug, Args)]
pub struct SeedDemoArgs {
    /// How many persons to add (each with one or two pathways).
    #[arg(long, default_value_t = 1000)]
    pub persons: u32,
    /// Seed of the generator: the same seed gives the same data.
    #[arg(long, default_value_t = 2017)]
    pub seed: u64,
    /// Persons per transaction.
    #[arg(long, default_value_t = 5000)]
    pub batch: u32,
    #[command(flatten)]
    pub settings: Settings,
}

const DOMAINS: [Domain; 4] = [
    Domain::Disability,
    Domain::Elderly,
    Domain::Childhood,
    Domain::Insertion,
];

/// Demo coordinators per territory and domain.
const COORDINATORS_PER_DOMAIN: usize = 3;

pub async fn seed_demo(args: SeedDemoArgs) -> anyhow::Result<()> {
    if args.settings.environment == Environment::Production {
        bail!("seed-demo writes fictitious people; it does not run with PARCOURS_ENV=production");
    }
    if args.batch == 0 {
        bail!("--batch must be positive");
    }
    let keys = PersonalDataKeys::load(
        args.settings.personal_data_key_file.as_deref(),
        args.settings.environment,
        &args.settings.database.data_dir,
    )?;
    let passwords = PasswordHasherPool::new(&args.settings.auth)?;
    on_migrated_database(&args.settings, async |conn| {
        let world = world(conn, &passwords).await?;
        let started = Instant::now();
        let mut rng = StdRng::seed_from_u64(args.seed);
        let mut nirs = std::collections::HashSet::new();
        let mut done = 0;
        let mut pathways = 0;
        while done < args.persons {
            let size = args.batch.min(args.persons - done);
            let mut batch = Batch::default();
            for _ in 0..size {
                generate::person(&world, &keys, &mut nirs, &mut rng, &mut batch);
            }
            pathways += batch.pathways.id.len();
            transaction(conn, async |tx| {
                insert::drop_known_nirs(tx, &mut batch).await?;
                insert::batch(tx, &batch).await
            })
            .await
            .context("inserting a batch of demo data")?;
            done += size;
            tracing::info!(
                persons = done,
                pathways,
                elapsed_s = started.elapsed().as_secs(),
                "seeding"
            );
        }
        // VACUUM too: it marks the new pages all-visible, so that index-only
        // scans (the name words') read no heap, as on a settled database.
        diesel::sql_query("VACUUM (ANALYZE)").execute(conn).await?;
        println!(
            "seeded {done} persons and {pathways} pathways in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        anyhow::Ok(())
    })
    .await
}

/// Reads the calendar, territories and organizations, and makes sure each
/// territory has demo referents (who cannot log in: their password is
/// random and discarded; use `parcours create-user` to look around).
async fn world(
    conn: &mut AsyncPgConnection,
    passwords: &PasswordHasherPool,
) -> anyhow::Result<World> {
    let opens_on: Vec<(Domain, chrono::NaiveDate)> = domain_calendar::table
        .select((domain_calendar::domain, domain_calendar::opens_on))
        .load(conn)
        .await?;
    let known: Vec<(Uuid, String)> = territories::table
        .select((territories::id, territories::code))
        .load(conn)
        .await?;
    for (name, finess, _) in data::FACILITIES {
        diesel::insert_into(organizations::table)
            .values((
                organizations::kind.eq(OrganizationKind::Facility),
                organizations::name.eq(name),
                organizations::finess.eq(finess),
            ))
            .on_conflict(organizations::name)
            .do_nothing()
            .execute(conn)
            .await?;
    }
    let organizations: Vec<Uuid> = organizations::table
        .select(organizations::id)
        .load(conn)
        .await?;
    let mut facilities = Vec::new();
    for (name, finess, domain) in data::FACILITIES {
        let id: Uuid = organizations::table
            .filter(organizations::name.eq(name))
            .select(organizations::id)
            .first(conn)
            .await?;
        facilities.push((id, (*finess).to_owned(), *domain));
    }
    let hash = passwords
        .hash(random_secret(""))
        .await
        .map_err(|e| anyhow::anyhow!("hashing the demo password: {e:?}"))?;
    let mut territories = Vec::new();
    for (code, _, _) in data::COMMUNES {
        let Some((territory_id, _)) = known.iter().find(|(_, c)| c == code) else {
            continue;
        };
        let mut referents = Vec::new();
        for domain in DOMAINS {
            let mut ids = Vec::new();
            for n in 1..=COORDINATORS_PER_DOMAIN {
                let email = format!(
                    "demo.{}.{}.{n}@demo.invalid",
                    code.to_lowercase(),
                    crate::domain::enums::name_of(&domain)
                );
                ids.push(
                    demo_user(
                        conn,
                        &email,
                        Role::Coordinator,
                        &[domain],
                        *territory_id,
                        &hash,
                    )
                    .await?,
                );
            }
            referents.push((domain, ids));
        }
        let email = format!("demo.{}.supervisor@demo.invalid", code.to_lowercase());
        demo_user(
            conn,
            &email,
            Role::Supervisor,
            &DOMAINS,
            *territory_id,
            &hash,
        )
        .await?;
        territories.push(Territory {
            code,
            id: *territory_id,
            referents,
        });
    }
    // The ages the département's alert rules watch, so that some persons
    // are near each of them.
    let ages = crate::db::alert_rules::all(conn)
        .await?
        .into_iter()
        .filter(|r| r.rule.counts_from() == Some(crate::domain::deadlines::CountsFrom::Birth))
        .filter_map(|r| Some((r.rule.domain()?, u32::try_from(r.months?).ok()?)))
        .collect();
    Ok(World {
        today: chrono::Utc::now().date_naive(),
        age_thresholds: ages,
        opens_on,
        territories,
        organizations,
        facilities,
    })
}

async fn demo_user(
    conn: &mut AsyncPgConnection,
    email: &str,
    role: Role,
    domains: &[Domain],
    territory: Uuid,
    hash: &str,
) -> anyhow::Result<Uuid> {
    let existing: Option<Uuid> = users::table
        .filter(users::email.eq(email))
        .select(users::id)
        .first(conn)
        .await
        .optional()?;
    if let Some(id) = existing {
        return Ok(id);
    }
    let id: Uuid = diesel::insert_into(users::table)
        .values((
            users::id.eq(Uuid::now_v7()),
            users::email.eq(email),
            users::display_name.eq(format!("Démo {email}")),
            users::role.eq(role),
            users::domains.eq(domains.iter().copied().map(Some).collect::<Vec<_>>()),
            users::password_hash.eq(hash),
        ))
        .returning(users::id)
        .get_result(conn)
        .await?;
    diesel::insert_into(user_territories::table)
        .values((
            user_territories::user_id.eq(id),
            user_territories::territory_id.eq(territory),
        ))
        .execute(conn)
        .await?;
    Ok(id)
}
