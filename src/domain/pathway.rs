//! The pathway state machine of DESIGN.md §1, one table for every domain.

use crate::domain::enums::ClosureReason;
use crate::domain::enums::PathwayStatus::{
    self, Assessment, Closed, Orientation, Referred, Supported, WithoutSolution,
};

/// The statuses a pathway may move to from `from`.
pub fn allowed_next(from: PathwayStatus) -> &'static [PathwayStatus] {
    match from {
        Referred => &[Assessment, Closed],
        Assessment => &[Orientation, Closed],
        Orientation => &[Supported, WithoutSolution, Closed],
        WithoutSolution => &[Supported, Closed],
        // Réorientation, rupture, or the end.
        Supported => &[Orientation, WithoutSolution, Closed],
        Closed => &[],
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransitionError {
    /// `to` is not reachable from `from`; the allowed moves are listed.
    Forbidden {
        from: PathwayStatus,
        to: PathwayStatus,
        allowed: &'static [PathwayStatus],
    },
    /// Closing needs a coded reason.
    ClosureReasonMissing,
    /// A closure reason was given for a move that does not close.
    ClosureReasonUnexpected,
}

/// Whether `from → to` is allowed, with the closure reason it needs.
pub fn check_transition(
    from: PathwayStatus,
    to: PathwayStatus,
    closure_reason: Option<ClosureReason>,
) -> Result<(), TransitionError> {
    let allowed = allowed_next(from);
    if !allowed.contains(&to) {
        return Err(TransitionError::Forbidden { from, to, allowed });
    }
    match (to, closure_reason) {
        (Closed, None) => Err(TransitionError::ClosureReasonMissing),
        (Closed, Some(_)) => Ok(()),
        (_, Some(_)) => Err(TransitionError::ClosureReasonUnexpected),
        (_, None) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [PathwayStatus; 6] = [
        Referred,
        Assessment,
        Orientation,
        WithoutSolution,
        Supported,
        Closed,
    ];

    /// DESIGN.md §1, written out pair by pair.
    const ALLOWED: &[(PathwayStatus, PathwayStatus)] = &[
        (Referred, Assessment),
        (Referred, Closed),
        (Assessment, Orientation),
        (Assessment, Closed),
        (Orientation, Supported),
        (Orientation, WithoutSolution),
        (Orientation, Closed),
        (WithoutSolution, Supported),
        (WithoutSolution, Closed),
        (Supported, Orientation),
        (Supported, WithoutSolution),
        (Supported, Closed),
    ];

    #[test]
    fn every_pair_is_allowed_or_forbidden_as_designed() {
        for from in ALL {
            for to in ALL {
                let reason = (to == Closed).then_some(ClosureReason::Other);
                let result = check_transition(from, to, reason);
                if ALLOWED.contains(&(from, to)) {
                    assert_eq!(result, Ok(()), "{from:?} → {to:?}");
                } else {
                    assert_eq!(
                        result,
                        Err(TransitionError::Forbidden {
                            from,
                            to,
                            allowed: allowed_next(from)
                        }),
                        "{from:?} → {to:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn closed_is_final() {
        assert!(allowed_next(Closed).is_empty());
    }

    #[test]
    fn closing_needs_a_reason_and_only_closing_takes_one() {
        assert_eq!(
            check_transition(Supported, Closed, None),
            Err(TransitionError::ClosureReasonMissing)
        );
        assert_eq!(
            check_transition(Referred, Assessment, Some(ClosureReason::Deceased)),
            Err(TransitionError::ClosureReasonUnexpected)
        );
    }
}
