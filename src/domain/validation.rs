//! Field checks shared by the resources. Each returns the cleaned value or
//! records what is wrong, so that one response lists every invalid field.

use crate::domain::refusal::{FieldError, Refusal};

#[derive(Default)]
pub struct Checks {
    errors: Vec<FieldError>,
}

impl Checks {
    pub fn new() -> Self {
        Self::default()
    }

    /// Trimmed, non-empty, at most `max` characters.
    pub fn text(&mut self, field: &str, value: &str, max: usize) -> String {
        let trimmed = value.trim();
        if trimmed.is_empty() {
            self.fail(field, "must not be empty");
        } else if trimmed.chars().count() > max {
            self.fail(field, format!("must be at most {max} characters"));
        }
        trimmed.to_owned()
    }

    /// Matches `rule`, described to the client as `expected`.
    pub fn pattern(
        &mut self,
        field: &str,
        value: &str,
        rule: impl Fn(&str) -> bool,
        expected: &str,
    ) -> String {
        let trimmed = value.trim();
        if !rule(trimmed) {
            self.fail(field, format!("must be {expected}"));
        }
        trimmed.to_owned()
    }

    pub fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    pub fn finish(self) -> Result<(), Refusal> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Refusal::invalid("Some fields are not valid.", self.errors))
        }
    }
}

/// FINESS number of a facility: 9 characters, a digit, then a digit or
/// A/B (Corsica), then 7 digits.
pub fn is_finess(value: &str) -> bool {
    let chars: Vec<char> = value.chars().collect();
    match chars.as_slice() {
        [first, second, rest @ ..] => {
            rest.len() == 7
                && first.is_ascii_digit()
                && (second.is_ascii_digit() || matches!(second, 'A' | 'B'))
                && rest.iter().all(char::is_ascii_digit)
        }
        _ => false,
    }
}

/// MSA numbers: 6 to 20 digits or capital letters.
pub fn is_msa_number(value: &str) -> bool {
    (6..=20).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

pub fn is_digits(value: &str, length: usize) -> bool {
    value.len() == length && value.bytes().all(|b| b.is_ascii_digit())
}

/// A deliberately loose e-mail check: one `@`, a dot in the domain, no spaces.
pub fn is_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    value.len() <= 254
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !value.contains(char::is_whitespace)
        && !domain.contains('@')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_every_error() {
        let mut checks = Checks::new();
        assert_eq!(checks.text("name", "  Gap  ", 10), "Gap");
        checks.text("code", "", 10);
        checks.text("label", "abcdefghijk", 10);
        let Err(Refusal::Invalid { errors, .. }) = checks.finish() else {
            panic!("two invalid fields");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["code", "label"]);
    }

    #[test]
    fn emails() {
        assert!(is_email("anne.martin@hautes-alpes.fr"));
        for bad in [
            "anne", "anne@", "@x.fr", "a b@x.fr", "a@x", "a@b@c.fr", "a@.fr",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }
}
