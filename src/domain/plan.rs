//! Support plans: which kinds each domain uses, the status machine
//! `draft → proposed → consented → active → ended`, and the review rule.

use chrono::{Months, NaiveDate};

use crate::domain::enums::PlanStatus::{self, Active, Consented, Draft, Ended, Proposed};
use crate::domain::enums::{Domain, PlanKind};

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
    fn reviews_are_due_within_twelve_months() {
        let day = NaiveDate::from_ymd_opt(2025, 2, 28).unwrap();
        assert_eq!(
            latest_review(day),
            NaiveDate::from_ymd_opt(2026, 2, 28).unwrap()
        );
    }
}
