//! The borrower's journeys through the router, on the real stack, made with the app's own
//! typed operations (`tenor-mobile`, generated from `schema/operations/` against
//! `schema/client.graphql`): a schema change that breaks what the app ships fails the build of
//! these tests. Staff act through the router with their scopes, as the back office does. No
//! test producer anywhere: every status change comes from the services deciding.

mod abuse;
mod app;
mod borrower;
mod review;
