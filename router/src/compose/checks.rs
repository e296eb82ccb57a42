//! The checks a composer does not promise, on SDL strings (pure: nothing here touches the file
//! system): subgraph SDLs before composition, the composed supergraph against them after, and
//! the supergraph alone as `serve` is about to load it.

use std::collections::BTreeSet;

use async_graphql_parser::parse_schema;
use async_graphql_parser::types::ServiceDocument;

use super::Problems;
use super::config::{SubgraphSdl, parse_federation_version};
use super::sdl::{directive_usages, join_graphs, link_urls, type_definitions};

/// The authorization directives hive-router enforces, each with the spec its `@link` must name.
/// Without that link in the supergraph the router ignores the directive.
pub const AUTH_DIRECTIVES: &[(&str, &str)] = &[
    (
        "requiresScopes",
        "https://specs.apollo.dev/requiresScopes/v0.1",
    ),
    (
        "authenticated",
        "https://specs.apollo.dev/authenticated/v0.1",
    ),
    ("policy", "https://specs.apollo.dev/policy/v0.1"),
];

/// Root operation types that must be routed to at least one subgraph (`@join__type`).
const ROOT_TYPES: &[&str] = &["Query", "Mutation", "Subscription"];

/// Checks each subgraph SDL before composition: it parses, and links no federation spec newer
/// than `federation_version`.
pub fn check_subgraphs(
    subgraphs: &[SubgraphSdl],
    federation_version: Option<&str>,
) -> Result<(), Problems> {
    let ceiling = federation_version.and_then(|v| parse_federation_version(v).ok());
    let mut problems = Vec::new();
    for s in subgraphs {
        let doc = match parse_schema(&s.type_defs) {
            Ok(doc) => doc,
            Err(e) => {
                problems.push(format!("subgraph {}: SDL does not parse: {e}", s.name));
                continue;
            }
        };
        if let Some((major, minor)) = ceiling {
            for url in link_urls(&doc) {
                if let Some(v) = url.strip_prefix("https://specs.apollo.dev/federation/v")
                    && let Some((ma, mi)) = v.split_once('.')
                    && let (Ok(ma), Ok(mi)) = (ma.parse::<u32>(), mi.parse::<u32>())
                    && (ma, mi) > (major, minor)
                {
                    problems.push(format!(
                        "subgraph {}: links federation v{ma}.{mi}, newer than \
                         supergraph.yaml's federation_version {major}.{minor}",
                        s.name
                    ));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Problems(problems))
    }
}

/// Checks a composed supergraph against the subgraphs it came from:
/// - it parses, and lists exactly the configured subgraphs in `join__Graph` (name and URL);
/// - `Query` exists, and every root type present (`Query`, `Mutation`, `Subscription`) carries
///   `@join__type` (without it nothing on that root can be planned);
/// - every auth directive used in the supergraph has its spec `@link` (without it the router
///   silently stops enforcing the directive);
/// - every auth directive used in any subgraph is still used in the supergraph (a composer that
///   drops it would leave fields unprotected without an error).
pub fn check_supergraph(supergraph: &str, subgraphs: &[SubgraphSdl]) -> Result<(), Problems> {
    let doc = match parse_schema(supergraph) {
        Ok(doc) => doc,
        Err(e) => return Err(Problems(vec![format!("supergraph does not parse: {e}")])),
    };
    let mut problems = Vec::new();

    // Subgraphs: join__Graph values carry @join__graph(name, url).
    let graphs = join_graphs(&doc);
    for s in subgraphs {
        match graphs.get(&s.name) {
            None => problems.push(format!("subgraph {} is missing from join__Graph", s.name)),
            Some(url) if *url != s.url => problems.push(format!(
                "subgraph {} routes to {url} in the supergraph, {} in supergraph.yaml",
                s.name, s.url
            )),
            Some(_) => {}
        }
    }
    for name in graphs.keys() {
        if !subgraphs.iter().any(|s| &s.name == name) {
            problems.push(format!(
                "join__Graph lists {name}, which supergraph.yaml does not"
            ));
        }
    }

    problems.extend(served_supergraph_problems(&doc));

    // A composer that drops an auth directive would leave fields unprotected without an error.
    let used = directive_usages(&doc);
    for s in subgraphs {
        let Ok(sub) = parse_schema(&s.type_defs) else {
            continue;
        };
        let sub_used = directive_usages(&sub);
        for (directive, _) in AUTH_DIRECTIVES {
            if sub_used.contains(*directive) && !used.contains(*directive) {
                problems.push(format!(
                    "subgraph {} uses @{directive} but the supergraph carries none: \
                     those fields would be unprotected",
                    s.name
                ));
            }
        }
    }

    if problems.is_empty() {
        Ok(())
    } else {
        Err(Problems(problems))
    }
}

/// The checks that need only the supergraph itself, run again by `serve` on whatever file the
/// router is about to load: root types carry `@join__type`, and every auth directive used has
/// its spec `@link`.
pub fn check_served_supergraph(supergraph: &str) -> Result<(), Problems> {
    let problems = match parse_schema(supergraph) {
        Ok(doc) => served_supergraph_problems(&doc),
        Err(e) => vec![format!("supergraph does not parse: {e}")],
    };
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Problems(problems))
    }
}

fn served_supergraph_problems(doc: &ServiceDocument) -> Vec<String> {
    let mut problems = Vec::new();
    let types = type_definitions(doc);
    for root in ROOT_TYPES {
        let defs: Vec<_> = types
            .iter()
            .filter(|t| t.name.node.as_str() == *root)
            .collect();
        if defs.is_empty() {
            if *root == "Query" {
                problems.push("the supergraph has no Query type".to_owned());
            }
            continue;
        }
        let joined = defs.iter().any(|t| {
            t.directives
                .iter()
                .any(|d| d.node.name.node.as_str() == "join__type")
        });
        if !joined {
            problems.push(format!(
                "{root} has no @join__type: the router cannot plan any {root} field"
            ));
        }
    }
    let used = directive_usages(doc);
    let links: BTreeSet<String> = link_urls(doc).into_iter().collect();
    for (directive, spec) in AUTH_DIRECTIVES {
        if used.contains(*directive) && !links.contains(*spec) {
            problems.push(format!(
                "@{directive} is used but the supergraph has no @link(url: \"{spec}\"): \
                 the router would silently not enforce it"
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::SupergraphConfig;

    const SUBGRAPH: &str = r#"
        extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key", "@requiresScopes"])
        type Query { me: User users: [User!]! @requiresScopes(scopes: [["user:admin"]]) }
        type User @key(fields: "id") { id: ID! }
    "#;

    fn subgraphs() -> Vec<SubgraphSdl> {
        vec![SubgraphSdl {
            name: "user".into(),
            url: "http://127.0.0.1:4002/graphql".into(),
            type_defs: SUBGRAPH.into(),
        }]
    }

    const GOOD: &str = r#"
        schema
          @link(url: "https://specs.apollo.dev/link/v1.0")
          @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)
          @link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY)
        { query: Query }
        directive @requiresScopes(scopes: [[requiresScopes__Scope!]!]!) on FIELD_DEFINITION | OBJECT
        scalar requiresScopes__Scope
        enum join__Graph { USER @join__graph(name: "user", url: "http://127.0.0.1:4002/graphql") }
        type Query @join__type(graph: USER) {
          me: User
          users: [User!]! @requiresScopes(scopes: [["user:admin"]])
        }
        type User @join__type(graph: USER, key: "id") { id: ID! }
    "#;

    fn problems(sdl: &str) -> Vec<String> {
        match check_supergraph(sdl, &subgraphs()) {
            Ok(()) => vec![],
            Err(Problems(p)) => p,
        }
    }

    #[test]
    fn a_complete_supergraph_passes() {
        assert_eq!(problems(GOOD), Vec::<String>::new());
    }

    #[test]
    fn missing_requires_scopes_link_fails() {
        let sdl = GOOD.replace(
            r#"@link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY)"#,
            "",
        );
        let p = problems(&sdl);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].contains("@requiresScopes") && p[0].contains("requiresScopes/v0.1"),
            "{p:?}"
        );
    }

    #[test]
    fn authenticated_and_policy_need_their_links_too() {
        let sdl = GOOD.replace(
            "me: User",
            r#"me: User @authenticated  admin: Int @policy(policies: [["ops"]])"#,
        );
        let p = problems(&sdl);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p.iter().any(|m| m.contains("authenticated/v0.1")), "{p:?}");
        assert!(p.iter().any(|m| m.contains("policy/v0.1")), "{p:?}");
        let linked = sdl.replace(
            "{ query: Query }",
            r#"@link(url: "https://specs.apollo.dev/authenticated/v0.1", for: SECURITY)
               @link(url: "https://specs.apollo.dev/policy/v0.1", for: SECURITY) { query: Query }"#,
        );
        assert_eq!(problems(&linked), Vec::<String>::new());
    }

    #[test]
    fn a_directive_only_defined_is_not_a_use() {
        let sdl = GOOD
            .replace(r#"@requiresScopes(scopes: [["user:admin"]])"#, "")
            .replace(
                r#"@link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY)"#,
                "",
            );
        // The supergraph alone would be fine, but the subgraph uses @requiresScopes.
        let p = problems(&sdl);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].contains("subgraph user uses @requiresScopes"), "{p:?}");
    }

    #[test]
    fn root_types_without_join_type_fail() {
        let sdl = GOOD.replace("type Query @join__type(graph: USER)", "type Query")
            + "\ntype Mutation { ping: Int }";
        let p = problems(&sdl);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(
            p.iter().any(|m| m.starts_with("Query has no @join__type")),
            "{p:?}"
        );
        assert!(
            p.iter()
                .any(|m| m.starts_with("Mutation has no @join__type")),
            "{p:?}"
        );
    }

    #[test]
    fn subgraphs_must_match_join_graph() {
        let mut subs = subgraphs();
        subs[0].url = "http://127.0.0.1:9999/graphql".into();
        subs.push(SubgraphSdl {
            name: "loan".into(),
            url: "http://x/graphql".into(),
            type_defs: SUBGRAPH.into(),
        });
        let Err(Problems(p)) = check_supergraph(GOOD, &subs) else {
            panic!("should fail")
        };
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(
            p.iter()
                .any(|m| m.contains("routes to http://127.0.0.1:4002/graphql")),
            "{p:?}"
        );
        assert!(
            p.iter().any(|m| m.contains("subgraph loan is missing")),
            "{p:?}"
        );
    }

    #[test]
    fn served_check_needs_only_the_supergraph() {
        assert_eq!(check_served_supergraph(GOOD), Ok(()));
        let bad = GOOD.replace(
            r#"@link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY)"#,
            "",
        );
        let Err(Problems(p)) = check_served_supergraph(&bad) else {
            panic!("should fail")
        };
        assert!(
            p.len() == 1 && p[0].contains("requiresScopes/v0.1"),
            "{p:?}"
        );
    }

    #[test]
    fn unparsable_supergraph_fails() {
        assert!(
            problems("type Query {")
                .first()
                .is_some_and(|m| m.contains("does not parse"))
        );
    }

    #[test]
    fn federation_version_is_a_ceiling() {
        let subs = subgraphs();
        assert!(check_subgraphs(&subs, Some("=2.5.0")).is_ok());
        assert!(check_subgraphs(&subs, None).is_ok());
        let Err(Problems(p)) = check_subgraphs(&subs, Some("=2.3.0")) else {
            panic!("should fail")
        };
        assert!(p[0].contains("newer than"), "{p:?}");
        assert!(SupergraphConfig::parse("federation_version: '1'\nsubgraphs: {}").is_err());
    }
}
