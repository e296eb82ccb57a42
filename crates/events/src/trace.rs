//! W3C trace context (`traceparent`) carried inside every event, so a trace that starts at the
//! router continues through Kafka into the consumer.

use std::fmt;

/// `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceParent(String);

impl TraceParent {
    /// Start a new trace (no incoming context).
    pub fn new_root() -> Self {
        let trace = uuid::Uuid::new_v4().simple().to_string();
        Self(format!("00-{trace}-{}-01", span_id()))
    }

    /// Accept a header value only if it is well formed; anything else starts a new trace
    /// rather than propagating garbage.
    pub fn parse(value: &str) -> Option<Self> {
        let parts: Vec<&str> = value.trim().split('-').collect();
        let hex = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit());
        let valid = parts.len() == 4
            && hex(parts[0], 2)
            && parts[0] != "ff"
            && hex(parts[1], 32)
            && parts[1] != "0".repeat(32)
            && hex(parts[2], 16)
            && parts[2] != "0".repeat(16)
            && hex(parts[3], 2);
        valid.then(|| Self(value.trim().to_ascii_lowercase()))
    }

    /// The same trace, with a new span as parent (what a hop such as the relay does).
    pub fn child(&self) -> Self {
        let parts: Vec<&str> = self.0.split('-').collect();
        Self(format!("00-{}-{}-{}", parts[1], span_id(), parts[3]))
    }

    pub fn trace_id(&self) -> &str {
        &self.0[3..35]
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn span_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..16].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_parse_and_children_keep_the_trace() {
        let root = TraceParent::new_root();
        assert_eq!(TraceParent::parse(root.as_str()), Some(root.clone()));
        let child = root.child();
        assert_eq!(child.trace_id(), root.trace_id());
        assert_ne!(child, root);
    }

    #[test]
    fn malformed_values_are_refused() {
        for bad in [
            "",
            "00-abc-def-01",
            "00-00000000000000000000000000000000-0000000000000001-01",
            "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
            "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319z-b7ad6b7169203331-01",
        ] {
            assert_eq!(TraceParent::parse(bad), None, "{bad}");
        }
        assert!(
            TraceParent::parse("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01").is_some()
        );
    }
}
