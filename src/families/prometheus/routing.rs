//! Alert routing (DESIGN §4): the AlertmanagerConfig of the system's alerts.
//!
//! | severity | receiver | when | grouping |
//! |---|---|---|---|
//! | critical | PagerDuty when `spec.alerting.pagerduty`, else Slack | at any hour | wait 10s, repeat 1h |
//! | warning | Slack | business hours only (`hours`), held until they open | wait 30s, repeat 4h |
//! | info | a daily email digest | at any hour | one group per environment, every 24h |
//! | none of these | Slack | at any hour | the root's: wait 30s, interval 5m, repeat 4h |
//!
//! A critical alert must reach someone at 3 a.m.: without PagerDuty it goes to Slack with
//! no time interval. Credentials are Secret references only, in the AlertmanagerConfig's
//! namespace ([`AlertRouting::secrets`] lists them for the tree's table of secrets).

use serde::Serialize;

use super::hours::{self, BusinessHours};
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
    /// Where anything no route matches goes (an alert without a known severity).
    pub default_receiver: &'static str,
    pub routes: Vec<Route>,
    pub slack: Slack,
    pub pagerduty: Option<PagerDuty>,
    pub email: Email,
    /// The interval during which warnings reach Slack.
    pub business_hours: BusinessHours,
    pub inhibit_rules: Vec<Inhibit>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Route {
    pub receiver: &'static str,
    pub severity: &'static str,
    /// Replaces the root's grouping (the digest groups a whole environment).
    pub group_by: Option<Vec<&'static str>>,
    pub group_wait: &'static str,
    pub group_interval: Option<&'static str>,
    pub repeat_interval: &'static str,
    /// Names of time intervals outside which the route's notifications are held.
    pub active_time_intervals: Vec<&'static str>,
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

/// The info alerts' digest: one email per environment and day, through an SMTP relay
/// with STARTTLS, authenticated as the sender.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Email {
    pub receiver: &'static str,
    pub to: String,
    pub from: String,
    /// `host:port`.
    pub smarthost: String,
    pub auth_username: String,
    pub auth_password: SecretKey,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Inhibit {
    pub source_severity: &'static str,
    pub target_severity: &'static str,
    /// Labels that must be equal: the same environment and component.
    pub equal: Vec<&'static str>,
}

/// A Secret key the routing reads: the operator reads it from the AlertmanagerConfig's
/// namespace into the Alertmanager's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretRead {
    pub namespace: &'static str,
    pub name: &'static str,
    pub key: &'static str,
    /// Who reads it: `AlertmanagerConfig monitoring/portal (receiver slack)`.
    pub read_by: String,
}

/// The port of SMTP submission with STARTTLS (RFC 6409).
pub const SUBMISSION_PORT: u16 = 587;

impl AlertRouting {
    /// The Secret keys of the receivers, in the order the receivers are written.
    pub fn secrets(&self) -> Vec<SecretRead> {
        let mut keys = vec![(self.slack.receiver, &self.slack.api_url)];
        if let Some(p) = &self.pagerduty {
            keys.push((p.receiver, &p.routing_key));
        }
        keys.push((self.email.receiver, &self.email.auth_password));
        keys.into_iter()
            .map(|(receiver, k)| SecretRead {
                namespace: self.namespace,
                name: k.name,
                key: k.key,
                read_by: format!(
                    "AlertmanagerConfig {}/{} (receiver {receiver})",
                    self.namespace, self.name
                ),
            })
            .collect()
    }
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
    let domain = &m.env.domain;
    let from = m
        .alerting
        .email_from
        .clone()
        .unwrap_or_else(|| format!("alertmanager@{domain}"));
    let email = Email {
        receiver: "email",
        to: m
            .alerting
            .email_to
            .clone()
            .unwrap_or_else(|| format!("alerts@{domain}")),
        smarthost: m
            .alerting
            .smarthost
            .clone()
            .unwrap_or_else(|| format!("smtp.{domain}:{SUBMISSION_PORT}")),
        auth_username: from.clone(),
        from,
        auth_password: SecretKey {
            name: "alertmanager-smtp",
            key: "password",
        },
    };
    let zone = match &m.alerting.time_zone {
        Some(name) => hours::zone_named(name),
        None => hours::zone_of_region(&m.env.region),
    };
    let business_hours = hours::business_hours(zone);
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
                ..Route::default()
            },
            Route {
                receiver: slack.receiver,
                severity: Severity::Warning.as_str(),
                group_wait: "30s",
                repeat_interval: "4h",
                active_time_intervals: vec![business_hours.name],
                ..Route::default()
            },
            Route {
                receiver: email.receiver,
                severity: Severity::Info.as_str(),
                group_by: Some(vec!["environment"]),
                group_wait: "5m",
                group_interval: Some("24h"),
                repeat_interval: "24h",
                ..Route::default()
            },
        ],
        slack,
        pagerduty,
        email,
        business_hours,
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
