//! portalgen: one small spec per environment in, the whole GitOps tree out.
//!
//! Data flows one way through the modules, and no stage imports a later one:
//!
//! ```text
//! cli -> spec (parse, schema, spans) -> model (tier defaults, resolved) ->
//! families (what to render) -> render (minijinja, strict) -> validate -> output | diff
//! ```
//!
//! The core never prints: it returns values and diagnostics, and the CLI reports them.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod assets;
pub mod cli;
pub mod diagnostic;
pub mod diff;
pub mod explain;
pub mod families;
pub mod fsafe;
pub mod fuzzing;
pub mod model;
pub mod output;
pub mod patch;
pub mod pipeline;
pub mod provenance;
pub mod render;
pub mod revision;
pub mod secrets;
pub mod spec;
pub mod subset;
pub mod validate;
