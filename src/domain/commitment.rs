//! A commitment of a plan as a signed promise: proposed to an
//! organization, which accepts or refuses it; only an accepted commitment
//! is carried out (in progress, fulfilled) or broken (breached). A plan is
//! consented only once every commitment still standing is accepted.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::enums::AnswerChannel;
use crate::domain::enums::CommitmentStatus::{
    self, Accepted, Breached, Cancelled, Fulfilled, InProgress, Proposed, Refused,
};
use crate::domain::refusal::Refusal;

/// The statuses a commitment may move to from `from`. A refused one may be
/// proposed again (new terms, say); staff cancel what no longer stands.
pub fn allowed_next(from: CommitmentStatus) -> &'static [CommitmentStatus] {
    match from {
        Proposed => &[Accepted, Refused, Cancelled],
        Accepted => &[InProgress, Fulfilled, Breached, Cancelled],
        Refused => &[Proposed, Cancelled],
        InProgress => &[Fulfilled, Breached, Cancelled],
        Fulfilled | Breached | Cancelled => &[],
    }
}

/// Whether a commitment in `status` lets its plan be consented: it was
/// accepted (and may since be under way, fulfilled or breached), or it was
/// cancelled (it no longer stands). Only a proposal left unanswered or a
/// refusal holds the consent back: a breached commitment must not keep a
/// plan from ever being agreed to again.
pub fn lets_plan_be_consented(status: CommitmentStatus) -> bool {
    !matches!(status, Proposed | Refused)
}

/// Whether changing the terms (description, frequency, due date) of a
/// commitment in `status` is allowed, and the status it then takes: an
/// answered one is proposed again (its organization agreed to other terms);
/// one under way or over keeps its terms.
pub fn after_new_terms(status: CommitmentStatus) -> Option<CommitmentStatus> {
    match status {
        Proposed | Accepted | Refused => Some(Proposed),
        InProgress | Fulfilled | Breached | Cancelled => None,
    }
}

/// Whether moving to `to` is the organization's answer to the proposal.
pub fn is_answer(to: CommitmentStatus) -> bool {
    matches!(to, Accepted | Refused)
}

/// An organization's answer to a proposal that reached the département
/// another way (by phone, by letter…), recorded by staff on its behalf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OnBehalf {
    /// The organization that answered: the one the commitment is proposed to.
    pub organization_id: Uuid,
    /// How its answer was received.
    pub received_via: AnswerChannel,
    /// When its answer was received (not in the future).
    #[serde(deserialize_with = "crate::domain::values::date")]
    pub received_on: NaiveDate,
}

/// Whether an answer recorded on behalf of `organization` fits the change:
/// it goes only with the answer to a proposal, names the organization the
/// commitment is proposed to, and was received by `today`.
pub fn check_on_behalf(
    from: CommitmentStatus,
    to: CommitmentStatus,
    organization: Uuid,
    on_behalf: &OnBehalf,
    today: NaiveDate,
) -> Result<(), Refusal> {
    if from != Proposed || !is_answer(to) {
        return Err(Refusal::unprocessable(
            "on_behalf_of",
            "goes only with the answer to a proposal (`status` `accepted` or `refused`)",
        ));
    }
    if on_behalf.organization_id != organization {
        return Err(Refusal::unprocessable(
            "on_behalf_of.organization_id",
            "must be the organization the commitment is proposed to",
        ));
    }
    if on_behalf.received_on > today {
        return Err(Refusal::unprocessable(
            "on_behalf_of.received_on",
            "must not be in the future",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_on_behalf_is_an_answer_of_the_organization_addressed() {
        let caf = Uuid::now_v7();
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap_or_default();
        let by_phone = OnBehalf {
            organization_id: caf,
            received_via: AnswerChannel::Phone,
            received_on: today,
        };
        assert!(check_on_behalf(Proposed, Accepted, caf, &by_phone, today).is_ok());
        assert!(check_on_behalf(Proposed, Refused, caf, &by_phone, today).is_ok());
        let field = |r: Result<(), Refusal>| match r {
            Err(Refusal::Unprocessable { errors, .. }) => {
                errors.first().map(|e| e.field.clone()).unwrap_or_default()
            }
            other => format!("{other:?}"),
        };
        assert_eq!(
            field(check_on_behalf(Accepted, InProgress, caf, &by_phone, today)),
            "on_behalf_of"
        );
        assert_eq!(
            field(check_on_behalf(Refused, Proposed, caf, &by_phone, today)),
            "on_behalf_of"
        );
        assert_eq!(
            field(check_on_behalf(
                Proposed,
                Accepted,
                Uuid::now_v7(),
                &by_phone,
                today
            )),
            "on_behalf_of.organization_id"
        );
        let yesterday = today.pred_opt().unwrap_or_default();
        assert_eq!(
            field(check_on_behalf(
                Proposed, Accepted, caf, &by_phone, yesterday
            )),
            "on_behalf_of.received_on"
        );
    }

    #[test]
    fn only_an_accepted_commitment_is_carried_out_or_breached() {
        for to in [InProgress, Fulfilled, Breached] {
            assert!(!allowed_next(Proposed).contains(&to), "{to:?}");
            assert!(!allowed_next(Refused).contains(&to), "{to:?}");
            assert!(allowed_next(Accepted).contains(&to), "{to:?}");
        }
        assert!(allowed_next(Proposed).contains(&Accepted));
        assert!(allowed_next(Proposed).contains(&Refused));
        assert!(allowed_next(Refused).contains(&Proposed));
        for done in [Fulfilled, Breached, Cancelled] {
            assert!(allowed_next(done).is_empty(), "{done:?}");
        }
    }

    #[test]
    fn a_plan_waits_for_every_standing_commitment_to_be_accepted() {
        assert!(!lets_plan_be_consented(Proposed));
        assert!(!lets_plan_be_consented(Refused));
        assert!(lets_plan_be_consented(Accepted));
        assert!(lets_plan_be_consented(Cancelled));
        // Once accepted, whatever came of it: a new version can be agreed.
        assert!(lets_plan_be_consented(Breached));
        assert!(lets_plan_be_consented(Fulfilled));
    }

    #[test]
    fn new_terms_are_proposed_again() {
        assert_eq!(after_new_terms(Accepted), Some(Proposed));
        assert_eq!(after_new_terms(Refused), Some(Proposed));
        assert_eq!(after_new_terms(InProgress), None);
        assert!(is_answer(Refused) && is_answer(Accepted) && !is_answer(InProgress));
    }
}
