//! The pathway state machine of docs/DOMAIN.md, one table for every domain.

use chrono::NaiveDate;

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

/// One step of a pathway's timeline, as its state machine reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// `pathway_opened`, in this status.
    Opened(PathwayStatus),
    /// `status_changed`.
    Moved {
        from: PathwayStatus,
        to: PathwayStatus,
    },
}

/// The status a timeline leads to, replayed through the state machine:
/// opened once, first; each move from the status reached and allowed from
/// it. `Err` names the first step (by position) the API could not have
/// written.
pub fn replay(steps: impl IntoIterator<Item = Step>) -> Result<PathwayStatus, String> {
    let mut reached: Option<PathwayStatus> = None;
    for (n, step) in steps.into_iter().enumerate() {
        reached = Some(match (reached, step) {
            (None, Step::Opened(status)) => status,
            (Some(_), Step::Opened(_)) => return Err(format!("step {n}: opened twice")),
            (None, Step::Moved { .. }) => return Err(format!("step {n}: moved before opening")),
            (Some(current), Step::Moved { from, to }) => {
                if from != current {
                    return Err(format!(
                        "step {n}: moves from {} but the pathway was {}",
                        from.as_str(),
                        current.as_str()
                    ));
                }
                if !allowed_next(from).contains(&to) {
                    return Err(format!(
                        "step {n}: {} → {} is not allowed",
                        from.as_str(),
                        to.as_str()
                    ));
                }
                to
            }
        });
    }
    reached.ok_or_else(|| "no opening".to_owned())
}

/// Why a pathway cannot continue the one it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContinuationError {
    /// It would be opened before the pathway it continues was.
    OpenedBefore { previous_opened_on: NaiveDate },
}

/// Whether a pathway opened on `opened_on` may continue one opened on
/// `previous_opened_on`: not before it (the same day is a continuation).
/// The same person, and one open pathway per domain, are the database's.
pub fn check_continuation(
    previous_opened_on: NaiveDate,
    opened_on: NaiveDate,
) -> Result<(), ContinuationError> {
    if opened_on < previous_opened_on {
        return Err(ContinuationError::OpenedBefore { previous_opened_on });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timeline_replays_only_as_the_state_machine_writes_it() {
        use Step::{Moved, Opened};
        let course = [
            Opened(Referred),
            Moved {
                from: Referred,
                to: Assessment,
            },
            Moved {
                from: Assessment,
                to: Orientation,
            },
            Moved {
                from: Orientation,
                to: Supported,
            },
            Moved {
                from: Supported,
                to: Closed,
            },
        ];
        assert_eq!(replay(course), Ok(Closed));
        // Closed, then supported: the seed's swapped pair.
        let swapped = [
            Opened(Referred),
            Moved {
                from: Referred,
                to: Assessment,
            },
            Moved {
                from: Assessment,
                to: Orientation,
            },
            Moved {
                from: Supported,
                to: Closed,
            },
            Moved {
                from: Orientation,
                to: Supported,
            },
        ];
        assert!(replay(swapped).unwrap_err().starts_with("step 3"));
        assert!(
            replay([
                Opened(Referred),
                Moved {
                    from: Referred,
                    to: Supported
                }
            ])
            .is_err()
        );
        assert!(
            replay([Moved {
                from: Referred,
                to: Assessment
            }])
            .is_err()
        );
        assert!(replay([Opened(Referred), Opened(Referred)]).is_err());
        assert!(replay([]).is_err());
    }

    const ALL: [PathwayStatus; 6] = [
        Referred,
        Assessment,
        Orientation,
        WithoutSolution,
        Supported,
        Closed,
    ];

    /// docs/DOMAIN.md's table, written out pair by pair.
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

    #[test]
    fn a_continuation_opens_on_or_after_the_pathway_it_continues() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let previous = day(2024, 2, 29);
        assert_eq!(check_continuation(previous, day(2024, 2, 29)), Ok(()));
        assert_eq!(check_continuation(previous, day(2024, 3, 1)), Ok(()));
        assert_eq!(
            check_continuation(previous, day(2024, 2, 28)),
            Err(ContinuationError::OpenedBefore {
                previous_opened_on: previous
            })
        );
    }
}
