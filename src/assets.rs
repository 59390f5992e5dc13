//! Files compiled into the binary: the templates and the JSON Schemas (see `build.rs`).

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// An embedded schema by its path under `schemas/`, e.g. `environment.schema.json`.
pub fn schema(path: &str) -> Option<&'static str> {
    SCHEMAS
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, text)| *text)
}
