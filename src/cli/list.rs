//! `portalgen list`: the environments with tier, region, role and tenant count.

use serde::Serialize;

use super::{out, report, Context, ExitStatus, Format};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output format: text (a table) or json.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// One environment, as JSON (schemas/reports/list.v1.schema.json).
#[derive(Debug, Serialize)]
struct Row {
    name: String,
    file: String,
    /// Whether the spec is valid; the other fields are null when it is not.
    valid: bool,
    tier: Option<String>,
    region: Option<String>,
    role: Option<String>,
    replica_of: Option<String>,
    tenants: Option<usize>,
}

#[derive(Debug, Serialize)]
struct JsonReport {
    version: u32,
    environments: Vec<Row>,
}

pub fn run(ctx: &Context, args: &Args) -> anyhow::Result<ExitStatus> {
    let ws = ctx.workspace()?;
    let loaded = ws.load_all();
    let status = if loaded.errors.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    };
    match args.format {
        Format::Text => {}
        Format::Json => {
            let environments = ws
                .files
                .iter()
                .map(|(name, path)| {
                    let env = loaded.envs.get(name);
                    let s = env.map(|e| &e.spec);
                    Row {
                        name: name.clone(),
                        file: path
                            .strip_prefix(&ws.root)
                            .unwrap_or(path)
                            .display()
                            .to_string(),
                        valid: env.is_some(),
                        tier: s.map(|s| s.tier.as_str().to_owned()),
                        region: s.map(|s| s.region.clone()),
                        role: s.map(|s| s.role.as_str().to_owned()),
                        replica_of: s.and_then(|s| s.replica_of.clone()),
                        tenants: s.map(|s| {
                            s.tenants
                                .list
                                .as_ref()
                                .map_or(s.tenants.count.unwrap_or(0) as usize, Vec::len)
                        }),
                    }
                })
                .collect();
            let report = JsonReport {
                version: report::VERSION,
                environments,
            };
            out(&format!("{}\n", serde_json::to_string_pretty(&report)?))?;
            return Ok(status);
        }
        other => return Err(super::unsupported(other, "list").into()),
    }
    let mut rows = vec![[
        "ENVIRONMENT".to_owned(),
        "TIER".to_owned(),
        "REGION".to_owned(),
        "ROLE".to_owned(),
        "TENANTS".to_owned(),
    ]];
    for name in ws.files.keys() {
        match loaded.envs.get(name) {
            Some(env) => {
                let s = &env.spec;
                let role = match &s.replica_of {
                    Some(p) => format!("replica of {p}"),
                    None => s.role.as_str().to_owned(),
                };
                let tenants = s
                    .tenants
                    .list
                    .as_ref()
                    .map_or(s.tenants.count.unwrap_or(0) as usize, Vec::len);
                rows.push([
                    name.clone(),
                    s.tier.as_str().to_owned(),
                    s.region.clone(),
                    role,
                    tenants.to_string(),
                ]);
            }
            None => rows.push([
                name.clone(),
                "(invalid: run portalgen validate)".into(),
                String::new(),
                String::new(),
                String::new(),
            ]),
        }
    }
    let widths: Vec<usize> = (0..5)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut text = String::new();
    for row in &rows {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                if i == 4 {
                    format!("{cell:>w$}", w = widths[i])
                } else {
                    format!("{cell:<w$}", w = widths[i])
                }
            })
            .collect();
        text.push_str(line.join("  ").trim_end());
        text.push('\n');
    }
    out(&text)?;
    Ok(if loaded.errors.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
