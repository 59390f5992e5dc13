//! The integration tests, as one binary: each `tests/<area>.rs` is a module of it. One
//! binary links the library and its dependencies once instead of once per area, which was
//! most of `cargo test`'s time from a clean clone (13 binaries took 9 of its 10 minutes).
//! Run one area with `cargo test --test suite <area>::` (e.g. `policy::`).

mod common;

#[path = "bad_input.rs"]
mod bad_input;
#[path = "cli.rs"]
mod cli;
#[path = "edge_delivery.rs"]
mod edge_delivery;
#[path = "fuzz.rs"]
mod fuzz;
#[path = "golden.rs"]
mod golden;
#[path = "observability.rs"]
mod observability;
#[path = "policy.rs"]
mod policy;
#[path = "review.rs"]
mod review;
