//! Alert routing (DESIGN §4): the AlertmanagerConfig sends critical alerts to PagerDuty
//! (when the spec asks for it, else to Slack), warnings to Slack, and keeps info alerts in
//! the Alertmanager; credentials are secret references only.

use serde::Serialize;

use super::rules::Severity;
use crate::model::{Model, MONITORING_NAMESPACE};

#[derive(Debug, Clone, Default, Serialize)]
pub struct AlertRouting {
    pub name: &'static str,
    pub namespace: &'static str,
    pub group_by: Vec<&'static str>,
    pub group_wait: &'static str,
    pub group_interval: &'static str,
    pub repeat_interval: &'static str,
    /// Where anything no route matches goes.
    pub default_receiver: &'static str,
    pub routes: Vec<Route>,
    pub slack: Slack,
    pub pagerduty: Option<PagerDuty>,
    /// A receiver without integrations: info alerts stay in the Alertmanager UI and on
    /// dashboards.
    pub null_receiver: &'static str,
    pub inhibit_rules: Vec<Inhibit>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Route {
    pub receiver: &'static str,
    pub severity: &'static str,
    pub group_wait: &'static str,
    pub repeat_interval: &'static str,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct SecretKey {
    pub name: &'static str,
    pub key: &'static str,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Slack {
    pub receiver: &'static str,
    pub channel: String,
    pub api_url: SecretKey,
    /// Alertmanager (Go) templates.
    pub title: &'static str,
    pub text: &'static str,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct PagerDuty {
    pub receiver: &'static str,
    pub routing_key: SecretKey,
    pub description: &'static str,
    /// The PagerDuty event severity (only critical alerts are routed there).
    pub severity: &'static str,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Inhibit {
    pub source_severity: &'static str,
    pub target_severity: &'static str,
    /// Labels that must be equal: the same environment and component.
    pub equal: Vec<&'static str>,
}

/// The routing of a resolved model's alerts.
pub fn resolve(m: &Model) -> AlertRouting {
    let slack = Slack {
        receiver: "slack",
        channel: m.alerting.slack_channel.clone(),
        api_url: SecretKey {
            name: "alertmanager-slack",
            key: "webhook-url",
        },
        title: "[{{ .Status | toUpper }}{{ if eq .Status \"firing\" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.environment }})",
        text: "{{ range .Alerts }}*{{ .Annotations.summary }}*\n{{ .Annotations.description }}\nRunbook: {{ .Annotations.runbook_url }}\n{{ end }}",
    };
    // The spec's flag decides on any tier (the shipped specs set it for prod only).
    let pagerduty = m.alerting.pagerduty.then_some(PagerDuty {
        receiver: "pagerduty",
        routing_key: SecretKey {
            name: "alertmanager-pagerduty",
            key: "routing-key",
        },
        description: "{{ .CommonLabels.alertname }} ({{ .CommonLabels.environment }}): {{ .CommonAnnotations.summary }}",
        severity: Severity::Critical.as_str(),
    });
    let critical_receiver = pagerduty.as_ref().map_or(slack.receiver, |p| p.receiver);
    AlertRouting {
        name: m.names.prefix,
        namespace: MONITORING_NAMESPACE,
        group_by: vec!["alertname", "environment", "component"],
        group_wait: "30s",
        group_interval: "5m",
        repeat_interval: "4h",
        default_receiver: slack.receiver,
        routes: vec![
            Route {
                receiver: critical_receiver,
                severity: Severity::Critical.as_str(),
                group_wait: "10s",
                repeat_interval: "1h",
            },
            Route {
                receiver: slack.receiver,
                severity: Severity::Warning.as_str(),
                group_wait: "30s",
                repeat_interval: "4h",
            },
            Route {
                receiver: "null",
                severity: Severity::Info.as_str(),
                group_wait: "5m",
                repeat_interval: "24h",
            },
        ],
        slack,
        pagerduty,
        null_receiver: "null",
        inhibit_rules: vec![
            Inhibit {
                source_severity: Severity::Critical.as_str(),
                target_severity: Severity::Warning.as_str(),
                equal: vec!["environment", "component"],
            },
            Inhibit {
                source_severity: Severity::Warning.as_str(),
                target_severity: Severity::Info.as_str(),
                equal: vec!["environment", "component"],
            },
        ],
    }
}
