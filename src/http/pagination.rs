//! Cursor pagination: `?limit=&cursor=` → `{items, next_cursor}`, in id
//! order (UUIDv7: creation order), stable under inserts.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::db::PageRequest;
use crate::http::error::{ApiError, FieldError};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1 to 200 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page; absent for the first page.
    pub cursor: Option<String>,
}

impl PageParams {
    pub fn validate(&self) -> Result<PageRequest, ApiError> {
        let limit = self.checked_limit()?;
        let after = match &self.cursor {
            None => None,
            Some(cursor) => Some(decode_cursor(cursor).ok_or_else(bad_cursor)?),
        };
        Ok(PageRequest { limit, after })
    }

    /// For lists ordered by a sequence number (timelines): the limit and
    /// the sequence number to start after.
    pub fn validate_seq(&self) -> Result<(i64, Option<i64>), ApiError> {
        let limit = self.checked_limit()?;
        let after = match &self.cursor {
            None => None,
            Some(cursor) => Some(decode_seq(cursor).ok_or_else(bad_cursor)?),
        };
        Ok((limit, after))
    }

    fn checked_limit(&self) -> Result<i64, ApiError> {
        limit_between(self.limit, DEFAULT_LIMIT, MAX_LIMIT)
    }
}

/// 400 for a `cursor` this API did not give.
pub fn bad_cursor() -> ApiError {
    ApiError::invalid(
        "`cursor` is not a cursor this API gave.",
        vec![FieldError::new(
            "cursor",
            "pass `next_cursor` from the previous page unchanged",
        )],
    )
}

fn decode_seq(cursor: &str) -> Option<i64> {
    let bytes: [u8; 8] = URL_SAFE_NO_PAD.decode(cursor).ok()?.try_into().ok()?;
    Some(i64::from_be_bytes(bytes))
}

fn encode_seq(seq: i64) -> String {
    URL_SAFE_NO_PAD.encode(seq.to_be_bytes())
}

fn decode_cursor(cursor: &str) -> Option<Uuid> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    Uuid::from_slice(&bytes).ok()
}

fn encode_cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

/// One page of a list.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass it as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// From `limit + 1` rows fetched in id order.
    pub fn from_rows(mut rows: Vec<T>, request: PageRequest, id_of: impl Fn(&T) -> Uuid) -> Self {
        let limit = usize::try_from(request.limit).unwrap_or(usize::MAX);
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|last| encode_cursor(id_of(last)))
        } else {
            None
        };
        Self {
            items: rows,
            next_cursor,
        }
    }
}

impl<T> Page<T> {
    /// From `limit + 1` rows fetched in sequence order.
    pub fn from_seq_rows(mut rows: Vec<T>, limit: i64, seq_of: impl Fn(&T) -> i64) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|last| encode_seq(seq_of(last)))
        } else {
            None
        };
        Self {
            items: rows,
            next_cursor,
        }
    }
}

/// A page size: `default` when absent, 400 naming `limit` outside 1..=`max`.
pub fn limit_between(limit: Option<i64>, default: i64, max: i64) -> Result<i64, ApiError> {
    let limit = limit.unwrap_or(default);
    if !(1..=max).contains(&limit) {
        return Err(ApiError::invalid(
            "`limit` is out of range.",
            vec![FieldError::new(
                "limit",
                format!("must be between 1 and {max}"),
            )],
        ));
    }
    Ok(limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let id = Uuid::now_v7();
        assert_eq!(decode_cursor(&encode_cursor(id)), Some(id));
        let params = PageParams {
            limit: Some(10),
            cursor: Some("not-a-cursor".into()),
        };
        assert!(params.validate().is_err());
        let params = PageParams {
            limit: Some(0),
            cursor: None,
        };
        assert!(params.validate().is_err());
    }

    #[test]
    fn sequence_cursors_round_trip() {
        assert_eq!(decode_seq(&encode_seq(42)), Some(42));
        assert_eq!(decode_seq(&encode_cursor(Uuid::now_v7())), None);
    }

    #[test]
    fn a_full_page_has_a_next_cursor() {
        let request = PageRequest {
            limit: 2,
            after: None,
        };
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        let page = Page::from_rows(ids.clone(), request, |id| *id);
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.next_cursor, Some(encode_cursor(ids[1])));
        let last = Page::from_rows(ids[..2].to_vec(), request, |id| *id);
        assert_eq!(last.next_cursor, None);
    }
}
