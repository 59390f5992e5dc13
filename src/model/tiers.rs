//! The tier defaults of DESIGN §3, in one place. Everything a template shows that is not
//! in the spec comes from here or from the constants of `model`.

use crate::spec::Tier;

pub struct TierDefaults {
    pub replicas: u32,
    /// `None`: no HorizontalPodAutoscaler.
    pub autoscaling: Option<(u32, u32)>,
    pub requests: (&'static str, &'static str),
    pub limits: (&'static str, &'static str),
    pub pdb: Option<PdbDefault>,
    pub db_instances: u32,
    pub db_storage: &'static str,
    /// Redis leaders and followers; (1, 0) is a standalone server.
    pub redis_leaders: u32,
    pub redis_followers: u32,
    pub redis_storage: &'static str,
    pub monitoring: MonitoringLevel,
    pub backups: BackupLevel,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Copy)]
pub enum PdbDefault {
    MinAvailable(u32),
    MaxUnavailable(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MonitoringLevel {
    /// ServiceMonitor and core alerts.
    Basic,
    /// + dashboards and SLO alerts.
    Full,
    /// + multi-window burn-rate SLO alerts and PagerDuty.
    Enterprise,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackupLevel {
    None,
    /// Velero daily, 72h TTL.
    Daily,
    /// WAL archiving + daily base backup (30d), Velero daily (30d TTL).
    Continuous,
}

pub fn defaults(tier: Tier) -> TierDefaults {
    match tier {
        Tier::Dev => TierDefaults {
            replicas: 1,
            autoscaling: None,
            requests: ("250m", "512Mi"),
            limits: ("500m", "1Gi"),
            pdb: None,
            db_instances: 1,
            db_storage: "20Gi",
            redis_leaders: 1,
            redis_followers: 0,
            redis_storage: "1Gi",
            monitoring: MonitoringLevel::Basic,
            backups: BackupLevel::None,
            max_connections: 100,
        },
        Tier::Staging => TierDefaults {
            replicas: 3,
            autoscaling: Some((3, 10)),
            requests: ("500m", "1Gi"),
            limits: ("1", "2Gi"),
            pdb: Some(PdbDefault::MinAvailable(1)),
            db_instances: 2,
            db_storage: "100Gi",
            redis_leaders: 3,
            redis_followers: 0,
            redis_storage: "10Gi",
            monitoring: MonitoringLevel::Full,
            backups: BackupLevel::Daily,
            max_connections: 200,
        },
        Tier::Prod => TierDefaults {
            replicas: 6,
            autoscaling: Some((6, 50)),
            requests: ("1", "2Gi"),
            limits: ("2", "4Gi"),
            pdb: Some(PdbDefault::MaxUnavailable(1)),
            db_instances: 3,
            db_storage: "500Gi",
            redis_leaders: 3,
            redis_followers: 3,
            redis_storage: "100Gi",
            monitoring: MonitoringLevel::Enterprise,
            backups: BackupLevel::Continuous,
            max_connections: 1000,
        },
    }
}
