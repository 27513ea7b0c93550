//! Everything parcours holds about one person, as one JSON document built
//! by PostgreSQL (`to_jsonb` of each row: a column added later shows up
//! without a change here; `http::subject_access` documents each row). The
//! NIR's ciphertext and index are left out (of the person and of its
//! referrals); the API adds the masked NIR.

use diesel::QueryableByName;
use diesel::sql_types::{Jsonb, Nullable, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

const SQL: &str = "
SELECT (SELECT jsonb_build_object(
    'person', to_jsonb(pe) - 'nir_ciphertext' - 'nir_index',
    'pathways', (
        SELECT coalesce(jsonb_agg(to_jsonb(p) || jsonb_build_object(
            'status_history', (SELECT coalesce(jsonb_agg(to_jsonb(sp) ORDER BY sp.id), '[]')
                               FROM pathway_status_periods sp WHERE sp.pathway_id = p.id),
            'decisions', (SELECT coalesce(jsonb_agg(to_jsonb(d) || jsonb_build_object(
                              'facilities', (SELECT coalesce(jsonb_agg(to_jsonb(f) || jsonb_build_object(
                                  'statuses', (SELECT coalesce(jsonb_agg(to_jsonb(fs) ORDER BY fs.id), '[]')
                                               FROM facility_statuses fs WHERE fs.follow_up_id = f.id))
                                  ORDER BY f.id), '[]')
                                  FROM facility_follow_ups f WHERE f.decision_id = d.id))
                          ORDER BY d.id), '[]')
                          FROM decisions d WHERE d.pathway_id = p.id),
            'plans', (SELECT coalesce(jsonb_agg(to_jsonb(pl) || jsonb_build_object(
                          'commitments', (SELECT coalesce(jsonb_agg(to_jsonb(c) ORDER BY c.id), '[]')
                                          FROM commitments c WHERE c.plan_id = pl.id),
                          'versions', (SELECT coalesce(jsonb_agg(to_jsonb(v) ORDER BY v.number), '[]')
                                       FROM plan_versions v WHERE v.plan_id = pl.id))
                          ORDER BY pl.id), '[]')
                      FROM plans pl WHERE pl.pathway_id = p.id),
            'meetings', (SELECT coalesce(jsonb_agg(to_jsonb(m) || jsonb_build_object(
                             'organization_ids', (SELECT coalesce(jsonb_agg(mo.organization_id
                                                      ORDER BY mo.organization_id), '[]')
                                                  FROM meeting_organizations mo
                                                  WHERE mo.meeting_id = m.id),
                             'user_ids', (SELECT coalesce(jsonb_agg(mu.user_id ORDER BY mu.user_id), '[]')
                                          FROM meeting_users mu WHERE mu.meeting_id = m.id))
                         ORDER BY m.id), '[]')
                         FROM meetings m WHERE m.pathway_id = p.id),
            'notes', (SELECT coalesce(jsonb_agg(to_jsonb(n) ORDER BY n.id), '[]')
                      FROM notes n WHERE n.pathway_id = p.id),
            'escalations', (SELECT coalesce(jsonb_agg(to_jsonb(es) ORDER BY es.id), '[]')
                            FROM escalations es WHERE es.pathway_id = p.id),
            'timeline', (SELECT coalesce(jsonb_agg(to_jsonb(e) - 'txid' - 'pathway_id' ORDER BY e.seq), '[]')
                         FROM pathway_events e WHERE e.pathway_id = p.id)
        ) ORDER BY p.id), '[]')
        FROM pathways p WHERE p.person_id = pe.id),
    'referrals', (SELECT coalesce(jsonb_agg(to_jsonb(r) - 'nir_ciphertext' - 'nir_index' ORDER BY r.id), '[]')
                  FROM referrals r WHERE r.person_id = pe.id),
    'access_log', (SELECT coalesce(jsonb_agg(to_jsonb(a) - 'txid' ORDER BY a.seq), '[]')
                   FROM audit_log a
                   WHERE {ACCESS})
) FROM persons pe WHERE pe.id = $1) AS document";

#[derive(QueryableByName)]
struct Document {
    #[diesel(sql_type = Nullable<Jsonb>)]
    document: Option<serde_json::Value>,
}

/// The document, or `None` when there is no such person.
pub async fn of_person(
    conn: &mut AsyncPgConnection,
    person: Uuid,
) -> diesel::QueryResult<Option<serde_json::Value>> {
    // Who accessed the file: the personal-data registry's one definition.
    let sql = SQL.replace(
        "{ACCESS}",
        &crate::db::personal_data::access_condition_sql(),
    );
    let row: Document = diesel::sql_query(sql)
        .bind::<SqlUuid, _>(person)
        .get_result(conn)
        .await?;
    Ok(row.document)
}

#[cfg(test)]
mod tests {
    use super::SQL;
    use crate::db::personal_data::{HandedOver, REGISTRY};

    /// A table the registry says holds a person's data is in the document,
    /// unless the registry says why not.
    #[test]
    fn the_document_holds_every_table_of_the_registry() {
        let missing: Vec<&str> = REGISTRY
            .iter()
            .filter(|t| t.handed_over == HandedOver::Yes)
            .map(|t| t.table)
            .filter(|table| !SQL.contains(&format!("FROM {table} ")))
            .collect();
        assert!(missing.is_empty(), "not in the document: {missing:?}");
    }
}
