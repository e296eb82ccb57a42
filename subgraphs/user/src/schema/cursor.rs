//! The back-office cursor: an opaque position in the listing of accounts.

use async_graphql::connection::CursorType;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::DateTime;

use crate::store::PagePosition;

/// Opaque position in the back-office listing (created_at, id).
pub(super) struct UserCursor(pub(super) PagePosition);

impl CursorType for UserCursor {
    type Error = &'static str;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        const BAD: &str = "not a cursor of this list";
        let bytes = URL_SAFE_NO_PAD.decode(s).map_err(|_| BAD)?;
        let text = String::from_utf8(bytes).map_err(|_| BAD)?;
        let (micros, id) = text.split_once(':').ok_or(BAD)?;
        let created_at = micros
            .parse()
            .ok()
            .and_then(DateTime::from_timestamp_micros)
            .ok_or(BAD)?;
        let id = id.parse().map_err(|_| BAD)?;
        Ok(Self(PagePosition { created_at, id }))
    }

    fn encode_cursor(&self) -> String {
        let PagePosition { created_at, id } = self.0;
        URL_SAFE_NO_PAD.encode(format!("{}:{id}", created_at.timestamp_micros()))
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let position = PagePosition {
            created_at: DateTime::from_timestamp_micros(1_800_000_000_123_456).unwrap(),
            id: Uuid::new_v4(),
        };
        let encoded = UserCursor(position).encode_cursor();
        assert_eq!(UserCursor::decode_cursor(&encoded).unwrap().0, position);
        assert!(UserCursor::decode_cursor("bm90LWEtY3Vyc29y").is_err());
        assert!(UserCursor::decode_cursor("%%%").is_err());
    }
}
