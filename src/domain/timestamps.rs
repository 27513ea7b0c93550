//! How an instant is written in a response: RFC 3339 in UTC (`Z`), with as
//! many fractional digits as it holds — the text chrono's own `Serialize`
//! writes, made by the same chrono function.
//!
//! Why not chrono's `Serialize`: it hands serde_json the text one character
//! at a time, each through the string escaper; on a page of 50 pathways that
//! was a tenth of the server's CPU. Here the text is made first, then
//! written once. Use it on every instant of a view:
//! `#[serde(serialize_with = "timestamps::utc")]`, or `timestamps::optional`.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serializer;

/// The instant's text, as chrono's `Serialize` writes it.
fn text(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

pub fn utc<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&text(at))
}

pub fn optional<S: Serializer>(
    at: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => utc(at, serializer),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[derive(serde::Serialize)]
    struct Ours {
        #[serde(serialize_with = "utc")]
        at: DateTime<Utc>,
        #[serde(serialize_with = "optional")]
        maybe: Option<DateTime<Utc>>,
    }

    #[derive(serde::Serialize)]
    struct Chronos {
        at: DateTime<Utc>,
        maybe: Option<DateTime<Utc>>,
    }

    /// Clients see the same text as before: whole seconds, milli-, micro-
    /// and nanoseconds, the first and last instants PostgreSQL can hold.
    #[test]
    fn writes_what_chrono_writes() {
        let second = Utc.with_ymd_and_hms(2026, 12, 7, 3, 25, 37).unwrap();
        let instants = [
            second,
            second + chrono::Duration::milliseconds(467),
            second + chrono::Duration::microseconds(333_605),
            second + chrono::Duration::nanoseconds(1),
            Utc.with_ymd_and_hms(1900, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
        ];
        for at in instants {
            for maybe in [None, Some(at)] {
                let ours = serde_json::to_string(&Ours { at, maybe }).unwrap();
                let chronos = serde_json::to_string(&Chronos { at, maybe }).unwrap();
                assert_eq!(ours, chronos);
            }
        }
        assert_eq!(
            serde_json::to_string(&Ours {
                at: second + chrono::Duration::microseconds(333_605),
                maybe: None
            })
            .unwrap(),
            r#"{"at":"2026-12-07T03:25:37.333605Z","maybe":null}"#
        );
    }
}
