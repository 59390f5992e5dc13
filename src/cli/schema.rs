//! `portalgen schema [environment|system] [--report NAME]`: prints the environment spec's
//! JSON Schema, the system file's, or the schema of one of the JSON reports
//! (`schemas/reports/`, embedded).

use super::{out, ExitStatus};
use crate::assets;
use crate::diagnostic::{did_you_mean, Error};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Which spec: `environment` (environments/<name>.yaml, the default) or `system`
    /// (portalgen.yaml).
    #[arg(value_enum, default_value_t = Spec::Environment)]
    pub spec: Spec,
    /// The schema of a JSON report instead: validate, check, diff, diff-base, list or explain.
    #[arg(long, value_name = "NAME")]
    pub report: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Spec {
    Environment,
    System,
}

pub fn run(args: &Args) -> anyhow::Result<ExitStatus> {
    let Some(name) = &args.report else {
        let file = match args.spec {
            Spec::Environment => "environment.schema.json",
            Spec::System => "system.schema.json",
        };
        out(assets::schema(file).unwrap_or_default())?;
        return Ok(ExitStatus::Success);
    };
    let file = format!("{name}.v{}.schema.json", super::report::VERSION);
    match assets::REPORT_SCHEMAS.iter().find(|(p, _)| *p == file) {
        Some((_, text)) => out(text)?,
        None => {
            let names: Vec<&str> = assets::REPORT_SCHEMAS
                .iter()
                .filter_map(|(p, _)| p.split('.').next())
                .collect();
            let shown: String = name
                .chars()
                .take(40)
                .flat_map(char::escape_default)
                .collect();
            let hint = did_you_mean(name, names.iter().copied())
                .map(|h| format!("; {h}"))
                .unwrap_or_default();
            return Err(Error::Other(format!(
                "no report '{shown}'{hint} (known: {})",
                names.join(", ")
            ))
            .into());
        }
    }
    Ok(ExitStatus::Success)
}
