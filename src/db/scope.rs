//! Scoping in SQL: which rows a caller may see, as WHERE clauses added to
//! every query on case files. Staff see the pathways of their territories and
//! domains and the persons of their territories; every other role sees none
//! (fail closed: a role added later sees nothing until it is given a scope here).

use diesel::dsl::sql;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use crate::db::schema::{
    commitments, decisions, escalations, facility_follow_ups, meetings, pathways, persons, plans,
    referrals, webhooks,
};
use crate::domain::policy::{self, WebhookOwner};
use crate::domain::principal::Principal;

pub type Predicate<T> = Box<dyn BoxableExpression<T, Pg, SqlType = Bool>>;

/// Case files are for the roles that work on them (the policy's table).
fn is_staff_in_cases(who: &Principal) -> bool {
    policy::allows(who.role, policy::Action::WorkOnCases)
}

fn nothing<T>() -> Predicate<T>
where
    T: 'static,
{
    Box::new(sql::<Bool>("FALSE"))
}

/// The ids of the pathways of persons who did not object to sharing: all
/// a partner may ever be shown of.
fn shared_pathway_ids() -> pathways::BoxedQuery<'static, Pg, diesel::sql_types::Uuid> {
    pathways::table
        .filter(
            pathways::person_id.eq_any(
                persons::table
                    .filter(persons::sharing_objection.eq(false))
                    .select(persons::id),
            ),
        )
        .select(pathways::id)
        .into_boxed()
}

/// The ids of the pathways the caller sees.
fn visible_pathway_ids(
    who: &Principal,
) -> pathways::BoxedQuery<'static, Pg, diesel::sql_types::Uuid> {
    pathways::table
        .filter(pathways_visible(who))
        .select(pathways::id)
        .into_boxed()
}

/// Pathways in the caller's territories and domains.
pub fn pathways_visible(who: &Principal) -> Predicate<pathways::table> {
    if !is_staff_in_cases(who) {
        return nothing();
    }
    Box::new(
        pathways::territory_id
            .eq_any(who.territories.clone())
            .and(pathways::domain.eq_any(who.domains.clone())),
    )
}

/// The referral queue: staff see the referrals of their territories and
/// domains (the commune's territory, the domain referred to).
pub fn referrals_triaged(who: &Principal) -> Predicate<referrals::table> {
    if !is_staff_in_cases(who) {
        return nothing();
    }
    Box::new(
        referrals::territory_id
            .eq_any(who.territories.clone())
            .and(referrals::domain.eq_any(who.domains.clone())),
    )
}

/// Partners: their organization, whose followed pathways (the SQL view
/// `partner_pathways`) they may read. Every other role: none.
pub fn partner_organization(who: &Principal) -> Option<uuid::Uuid> {
    policy::partner_organization(who)
}

/// Webhooks: a partner's are its organization's; admins manage all of them.
pub fn webhooks_visible(who: &Principal) -> Predicate<webhooks::table> {
    match policy::webhook_owner(who) {
        WebhookOwner::Organization(organization) => {
            Box::new(webhooks::organization_id.eq(organization))
        }
        WebhookOwner::Any => Box::new(sql::<Bool>("TRUE")),
        WebhookOwner::Nobody => nothing(),
    }
}

/// Decisions of the pathways the caller sees.
pub fn decisions_visible(who: &Principal) -> Predicate<decisions::table> {
    Box::new(decisions::pathway_id.eq_any(visible_pathway_ids(who)))
}

/// Staff: the facility follow-ups of the pathways they see. Partners: those
/// addressed to their organization, never for a person who objected to
/// sharing.
pub fn facility_follow_ups_visible(who: &Principal) -> Predicate<facility_follow_ups::table> {
    match policy::partner_organization(who) {
        Some(organization) => Box::new(
            facility_follow_ups::organization_id
                .eq(organization)
                .and(facility_follow_ups::pathway_id.eq_any(shared_pathway_ids())),
        ),
        _ if is_staff_in_cases(who) => {
            Box::new(facility_follow_ups::pathway_id.eq_any(visible_pathway_ids(who)))
        }
        _ => nothing(),
    }
}

/// The GOS meetings of the pathways the caller sees (staff only).
pub fn meetings_visible(who: &Principal) -> Predicate<meetings::table> {
    if !is_staff_in_cases(who) {
        return nothing();
    }
    Box::new(meetings::pathway_id.eq_any(visible_pathway_ids(who)))
}

/// Staff: the escalations of the pathways they see. Partners: those sent
/// to their organization, never for a person who objected to sharing.
pub fn escalations_visible(who: &Principal) -> Predicate<escalations::table> {
    match policy::partner_organization(who) {
        Some(organization) => Box::new(
            escalations::organization_id
                .eq(organization)
                .and(escalations::pathway_id.eq_any(shared_pathway_ids())),
        ),
        _ if is_staff_in_cases(who) => {
            Box::new(escalations::pathway_id.eq_any(visible_pathway_ids(who)))
        }
        _ => nothing(),
    }
}

/// The pathways a caller may know exist without reading them (CASF
/// L226-2-2, strictly necessary): those of the persons of the caller's
/// territories that lie outside the caller's territories and domains.
/// Staff only; every other role: none.
pub fn pathways_elsewhere(who: &Principal) -> Predicate<pathways::table> {
    if !is_staff_in_cases(who) {
        return nothing();
    }
    Box::new(
        pathways::person_id
            .eq_any(
                persons::table
                    .filter(persons_visible(who))
                    .select(persons::id)
                    .into_boxed(),
            )
            .and(diesel::dsl::not(pathways_visible(who))),
    )
}

/// Persons of the caller's territories.
pub fn persons_visible(who: &Principal) -> Predicate<persons::table> {
    if !is_staff_in_cases(who) {
        return nothing();
    }
    Box::new(persons::territory_id.eq_any(who.territories.clone()))
}

/// The caller's territories and domains, for hand-written SQL
/// (`territory_id = ANY($1) AND domain = ANY($2)`): empty, so matching
/// nothing, for a role that does not work on case files.
pub fn scope_arrays(who: &Principal) -> (Vec<uuid::Uuid>, Vec<crate::domain::Domain>) {
    if is_staff_in_cases(who) {
        (who.territories.clone(), who.domains.clone())
    } else {
        (Vec::new(), Vec::new())
    }
}

/// Plans of the pathways the caller sees.
pub fn plans_visible(who: &Principal) -> Predicate<plans::table> {
    Box::new(plans::pathway_id.eq_any(visible_pathway_ids(who)))
}

/// Staff: the commitments of the plans they see. Partners: their own
/// organization's, never for a person who objected to sharing.
pub fn commitments_visible(who: &Principal) -> Predicate<commitments::table> {
    match policy::partner_organization(who) {
        Some(organization) => Box::new(
            commitments::organization_id.eq(organization).and(
                commitments::plan_id.eq_any(
                    plans::table
                        .inner_join(pathways::table.inner_join(persons::table))
                        .filter(persons::sharing_objection.eq(false))
                        .select(plans::id)
                        .into_boxed(),
                ),
            ),
        ),
        _ if is_staff_in_cases(who) => Box::new(
            commitments::plan_id.eq_any(
                plans::table
                    .filter(plans_visible(who))
                    .select(plans::id)
                    .into_boxed(),
            ),
        ),
        _ => nothing(),
    }
}
