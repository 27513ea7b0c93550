//! The one registry of the tables that hold a person's data: how each row
//! links to its person, what it is called in the audit trail, and what the
//! retention purge does to it. The access log and the subject-access
//! export find a person's records through it, and the purge runs its
//! statements; a test fails when a table that links to a person, a pathway,
//! a plan or a meeting is missing from it.

use crate::domain::audit::AuditTarget;

/// What the retention purge does to a table's rows of the persons due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purge {
    /// This statement, with `$1` the persons' ids (`uuid[]`).
    Statement(&'static str),
    /// Nothing, for this reason.
    Keeps(&'static str),
}

/// One table holding personal data.
#[derive(Debug, Clone, Copy)]
pub struct PersonalTable {
    pub table: &'static str,
    /// Its rows in the audit trail (`resource_type`, with their `id`), if
    /// they are audited one by one.
    pub resource_type: Option<AuditTarget>,
    /// The ids of the rows of person `$1` (one `uuid` column `id`), for
    /// tables whose rows are audited by id.
    pub of_person: Option<&'static str>,
    pub purge: Purge,
    /// Whether the right-of-access document ([`crate::db::subject_access`])
    /// hands its rows over.
    pub handed_over: HandedOver,
}

/// Whether a table's rows are in the right-of-access document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandedOver {
    Yes,
    /// Not, for this reason.
    No(&'static str),
}

/// What anonymising a referral sets: a macro, so that both purges of
/// referrals (of a person, declined) build their statement from it at
/// compile time.
macro_rules! referral_anonymised {
    () => {
        "reason = '[anonymisé]', contact = NULL, family_name = '[anonymisé]', \
         given_names = '[anonymisé]', birth_date = date_trunc('year', birth_date)::date, \
         partner_number = NULL, nir_ciphertext = NULL, nir_index = NULL, decision_comment = NULL"
    };
}

pub const REGISTRY: &[PersonalTable] = &[
    PersonalTable {
        table: "persons",
        resource_type: Some(AuditTarget::Person),
        of_person: Some("SELECT id FROM persons WHERE id = $1"),
        purge: Purge::Statement(
            "UPDATE persons SET family_name = '[anonymisé]', given_names = '[anonymisé]', \
                 birth_date = date_trunc('year', birth_date)::date, caf_number = NULL, \
                 msa_number = NULL, nir_ciphertext = NULL, nir_index = NULL, \
                 legal_representative = NULL, anonymised_at = now() \
             WHERE id = ANY($1)",
        ),
        handed_over: HandedOver::Yes,
    },
    PersonalTable {
        table: "person_name_words",
        resource_type: None,
        of_person: None,
        purge: Purge::Keeps(
            "the words of a name, for search, kept by triggers on persons: anonymising the \
             person removes them, and a word no one bears leaves name_words",
        ),
        handed_over: HandedOver::No("the words of the name the document gives, kept for search"),
    },
    PersonalTable {
        table: "pathways",
        resource_type: Some(AuditTarget::Pathway),
        of_person: Some("SELECT id FROM pathways WHERE person_id = $1"),
        purge: Purge::Statement(
            "UPDATE pathways SET critical_reason = CASE WHEN critical_level IS NULL THEN NULL \
                 ELSE '[anonymisé]' END WHERE person_id = ANY($1)",
        ),
        handed_over: HandedOver::Yes,
    },
    PersonalTable {
        table: "pathway_status_periods",
        resource_type: None,
        of_person: None,
        purge: Purge::Statement(
            "UPDATE pathway_status_periods SET reason = NULL \
             WHERE pathway_id IN (SELECT id FROM pathways WHERE person_id = ANY($1))",
        ),
        handed_over: HandedOver::Yes,
    },
    PersonalTable {
        table: "pathway_events",
        resource_type: None,
        of_person: None,
        purge: Purge::Keeps(
            "append-only timeline: events name the notes, plans and decisions they concern, \
             never a note's text; their free-text reasons stay (see the README)",
        ),
        handed_over: HandedOver::Yes,
    },
    PersonalTable {
        table: "decisions",
        resource_type: Some(AuditTarget::Decision),
        of_person: Some(
            "SELECT d.id FROM decisions d JOIN pathways p ON p.id = d.pathway_id \
             WHERE p.person_id = $1",
        ),
        purge: Purge::Keeps("authority, qualification and dates feed the indicators"),
        handed_over: HandedOver::Yes,
    },
    PersonalTable {
        table: "facility_follow_ups",
        resource_type: Some(AuditTarget::FacilityFollowUp),
        of_person: Some(
            "SELECT f.id FROM facility_follow_ups f JOIN pathways p ON p.id = f.pathway_id \
             WHERE p.person_id = $1",
        ),
        purge: Purge::Keeps(
            "a facility, a unit, national codes and dates: no free text; they feed the \
             indicators of admissions and refusals",
        ),
        handed_over: HandedOver::Yes,
    },
    PersonalTable {
        table: "facility_statuses",
        resource_type: None,
        of_person: None,
        purge: Purge::Keeps("append-only history of national codes and dates, no free text"),
        handed_over: HandedOver::Yes,
    },
    PersonalTable {
        table: "escalations",
        resource_type: Some(AuditTarget::Escalation),
        of_person: Some(
            "SELECT es.id FROM escalations es JOIN pathways p ON p.id = es.pathway_id \
             WHERE p.person_id = $1",
        ),
        purge: Purge::Statement(
            "UPDATE escalations SET summary = '[anonymisé]', \
                 answer = CASE WHEN answer IS NULL THEN NULL ELSE '[anonymisé]' END \
             WHERE pathway_id IN (SELECT id FROM pathways WHERE person_id = ANY($1))",
        ),
        handed_over: HandedOver::Yes,
    },
    PersonalTable {
        table: "plans",
        resource_type: Some(AuditTarget::Plan),
        of_person: Some(
            "SELECT pl.id FROM plans pl JOIN pathways p ON p.id = pl.pathway_id \
             WHERE p.person_id = $1",
        ),
        purge: Purge::Statement(
            "UPDATE plans SET objectives = NULL \
             WHERE pathway_id IN (SELECT id FROM pathways WHERE person_id = ANY($1))",
        ),
        handed_over: HandedOver::Yes,
    },
    PersonalTable {
        table: "plan_versions",
        resource_type: None,
        of_person: None,
        purge: Purge::Statement(
            "UPDATE plan_versions SET objectives = NULL, \
                 commitments = (SELECT coalesce(jsonb_agg(c || '{\"description\": \"[anonymisé]\"}'), '[]') \
                                FROM jsonb_array_elements(commitments) c) \
             WHERE plan_id IN (SELECT pl.id FROM plans pl JOIN pathways p ON p.id = pl.pathway_id \
                               WHERE p.person_id = ANY($1))",
        ),
        handed_over: HandedOver::Yes,
    },
    PersonalTable {
        table: "commitments",
        resource_type: Some(AuditTarget::Commitment),
        of_person: Some(
            "SELECT c.id FROM commitments c JOIN plans pl ON pl.id = c.plan_id \
             JOIN pathways p ON p.id = pl.pathway_id WHERE p.person_id = $1",
        ),
        purge: Purge::Statement(
            "UPDATE commitments SET description = '[anonymisé]' WHERE plan_id IN \
                 (SELECT pl.id FROM plans pl JOIN pathways p ON p.id = pl.pathway_id \
                  WHERE p.person_id = ANY($1))",
        ),
        handed_over: HandedOver::Yes,
    },
    PersonalTable {
        table: "meetings",
        resource_type: Some(AuditTarget::Meeting),
        of_person: Some(
            "SELECT m.id FROM meetings m JOIN pathways p ON p.id = m.pathway_id \
             WHERE p.person_id = $1",
        ),
        purge: Purge::Statement(
            "UPDATE meetings SET \
                 outcome = CASE WHEN outcome IS NULL THEN NULL ELSE '[anonymisé]' END, \
                 cancel_reason = CASE WHEN cancel_reason IS NULL THEN NULL ELSE '[anonymisé]' END \
             WHERE pathway_id IN (SELECT id FROM pathways WHERE person_id = ANY($1))",
        ),
        handed_over: HandedOver::Yes,
    },
    PersonalTable {
        table: "meeting_organizations",
        resource_type: None,
        of_person: None,
        purge: Purge::Keeps("which organizations took part: no personal data"),
        handed_over: HandedOver::Yes,
    },
    PersonalTable {
        table: "meeting_users",
        resource_type: None,
        of_person: None,
        purge: Purge::Keeps("which professionals took part: no data of the person"),
        handed_over: HandedOver::Yes,
    },
    PersonalTable {
        table: "notes",
        resource_type: Some(AuditTarget::Note),
        of_person: Some(
            "SELECT n.id FROM notes n JOIN pathways p ON p.id = n.pathway_id \
             WHERE p.person_id = $1",
        ),
        purge: Purge::Statement(
            "DELETE FROM notes WHERE pathway_id IN (SELECT id FROM pathways WHERE person_id = ANY($1))",
        ),
        handed_over: HandedOver::Yes,
    },
    PersonalTable {
        table: "referrals",
        resource_type: Some(AuditTarget::Referral),
        of_person: Some("SELECT id FROM referrals WHERE person_id = $1"),
        purge: Purge::Statement(concat!(
            "UPDATE referrals SET ",
            referral_anonymised!(),
            " WHERE person_id = ANY($1)"
        )),
        handed_over: HandedOver::Yes,
    },
];

/// Declined referrals name a person the département never took in: the
/// purge anonymises them once declined for longer than the retention
/// period. Those due (`$1`: the cutoff), locked:
pub const DECLINED_REFERRALS_DUE: &str = "SELECT id FROM referrals \
     WHERE status = 'declined' AND person_id IS NULL AND decided_at < $1 \
       AND family_name <> '[anonymisé]' ORDER BY id FOR UPDATE";

/// … and what is done to them (`$1`: their ids), as to a person's referrals.
pub const DECLINED_REFERRALS_PURGE: &str = concat!(
    "UPDATE referrals SET ",
    referral_anonymised!(),
    " WHERE id = ANY($1)"
);

/// The ids of everything of person `$1` that the audit trail names, as
/// one SQL array expression.
pub fn ids_of_person_sql() -> String {
    let parts: Vec<&str> = REGISTRY.iter().filter_map(|t| t.of_person).collect();
    format!("ARRAY({})", parts.join(" UNION ALL "))
}

/// The audit records about person `$1`: those naming one of its rows, and
/// the lists and searches that returned one (a SQL condition on `a`).
pub fn access_condition_sql() -> String {
    let ids = ids_of_person_sql();
    format!("(a.resource_id = ANY({ids}) OR a.result_ids && {ids})")
}

/// The purge's statements, in registry order.
pub fn purge_statements() -> impl Iterator<Item = &'static str> {
    REGISTRY.iter().filter_map(|t| match t.purge {
        Purge::Statement(sql) => Some(sql),
        Purge::Keeps(_) => None,
    })
}
