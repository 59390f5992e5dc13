//! `portalgen explain ENV OBJECT [PATH]` (issue 17): every leaf of a rendered object, or
//! those at PATH, with the value and where it came from (`crate::explain`).

use clap_complete::ArgValueCompleter;
use serde::Serialize;

use super::{out, select, Context, ExitStatus, Format, TemplatesArgs};
use crate::diagnostic::{did_you_mean, quote, Error, FieldPath};
use crate::explain::{self, Explained, Found, Index, Query};
use crate::pipeline;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The environment (or a tier name standing for its one primary).
    #[arg(value_name = "ENV", add = ArgValueCompleter::new(super::completions::environments))]
    pub env: String,
    /// The object: `Kind/namespace/name`, `Kind/name` (any namespace), or a rendered file's
    /// path (`cloudflare/dns.tf.json`: every document of it).
    #[arg(value_name = "OBJECT")]
    pub object: String,
    /// A field path inside the object (`spec.template.spec.containers[0].resources.limits.cpu`);
    /// a mapping or list stands for every leaf below it. Without it: every leaf.
    #[arg(value_name = "PATH")]
    pub path: Option<String>,
    /// Output format: text or json (one record per leaf).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub templates: TemplatesArgs,
}

/// One leaf, as JSON.
#[derive(Debug, Serialize)]
struct Record {
    object: String,
    /// The rendered file that holds the object.
    rendered: String,
    path: String,
    value: serde_json::Value,
    /// spec, tier-default, system-file, patch, derived, constant, code, template, unknown.
    origin: &'static str,
    /// The file the origin points at (the spec, system file, patch or template), if any.
    file: Option<String>,
    line: Option<u64>,
    column: Option<u64>,
    /// The model value the leaf shows (`m.services[0].replicas`), when one.
    model: Option<String>,
    /// The origin in words.
    note: String,
}

#[derive(Debug, Serialize)]
struct JsonReport {
    version: u32,
    environment: String,
    leaves: Vec<Record>,
}

pub fn run(ctx: &Context, args: &Args) -> anyhow::Result<ExitStatus> {
    let ws = ctx.workspace()?;
    let loaded = ws.load_all();
    let name = select(&ws, &loaded, std::slice::from_ref(&args.env), false)?.remove(0);
    let templates = args.templates.load(&ws.root)?;
    let model = pipeline::model_of(&loaded, &name)?;
    let artifacts = pipeline::plan(&model, &templates);
    let index = Index::new(&model);
    let Some(query) = Query::parse(&args.object, &artifacts) else {
        return Err(Error::Other(format!(
            "{}: not an object; give Kind/namespace/name, Kind/name or the path of a rendered file",
            quote(&args.object)
        ))
        .into());
    };
    let objects = match explain::find(&index, &templates, &artifacts, &query)
        .map_err(|d| Error::Invalid(vec![d]))?
    {
        Found::Objects(mut objects) => {
            for e in &mut objects {
                for l in &mut e.leaves {
                    l.origin = l.origin.relative_to(&ws.root);
                }
            }
            objects
        }
        Found::Missing { seen } => {
            let names: Vec<String> = seen.iter().map(|(_, o)| o.to_string()).collect();
            let hint = did_you_mean(&args.object, names.iter().map(String::as_str))
                .or_else(|| {
                    // Else the object whose name is nearest the name asked for.
                    let asked = args.object.rsplit('/').next().unwrap_or_default();
                    let near = explain::nearest(asked, seen.iter().map(|(_, o)| o.name.as_str()))?;
                    let hit = seen.iter().find(|(_, o)| o.name == near)?;
                    Some(format!("did you mean {}?", quote(&hit.1.to_string())))
                })
                .map_or_else(String::new, |h| format!("; {h}"));
            return Err(Error::Other(format!(
                "no object {} in the rendered tree of {name}{hint}",
                quote(&args.object)
            ))
            .into());
        }
    };
    let path = args.path.as_deref().map(explain::parse_path);
    let mut selected: Vec<(&Explained, Vec<&explain::Leaf>)> = Vec::new();
    for e in &objects {
        let leaves = match &path {
            Some(p) => explain::select(e, p),
            None => e.leaves.iter().collect(),
        };
        selected.push((e, leaves));
    }
    if let Some(p) = &path {
        if selected.iter().all(|(_, l)| l.is_empty()) {
            return Err(no_path(&objects, p).into());
        }
    }
    match args.format {
        Format::Text => out(&text(&selected))?,
        Format::Json => {
            let leaves = selected
                .iter()
                .flat_map(|(e, leaves)| leaves.iter().map(move |l| record(e, l)))
                .collect();
            let report = JsonReport {
                version: super::report::VERSION,
                environment: name,
                leaves,
            };
            out(&format!("{}\n", serde_json::to_string_pretty(&report)?))?;
        }
        other => return Err(super::unsupported(other, "explain").into()),
    }
    Ok(ExitStatus::Success)
}

/// A path the object does not have: the nearest of its own paths (leaves and the mappings
/// above them).
fn no_path(objects: &[Explained], p: &FieldPath) -> Error {
    let mut candidates: Vec<String> = Vec::new();
    for e in objects {
        for l in &e.leaves {
            for n in 1..=l.path.segments.len() {
                let prefix = FieldPath {
                    segments: l.path.segments[..n].to_vec(),
                }
                .quoted();
                if !candidates.contains(&prefix) {
                    candidates.push(prefix);
                }
            }
        }
    }
    let asked = p.quoted();
    let hint = did_you_mean(&asked, candidates.iter().map(String::as_str))
        .map_or_else(String::new, |h| format!("; {h}"));
    let what = objects
        .first()
        .map_or_else(String::new, |e| e.object.describe());
    Error::Other(format!("{what} has no field {}{hint}", quote(&asked)))
}

fn record(e: &Explained, l: &explain::Leaf) -> Record {
    let (file, position) = l.origin.location();
    Record {
        object: e.object.to_string(),
        rendered: e.file.clone(),
        path: l.path.quoted(),
        value: l.value.clone(),
        origin: l.origin.kind(),
        file,
        line: position.map(|p| p.line),
        column: position.map(|p| p.column),
        model: l.model.clone(),
        note: l.origin.to_string(),
    }
}

/// For people: per object, each leaf's path and value, and its origin below.
fn text(selected: &[(&Explained, Vec<&explain::Leaf>)]) -> String {
    let mut s = String::new();
    for (i, (e, leaves)) in selected.iter().enumerate() {
        if i > 0 {
            s.push('\n');
        }
        s.push_str(&format!("{} ({})\n", e.object.describe(), e.file));
        for l in leaves {
            let value = match &l.value {
                serde_json::Value::String(v) => {
                    crate::render::scalar(&l.value)
                        .chars()
                        .take(120)
                        .collect::<String>()
                        + if v.len() > 120 { "…" } else { "" }
                }
                v => v.to_string(),
            };
            s.push_str(&format!("  {}: {value}\n", l.path.quoted()));
            s.push_str(&format!("      ← {}\n", l.origin));
        }
    }
    s
}
