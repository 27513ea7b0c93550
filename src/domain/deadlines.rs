//! Ages and legal deadlines as alerts (#16): the moments RAPT must not let
//! pass unseen — a child in care nearing majority, a young adult kept in a
//! children's facility after 20, a person with a disability turning 60, a
//! child's project or an insertion contract not signed in time.
//!
//! Each rule's domain, what its date counts from and what meets it are
//! fixed here; how many months it counts and how early it warns are the
//! département's (the table `alert_rules`, changed by an admin with
//! `PUT /v1/alert-rules/{rule}`). When an alert shows is decided here, as
//! the windows the alerts' SQL filters on.

use chrono::{Days, Months, NaiveDate};

use crate::domain::{AlertRule, Domain, PlanKind};

closed_set! {
    /// The day a plan or a decision records, on which a rule without
    /// months falls due.
    pub enum RecordedDue {
        /// An active plan's `review_due`.
        ReviewDue => "review_due",
        /// A decision's `valid_until`.
        ValidUntil => "valid_until",
    }
}

closed_set! {
    /// What a rule's date counts from.
    pub enum CountsFrom {
        /// The person's birth date: an age.
        Birth => "birth",
        /// The day the pathway was opened.
        Opening => "opening",
        /// The day of the pathway's first orientation decision.
        Orientation => "orientation",
    }
}

impl AlertRule {
    /// The domain whose open pathways the rule watches; `None`: every one.
    pub fn domain(self) -> Option<Domain> {
        match self {
            Self::MajorityInterview | Self::Majority | Self::YoungAdultEnd | Self::PpeDue => {
                Some(Domain::Childhood)
            }
            Self::CretonAge | Self::AgeBarrier => Some(Domain::Disability),
            Self::EngagementContractDue => Some(Domain::Insertion),
            Self::PlanReview | Self::DecisionExpiring => None,
        }
    }

    /// What the rule's months count from; `None` for a rule that falls due
    /// on a day its plan or decision records ([`Self::recorded_due`]),
    /// which counts no months.
    pub fn counts_from(self) -> Option<CountsFrom> {
        match self {
            Self::MajorityInterview
            | Self::Majority
            | Self::YoungAdultEnd
            | Self::CretonAge
            | Self::AgeBarrier => Some(CountsFrom::Birth),
            Self::PpeDue => Some(CountsFrom::Opening),
            Self::EngagementContractDue => Some(CountsFrom::Orientation),
            Self::PlanReview | Self::DecisionExpiring => None,
        }
    }

    /// The recorded day the rule falls due on, for a rule of no months.
    pub fn recorded_due(self) -> Option<RecordedDue> {
        match self {
            Self::PlanReview => Some(RecordedDue::ReviewDue),
            Self::DecisionExpiring => Some(RecordedDue::ValidUntil),
            _ => None,
        }
    }

    /// The plan whose consent meets a deadline; ages are met by nothing.
    pub fn met_by(self) -> Option<PlanKind> {
        match self {
            Self::PpeDue => Some(PlanKind::Ppe),
            Self::EngagementContractDue => Some(PlanKind::EngagementContract),
            _ => None,
        }
    }
}

/// The day a rule falls due: `months` after the day it counts from, on the
/// last day of a shorter month (born on 29 February: the 28th in a common
/// year), as PostgreSQL adds `months` to a date.
pub fn due_on(from: NaiveDate, months: u32) -> Option<NaiveDate> {
    from.checked_add_months(Months::new(months))
}

/// The due days whose alert shows `today`, `notice` days ahead: an age
/// from `notice` days before the birthday to `notice` days after it (then
/// it has passed); a deadline from `notice` days before it until it is met
/// (no lower end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub due_from: Option<NaiveDate>,
    pub due_to: NaiveDate,
    /// The days counted from that can fall due in the window, a little
    /// wider (month ends): what an index is scanned for, the due day then
    /// filtered exactly.
    pub from_between: (Option<NaiveDate>, NaiveDate),
}

/// Days of slack on the counted-from range: adding months moves a day to a
/// month's end by at most three days (31 → 28), so at most this many days
/// plus one fall due the same day.
pub const MONTH_END_SLACK: u64 = 3;

/// The window of a rule counting months from `counts_from`.
pub fn window(
    counts_from: CountsFrom,
    months: u32,
    notice: u32,
    today: NaiveDate,
) -> Option<Window> {
    let notice = Days::new(u64::from(notice));
    let due_to = today.checked_add_days(notice)?;
    let due_from = match counts_from {
        CountsFrom::Birth => Some(today.checked_sub_days(notice)?),
        CountsFrom::Opening | CountsFrom::Orientation => None,
    };
    let back = |day: NaiveDate| day.checked_sub_months(Months::new(months));
    let slack = Days::new(MONTH_END_SLACK);
    let from_to = back(due_to)?.checked_add_days(slack)?;
    let from_from = match due_from {
        Some(day) => Some(back(day)?.checked_sub_days(slack)?),
        None => None,
    };
    Some(Window {
        due_from,
        due_to,
        from_between: (from_from, from_to),
    })
}

impl Window {
    /// Whether an alert due on `due` shows.
    pub fn shows(&self, due: NaiveDate) -> bool {
        self.due_from.is_none_or(|from| due >= from) && due <= self.due_to
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn an_age_falls_due_on_the_birthday_and_29_february_on_the_28th() {
        assert_eq!(due_on(day(2008, 3, 15), 216), Some(day(2026, 3, 15)));
        // 17½: six months after the 17th birthday.
        assert_eq!(due_on(day(2009, 1, 31), 210), Some(day(2026, 7, 31)));
        assert_eq!(due_on(day(2008, 8, 31), 210), Some(day(2026, 2, 28)));
        // Born on 29 February: 18 on 28 February of a common year, on the
        // 29th of a leap year.
        assert_eq!(due_on(day(2008, 2, 29), 216), Some(day(2026, 2, 28)));
        assert_eq!(due_on(day(2010, 2, 28), 216), Some(day(2028, 2, 28)));
        assert_eq!(due_on(day(2012, 2, 29), 192), Some(day(2028, 2, 29)));
    }

    #[test]
    fn an_age_shows_from_notice_days_before_to_notice_days_after() {
        let today = day(2026, 3, 15);
        let w = window(CountsFrom::Birth, 216, 30, today).unwrap();
        assert!(!w.shows(day(2026, 2, 12)), "31 days ago");
        assert!(w.shows(day(2026, 2, 13)), "30 days ago");
        assert!(w.shows(today));
        assert!(w.shows(day(2026, 4, 14)), "in 30 days");
        assert!(!w.shows(day(2026, 4, 15)), "in 31 days");
        // The day before and the day of, with no notice at all.
        let w = window(CountsFrom::Birth, 216, 0, today).unwrap();
        assert!(w.shows(today));
        assert!(!w.shows(day(2026, 3, 14)));
        assert!(!w.shows(day(2026, 3, 16)));
    }

    #[test]
    fn a_deadline_shows_from_notice_days_before_until_it_is_met() {
        let today = day(2026, 3, 15);
        let w = window(CountsFrom::Opening, 3, 15, today).unwrap();
        assert!(w.shows(day(2020, 1, 1)), "long overdue");
        assert!(w.shows(day(2026, 3, 30)));
        assert!(!w.shows(day(2026, 3, 31)));
    }

    /// Every birth date whose birthday shows lies in the range an index
    /// is scanned for, over leap years and month ends.
    #[test]
    fn the_scanned_range_holds_every_day_that_can_show() {
        // The window depends on what the rule counts from only.
        for rule in [CountsFrom::Birth, CountsFrom::Opening] {
            for months in [1, 3, 6, 210, 216, 240, 252, 720] {
                for notice in [0, 1, 30, 180] {
                    let mut today = day(2027, 12, 20);
                    while today < day(2028, 3, 10) {
                        let w = window(rule, months, notice, today).unwrap();
                        let (lo, hi) = w.from_between;
                        let around = Days::new(u64::from(notice) + 10);
                        let mut from = today - Months::new(months) - around;
                        while from < today - Months::new(months) + around {
                            if w.shows(due_on(from, months).unwrap()) {
                                assert!(
                                    lo.is_none_or(|lo| from >= lo) && from <= hi,
                                    "{rule:?} {months} {notice} {today} {from}"
                                );
                            }
                            from = from + Days::new(1);
                        }
                        today = today + Days::new(1);
                    }
                }
            }
        }
    }

    #[test]
    fn each_rule_watches_its_domain() {
        assert_eq!(AlertRule::Majority.domain(), Some(Domain::Childhood));
        assert_eq!(AlertRule::AgeBarrier.domain(), Some(Domain::Disability));
        assert_eq!(AlertRule::PlanReview.domain(), None);
        assert_eq!(
            AlertRule::EngagementContractDue.met_by(),
            Some(PlanKind::EngagementContract)
        );
        for rule in AlertRule::VALUES.iter().copied() {
            assert_eq!(
                rule.met_by().is_some(),
                matches!(
                    rule.counts_from(),
                    Some(CountsFrom::Opening | CountsFrom::Orientation)
                ),
                "{rule:?}: a deadline is met by a plan, an age by nothing"
            );
            assert_eq!(
                rule.counts_from().is_none(),
                rule.recorded_due().is_some(),
                "{rule:?}: counts months, or falls due on a recorded day"
            );
            assert_eq!(rule.domain().is_none(), rule.recorded_due().is_some());
        }
    }
}
