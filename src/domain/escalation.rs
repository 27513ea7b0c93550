//! Critical situations escalated to a named organization (the ARS, the
//! national support cell, …): the moves of an escalation, which side makes
//! each (the recipient, or the département that sent it), when an answer
//! is overdue and how far ahead it may be asked for.
//!
//! `sent → acknowledged → answered → closed`; the recipient may answer
//! without acknowledging first, and the département may close at any
//! point (withdrawn, resolved otherwise).

use chrono::{Days, NaiveDate};

use crate::domain::enums::EscalationStatus::{self, Acknowledged, Answered, Closed, Sent};

/// An answer may be asked for at most this many days ahead.
pub const MAX_DAYS_TO_ANSWER: u64 = 90;

/// The statuses awaiting the recipient's answer: their escalations are
/// overdue once the due day has passed. The partial index
/// `escalations_unanswered_due_idx` lists them too: change both together.
pub const UNANSWERED: [EscalationStatus; 2] = [Sent, Acknowledged];

/// Who moves an escalation to a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The organization it was sent to (or staff recording what it said).
    Recipient,
    /// The département that sent it.
    Sender,
}

/// The statuses an escalation may move to from `from`.
pub fn allowed_next(from: EscalationStatus) -> &'static [EscalationStatus] {
    match from {
        Sent => &[Acknowledged, Answered, Closed],
        Acknowledged => &[Answered, Closed],
        Answered => &[Closed],
        Closed => &[],
    }
}

/// Which side makes the move to `to`.
pub fn side_of(to: EscalationStatus) -> Side {
    match to {
        Acknowledged | Answered => Side::Recipient,
        Sent | Closed => Side::Sender,
    }
}

/// Whether the answer is overdue on `today`: still awaited the day after
/// the day it was due.
pub fn overdue(status: EscalationStatus, due_on: NaiveDate, today: NaiveDate) -> bool {
    UNANSWERED.contains(&status) && today > due_on
}

/// Why `due_on` cannot be asked for on `today`, if it cannot: from
/// tomorrow to [`MAX_DAYS_TO_ANSWER`] days ahead.
pub fn check_due_on(due_on: NaiveDate, today: NaiveDate) -> Result<(), &'static str> {
    if due_on <= today {
        return Err("must be after today");
    }
    match today.checked_add_days(Days::new(MAX_DAYS_TO_ANSWER)) {
        Some(latest) if due_on <= latest => Ok(()),
        _ => Err("must be at most 90 days ahead"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_recipient_acknowledges_and_answers_and_the_department_closes() {
        for status in EscalationStatus::VALUES.iter().copied() {
            for &to in allowed_next(status) {
                assert_ne!(to, Sent, "nothing goes back to sent");
                assert_eq!(side_of(to) == Side::Sender, to == Closed, "{to:?}");
            }
        }
        assert!(allowed_next(Sent).contains(&Answered), "answer at once");
        assert!(!allowed_next(Answered).contains(&Acknowledged));
        assert!(allowed_next(Closed).is_empty());
        // Every open status may be closed.
        for status in [Sent, Acknowledged, Answered] {
            assert!(allowed_next(status).contains(&Closed), "{status:?}");
        }
    }

    #[test]
    fn an_answer_is_overdue_from_the_day_after_it_was_due() {
        let due = day("2024-02-29");
        assert!(!overdue(Sent, due, day("2024-02-28")));
        assert!(!overdue(Sent, due, due));
        assert!(overdue(Sent, due, day("2024-03-01")));
        assert!(overdue(Acknowledged, due, day("2024-03-01")));
        assert!(!overdue(Answered, due, day("2024-03-01")));
        assert!(!overdue(Closed, due, day("2025-01-01")));
    }

    #[test]
    fn an_answer_is_due_from_tomorrow_to_ninety_days_ahead() {
        let today = day("2024-02-28");
        assert_eq!(check_due_on(today, today), Err("must be after today"));
        assert_eq!(
            check_due_on(day("2024-02-27"), today),
            Err("must be after today")
        );
        assert_eq!(check_due_on(day("2024-02-29"), today), Ok(()));
        // 2024 is a leap year: 90 days after 28 February is 28 May.
        assert_eq!(check_due_on(day("2024-05-28"), today), Ok(()));
        assert!(check_due_on(day("2024-05-29"), today).is_err());
        assert_eq!(check_due_on(day("2023-05-29"), day("2023-02-28")), Ok(()));
    }
}
