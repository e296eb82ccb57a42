//! Federation 2.5's `@authenticated`, which async-graphql does not know: the router refuses a
//! field marked with it to a caller without a verified token (null + `UNAUTHENTICATED`) before
//! any subgraph is asked, and the subgraph still checks the token itself.
//!
//! Declared as a custom type directive so resolvers can be marked with
//! `#[graphql(directive = authenticated::apply())]`; [`federation_sdl`] then turns the exported
//! SDL into what composition expects: the directive imported from the federation spec link (as
//! async-graphql already does for `@requiresScopes`) instead of defined locally — a local
//! definition would make it a custom directive the router does not enforce.

use async_graphql::{ObjectType, SDLExportOptions, Schema, SubscriptionType, TypeDirective};

#[TypeDirective(location = "FieldDefinition", name = "authenticated")]
pub fn authenticated() {}

/// The SDL a subgraph contributes to the supergraph, as `tenor-<name> print-schema` prints it
/// and the router composes it: federation directives exported, `@authenticated` imported.
pub fn subgraph_sdl<Q, M, S>(schema: &Schema<Q, M, S>) -> String
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    federation_sdl(
        schema.sdl_with_options(SDLExportOptions::new().federation().compose_directive()),
    )
}

/// The subgraph SDL with `@authenticated` imported from the federation link.
pub fn federation_sdl(sdl: String) -> String {
    if !sdl.contains("@authenticated") {
        return sdl;
    }
    let mut out = String::with_capacity(sdl.len() + 20);
    for line in sdl.lines() {
        if line.trim_start().starts_with("directive @authenticated ") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.replace(
        ", \"@requiresScopes\"]",
        ", \"@requiresScopes\", \"@authenticated\"]",
    )
}

#[cfg(test)]
mod tests {
    use async_graphql::{EmptyMutation, EmptySubscription, Object};

    use super::*;

    struct Query;

    #[Object]
    impl Query {
        #[graphql(directive = authenticated::apply())]
        async fn me(&self) -> Option<i32> {
            None
        }
        async fn open(&self) -> i32 {
            1
        }
    }

    #[test]
    fn authenticated_is_imported_from_federation_not_defined_locally() {
        let sdl = Schema::new(Query, EmptyMutation, EmptySubscription)
            .sdl_with_options(SDLExportOptions::new().federation().compose_directive());
        let sdl = federation_sdl(sdl);
        assert!(sdl.contains("me: Int @authenticated"), "{sdl}");
        assert!(sdl.contains("open: Int!\n"), "{sdl}");
        assert!(!sdl.contains("directive @authenticated"), "{sdl}");
        assert!(
            sdl.contains(r#""@requiresScopes", "@authenticated"]"#),
            "{sdl}"
        );
    }
}
