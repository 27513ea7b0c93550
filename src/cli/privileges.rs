//! The API's own database role: it reads and writes case files, but the
//! append-only tables (the audit trail, pathway timelines) take no UPDATE,
//! DELETE or TRUNCATE from it, and it cannot change the schema. The triggers
//! refuse those changes too; a role that is not the tables' owner cannot
//! disable them, so the two together hold against a compromised API.

use diesel::QueryableByName;
use diesel::sql_types::Text;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

/// What [`grant_api_role`] did.
#[derive(Debug, serde::Serialize)]
pub struct Granted {
    pub role: String,
    /// Tables the role may only read and append to.
    pub append_only: Vec<String>,
}

/// Gives `role` (which must exist) what the API needs and no more; run by
/// the owner after each `parcours migrate`, as new tables need their grant.
/// Idempotent.
pub async fn grant_api_role(conn: &mut AsyncPgConnection, role: &str) -> anyhow::Result<Granted> {
    // The server quotes the name: no identifier is built by hand.
    let quoted: Option<Name> =
        diesel::sql_query("SELECT quote_ident(rolname) AS name FROM pg_roles WHERE rolname = $1")
            .bind::<Text, _>(role)
            .get_result(conn)
            .await
            .ok();
    let Some(Name { name: quoted }) = quoted else {
        anyhow::bail!(
            "no database role {role:?}: create it first (CREATE ROLE {role} LOGIN PASSWORD '…')"
        );
    };
    // The append-only tables are those whose trigger refuses changes
    // (`parcours_refuse_change`, declared in the migrations).
    let append_only: Vec<Name> = diesel::sql_query(
        "SELECT DISTINCT quote_ident(c.relname) AS name FROM pg_trigger t \
         JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid \
         WHERE p.proname = 'parcours_refuse_change' AND NOT t.tgisinternal \
           AND NOT c.relispartition ORDER BY 1",
    )
    .load(conn)
    .await?;
    let append_only: Vec<String> = append_only.into_iter().map(|n| n.name).collect();
    let mut statements = vec![
        format!("GRANT USAGE ON SCHEMA public TO {quoted}"),
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}"),
        format!("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}"),
        format!(
            "REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM {quoted}"
        ),
        // Migrations are the owner's: the API only checks they are applied.
        format!("REVOKE INSERT, UPDATE, DELETE ON __diesel_schema_migrations FROM {quoted}"),
    ];
    if !append_only.is_empty() {
        statements.push(format!(
            "REVOKE UPDATE, DELETE ON {} FROM {quoted}",
            append_only.join(", ")
        ));
    }
    // Partitions (the audit trail's months) are reached through their
    // table only, as the months added later (with no grant at all) are.
    let partitions: Vec<Name> = diesel::sql_query(
        "SELECT quote_ident(relname) AS name FROM pg_class \
         WHERE relispartition AND relkind = 'r' AND relnamespace = 'public'::regnamespace ORDER BY 1",
    )
    .load(conn)
    .await?;
    if !partitions.is_empty() {
        let names: Vec<String> = partitions.into_iter().map(|n| n.name).collect();
        statements.push(format!("REVOKE ALL ON {} FROM {quoted}", names.join(", ")));
    }
    conn.transaction::<_, diesel::result::Error, _>(async |conn| {
        for statement in &statements {
            diesel::sql_query(statement).execute(conn).await?;
        }
        Ok(())
    })
    .await?;
    Ok(Granted {
        role: role.to_owned(),
        append_only,
    })
}
