//! Every migration runs up, down and up again to the same schema, so a wrong
//! `down.sql` cannot land.

use diesel::sql_types::Text;
use diesel_async::RunQueryDsl;

use crate::support::TestDatabase;

#[derive(diesel::QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

/// The schema as sorted text: tables and columns, constraints, indexes,
/// functions, types, triggers and extensions of the public schema.
async fn schema_of(db: &TestDatabase) -> Vec<String> {
    let mut conn = db.connect().await;
    let sql = r#"
        SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' '
               || is_nullable || ' ' || coalesce(column_default, '') AS line
          FROM information_schema.columns WHERE table_schema = 'public'
        UNION ALL
        SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' '
               || pg_get_constraintdef(oid)
          FROM pg_constraint WHERE connamespace = 'public'::regnamespace
        UNION ALL
        SELECT 'index ' || indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
        UNION ALL
        SELECT 'function ' || p.oid::regprocedure || ' ' || md5(p.prosrc)
          FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
        UNION ALL
        SELECT 'type ' || t.typname || ' ' || coalesce(string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder), '')
          FROM pg_type t LEFT JOIN pg_enum e ON e.enumtypid = t.oid
         WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('e', 'd', 'c')
         GROUP BY t.typname
        UNION ALL
        SELECT 'trigger ' || tgrelid::regclass || ' ' || tgname || ' ' || pg_get_triggerdef(oid)
          FROM pg_trigger WHERE NOT tgisinternal
        UNION ALL
        SELECT 'extension ' || extname FROM pg_extension WHERE extname <> 'plpgsql'
        ORDER BY 1
    "#;
    let lines: Vec<Line> = diesel::sql_query(sql).load(&mut conn).await.unwrap();
    lines.into_iter().map(|l| l.line).collect()
}

#[tokio::test]
async fn migrations_go_up_down_and_up_to_the_same_schema() {
    let db = TestDatabase::create().await; // cloned from the migrated template
    let migrated = schema_of(&db).await;
    assert!(
        migrated.iter().any(|l| l.starts_with("extension pg_trgm")),
        "the template is migrated: {migrated:#?}"
    );

    let reverted = parcours::db::migrations::revert_all(&db.url).await.unwrap();
    assert_eq!(
        reverted.len(),
        parcours::db::migrations::expected_versions().len()
    );
    let empty = schema_of(&db).await;
    let leftovers: Vec<_> = empty
        .iter()
        .filter(|l| !l.contains("__diesel_schema_migrations"))
        .collect();
    assert!(leftovers.is_empty(), "down.sql left behind: {leftovers:#?}");

    parcours::db::migrations::run_pending(&db.url)
        .await
        .unwrap();
    assert_eq!(schema_of(&db).await, migrated);
}

/// Each closed set of the domain is spelled as its PostgreSQL enum, value
/// for value, and every enum of the schema has its closed set: a value
/// added on one side only fails here, not on the first row that holds it.
#[tokio::test]
async fn every_database_enum_is_a_closed_set_of_the_domain_spelled_the_same() {
    let db = TestDatabase::create().await; // cloned from the migrated template
    let mut conn = db.connect().await;
    let rows: Vec<Line> = diesel::sql_query(
        "SELECT t.typname || ' ' || string_agg(e.enumlabel, ',' ORDER BY e.enumlabel) AS line
           FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
          WHERE t.typnamespace = 'public'::regnamespace
          GROUP BY t.typname ORDER BY t.typname",
    )
    .load(&mut conn)
    .await
    .unwrap();
    let in_database: Vec<String> = rows.into_iter().map(|r| r.line).collect();
    let mut in_domain: Vec<String> = parcours::db::enums::spellings()
        .into_iter()
        .map(|(name, mut values)| {
            values.sort_unstable();
            format!("{name} {}", values.join(","))
        })
        .collect();
    in_domain.sort();
    assert_eq!(in_domain, in_database);
    db.drop_now().await;
}
