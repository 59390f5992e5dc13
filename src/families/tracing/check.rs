//! PG-T001: an OpenTelemetry collector's configuration holds together. The operator
//! accepts any `spec.config` its schema allows, and the collector then refuses to start
//! (a pipeline naming a component nobody defined) or quietly carries dead configuration (a
//! component defined and used by no pipeline, which the collector never starts). Checked
//! on every `OpenTelemetryCollector` of any rendered file:
//!
//! * every pipeline has at least one receiver and one exporter, and each receiver,
//!   processor and exporter it names is defined in `receivers` / `processors` /
//!   `exporters` (or, for a receiver or an exporter, in `connectors`);
//! * every defined receiver, processor, exporter and connector is used by a pipeline, and
//!   every extension by `service.extensions` (and every one named there is defined);
//! * a connector is used on both ends: an exporter of one pipeline and a receiver of
//!   another.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::diagnostic::{did_you_mean, Diagnostic, FieldPath};
use crate::validate::{At, Document};

pub const RULE: &str = "PG-T001";

/// PG-T001 on one object, when it is an `OpenTelemetryCollector`.
pub fn check_collector(file: &str, doc: &Document) -> Vec<Diagnostic> {
    if doc.kind() != "OpenTelemetryCollector" || !doc.api_version().starts_with("opentelemetry.io/")
    {
        return Vec::new();
    }
    let Some(config) = doc.value.at("/spec/config") else {
        return Vec::new();
    };
    let at = FieldPath::root().key("spec").key("config");
    problems(config)
        .into_iter()
        .map(|(path, message, hint)| {
            Diagnostic::new(file, format!("[{RULE}] {message}"))
                .object(doc.object_ref())
                .with_path(at.clone().join(&path))
                .rule(RULE)
                .with_hint(hint)
        })
        .collect()
}

fn keys<'a>(config: &'a Value, section: &str) -> BTreeSet<&'a str> {
    config
        .get(section)
        .and_then(Value::as_object)
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

fn names(v: Option<&Value>) -> Vec<&str> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Every problem of a collector configuration: the field (relative to the
/// configuration), the message, a hint.
pub fn problems(config: &Value) -> Vec<(FieldPath, String, Option<String>)> {
    let mut out = Vec::new();
    let receivers = keys(config, "receivers");
    let processors = keys(config, "processors");
    let exporters = keys(config, "exporters");
    let connectors = keys(config, "connectors");
    let extensions = keys(config, "extensions");
    let mut used: BTreeSet<(&str, &str)> = BTreeSet::new();
    let mut connector_ends: BTreeSet<(&str, &str)> = BTreeSet::new();
    let pipelines = config
        .pointer("/service/pipelines")
        .and_then(Value::as_object);
    if pipelines.is_none_or(|p| p.is_empty()) {
        out.push((
            FieldPath::root().key("service").key("pipelines"),
            "the collector has no pipeline".to_owned(),
            None,
        ));
    }
    for (pipeline, p) in pipelines.into_iter().flatten() {
        let base = FieldPath::root()
            .key("service")
            .key("pipelines")
            .key(pipeline.as_str());
        for (role, section, defined) in [
            ("receivers", "receivers", &receivers),
            ("processors", "processors", &processors),
            ("exporters", "exporters", &exporters),
        ] {
            let listed = names(p.get(role));
            if listed.is_empty() && role != "processors" {
                out.push((
                    base.clone().key(role),
                    format!("pipeline {pipeline} has no {role}"),
                    None,
                ));
            }
            for (i, name) in listed.into_iter().enumerate() {
                let is_connector = role != "processors" && connectors.contains(name);
                if is_connector {
                    connector_ends.insert((name, role));
                    used.insert(("connectors", name));
                    continue;
                }
                if defined.contains(name) {
                    used.insert((section, name));
                    continue;
                }
                let candidates: Vec<&str> = defined.iter().copied().collect();
                out.push((
                    base.clone().key(role).index(i),
                    format!(
                        "pipeline {pipeline} names {} {name}, which the configuration does not define under {section}",
                        singular(role)
                    ),
                    did_you_mean(name, candidates.iter().copied()),
                ));
            }
        }
    }
    for (section, defined) in [
        ("receivers", &receivers),
        ("processors", &processors),
        ("exporters", &exporters),
        ("connectors", &connectors),
    ] {
        for name in defined {
            if !used.contains(&(section, *name)) {
                out.push((
                    FieldPath::root().key(section).key(*name),
                    format!(
                        "{} {name} is defined but no pipeline uses it",
                        singular(section)
                    ),
                    Some("add it to a pipeline of service.pipelines, or remove it".to_owned()),
                ));
            }
        }
    }
    for name in &connectors {
        let as_exporter = connector_ends.contains(&(*name, "exporters"));
        let as_receiver = connector_ends.contains(&(*name, "receivers"));
        if (as_exporter || as_receiver) && !(as_exporter && as_receiver) {
            out.push((
                FieldPath::root().key("connectors").key(*name),
                format!(
                    "connector {name} is used only as {}: a connector joins an exporter of one pipeline to a receiver of another",
                    if as_exporter { "an exporter" } else { "a receiver" }
                ),
                None,
            ));
        }
    }
    let enabled = names(config.pointer("/service/extensions"));
    for (i, name) in enabled.iter().enumerate() {
        if !extensions.contains(name) {
            out.push((
                FieldPath::root().key("service").key("extensions").index(i),
                format!("service.extensions names extension {name}, which the configuration does not define"),
                did_you_mean(name, extensions.iter().copied()),
            ));
        }
    }
    for name in &extensions {
        if !enabled.contains(name) {
            out.push((
                FieldPath::root().key("extensions").key(*name),
                format!("extension {name} is defined but not enabled in service.extensions"),
                None,
            ));
        }
    }
    out
}

fn singular(section: &str) -> &str {
    section.strip_suffix('s').unwrap_or(section)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn messages(config: &Value) -> Vec<String> {
        problems(config).into_iter().map(|(_, m, _)| m).collect()
    }

    #[test]
    fn an_undefined_exporter_and_an_unused_processor_are_problems() {
        let config = json!({
            "receivers": { "otlp": {} },
            "processors": { "batch": {}, "memory_limiter": {} },
            "exporters": { "otlp/tempo": {} },
            "service": { "pipelines": { "traces": {
                "receivers": ["otlp"],
                "processors": ["batch"],
                "exporters": ["otlp/tmepo"]
            }}}
        });
        let got = problems(&config);
        let msgs: Vec<&str> = got.iter().map(|(_, m, _)| m.as_str()).collect();
        assert!(msgs.contains(&"pipeline traces names exporter otlp/tmepo, which the configuration does not define under exporters"), "{msgs:?}");
        assert!(msgs.contains(&"processor memory_limiter is defined but no pipeline uses it"));
        assert!(msgs.contains(&"exporter otlp/tempo is defined but no pipeline uses it"));
        let undefined = got
            .iter()
            .find(|(_, m, _)| m.contains("otlp/tmepo"))
            .unwrap();
        assert_eq!(
            undefined.0.quoted(),
            "service.pipelines.traces.exporters[0]"
        );
        assert_eq!(undefined.2.as_deref(), Some("did you mean 'otlp/tempo'?"));
    }

    #[test]
    fn connectors_and_extensions_are_checked_on_both_ends() {
        let config = json!({
            "receivers": { "otlp": {} },
            "exporters": { "debug": {} },
            "connectors": { "spanmetrics": {} },
            "extensions": { "health_check": {}, "pprof": {} },
            "service": {
                "extensions": ["health_check", "zpages"],
                "pipelines": { "traces": {
                    "receivers": ["otlp"], "exporters": ["debug", "spanmetrics"]
                }}
            }
        });
        assert_eq!(
            messages(&config),
            vec![
                "connector spanmetrics is used only as an exporter: a connector joins an exporter of one pipeline to a receiver of another",
                "service.extensions names extension zpages, which the configuration does not define",
                "extension pprof is defined but not enabled in service.extensions",
            ]
        );
    }

    #[test]
    fn the_jaeger_configuration_holds_together() {
        assert!(messages(&crate::families::tracing::model::jaeger_config(24)).is_empty());
    }
}
