//! NIR (numéro d'inscription au répertoire, « numéro de sécurité sociale »):
//! format and control key. A `Nir` can only be built valid; it is shown
//! only masked and its `Debug` never prints the number.

use std::fmt;

/// A valid NIR, normalised to its 15 characters (no spaces, `2A`/`2B` upper case).
#[derive(Clone, PartialEq, Eq)]
pub struct Nir(String);

impl fmt::Debug for Nir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nir({})", self.masked())
    }
}

impl Nir {
    /// Parses a NIR given with or without spaces. The error says what is
    /// wrong without repeating the number.
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let compact: String = input
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if compact.len() != 15 || !compact.is_ascii() {
            return Err("must be 15 characters: 13 for the number, 2 for the key");
        }
        let (body, key) = compact.split_at(13);
        // ASCII, 15 bytes: every range below is within it and on a boundary.
        let part = |range: std::ops::Range<usize>| body.get(range).unwrap_or_default();
        if !matches!(part(0..1), "1" | "2" | "3" | "4" | "7" | "8") {
            return Err("must start with 1, 2 (or 3, 4, 7, 8 for a provisional number)");
        }
        let department = part(5..7);
        let numeric_body = match department {
            "2A" => format!("{}19{}", part(0..5), part(7..13)),
            "2B" => format!("{}18{}", part(0..5), part(7..13)),
            _ => body.to_owned(),
        };
        if !numeric_body.bytes().all(|b| b.is_ascii_digit())
            || !key.bytes().all(|b| b.is_ascii_digit())
        {
            return Err("must be digits, except 2A or 2B for a Corsican department");
        }
        let month: u32 = part(3..5).parse().map_err(|_| "has an invalid month")?;
        if !(matches!(month, 1..=12 | 20 | 30..=42 | 50..=99)) {
            return Err("has an invalid month of birth");
        }
        let number: u64 = numeric_body.parse().map_err(|_| "is not a number")?;
        let key: u64 = key.parse().map_err(|_| "has an invalid key")?;
        if 97 - number % 97 != key {
            return Err("has a control key that does not match: check for a typing error");
        }
        Ok(Self(compact))
    }

    /// The normalised number, for encryption and the blind index only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `1 85 05 ** *** *** 42`: sex, year and month of birth and key; the
    /// place of birth and the order number are hidden.
    pub fn masked(&self) -> String {
        let part = |range: std::ops::Range<usize>| self.0.get(range).unwrap_or_default();
        format!(
            "{} {} {} ** *** *** {}",
            part(0..1),
            part(1..3),
            part(3..5),
            part(13..15)
        )
    }
}

#[cfg(test)]
#[allow(clippy::string_slice)]
mod tests {
    use super::*;

    /// A number with its key: 97 − (number mod 97).
    fn with_key(body: &str) -> String {
        let numeric = body.replace("2A", "19").replace("2B", "18");
        let n: u64 = numeric.parse().unwrap();
        format!("{body}{:02}", 97 - n % 97)
    }

    #[test]
    fn accepts_a_valid_number_with_or_without_spaces() {
        let nir = with_key("1850578006084");
        let spaced = format!(
            "{} {} {} {} {} {} {}",
            &nir[0..1],
            &nir[1..3],
            &nir[3..5],
            &nir[5..7],
            &nir[7..10],
            &nir[10..13],
            &nir[13..]
        );
        assert_eq!(Nir::parse(&nir).unwrap(), Nir::parse(&spaced).unwrap());
    }

    #[test]
    fn corsican_departments_use_their_substitute_digits() {
        let nir = with_key("290072A004012");
        assert!(Nir::parse(&nir).is_ok());
        assert!(Nir::parse(&nir.to_lowercase()).is_ok());
    }

    #[test]
    fn refuses_a_wrong_key_length_or_shape() {
        let nir = with_key("1850578006084");
        let mut wrong_key = nir.clone();
        wrong_key.replace_range(13.., if &nir[13..] == "00" { "01" } else { "00" });
        assert!(Nir::parse(&wrong_key).unwrap_err().contains("control key"));
        assert!(Nir::parse("18505780060").is_err());
        assert!(Nir::parse(&with_key("5850578006084")).is_err());
        assert!(Nir::parse(&with_key("1851378006084")).is_err());
        assert!(Nir::parse("18505780060X442").is_err());
    }

    #[test]
    fn masks_place_and_order_and_never_debugs_the_number() {
        let nir = Nir::parse(&with_key("1850578006084")).unwrap();
        let masked = nir.masked();
        assert!(masked.starts_with("1 85 05 ** *** *** "), "{masked}");
        assert!(!format!("{nir:?}").contains("78006084"));
    }
}
