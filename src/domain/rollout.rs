//! The rollout rule: a domain is open from its date on, and a pathway may be
//! opened in it only when both today and the pathway's `opened_on` are on or
//! after that date.

use chrono::{Datelike, NaiveDate};

/// Why a pathway cannot be opened yet, with the date that would allow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotOpen {
    pub opens_on: NaiveDate,
}

pub fn is_open(opens_on: NaiveDate, today: NaiveDate) -> bool {
    today >= opens_on
}

/// Whether a pathway opened on `opened_on`, recorded `today`, may exist.
pub fn check_pathway_date(
    opens_on: NaiveDate,
    today: NaiveDate,
    opened_on: NaiveDate,
) -> Result<(), NotOpen> {
    if is_open(opens_on, today) && opened_on >= opens_on {
        Ok(())
    } else {
        Err(NotOpen { opens_on })
    }
}

/// Indicators are reported per rollout year: the year the domain opened.
pub fn rollout_year(opens_on: NaiveDate) -> i32 {
    opens_on.year()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn open_from_its_date_on() {
        let opens = date(2019, 1, 1);
        assert!(!is_open(opens, date(2018, 12, 31)));
        assert!(is_open(opens, opens));
        assert_eq!(rollout_year(opens), 2019);
    }

    #[test]
    fn both_today_and_the_opening_date_are_checked() {
        let opens = date(2019, 1, 1);
        assert!(check_pathway_date(opens, date(2026, 11, 28), date(2019, 1, 1)).is_ok());
        // Recorded today, but dated before the domain opened.
        assert_eq!(
            check_pathway_date(opens, date(2026, 11, 28), date(2018, 6, 1)),
            Err(NotOpen { opens_on: opens })
        );
        // The domain opens in the future: refused whatever the date given.
        let later = date(2027, 1, 1);
        assert!(check_pathway_date(later, date(2026, 11, 28), date(2027, 2, 1)).is_err());
    }
}
