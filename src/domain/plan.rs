//! Support plans: which kinds each domain uses, the status machine
//! `draft → proposed → consented → active → ended`, and the review rule.

use chrono::{Months, NaiveDate};

use crate::domain::coding::Coding;
use crate::domain::enums::PlanStatus::{self, Active, Consented, Draft, Ended, Proposed};
use crate::domain::enums::{Domain, PlanEndReason, PlanKind};

/// A review is due at most this long after activation.
pub const MAX_REVIEW_MONTHS: u32 = 12;

/// `pag` everywhere (Hautes-Alpes extends it to every domain), plus the
/// domain's own instrument.
pub fn kind_allowed(domain: Domain, kind: PlanKind) -> bool {
    matches!(
        (domain, kind),
        (_, PlanKind::Pag)
            | (Domain::Elderly, PlanKind::CarePlan)
            | (Domain::Childhood, PlanKind::Ppe)
            | (Domain::Insertion, PlanKind::EngagementContract)
    )
}

/// The statuses a plan may move to from `from`. A proposal the person does
/// not accept goes back to draft; any plan not yet ended may end.
pub fn allowed_next(from: PlanStatus) -> &'static [PlanStatus] {
    match from {
        Draft => &[Proposed, Ended],
        Proposed => &[Consented, Draft, Ended],
        Consented => &[Active, Ended],
        Active => &[Ended],
        Ended => &[],
    }
}

/// The code system of the national reasons a PAG ends for: TRE_R421
/// « Motif fin PAG » (value set JDV_J403; ANS terminologies, in draft since
/// 2026-05-05, `ansforge/IG-terminologie-de-sante`).
pub const PAG_END_REASON_SYSTEM: &str =
    "https://smt.esante.gouv.fr/fhir/CodeSystem/tre-r421-motif-fin-pag";

/// A reason's code and label in TRE_R421, if it is a national one.
pub fn national_end_reason(reason: PlanEndReason) -> Option<(&'static str, &'static str)> {
    use PlanEndReason::*;
    Some(match reason {
        TargetReached => ("1", "Réponse cible atteinte"),
        AlternativeSustained => ("2", "Réponse alternative stabilisée et pérennisée"),
        SpecificSolutionBecameTarget => (
            "3",
            "Solution spécifique du PAG stabilisée et pérennisée et devenue la cible",
        ),
        CoordinationWithoutPag => ("4", "Coordination effective sans recours au PAG"),
        PersonRequest => ("5", "Demande de l’usager"),
        DerogationsEnded => ("6", "Fin des dérogations"),
        NewPag => ("7", "Elaboration d'un nouveau PAG"),
        MovedOutOfDepartment => ("8", "Déménagement (hors département)"),
        Deceased => ("9", "Décès usager"),
        ObjectivesMet | Replaced | ConsentWithdrawn | PathwayClosed | Other => return None,
    })
}

/// The national coding of `reason` (TRE_R421), if it is one of its nine.
pub fn national_end_reason_coding(reason: PlanEndReason) -> Option<Coding> {
    national_end_reason(reason).map(|(code, display)| Coding {
        system: PAG_END_REASON_SYSTEM.into(),
        code: code.into(),
        display: Some(display.into()),
    })
}

/// Whether a plan of `kind` may end for `reason`: a PAG for a national
/// reason only; the other kinds for any.
pub fn end_reason_allowed(kind: PlanKind, reason: PlanEndReason) -> bool {
    kind != PlanKind::Pag || national_end_reason(reason).is_some()
}

/// The latest review date allowed for a plan activated on `activated_on`.
pub fn latest_review(activated_on: NaiveDate) -> NaiveDate {
    activated_on
        .checked_add_months(Months::new(MAX_REVIEW_MONTHS))
        .unwrap_or(NaiveDate::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pag_everywhere_and_each_domain_its_own_instrument() {
        for domain in [
            Domain::Disability,
            Domain::Elderly,
            Domain::Childhood,
            Domain::Insertion,
        ] {
            assert!(kind_allowed(domain, PlanKind::Pag));
        }
        assert!(kind_allowed(Domain::Elderly, PlanKind::CarePlan));
        assert!(!kind_allowed(Domain::Disability, PlanKind::CarePlan));
        assert!(kind_allowed(Domain::Childhood, PlanKind::Ppe));
        assert!(!kind_allowed(Domain::Insertion, PlanKind::Ppe));
        assert!(kind_allowed(
            Domain::Insertion,
            PlanKind::EngagementContract
        ));
        assert!(!kind_allowed(Domain::Elderly, PlanKind::EngagementContract));
    }

    #[test]
    fn plans_move_forward_only_through_consent() {
        assert!(allowed_next(Draft).contains(&Proposed));
        assert!(!allowed_next(Draft).contains(&Active));
        assert!(!allowed_next(Proposed).contains(&Active));
        assert!(allowed_next(Consented).contains(&Active));
        assert_eq!(allowed_next(Active), &[Ended]);
        assert!(allowed_next(Ended).is_empty());
    }

    #[test]
    fn a_pag_ends_for_one_of_the_nine_national_reasons() {
        let national: Vec<&str> = PlanEndReason::VALUES
            .iter()
            .filter_map(|r| national_end_reason(*r).map(|(code, _)| code))
            .collect();
        assert_eq!(national, ["1", "2", "3", "4", "5", "6", "7", "8", "9"]);
        assert!(end_reason_allowed(PlanKind::Pag, PlanEndReason::Deceased));
        assert!(!end_reason_allowed(
            PlanKind::Pag,
            PlanEndReason::PathwayClosed
        ));
        assert!(end_reason_allowed(
            PlanKind::Ppe,
            PlanEndReason::PathwayClosed
        ));
        assert!(end_reason_allowed(PlanKind::Ppe, PlanEndReason::NewPag));
    }

    #[test]
    fn reviews_are_due_within_twelve_months() {
        let day = NaiveDate::from_ymd_opt(2025, 2, 28).unwrap();
        assert_eq!(
            latest_review(day),
            NaiveDate::from_ymd_opt(2026, 2, 28).unwrap()
        );
    }
}
