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
        let (limit, after) = self.validate_by::<Uuid>()?;
        Ok(PageRequest { limit, after })
    }

    /// For lists ordered by a sequence number (timelines): the limit and
    /// the sequence number to start after.
    pub fn validate_seq(&self) -> Result<(i64, Option<i64>), ApiError> {
        self.validate_by::<i64>()
    }

    /// The limit and the key to start after, for a list ordered by `K`.
    pub fn validate_by<K: CursorKey>(&self) -> Result<(i64, Option<K>), ApiError> {
        let limit = page_limit(self.limit, DEFAULT_LIMIT)?;
        let after = match &self.cursor {
            None => None,
            Some(cursor) => Some(K::decode(cursor).ok_or_else(bad_cursor)?),
        };
        Ok((limit, after))
    }
}

/// The key a list is ordered by, carried opaquely in `cursor`.
pub trait CursorKey: Sized {
    fn encode(&self) -> String;
    fn decode(cursor: &str) -> Option<Self>;
}

impl CursorKey for Uuid {
    fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.as_bytes())
    }
    fn decode(cursor: &str) -> Option<Self> {
        Uuid::from_slice(&URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()
    }
}

impl CursorKey for i64 {
    fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.to_be_bytes())
    }
    fn decode(cursor: &str) -> Option<Self> {
        let bytes: [u8; 8] = URL_SAFE_NO_PAD.decode(cursor).ok()?.try_into().ok()?;
        Some(i64::from_be_bytes(bytes))
    }
}

/// A text key (a commune's INSEE code).
impl CursorKey for String {
    fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.as_bytes())
    }
    fn decode(cursor: &str) -> Option<Self> {
        String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()
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

/// One page of a list.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass it as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// From `limit + 1` rows fetched in id order.
    pub fn from_rows(rows: Vec<T>, request: PageRequest, id_of: impl Fn(&T) -> Uuid) -> Self {
        Self::from_keyed_rows(rows, request.limit, id_of)
    }

    /// From `limit + 1` rows fetched in sequence order.
    pub fn from_seq_rows(rows: Vec<T>, limit: i64, seq_of: impl Fn(&T) -> i64) -> Self {
        Self::from_keyed_rows(rows, limit, seq_of)
    }

    /// From `limit + 1` rows fetched in the order of `K`.
    pub fn from_keyed_rows<K: CursorKey>(
        mut rows: Vec<T>,
        limit: i64,
        key_of: impl Fn(&T) -> K,
    ) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|last| key_of(last).encode())
        } else {
            None
        };
        Self {
            items: rows,
            next_cursor,
        }
    }
}

/// A page size: `default` when absent, 400 naming `limit` outside
/// 1..=[`MAX_LIMIT`], the one bound of every list.
pub fn page_limit(limit: Option<i64>, default: i64) -> Result<i64, ApiError> {
    let limit = limit.unwrap_or(default);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(
            "`limit` is out of range.",
            vec![FieldError::new(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
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
        assert_eq!(Uuid::decode(&id.encode()), Some(id));
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
        assert_eq!(i64::decode(&42i64.encode()), Some(42));
        assert_eq!(i64::decode(&Uuid::now_v7().encode()), None);
        assert_eq!(
            String::decode(&"05061".to_owned().encode()).as_deref(),
            Some("05061")
        );
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
        assert_eq!(page.next_cursor, Some(ids[1].encode()));
        let last = Page::from_rows(ids[..2].to_vec(), request, |id| *id);
        assert_eq!(last.next_cursor, None);
    }
}
