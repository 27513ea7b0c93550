//! One batch of demo rows into the database: one `INSERT … SELECT FROM
//! unnest(…)` per table, each column bound as an array.

use diesel::QueryResult;
use diesel::sql_types::{
    Array, Bool, Bytea, Date, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::Tx;
use crate::db::schema::sql_types as t;
use crate::demo::generate::Batch;

/// Leaves out the NIRs the database already holds (from an earlier run):
/// a NIR belongs to one person.
pub async fn drop_known_nirs(conn: &mut AsyncPgConnection, b: &mut Batch) -> QueryResult<()> {
    #[derive(diesel::QueryableByName)]
    struct Known {
        #[diesel(sql_type = Bytea)]
        nir_index: Vec<u8>,
    }
    let wanted: Vec<Vec<u8>> = b.persons.nir_index.iter().flatten().cloned().collect();
    let known: Vec<Known> =
        diesel::sql_query("SELECT nir_index FROM persons WHERE nir_index = ANY($1)")
            .bind::<Array<Bytea>, _>(&wanted)
            .load(conn)
            .await?;
    let p = &mut b.persons;
    for (index, sealed) in p.nir_index.iter_mut().zip(p.nir_ciphertext.iter_mut()) {
        if index
            .as_ref()
            .is_some_and(|i| known.iter().any(|k| &k.nir_index == i))
        {
            *index = None;
            *sealed = None;
        }
    }
    Ok(())
}

pub async fn batch(tx: &mut Tx<'_>, b: &Batch) -> QueryResult<()> {
    let p = &b.persons;
    diesel::sql_query(
        "INSERT INTO persons (id, family_name, given_names, birth_date, sex, commune_insee, \
             territory_id, caf_number, msa_number, legal_representative, sharing_objection, \
             nir_ciphertext, nir_index, created_at, updated_at) \
         SELECT *, c FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
             AS u(a, b, c0, d, e, f, g, h, i, j, k, l, m, c)",
    )
    .bind::<Array<SqlUuid>, _>(&p.id)
    .bind::<Array<Text>, _>(&p.family_name)
    .bind::<Array<Text>, _>(&p.given_names)
    .bind::<Array<Date>, _>(&p.birth_date)
    .bind::<Array<Nullable<t::Sex>>, _>(&p.sex)
    .bind::<Array<Text>, _>(&p.commune)
    .bind::<Array<SqlUuid>, _>(&p.territory)
    .bind::<Array<Nullable<Text>>, _>(&p.caf)
    .bind::<Array<Nullable<Text>>, _>(&p.msa)
    .bind::<Array<Nullable<Text>>, _>(&p.representative)
    .bind::<Array<Bool>, _>(&p.objection)
    .bind::<Array<Nullable<Bytea>>, _>(&p.nir_ciphertext)
    .bind::<Array<Nullable<Bytea>>, _>(&p.nir_index)
    .bind::<Array<Timestamptz>, _>(&p.created_at)
    .execute(tx.conn())
    .await?;

    let w = &b.pathways;
    diesel::sql_query(
        "INSERT INTO pathways (id, person_id, domain, territory_id, referent_id, status, \
             status_since, opened_on, closed_on, closure_reason, critical_level, critical_reason, \
             critical_since, created_at, updated_at, continues_from, continuation_reason) \
         SELECT a, b, c0, d, e, f, g, h, i, j, k, l, m, c, c, n, o \
         FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
             AS u(a, b, c0, d, e, f, g, h, i, j, k, l, m, c, n, o)",
    )
    .bind::<Array<SqlUuid>, _>(&w.id)
    .bind::<Array<SqlUuid>, _>(&w.person)
    .bind::<Array<t::Domain>, _>(&w.domain)
    .bind::<Array<SqlUuid>, _>(&w.territory)
    .bind::<Array<Nullable<SqlUuid>>, _>(&w.referent)
    .bind::<Array<t::PathwayStatus>, _>(&w.status)
    .bind::<Array<Timestamptz>, _>(&w.status_since)
    .bind::<Array<Date>, _>(&w.opened_on)
    .bind::<Array<Nullable<Date>>, _>(&w.closed_on)
    .bind::<Array<Nullable<t::ClosureReason>>, _>(&w.closure_reason)
    .bind::<Array<Nullable<t::EscalationLevel>>, _>(&w.critical_level)
    .bind::<Array<Nullable<Text>>, _>(&w.critical_reason)
    .bind::<Array<Nullable<Timestamptz>>, _>(&w.critical_since)
    .bind::<Array<Timestamptz>, _>(&w.created_at)
    .bind::<Array<Nullable<SqlUuid>>, _>(&w.continues_from)
    .bind::<Array<Nullable<t::ContinuationReason>>, _>(&w.continuation_reason)
    .execute(tx.conn())
    .await?;

    let s = &b.periods;
    diesel::sql_query(
        "INSERT INTO pathway_status_periods (pathway_id, status, started_at, ended_at, reason) \
         SELECT * FROM unnest($1, $2, $3, $4, $5)",
    )
    .bind::<Array<SqlUuid>, _>(&s.pathway)
    .bind::<Array<t::PathwayStatus>, _>(&s.status)
    .bind::<Array<Timestamptz>, _>(&s.started_at)
    .bind::<Array<Nullable<Timestamptz>>, _>(&s.ended_at)
    .bind::<Array<Nullable<Text>>, _>(&s.reason)
    .execute(tx.conn())
    .await?;

    // Events in time order, so that their sequence follows the timeline;
    // events of one instant in the order they were made (a pathway opened
    // and moved within the same instant), as the API would have written them.
    let e = &b.events;
    diesel::sql_query(
        "INSERT INTO pathway_events (pathway_id, kind, occurred_at, actor_id, data) \
         SELECT p, k, o, a, d FROM unnest($1, $2, $3, $4, $5) WITH ORDINALITY \
             AS u(p, k, o, a, d, n) ORDER BY o, n",
    )
    .bind::<Array<SqlUuid>, _>(&e.pathway)
    .bind::<Array<t::EventKind>, _>(&e.kind)
    .bind::<Array<Timestamptz>, _>(&e.occurred_at)
    .bind::<Array<Nullable<SqlUuid>>, _>(&e.actor)
    .bind::<Array<Jsonb>, _>(&e.data)
    .execute(tx.conn())
    .await?;

    let d = &b.decisions;
    diesel::sql_query(
        "INSERT INTO decisions (id, pathway_id, authority, qualification, label, decided_on, \
             valid_until, implemented_on, recorded_by, created_at, kind) \
         SELECT * FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind::<Array<SqlUuid>, _>(&d.id)
    .bind::<Array<SqlUuid>, _>(&d.pathway)
    .bind::<Array<t::DecisionAuthority>, _>(&d.authority)
    .bind::<Array<t::DecisionQualification>, _>(&d.qualification)
    .bind::<Array<Text>, _>(&d.label)
    .bind::<Array<Date>, _>(&d.decided_on)
    .bind::<Array<Nullable<Date>>, _>(&d.valid_until)
    .bind::<Array<Nullable<Date>>, _>(&d.implemented_on)
    .bind::<Array<Nullable<SqlUuid>>, _>(&d.recorded_by)
    .bind::<Array<Timestamptz>, _>(&d.created_at)
    .bind::<Array<t::DecisionKind>, _>(&d.kind)
    .execute(tx.conn())
    .await?;

    let f = &b.follow_ups;
    diesel::sql_query(
        "INSERT INTO facility_follow_ups (id, decision_id, pathway_id, organization_id, finess, \
             status, reason, status_on, version, created_at, updated_at) \
         SELECT *, c FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             AS u(a, b, c0, d, e, f, g, h, i, c)",
    )
    .bind::<Array<SqlUuid>, _>(&f.id)
    .bind::<Array<SqlUuid>, _>(&f.decision)
    .bind::<Array<SqlUuid>, _>(&f.pathway)
    .bind::<Array<SqlUuid>, _>(&f.organization)
    .bind::<Array<Text>, _>(&f.finess)
    .bind::<Array<Nullable<Text>>, _>(&f.status)
    .bind::<Array<Nullable<Text>>, _>(&f.reason)
    .bind::<Array<Nullable<Date>>, _>(&f.status_on)
    .bind::<Array<diesel::sql_types::Integer>, _>(&f.version)
    .bind::<Array<Timestamptz>, _>(&f.created_at)
    .execute(tx.conn())
    .await?;

    crate::db::facility_follow_ups::refresh_refusals(tx, &b.decisions.id).await?;

    let s = &b.facility_statuses;
    diesel::sql_query(
        "INSERT INTO facility_statuses (id, follow_up_id, status, reason, status_on, \
             recorded_by, recorded_at) \
         SELECT * FROM unnest($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind::<Array<SqlUuid>, _>(&s.id)
    .bind::<Array<SqlUuid>, _>(&s.follow_up)
    .bind::<Array<Text>, _>(&s.status)
    .bind::<Array<Nullable<Text>>, _>(&s.reason)
    .bind::<Array<Date>, _>(&s.status_on)
    .bind::<Array<SqlUuid>, _>(&s.recorded_by)
    .bind::<Array<Timestamptz>, _>(&s.recorded_at)
    .execute(tx.conn())
    .await?;

    let l = &b.plans;
    diesel::sql_query(
        "INSERT INTO plans (id, pathway_id, kind, status, coordinator_id, consent_by, \
             consented_on, activated_on, review_due, ended_on, end_reason, created_at, updated_at) \
         SELECT *, c FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             AS u(a, b, c0, d, e, f, g, h, i, j, k, c)",
    )
    .bind::<Array<SqlUuid>, _>(&l.id)
    .bind::<Array<SqlUuid>, _>(&l.pathway)
    .bind::<Array<t::PlanKind>, _>(&l.kind)
    .bind::<Array<t::PlanStatus>, _>(&l.status)
    .bind::<Array<SqlUuid>, _>(&l.coordinator)
    .bind::<Array<Nullable<t::ConsentBy>>, _>(&l.consent_by)
    .bind::<Array<Nullable<Date>>, _>(&l.consented_on)
    .bind::<Array<Nullable<Date>>, _>(&l.activated_on)
    .bind::<Array<Nullable<Date>>, _>(&l.review_due)
    .bind::<Array<Nullable<Date>>, _>(&l.ended_on)
    .bind::<Array<Nullable<t::PlanEndReason>>, _>(&l.end_reason)
    .bind::<Array<Timestamptz>, _>(&l.created_at)
    .execute(tx.conn())
    .await?;

    let c = &b.commitments;
    diesel::sql_query(
        "INSERT INTO commitments (id, plan_id, organization_id, description, frequency, due_on, \
             status, refusal_reason, answered_at, answered_by, created_at, updated_at) \
         SELECT *, c FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             AS u(a, b, c0, d, e, f, g, h, i, j, c)",
    )
    .bind::<Array<SqlUuid>, _>(&c.id)
    .bind::<Array<SqlUuid>, _>(&c.plan)
    .bind::<Array<SqlUuid>, _>(&c.organization)
    .bind::<Array<Text>, _>(&c.description)
    .bind::<Array<Nullable<Text>>, _>(&c.frequency)
    .bind::<Array<Nullable<Date>>, _>(&c.due_on)
    .bind::<Array<t::CommitmentStatus>, _>(&c.status)
    .bind::<Array<Nullable<t::CommitmentRefusalReason>>, _>(&c.refusal_reason)
    .bind::<Array<Nullable<Timestamptz>>, _>(&c.answered_at)
    .bind::<Array<Nullable<SqlUuid>>, _>(&c.answered_by)
    .bind::<Array<Timestamptz>, _>(&c.created_at)
    .execute(tx.conn())
    .await?;

    // What each consented plan's person agreed to: its first version; a
    // seventh of the plans in force changed since, and wait for a new one.
    crate::db::plans::freeze_first_versions(tx, &b.plans.id).await?;
    diesel::sql_query(
        "UPDATE plans SET version_number = 2, pending_changes = 'objectives changed' \
         WHERE id = ANY ($1) AND status = 'active' AND abs(hashtext(id::text)) % 7 = 0",
    )
    .bind::<Array<SqlUuid>, _>(&b.plans.id)
    .execute(tx.conn())
    .await?;

    let m = &b.meetings;
    diesel::sql_query(
        "INSERT INTO meetings (id, pathway_id, held_on, person_agreed, outcome, recorded_by, \
             created_at) \
         SELECT * FROM unnest($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind::<Array<SqlUuid>, _>(&m.id)
    .bind::<Array<SqlUuid>, _>(&m.pathway)
    .bind::<Array<Date>, _>(&m.held_on)
    .bind::<Array<Bool>, _>(&m.person_agreed)
    .bind::<Array<Text>, _>(&m.outcome)
    .bind::<Array<Nullable<SqlUuid>>, _>(&m.recorded_by)
    .bind::<Array<Timestamptz>, _>(&m.created_at)
    .execute(tx.conn())
    .await?;
    escalated_and_convened(tx, &b.pathways.id).await
}

/// Half the open critical situations (those with a referent) escalated to
/// the ARS, a third each still awaiting, acknowledged or answered, due 15
/// days after they were sent; one open pathway in 40 with a GOS convened,
/// the CAF invited: the first and every fourth in the last 10 days (their
/// outcome to record, whatever the day the demo is seeded), the others in
/// the next 35 days. With their events.
async fn escalated_and_convened(
    conn: &mut AsyncPgConnection,
    pathways: &[uuid::Uuid],
) -> QueryResult<()> {
    diesel::sql_query(
        "WITH candidates AS ( \
             SELECT p.*, abs(hashtext(p.id::text)) AS h FROM pathways p \
             JOIN persons pe ON pe.id = p.person_id \
             WHERE p.id = ANY ($1) AND p.status <> 'closed' AND p.referent_id IS NOT NULL \
               AND NOT pe.sharing_objection), \
         sent AS ( \
             INSERT INTO escalations (id, pathway_id, organization_id, level, summary, due_on, \
                 status, sent_by, sent_at, acknowledged_by, acknowledged_at, answer, answered_by, \
                 answered_at, created_at) \
             SELECT uuid_generate_v7(), c.id, (SELECT id FROM organizations WHERE kind = 'ars' \
                        ORDER BY id LIMIT 1), \
                 c.critical_level, 'Aucune réponse adaptée à ce jour (démonstration).', \
                 (t.at + interval '15 days')::date, \
                 (ARRAY['sent', 'acknowledged', 'answered'])[c.h % 3 + 1]::escalation_status, \
                 c.referent_id, t.at, \
                 CASE WHEN c.h % 3 > 0 THEN c.referent_id END, \
                 CASE WHEN c.h % 3 > 0 THEN t.at END, \
                 CASE WHEN c.h % 3 = 2 THEN 'Proposition d''accueil transmise (démonstration).' END, \
                 CASE WHEN c.h % 3 = 2 THEN c.referent_id END, \
                 CASE WHEN c.h % 3 = 2 THEN t.at END, t.at \
             FROM candidates c, LATERAL (SELECT least(c.critical_since + interval '1 day', now()) AS at) t \
             WHERE c.critical_level IS NOT NULL AND c.h % 2 = 0 \
             RETURNING *), \
         convened AS ( \
             INSERT INTO meetings (id, pathway_id, status, planned_at, person_agreed, recorded_by, \
                 created_at) \
             SELECT uuid_generate_v7(), c.id, 'planned', \
                 date_trunc('day', now()) + interval '14 hours' + make_interval(days => \
                     CASE WHEN c.n % 4 = 1 THEN -1 - c.h % 10 ELSE c.h % 36 END), \
                 true, c.referent_id, greatest(c.created_at, now() - interval '20 days') \
             FROM (SELECT *, row_number() OVER (ORDER BY id) AS n FROM candidates \
                   WHERE h % 40 = 1) c \
             RETURNING *), \
         invited AS ( \
             INSERT INTO meeting_organizations (meeting_id, organization_id) \
             SELECT id, (SELECT id FROM organizations WHERE kind = 'caf' ORDER BY id LIMIT 1) \
             FROM convened RETURNING *) \
         INSERT INTO pathway_events (pathway_id, kind, occurred_at, actor_id, data) \
         SELECT pathway_id, 'escalation_sent'::event_kind, sent_at, sent_by, jsonb_build_object( \
                 'escalation_id', id, 'organization_id', organization_id, 'level', level, \
                 'due_on', due_on) FROM sent \
         UNION ALL \
         SELECT pathway_id, 'escalation_status_changed'::event_kind, acknowledged_at, sent_by, jsonb_build_object( \
                 'escalation_id', id, 'organization_id', organization_id, 'from', 'sent', \
                 'to', status, 'closure', NULL) FROM sent WHERE status <> 'sent' \
         UNION ALL \
         SELECT m.pathway_id, 'meeting_planned'::event_kind, m.created_at, m.recorded_by, jsonb_build_object( \
                 'meeting_id', m.id, 'planned_at', m.planned_at, 'organization_ids', \
                 (SELECT jsonb_agg(i.organization_id) FROM invited i WHERE i.meeting_id = m.id), \
                 'plan_id', NULL) FROM convened m \
         ORDER BY 3",
    )
    .bind::<Array<SqlUuid>, _>(pathways)
    .execute(conn)
    .await?;
    Ok(())
}
