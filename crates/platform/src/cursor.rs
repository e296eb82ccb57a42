//! The one cursor of every back-office list: an opaque position in a list ordered by
//! (time, id), newest first, and the `first`/`after` arguments that page through it.
//!
//! On the wire a cursor is `base64url(<unix micros>:<uuid>)`. Clients must treat it as opaque;
//! the encoding is shared so that a fix here fixes every list.

use async_graphql::connection::CursorType;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::graphql::coded_error;

/// Where a page ends: the last row's time and id (the id breaks ties between equal times).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub at: DateTime<Utc>,
    pub id: Uuid,
}

const NOT_A_CURSOR: &str = "not a cursor of this list";

impl CursorType for Cursor {
    type Error = &'static str;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        let bytes = URL_SAFE_NO_PAD.decode(s).map_err(|_| NOT_A_CURSOR)?;
        let text = String::from_utf8(bytes).map_err(|_| NOT_A_CURSOR)?;
        let (micros, id) = text.split_once(':').ok_or(NOT_A_CURSOR)?;
        let at = micros
            .parse()
            .ok()
            .and_then(DateTime::from_timestamp_micros)
            .ok_or(NOT_A_CURSOR)?;
        let id = id.parse().map_err(|_| NOT_A_CURSOR)?;
        Ok(Self { at, id })
    }

    fn encode_cursor(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}:{}", self.at.timestamp_micros(), self.id))
    }
}

/// Page size when the client does not ask for one.
pub const DEFAULT_PAGE_SIZE: usize = 20;
/// The most rows one page returns: a bigger `first` is refused, not silently cut.
pub const MAX_PAGE_SIZE: usize = 100;

/// One page request, checked: how many rows and after which position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub first: usize,
    pub after: Option<Cursor>,
}

impl PageRequest {
    /// `first` in 1..=[`MAX_PAGE_SIZE`] (default [`DEFAULT_PAGE_SIZE`]) and `after` a cursor of
    /// this encoding, or `BAD_USER_INPUT` naming the argument.
    pub fn parse(first: Option<i32>, after: Option<&str>) -> async_graphql::Result<Self> {
        let first = match first {
            None => DEFAULT_PAGE_SIZE,
            Some(n) => usize::try_from(n)
                .ok()
                .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
                .ok_or_else(|| {
                    coded_error(
                        "BAD_USER_INPUT",
                        format!("first must be between 1 and {MAX_PAGE_SIZE}"),
                    )
                })?,
        };
        let after = after
            .map(Cursor::decode_cursor)
            .transpose()
            .map_err(|reason| coded_error("BAD_USER_INPUT", format!("after: {reason}")))?;
        Ok(Self { first, after })
    }

    /// Rows to fetch: one more than the page, so the page knows whether another follows.
    pub fn fetch_limit(&self) -> i64 {
        self.first as i64 + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let cursor = Cursor {
            at: DateTime::from_timestamp_micros(1_800_000_000_123_456).unwrap(),
            id: Uuid::new_v4(),
        };
        assert_eq!(Cursor::decode_cursor(&cursor.encode_cursor()), Ok(cursor));
        for garbage in ["bm90LWEtY3Vyc29y", "%%%", "", "MTIzOm5vdC1hLXV1aWQ"] {
            assert_eq!(
                Cursor::decode_cursor(garbage),
                Err(NOT_A_CURSOR),
                "{garbage}"
            );
        }
    }

    #[test]
    fn page_size_is_bounded_and_defaulted() {
        assert_eq!(
            PageRequest::parse(None, None).unwrap().first,
            DEFAULT_PAGE_SIZE
        );
        assert_eq!(
            PageRequest::parse(Some(100), None).unwrap().fetch_limit(),
            101
        );
        for bad in [0, -1, 101, i32::MAX] {
            assert!(PageRequest::parse(Some(bad), None).is_err(), "{bad}");
        }
        assert!(PageRequest::parse(None, Some("%%%")).is_err());
    }
}
