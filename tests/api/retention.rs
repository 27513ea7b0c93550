//! Retention: files closed past two years are anonymised in place; the
//! indicators do not move; every anonymisation is audited; twice is once.

use diesel::QueryableByName;
use diesel::sql_types::{Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use parcours::domain::Role::Auditor;
use serde_json::Value;
use uuid::Uuid;

use crate::support::TestApp;
use crate::support::db::execute;

/// A person with one disability pathway opened and closed on these days,
/// last touched on `touched`; a note, a meeting and a referral with it.
async fn closed_file(
    conn: &mut AsyncPgConnection,
    app: &TestApp,
    family: &str,
    opened: &str,
    closed: Option<&str>,
) -> Uuid {
    let territory = app.territory("05-GAP").await;
    let (client, _, _) = app.client("CAF des Hautes-Alpes").await;
    let author = app
        .user(
            parcours::domain::Role::Supervisor,
            &["05-GAP"],
            &[parcours::domain::Domain::Disability],
        )
        .await
        .id;
    let person = Uuid::now_v7();
    let pathway = Uuid::now_v7();
    let touched = closed.unwrap_or(opened);
    execute(conn, &format!(
        "INSERT INTO persons (id, family_name, given_names, birth_date, commune_insee, territory_id, \
             caf_number, legal_representative, nir_ciphertext, nir_index, created_at, updated_at) \
         VALUES ('{person}', '{family}', 'Suzanne', '1960-07-14', '05061', '{territory}', '1234567', \
             'UDAF 05', '\\x01', '\\x{}', '{opened}T08:00:00Z', '{touched}T08:00:00Z')",
        person.simple()
    )).await;
    let (status, closed_on, reason) = match closed {
        Some(day) => ("closed", format!("'{day}'"), "'target_reached'"),
        None => ("assessment", "NULL".to_owned(), "NULL"),
    };
    execute(conn, &format!(
        "INSERT INTO pathways (id, person_id, domain, territory_id, status, status_since, opened_on, closed_on, closure_reason) \
         VALUES ('{pathway}', '{person}', 'disability', '{territory}', '{status}', '{touched}T08:00:00Z', '{opened}', {closed_on}, {reason})"
    )).await;
    execute(conn, &format!(
        "INSERT INTO pathway_status_periods (pathway_id, status, started_at, ended_at, reason) VALUES \
         ('{pathway}', 'referred', '{opened}T08:00:00Z', '{touched}T08:00:00Z', 'Appel de la fille'), \
         ('{pathway}', '{status}', '{touched}T08:00:00Z', NULL, 'Fin')"
    )).await;
    execute(
        conn,
        &format!(
            "INSERT INTO pathway_events (pathway_id, kind, occurred_at, data) VALUES \
         ('{pathway}', 'pathway_opened', '{opened}T08:00:00Z', '{{\"status\": \"referred\"}}'), \
         ('{pathway}', 'status_changed', '{touched}T08:00:00Z', \
          '{{\"from\": \"referred\", \"to\": \"{status}\"}}')"
        ),
    )
    .await;
    execute(conn, &format!(
        "INSERT INTO notes (pathway_id, author_id, visibility, body, created_at) \
         VALUES ('{pathway}', '{author}', 'team', 'Vit seule depuis le décès de son mari', '{opened}T09:00:00Z')"
    )).await;
    execute(conn, &format!(
        "INSERT INTO meetings (pathway_id, held_on, person_agreed, outcome, created_at) \
         VALUES ('{pathway}', '{opened}', true, 'Mme {family} accepte l''accueil de jour', '{opened}T10:00:00Z')"
    )).await;
    execute(conn, &format!(
        "INSERT INTO referrals (client_id, organization_id, person_id, pathway_id, domain, reason, contact, \
             person_matched, pathway_opened, received_at, status, decided_at, territory_id, \
             family_name, given_names, birth_date, commune_insee, partner_number) \
         SELECT '{client}', c.organization_id, pe.id, '{pathway}', 'disability', 'Signalée par sa fille', \
             'Mme {family} fille', false, true, '{opened}T07:00:00Z', 'accepted', '{opened}T08:00:00Z', \
             pe.territory_id, pe.family_name, pe.given_names, pe.birth_date, pe.commune_insee, '7654321' \
         FROM clients c, persons pe WHERE c.id = '{client}' AND pe.id = '{person}'"
    )).await;
    // The situation escalated to the CAF, which answered.
    execute(conn, &format!(
        "INSERT INTO escalations (id, pathway_id, organization_id, level, summary, due_on, status, \
             sent_by, acknowledged_by, acknowledged_at, answer, answered_by, answered_at) \
         SELECT '{}', '{pathway}', c.organization_id, 'regional', 'Mme {family}, sans solution', \
             '{opened}', 'answered', '{author}', c.id, '{opened}T12:00:00Z', \
             'Hébergée chez sa fille', c.id, '{opened}T12:00:00Z' \
         FROM clients c WHERE c.id = '{client}'",
        Uuid::now_v7()
    )).await;
    // A consented PAG, its commitment and the version the person agreed to.
    let plan = Uuid::now_v7();
    execute(conn, &format!(
        "INSERT INTO plans (id, pathway_id, kind, status, coordinator_id, objectives, consent_by, \
             consented_on, consented_version_number) \
         VALUES ('{plan}', '{pathway}', 'pag', 'consented', '{author}', 'Retour au domicile de sa fille', \
             'person', '{opened}', 1)"
    )).await;
    execute(
        conn,
        &format!(
            "INSERT INTO commitments (plan_id, organization_id, description, status) \
         SELECT '{plan}', c.organization_id, 'Aide pour Mme {family}', 'accepted' FROM clients c \
         WHERE c.id = '{client}'"
        ),
    )
    .await;
    execute(
        conn,
        &format!(
            "INSERT INTO plan_versions (plan_id, number, objectives, commitments, consent_by, \
             consented_on, recorded_by) \
         VALUES ('{plan}', 1, 'Retour au domicile de sa fille', \
             '[{{\"description\": \"Aide pour Mme {family}\"}}]', 'person', '{opened}', '{author}')"
        ),
    )
    .await;
    person
}

fn purge(app: &TestApp, dry_run: bool) -> Value {
    if dry_run {
        app.command_json(&["purge", "--dry-run"])
    } else {
        app.command_json(&["purge"])
    }
}

#[derive(QueryableByName, Debug, PartialEq)]
struct Snapshot {
    #[diesel(sql_type = Text)]
    digest: String,
}

/// A digest of every table the purge may touch.
async fn snapshot(conn: &mut AsyncPgConnection) -> String {
    let row: Snapshot = diesel::sql_query(
        "SELECT md5(string_agg(t, '|' ORDER BY t)) AS digest FROM ( \
             SELECT p::text AS t FROM persons p UNION ALL SELECT n::text FROM notes n \
             UNION ALL SELECT m::text FROM meetings m UNION ALL SELECT r::text FROM referrals r \
             UNION ALL SELECT s::text FROM pathway_status_periods s \
             UNION ALL SELECT v::text FROM plan_versions v \
             UNION ALL SELECT es::text FROM escalations es \
             UNION ALL SELECT a.action || a.resource_id::text FROM audit_log a WHERE a.actor_kind = 'system' \
         ) rows",
    )
    .get_result(conn)
    .await
    .unwrap();
    row.digest
}

#[derive(QueryableByName)]
struct PersonRow {
    #[diesel(sql_type = Text)]
    row: String,
}

async fn person_row(conn: &mut AsyncPgConnection, id: Uuid) -> String {
    let row: PersonRow = diesel::sql_query(
        "SELECT concat_ws('|', family_name, given_names, birth_date, caf_number, nir_ciphertext IS NULL, \
             legal_representative, anonymised_at IS NOT NULL) AS row FROM persons WHERE id = $1",
    )
    .bind::<SqlUuid, _>(id)
    .get_result(conn)
    .await
    .unwrap();
    row.row
}

#[tokio::test]
async fn files_closed_past_retention_are_anonymised_once_and_counted_the_same() {
    let app = TestApp::spawn().await;
    let auditor = app.token_for(Auditor).await;
    let mut conn = app.db.connect().await;
    let old = closed_file(&mut conn, &app, "Lagarde", "2021-01-10", Some("2022-06-01")).await;
    let recent = closed_file(&mut conn, &app, "Mercier", "2024-03-01", Some("2025-06-01")).await;
    let open = closed_file(&mut conn, &app, "Roux", "2021-02-01", None).await;
    let indicators = |year: i32| format!("/v1/indicators?year={year}");
    let before = (
        app.get_json(&indicators(2021), &auditor).await["domains"].clone(),
        app.get_json(&indicators(2022), &auditor).await["domains"].clone(),
    );

    let report = purge(&app, true);
    assert_eq!(
        (report["persons"].as_u64(), report["dry_run"].as_bool()),
        (Some(1), Some(true))
    );
    assert!(
        person_row(&mut conn, old)
            .await
            .starts_with("Lagarde|Suzanne|1960-07-14")
    );

    let report = purge(&app, false);
    assert_eq!(report["persons"], 1);
    assert_eq!(
        person_row(&mut conn, old).await,
        "[anonymisé]|[anonymisé]|1960-01-01|t|t"
    );
    for kept in [recent, open] {
        assert!(
            person_row(&mut conn, kept)
                .await
                .contains("|Suzanne|1960-07-14|1234567|f|UDAF 05|f")
        );
    }
    let file = snapshot_of(&mut conn, old).await;
    assert!(
        !file.to_lowercase().contains("lagarde")
            && !file.contains("décès")
            && !file.contains("fille"),
        "{file}"
    );

    // The numbers stay.
    let after = (
        app.get_json(&indicators(2021), &auditor).await["domains"].clone(),
        app.get_json(&indicators(2022), &auditor).await["domains"].clone(),
    );
    assert_eq!(before, after);
    assert_eq!(after.1[0]["pathways_closed"], 1);

    // Audited, by parcours itself.
    let records = app.get_json("/v1/audit?action=anonymise", &auditor).await;
    let items = records["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["resource_id"], old.to_string());
    assert_eq!(items[0]["actor_kind"], "system");

    // Twice is once.
    let first = snapshot(&mut conn).await;
    let report = purge(&app, false);
    assert_eq!(report["persons"], 0);
    assert_eq!(snapshot(&mut conn).await, first);
}

/// Every text left about one person's file.
async fn snapshot_of(conn: &mut AsyncPgConnection, person: Uuid) -> String {
    let row: PersonRow = diesel::sql_query(
        "SELECT concat_ws('|', \
             (SELECT string_agg(p::text, ',') FROM persons p WHERE p.id = $1), \
             (SELECT string_agg(n::text, ',') FROM notes n JOIN pathways pa ON pa.id = n.pathway_id WHERE pa.person_id = $1), \
             (SELECT string_agg(m::text, ',') FROM meetings m JOIN pathways pa ON pa.id = m.pathway_id WHERE pa.person_id = $1), \
             (SELECT string_agg(r::text, ',') FROM referrals r WHERE r.person_id = $1), \
             (SELECT string_agg(s::text, ',') FROM pathway_status_periods s JOIN pathways pa ON pa.id = s.pathway_id WHERE pa.person_id = $1), \
             (SELECT string_agg(w::text, ',') FROM person_name_words w WHERE w.person_id = $1), \
             (SELECT string_agg(pl::text, ',') FROM plans pl JOIN pathways pa ON pa.id = pl.pathway_id WHERE pa.person_id = $1), \
             (SELECT string_agg(es::text, ',') FROM escalations es JOIN pathways pa ON pa.id = es.pathway_id WHERE pa.person_id = $1), \
             (SELECT string_agg(c::text, ',') FROM commitments c JOIN plans pl ON pl.id = c.plan_id JOIN pathways pa ON pa.id = pl.pathway_id WHERE pa.person_id = $1), \
             (SELECT string_agg(v::text, ',') FROM plan_versions v JOIN plans pl ON pl.id = v.plan_id JOIN pathways pa ON pa.id = pl.pathway_id WHERE pa.person_id = $1), \
             (SELECT string_agg(d::text, ',') FROM name_words d WHERE d.word = 'lagarde') \
         ) AS row",
    )
    .bind::<SqlUuid, _>(person)
    .get_result(conn)
    .await
    .unwrap();
    row.row
}

#[tokio::test]
async fn referrals_declined_past_retention_are_anonymised_too() {
    let app = TestApp::spawn().await;
    let caf = app.partner_token("CAF des Hautes-Alpes").await;
    let staff = app
        .staff(
            parcours::domain::Role::Supervisor,
            &["05-GAP"],
            &[parcours::domain::Domain::Insertion],
        )
        .await;
    let refer = || async {
        let response = app
            .with_token(reqwest::Method::POST, "/v1/referrals", &caf)
            .header("idempotency-key", Uuid::now_v7().to_string())
            .json(&serde_json::json!({
                "family_name": "Déclinée", "given_names": "Odile", "birth_date": "1971-04-04",
                "commune_insee": "05061", "partner_number": "7777777", "domain": "insertion",
                "reason": "Signalement ancien",
            }))
            .send()
            .await
            .unwrap();
        let receipt: Value = response.json().await.unwrap();
        let id = receipt["id"].as_str().unwrap().to_owned();
        app.post_ok(
            &format!("/v1/referrals/{id}/decline"),
            &staff.token,
            &serde_json::json!({"reason": "not_eligible", "comment": "Hors critères"}),
            200,
        )
        .await;
        id
    };
    let old = refer().await;
    let recent = refer().await;
    let mut conn = app.db.connect().await;
    crate::support::db::execute(
        &mut conn,
        &format!("UPDATE referrals SET decided_at = now() - interval '3 years' WHERE id = '{old}'"),
    )
    .await;
    let report = purge(&app, false);
    assert_eq!(report["declined_referrals"], 1);
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        row: String,
    }
    let row_of = |id: String| {
        diesel::sql_query(
            "SELECT concat_ws('|', family_name, given_names, birth_date, partner_number, \
             decision_comment, reason) AS row FROM referrals WHERE id = $1::uuid",
        )
        .bind::<Text, _>(id)
    };
    let anonymised: Row = row_of(old).get_result(&mut conn).await.unwrap();
    assert_eq!(
        anonymised.row,
        "[anonymisé]|[anonymisé]|1971-01-01|[anonymisé]"
    );
    let kept: Row = row_of(recent).get_result(&mut conn).await.unwrap();
    assert!(
        kept.row.starts_with("Déclinée|Odile|1971-04-04|7777777"),
        "{}",
        kept.row
    );
    // Twice is once.
    assert_eq!(purge(&app, false)["declined_referrals"], 0);
}
