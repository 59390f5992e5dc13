//! CloudFlare Terraform JSON (`*.tf.json`): parsed back and checked against
//! `schemas/cloudflare/provider-v5.schema.json`, generated from the cloudflare provider's
//! documented schema (unknown and read-only attributes are errors), plus the rules a
//! schema cannot state: the API token is only ever a variable reference.

use std::sync::OnceLock;

use jsonschema::Validator;
use serde_json::Value;

use crate::validate::At;

use crate::assets;
use crate::diagnostic::{Diagnostic, FieldPath};

pub const SCHEMA: &str = "cloudflare/provider-v5.schema.json";

/// Every problem of one rendered Terraform JSON file.
pub fn check(file: &str, text: &str) -> Vec<Diagnostic> {
    match serde_json::from_str(text) {
        Ok(value) => check_value(file, &value),
        Err(e) => vec![Diagnostic::new(
            file,
            format!("rendered Terraform JSON does not parse: {e}"),
        )],
    }
}

/// Every problem of one rendered Terraform JSON file, parsed.
pub fn check_value(file: &str, value: &Value) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = validator()
        .iter_errors(value)
        .map(|e| {
            let message = match e.kind() {
                jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } => {
                    format!(
                        "unknown attribute(s) for cloudflare provider v5: {}",
                        unexpected.join(", ")
                    )
                }
                _ => e.to_string(),
            };
            Diagnostic::new(file, message)
                .with_path(FieldPath::from_pointer(e.instance_path().as_str()))
        })
        .collect();
    if let Some(token) = value.at("/provider/cloudflare/api_token") {
        let is_var = token
            .as_str()
            .is_some_and(|s| s.starts_with("${var.") && s.ends_with('}'));
        if !is_var {
            out.push(
                Diagnostic::new(
                    file,
                    "the CloudFlare API token must be a Terraform variable, never a value",
                )
                .with_path("provider.cloudflare.api_token"),
            );
        }
    }
    if let Some(vars) = value.get("variable").and_then(Value::as_object) {
        for (name, v) in vars {
            if name.contains("token") && v.get("sensitive") != Some(&Value::Bool(true)) {
                out.push(
                    Diagnostic::new(
                        file,
                        format!("variable '{name}' holds a secret and must be sensitive"),
                    )
                    .with_path(format!("variable.{name}")),
                );
            }
            if name.contains("token") && v.get("default").is_some() {
                out.push(
                    Diagnostic::new(
                        file,
                        format!("variable '{name}' holds a secret and has no default"),
                    )
                    .with_path(format!("variable.{name}.default")),
                );
            }
        }
    }
    out
}

fn validator() -> &'static Validator {
    static CELL: OnceLock<Validator> = OnceLock::new();
    CELL.get_or_init(|| {
        let text = assets::schema(SCHEMA).expect("the CloudFlare schema is embedded");
        let schema: Value = serde_json::from_str(text).expect("embedded CloudFlare schema is JSON");
        jsonschema::draft202012::new(&schema).expect("embedded CloudFlare schema compiles")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(doc: &str) -> Vec<String> {
        check("x.tf.json", doc)
            .into_iter()
            .map(|d| d.to_string())
            .collect()
    }

    #[test]
    fn unknown_and_read_only_attributes_are_errors() {
        let ok = r#"{"resource": {"cloudflare_dns_record": {"a": {"zone_id": "z", "name": "a.example.com", "type": "CNAME", "content": "b.example.com", "proxied": true, "ttl": 1}}}}"#;
        assert!(problems(ok).is_empty(), "{:?}", problems(ok));
        let unknown = ok.replace("\"proxied\"", "\"proxy\"");
        assert!(
            problems(&unknown).iter().any(|p| p.contains("proxy")),
            "{:?}",
            problems(&unknown)
        );
        let read_only = ok.replace("\"ttl\": 1", "\"ttl\": 1, \"proxiable\": true");
        assert!(problems(&read_only).iter().any(|p| p.contains("proxiable")));
        let v4_type = ok.replace("cloudflare_dns_record", "cloudflare_record");
        assert!(
            !problems(&v4_type).is_empty(),
            "the v4 resource type is gone in v5"
        );
        let bad_enum = ok.replace("\"CNAME\"", "\"CNAMEX\"");
        assert!(!problems(&bad_enum).is_empty());
    }

    #[test]
    fn the_token_is_a_sensitive_variable() {
        let literal = r#"{"provider": {"cloudflare": {"api_token": "abc123"}}}"#;
        assert!(!problems(literal).is_empty());
        let insensitive = r#"{"provider": {"cloudflare": {"api_token": "${var.cloudflare_api_token}"}}, "variable": {"cloudflare_api_token": {"type": "string"}}}"#;
        assert!(problems(insensitive)
            .iter()
            .any(|p| p.contains("sensitive")));
        let good = r#"{"provider": {"cloudflare": {"api_token": "${var.cloudflare_api_token}"}}, "variable": {"cloudflare_api_token": {"type": "string", "sensitive": true}}}"#;
        assert!(problems(good).is_empty(), "{:?}", problems(good));
    }
}
