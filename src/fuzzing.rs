//! The properties the fuzz targets in `fuzz/` check, kept in the library so that
//! `tests/fuzz.rs` replays the committed corpora through exactly the same code in
//! `cargo test` (the targets are thin wrappers around these functions).
//!
//! Each function panics when its property breaks: that is how a fuzzer learns of a finding.

use std::path::Path;

use serde_json::Value;

use crate::validate;

/// Longest message a diagnostic may carry whatever the input (quoted input is capped at
/// [`crate::diagnostic::MAX_QUOTE`] characters; the rest is portalgen's own words).
const MAX_MESSAGE: usize = 4096;

/// The spec parsers (an environment spec and the system file) on arbitrary bytes: no
/// panic; every error names a position and a field path, and no message grows with the
/// input or carries a raw control character.
pub fn spec_parse(data: &[u8]) {
    let environment = crate::spec::parse_bytes(Path::new("fuzz.yaml"), data).err();
    let system = crate::spec::system::parse_bytes(Path::new("portalgen.yaml"), data).err();
    for diags in [environment, system].into_iter().flatten() {
        assert!(!diags.is_empty(), "an error without a diagnostic");
        for d in &diags {
            assert!(d.position.is_some(), "no position: {d}");
            assert!(d.path.is_some(), "no field path: {d}");
            check_message(&d.to_string());
        }
    }
}

/// The fast YAML reader against serde-saphyr: when the fast reader accepts a text,
/// serde-saphyr must accept it too and give the same documents.
pub fn yaml_subset(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Some(fast) = validate::yaml_subset::parse_documents(text) else {
        return; // falls back to serde-saphyr: always allowed
    };
    let oracle: Vec<Value> = match serde_saphyr::from_multiple(text) {
        Ok(values) => values,
        Err(e) => panic!("the fast reader accepts what serde-saphyr refuses ({e}): {text:?}"),
    };
    let non_null = |v: Vec<Value>| v.into_iter().filter(|v| !v.is_null()).collect::<Vec<_>>();
    assert_eq!(non_null(fast), non_null(oracle), "{text:?}");
}

/// `validate::check_file` on arbitrary text under each kind of rendered path: no panic,
/// and messages stay bounded and free of raw control characters.
pub fn check_file(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let path = match selector % 5 {
        0 => "k8s/tenants/acme.yaml",
        1 => "cloudflare/dns.tf.json",
        2 => "grafana/dashboards/portal.json",
        3 => "argocd/app.json",
        _ => "README.txt",
    };
    for d in validate::check_file(path, "fuzz.j2", text) {
        check_message(&d.to_string());
    }
}

fn check_message(message: &str) {
    assert!(
        message.chars().count() <= MAX_MESSAGE,
        "a message of {} characters",
        message.chars().count()
    );
    assert!(
        !message.chars().any(|c| c.is_control() && c != '\n'
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')),
        "a raw control character in {message:?}"
    );
}
