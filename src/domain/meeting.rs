//! GOS meetings (groupe opérationnel de synthèse): convened, then held or
//! called off. A meeting recorded once held is `held` from the start.

use crate::domain::enums::MeetingStatus::{self, Cancelled, Held, Planned};

/// At most this many organizations, and as many professionals, take part.
pub const MAX_PARTICIPANTS: usize = 50;

/// The statuses a meeting may move to from `from`.
pub fn allowed_next(from: MeetingStatus) -> &'static [MeetingStatus] {
    match from {
        Planned => &[Held, Cancelled],
        Held | Cancelled => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_convened_meeting_is_held_or_called_off_once() {
        assert_eq!(allowed_next(Planned), [Held, Cancelled]);
        for done in [Held, Cancelled] {
            assert!(allowed_next(done).is_empty(), "{done:?}");
        }
        for status in MeetingStatus::VALUES.iter().copied() {
            assert!(!allowed_next(status).contains(&Planned), "{status:?}");
        }
    }
}
