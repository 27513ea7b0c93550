//! Value types that can only hold valid values: a request field of one of
//! these types is refused (400, naming the field, never echoing the value)
//! before any handler sees it.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::openapi::{ObjectBuilder, RefOr, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

/// Whether `c` may appear in text sent to the API: no NUL or other control
/// character (tabs and line breaks excepted), no bidirectional override or
/// isolate, no zero-width or byte-order mark — characters that PostgreSQL
/// refuses, or that make a name look like another.
pub fn is_allowed_char(c: char) -> bool {
    let control = c.is_control() && !matches!(c, '\t' | '\n' | '\r');
    let invisible = matches!(c,
        '\u{00AD}'                 // soft hyphen
        | '\u{061C}'               // Arabic letter mark
        | '\u{180E}'               // Mongolian vowel separator
        | '\u{200B}'..='\u{200F}'  // zero-width space, joiners, LRM, RLM
        | '\u{202A}'..='\u{202E}'  // bidirectional embeddings and overrides
        | '\u{2060}'..='\u{2064}'  // word joiner, invisible operators
        | '\u{2066}'..='\u{2069}'  // bidirectional isolates
        | '\u{FEFF}'               // byte-order mark
        | '\u{FFF9}'..='\u{FFFB}'  // interlinear annotations
    );
    !(control || invisible)
}

/// The characters [`is_allowed_char`] refuses, in words for a message.
pub const REFUSED_CHARACTERS: &str = "control characters or invisible formatting characters \
     (NUL, bidirectional overrides, zero-width spaces, byte-order marks)";

/// What a date must look like.
pub const DATE_MESSAGE: &str = "a date written YYYY-MM-DD, between 1900-01-01 and 2100-12-31";

/// A calendar date written in full, `YYYY-MM-DD`, between 1900 and 2100
/// (chrono alone also takes `1990-1-1` or the year 1800).
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shaped {
        return None;
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    (1900..=2100).contains(&date.year()).then_some(date)
}

fn date_from<E: serde::de::Error>(text: &str) -> Result<NaiveDate, E> {
    parse_date(text).ok_or_else(|| E::custom(format!("must be {DATE_MESSAGE}")))
}

/// `#[serde(deserialize_with = "values::date")]` on every date a request
/// sends.
pub fn date<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
    date_from(&String::deserialize(deserializer)?)
}

/// The same for an optional date (with `#[serde(default)]`).
pub fn optional_date<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<NaiveDate>, D::Error> {
    Option::<String>::deserialize(deserializer)?
        .map(|text| date_from(&text))
        .transpose()
}

/// The same for a date a change may clear: absent (with
/// `#[serde(default)]`) leaves it, `null` clears it.
pub fn nullable_date<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<NaiveDate>>, D::Error> {
    optional_date(deserializer).map(Some)
}

/// A text value type: `$name(String)`, built only by `parse`, refused in a
/// request with "must be $message", documented by `$pattern`.
macro_rules! text_value {
    ($(#[$doc:meta])* $name:ident, pattern: $pattern:literal, message: $message:literal,
     example: $example:literal, parse: $parse:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const MESSAGE: &str = $message;

            pub fn parse(text: &str) -> Option<Self> {
                let text = text.trim();
                let valid: fn(&[char]) -> bool = $parse;
                valid(&text.chars().collect::<Vec<_>>()).then(|| Self(text.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                Self::parse(&text)
                    .ok_or_else(|| serde::de::Error::custom(format!("must be {}", Self::MESSAGE)))
            }
        }

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some($pattern))
                    .description(Some(concat!("Must be ", $message, ".")))
                    .examples([$example])
                    .into()
            }
        }

        impl ToSchema for $name {}
    };
}

/// Two digits, 2A/2B for Corsica, or three digits (971…989) beyond the
/// mainland.
fn is_department(chars: &[char]) -> bool {
    match chars {
        ['2', 'A' | 'B'] => true,
        [a, b] => a.is_ascii_digit() && b.is_ascii_digit(),
        ['9', b, c] => b.is_ascii_digit() && c.is_ascii_digit(),
        _ => false,
    }
}

text_value! {
    /// An INSEE commune code: the département (two digits, or 2A/2B for
    /// Corsica) and three digits.
    CommuneCode,
    pattern: "^([0-9]{2}|2A|2B)[0-9]{3}$",
    message: "an INSEE commune code such as 05061",
    example: "05061",
    parse: |chars| match chars {
        [a, b, rest @ ..] if rest.len() == 3 => {
            is_department(&[*a, *b]) && rest.iter().all(char::is_ascii_digit)
        }
        _ => false,
    }
}

text_value! {
    /// A département code of the official geographic code.
    DepartmentCode,
    pattern: "^([0-9]{2}|2A|2B|9[0-9]{2})$",
    message: "a département code such as 05, 2A or 974",
    example: "05",
    parse: is_department
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_in_full_and_in_range() {
        assert!(parse_date("1990-01-01").is_some());
        for bad in [
            "1990-1-1",
            "1800-01-01",
            "2101-01-01",
            "1990-02-30",
            "19900101",
            "１９９０-01-01",
        ] {
            assert!(parse_date(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn commune_codes_never_slice_a_character() {
        assert!(CommuneCode::parse("05061").is_some());
        assert!(CommuneCode::parse("2A004").is_some());
        for bad in [
            "0¯12",
            "0¯123",
            "¯¯¯¯¯",
            "5061",
            "050611",
            "2C004",
            "０５０６１",
        ] {
            assert!(CommuneCode::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn department_codes_are_those_of_the_geographic_code() {
        for good in ["05", "2A", "2B", "974", "988"] {
            assert!(DepartmentCode::parse(good).is_some(), "{good}");
        }
        for bad in ["5", "2C", "0A", "875", "0555", "０５", ""] {
            assert!(DepartmentCode::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn invisible_and_control_characters_are_refused() {
        for c in ['\0', '\u{1}', '\u{7f}', '\u{202E}', '\u{FEFF}', '\u{200B}'] {
            assert!(!is_allowed_char(c), "{:?}", c);
        }
        for c in ['a', 'é', '\n', '\t', ' ', '’', 'ß'] {
            assert!(is_allowed_char(c), "{:?}", c);
        }
    }
}
