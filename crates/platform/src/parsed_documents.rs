//! Each distinct GraphQL document is parsed once per process, not once per request.
//!
//! async-graphql parses every request's document with its pest grammar before anything else,
//! and that parse was the largest single cost a subgraph paid per request (`tenor-bench router`,
//! perf: pest's parser state alone several per cent of the subgraphs' CPU). Behind the router a
//! subgraph sees a handful of distinct documents — one per query-plan fetch, whatever the
//! variables — so the parsed document is kept, keyed by its text, and cloned for the next
//! request with the same text.
//!
//! - Only documents that parsed (and passed the schema's recursion and directive limits, which
//!   run inside the same step) are kept; a failure is parsed, and refused, every time.
//! - Validation still runs on every request: it depends on the variables.
//! - Bounded: at [`ParsedDocuments::CAPACITY`] documents the map starts again from empty (a
//!   client sending ever-new documents costs a re-parse, never memory), and a document longer
//!   than [`ParsedDocuments::LONGEST`] bytes is not kept.
//!
//! `Schema::build(..).extension(ParsedDocuments::default())`.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{ServerResult, Variables};

/// The schema extension; its map is shared by every request of the schema it is built into.
#[derive(Default, Clone)]
pub struct ParsedDocuments {
    documents: Arc<RwLock<HashMap<String, ExecutableDocument>>>,
}

impl ParsedDocuments {
    pub const CAPACITY: usize = 1_000;
    pub const LONGEST: usize = 32 * 1024;

    /// How many documents are kept now (for tests and diagnostics).
    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn get(&self, query: &str) -> Option<ExecutableDocument> {
        self.read().get(query).cloned()
    }

    fn keep(&self, query: &str, document: &ExecutableDocument) {
        if query.len() > Self::LONGEST {
            return;
        }
        let mut documents = self
            .documents
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if documents.len() >= Self::CAPACITY {
            documents.clear();
        }
        documents.insert(query.to_owned(), document.clone());
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, ExecutableDocument>> {
        // A panic elsewhere while holding the lock leaves a map that is still whole.
        self.documents
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl ExtensionFactory for ParsedDocuments {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(self.clone())
    }
}

// `Extension` is declared with `#[async_trait]`; this is the signature that macro expands to,
// written out so this crate needs no proc-macro for one method.
impl Extension for ParsedDocuments {
    fn parse_query<'life0, 'life1, 'life2, 'life3, 'life4, 'life5, 'async_trait>(
        &'life0 self,
        ctx: &'life1 ExtensionContext<'life2>,
        query: &'life3 str,
        variables: &'life4 Variables,
        next: NextParseQuery<'life5>,
    ) -> Pin<Box<dyn Future<Output = ServerResult<ExecutableDocument>> + Send + 'async_trait>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        'life2: 'async_trait,
        'life3: 'async_trait,
        'life4: 'async_trait,
        'life5: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move {
            if let Some(document) = self.get(query) {
                return Ok(document);
            }
            let document = next.run(ctx, query, variables).await?;
            self.keep(query, &document);
            Ok(document)
        })
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Request, Schema};

    use super::*;

    struct Query;

    #[Object]
    impl Query {
        async fn greeting(&self, name: String) -> String {
            format!("Halo {name}")
        }
    }

    fn schema(documents: &ParsedDocuments) -> Schema<Query, EmptyMutation, EmptySubscription> {
        Schema::build(Query, EmptyMutation, EmptySubscription)
            .limit_recursive_depth(8)
            .extension(documents.clone())
            .finish()
    }

    #[tokio::test]
    async fn a_document_is_kept_once_and_answers_every_request_with_its_own_variables() {
        let documents = ParsedDocuments::default();
        let schema = schema(&documents);
        let query = "query Q($n: String!) { greeting(name: $n) }";
        for name in ["Siti", "Budi", "Ayu"] {
            let request = Request::new(query)
                .variables(Variables::from_json(serde_json::json!({ "n": name })));
            let response = schema.execute(request).await;
            assert!(response.errors.is_empty(), "{:?}", response.errors);
            assert_eq!(
                response.data.into_json().unwrap()["greeting"],
                format!("Halo {name}")
            );
        }
        assert_eq!(documents.len(), 1);
    }

    #[tokio::test]
    async fn failures_are_not_kept_and_are_refused_every_time() {
        let documents = ParsedDocuments::default();
        let schema = schema(&documents);
        let too_deep = format!("{{ {}greeting{} }}", "a { ".repeat(20), " }".repeat(20));
        for query in ["{ greeting(name: ", too_deep.as_str()] {
            for _ in 0..2 {
                let response = schema.execute(query).await;
                assert!(!response.errors.is_empty(), "{query}");
            }
        }
        assert!(documents.is_empty());
        // A document that parses but does not validate is kept (validation runs each time).
        for _ in 0..2 {
            let response = schema.execute("{ nope }").await;
            assert!(!response.errors.is_empty());
        }
        assert_eq!(documents.len(), 1);
    }

    #[test]
    fn the_map_is_bounded() {
        let documents = ParsedDocuments::default();
        let document = async_graphql::parser::parse_query("{ greeting }").unwrap();
        for i in 0..ParsedDocuments::CAPACITY + 10 {
            documents.keep(&format!("{{ greeting }} # {i}"), &document);
        }
        assert!(documents.len() <= ParsedDocuments::CAPACITY);
        documents.keep(&"x".repeat(ParsedDocuments::LONGEST + 1), &document);
        assert!(
            documents
                .get(&"x".repeat(ParsedDocuments::LONGEST + 1))
                .is_none()
        );
    }
}
