//! `portalgen list`: the environments with tier, region, role and tenant count.

use super::{out, Context, ExitStatus};

pub fn run(ctx: &Context) -> anyhow::Result<ExitStatus> {
    let ws = ctx.workspace()?;
    let loaded = ws.load_all();
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
