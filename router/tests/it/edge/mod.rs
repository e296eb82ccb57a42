//! The router at the edge, as the mobile app and a hostile client meet it: the JWT matrix,
//! field-level scopes, limits that reject before any subgraph call, request ids and the client
//! address handed to subgraphs. Everything runs through the real `tenor-router` binary.
//!
//! `access`: who may read what (tokens, scopes, introspection); `outages`: what the app gets
//! when a service is down; `requests`: what the router accepts at all and what it adds (limits,
//! spec rules, CSRF, persisted operations, request ids, probes).

mod access;
mod outages;
mod requests;
