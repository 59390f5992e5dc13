//! The policy rules, one file per small group; each rule is a `pub const` item registered
//! in [`super::RULES`].

pub mod cross;
pub mod edge;
pub mod flows;
pub mod metadata;
pub mod namespace;
pub mod observability;
pub mod operator_pods;
pub mod secrets;
pub mod workload;
