//! The CloudEvents 1.0 envelope (JSON structured mode) around every domain event.
//!
//! Events are versioned types in code ([`DomainEvent::TYPE`] ends in `.v1`, `.v2`, …). A
//! consumer decodes the `data` into its own struct; unknown fields are ignored, so a producer
//! may add fields without breaking anyone.

use chrono::{DateTime, Utc};
use cloudevents::{AttributesReader, Data, Event, EventBuilder, EventBuilderV10};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use tenor_platform::request::RequestContext;
use tenor_platform::telemetry::traces::current_traceparent;

use crate::trace::TraceParent;

/// A domain event's payload.
pub trait DomainEvent: Serialize + DeserializeOwned {
    /// CloudEvents `type`, e.g. `loan.submitted.v1`.
    const TYPE: &'static str;
}

#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    #[error("not a CloudEvent: {0}")]
    Malformed(String),
    #[error("event id {0:?} is not a UUID")]
    BadId(String),
    #[error("expected an event of type {expected}, got {actual}")]
    WrongType {
        expected: &'static str,
        actual: String,
    },
    #[error("event data does not match {ty}: {reason}")]
    BadData { ty: String, reason: String },
}

const TRACEPARENT: &str = "traceparent";
/// CloudEvents extension names are lower-case letters and digits only.
const REQUEST_ID: &str = "requestid";

/// A request id travels only if it looks like one: it comes from a header, and an event lives
/// for ever in Kafka and in every consumer's logs.
fn is_safe_request_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// One event as it travels: id, source, type, subject (the aggregate id), time, data and the
/// trace context.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    event: Event,
    id: Uuid,
}

impl Envelope {
    /// Wrap `data`. `source` is the producing service (`/tenor/loan`); `subject` is the aggregate
    /// id, which is also the Kafka key.
    pub fn new<E: DomainEvent>(
        source: &str,
        subject: impl Into<String>,
        data: &E,
        trace: Option<&TraceParent>,
    ) -> Result<Self, EnvelopeError> {
        let id = Uuid::now_v7();
        let json = serde_json::to_value(data).map_err(|e| EnvelopeError::BadData {
            ty: E::TYPE.to_owned(),
            reason: e.to_string(),
        })?;
        // An event caused by a request continues that request's trace and names its request
        // id, so one request can be followed through Kafka into every consumer's logs. When
        // spans are exported, the event names the span that made it (the use case's), so the
        // consumer's span hangs under it in the trace; otherwise a span id of its own.
        let request = RequestContext::current();
        let traceparent = trace
            .cloned()
            .or_else(|| TraceParent::parse(&current_traceparent()?))
            .or_else(|| {
                let incoming = request.as_ref()?.traceparent.as_deref()?;
                TraceParent::parse(incoming).map(|parent| parent.child())
            })
            .unwrap_or_else(TraceParent::new_root);
        let mut builder = EventBuilderV10::new()
            .id(id.to_string())
            .source(source)
            .ty(E::TYPE)
            .subject(subject.into())
            .time(Utc::now())
            .extension(TRACEPARENT, traceparent.as_str());
        if let Some(request_id) = request
            .and_then(|r| r.request_id)
            .filter(|id| is_safe_request_id(id))
        {
            builder = builder.extension(REQUEST_ID, request_id);
        }
        let event = builder
            .data("application/json", json)
            .build()
            .map_err(|e| EnvelopeError::Malformed(e.to_string()))?;
        Ok(Self { event, id })
    }

    /// Parse the JSON form; the id must be a UUID (ours always are, and the inbox keys on it).
    pub fn from_slice(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        let event: Event =
            serde_json::from_slice(bytes).map_err(|e| EnvelopeError::Malformed(e.to_string()))?;
        let id = event
            .id()
            .parse()
            .map_err(|_| EnvelopeError::BadId(event.id().to_owned()))?;
        Ok(Self { event, id })
    }

    pub fn from_json(value: serde_json::Value) -> Result<Self, EnvelopeError> {
        Self::from_slice(value.to_string().as_bytes())
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.event).expect("a built CloudEvent always serialises")
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.event).expect("a built CloudEvent always serialises")
    }

    pub fn id(&self) -> Uuid {
        self.id
    }

    pub fn event_type(&self) -> &str {
        self.event.ty()
    }

    pub fn source(&self) -> String {
        self.event.source().to_string()
    }

    pub fn subject(&self) -> Option<&str> {
        self.event.subject()
    }

    pub fn time(&self) -> Option<DateTime<Utc>> {
        self.event.time().copied()
    }

    pub fn traceparent(&self) -> Option<TraceParent> {
        self.event
            .extension(TRACEPARENT)
            .and_then(|v| TraceParent::parse(&v.to_string()))
    }

    /// The id of the request that caused this event, when one did.
    pub fn request_id(&self) -> Option<String> {
        self.event.extension(REQUEST_ID).map(|v| v.to_string())
    }

    pub fn is<E: DomainEvent>(&self) -> bool {
        self.event_type() == E::TYPE
    }

    /// The typed payload.
    pub fn decode<E: DomainEvent>(&self) -> Result<E, EnvelopeError> {
        if !self.is::<E>() {
            return Err(EnvelopeError::WrongType {
                expected: E::TYPE,
                actual: self.event_type().to_owned(),
            });
        }
        let bad = |reason: String| EnvelopeError::BadData {
            ty: E::TYPE.to_owned(),
            reason,
        };
        match self.event.data() {
            Some(Data::Json(value)) => {
                serde_json::from_value(value.clone()).map_err(|e| bad(e.to_string()))
            }
            Some(Data::String(text)) => serde_json::from_str(text).map_err(|e| bad(e.to_string())),
            Some(Data::Binary(bytes)) => {
                serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))
            }
            None => Err(bad("no data".to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Submitted {
        loan_id: Uuid,
        amount: String,
    }
    impl DomainEvent for Submitted {
        const TYPE: &'static str = "loan.submitted.v1";
    }

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct SubmittedSlim {
        loan_id: Uuid,
    }
    impl DomainEvent for SubmittedSlim {
        const TYPE: &'static str = "loan.submitted.v1";
    }

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Other {}
    impl DomainEvent for Other {
        const TYPE: &'static str = "loan.paid.v1";
    }

    #[tokio::test]
    async fn an_event_made_during_a_request_continues_its_trace_and_names_it() {
        let incoming = TraceParent::new_root();
        let request = RequestContext {
            request_id: Some("req-42".into()),
            traceparent: Some(incoming.as_str().to_owned()),
            user_id: None,
        };
        let data = Other {};
        let envelope = request
            .scope(async { Envelope::new("/tenor/loan", "x", &data, None).unwrap() })
            .await;
        assert_eq!(envelope.request_id().as_deref(), Some("req-42"));
        let trace = envelope.traceparent().unwrap();
        assert_eq!(trace.trace_id(), incoming.trace_id());
        assert_ne!(trace, incoming, "the event is a new span in the same trace");

        let hostile = RequestContext {
            request_id: Some("x\ny".repeat(100)),
            traceparent: Some("garbage".into()),
            user_id: None,
        };
        let envelope = hostile
            .scope(async { Envelope::new("/tenor/loan", "x", &data, None).unwrap() })
            .await;
        assert_eq!(envelope.request_id(), None);
        assert_ne!(
            envelope.traceparent().unwrap().trace_id(),
            incoming.trace_id()
        );

        let outside = Envelope::new("/tenor/loan", "x", &data, None).unwrap();
        assert_eq!(outside.request_id(), None);
    }

    #[test]
    fn round_trips_in_structured_json() {
        let data = Submitted {
            loan_id: Uuid::new_v4(),
            amount: "1000000".into(),
        };
        let trace = TraceParent::new_root();
        let envelope =
            Envelope::new("/tenor/loan", data.loan_id.to_string(), &data, Some(&trace)).unwrap();
        let json = envelope.to_json();
        assert_eq!(json["specversion"], "1.0");
        assert_eq!(json["type"], "loan.submitted.v1");
        assert_eq!(json["source"], "/tenor/loan");
        assert_eq!(json["subject"], data.loan_id.to_string());
        assert_eq!(json["traceparent"], trace.as_str());
        assert_eq!(json["data"]["amount"], "1000000");

        let back = Envelope::from_slice(&envelope.to_bytes()).unwrap();
        assert_eq!(back.id(), envelope.id());
        assert_eq!(back.traceparent(), Some(trace));
        assert_eq!(back.decode::<Submitted>().unwrap(), data);
    }

    #[test]
    fn consumers_ignore_fields_they_do_not_know() {
        let data = Submitted {
            loan_id: Uuid::new_v4(),
            amount: "5".into(),
        };
        let envelope = Envelope::new("/tenor/loan", "x", &data, None).unwrap();
        assert_eq!(
            envelope.decode::<SubmittedSlim>().unwrap(),
            SubmittedSlim {
                loan_id: data.loan_id
            }
        );
    }

    #[test]
    fn wrong_type_and_garbage_are_typed_errors() {
        let data = Submitted {
            loan_id: Uuid::new_v4(),
            amount: "5".into(),
        };
        let envelope = Envelope::new("/tenor/loan", "x", &data, None).unwrap();
        assert!(matches!(
            envelope.decode::<Other>(),
            Err(EnvelopeError::WrongType { .. })
        ));
        assert!(matches!(
            Envelope::from_slice(b"{not json"),
            Err(EnvelopeError::Malformed(_))
        ));
        let mut json = envelope.to_json();
        json["id"] = "not-a-uuid".into();
        assert!(matches!(
            Envelope::from_json(json),
            Err(EnvelopeError::BadId(_))
        ));
    }
}
