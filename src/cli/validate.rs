//! `portalgen validate`: the spec checks and every check on the rendered output, for each
//! selected environment; reports every finding of every environment (not only the first)
//! and writes nothing.
//!
//! Exit status: 0 when nothing is found, 1 when there are findings (a spec that fails its
//! schema or its semantic rules is a finding too: validating specs is this command's job),
//! 2 when validation cannot run at all (no `environments/`, an unknown environment name,
//! unreadable templates, an I/O error).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::Serialize;

use clap_complete::ArgValueCompleter;

use super::{out, paint, report, select, Context, ExitStatus, Format, SubsetArgs, TemplatesArgs};
use crate::diagnostic::{Diagnostic, Error, ObjectRef, Severity};
use crate::pipeline;
use crate::subset::Subset;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Environments (or tier names) to validate.
    #[arg(value_name = "ENV", add = ArgValueCompleter::new(super::completions::environments))]
    pub envs: Vec<String>,
    /// Validate every environment under environments/.
    #[arg(long)]
    pub all: bool,
    /// Output format: text for people, json for CI bots.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub templates: TemplatesArgs,
    /// Report only the findings in these parts of the rendered output (findings in a spec
    /// are always reported: nothing renders without it).
    #[command(flatten)]
    pub subset: SubsetArgs,
}

/// Where a finding comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Stage {
    /// The environment spec: YAML, schema, semantic and cross-environment rules.
    Spec,
    /// A rendered file: parsed back, Kubernetes and custom-resource schemas, policies.
    Output,
}

/// A diagnostic as a hashable value: file, position, object and field, message, hint.
type Key = (
    std::path::PathBuf,
    Option<(u64, u64)>,
    Option<String>,
    String,
    Option<String>,
);

fn key(d: &Diagnostic) -> Key {
    (
        d.file.clone(),
        d.position.map(|p| (p.line, p.column)),
        d.location(),
        d.message.clone(),
        d.hint.clone(),
    )
}

/// One finding, as JSON.
#[derive(Debug, Serialize)]
struct Finding {
    environment: String,
    stage: Stage,
    file: String,
    line: Option<u64>,
    column: Option<u64>,
    /// The rendered object, e.g. `Deployment portal-system/portal-app`.
    object: Option<String>,
    /// The same object as its parts: kind, namespace (absent for cluster objects), name.
    object_ref: Option<ObjectRef>,
    /// The field path inside the spec or the object.
    path: Option<String>,
    /// The id of the policy rule that found it (`PG-W001`), when a rule did.
    rule: Option<&'static str>,
    severity: Severity,
    message: String,
    hint: Option<String>,
}

impl Finding {
    fn new(environment: &str, stage: Stage, d: &Diagnostic, root: &Path) -> Finding {
        Finding {
            environment: environment.to_owned(),
            stage,
            file: d
                .file
                .strip_prefix(root)
                .unwrap_or(&d.file)
                .display()
                .to_string(),
            line: d.position.map(|p| p.line),
            column: d.position.map(|p| p.column),
            object: d.object.as_ref().map(ObjectRef::describe),
            object_ref: d.object.clone(),
            path: d.path.as_ref().map(ToString::to_string),
            rule: d.rule,
            severity: d.severity,
            message: d.message.clone(),
            hint: d.hint.clone(),
        }
    }
}

/// One environment's result, as JSON.
#[derive(Debug, Serialize)]
struct EnvResult {
    name: String,
    ok: bool,
    /// Files rendered and checked (0 when the spec itself has findings).
    files: usize,
    findings: usize,
}

#[derive(Debug, Serialize)]
struct JsonReport {
    /// The layout's version (schemas/reports/validate.v1.schema.json).
    version: u32,
    ok: bool,
    environments: Vec<EnvResult>,
    findings: Vec<Finding>,
}

pub fn run(ctx: &Context, args: &Args) -> anyhow::Result<ExitStatus> {
    let ws = ctx.workspace()?;
    let loaded = ws.load_all();
    let names = select(&ws, &loaded, &args.envs, args.all)?;
    let templates = args.templates.load(&ws.root)?;
    let subset = args.subset.subset(&templates)?;

    let mut checked: Vec<(&String, Stage, Vec<Diagnostic>, usize)> = Vec::new();
    let progress = super::progress::Progress::start(ctx, format!("checking {}", names.join(", ")));
    for name in &names {
        let (stage, diags, files) = match pipeline::model_of(&loaded, name) {
            Err(Error::Invalid(d)) => (Stage::Spec, d, 0),
            Err(other) => return Err(other.into()),
            // A render reports every problem of every file, not only the first file's.
            // Streamed: the texts are checked and let go, a batch at a time.
            Ok(model) => match pipeline::render_streamed(
                &model,
                &templates,
                pipeline::batch_files(),
                |_, _, _| (),
                |_| Ok(()),
            ) {
                Ok(r) => (Stage::Output, Vec::new(), r.files()),
                Err(Error::Rendered(d)) => {
                    (Stage::Output, d, pipeline::plan(&model, &templates).len())
                }
                Err(other) => return Err(other.into()),
            },
        };
        checked.push((name, stage, diags, files));
    }
    drop(progress);

    // A replica repeats its primary's spec errors: each spec finding is listed once, under
    // the environment whose spec file it is in when that one is checked too, else under
    // the first environment that reports it. (The same output finding in two environments
    // is two findings: two rendered files.)
    // Sets keyed by the whole diagnostic: linear in the number of findings.
    let mut owners: HashMap<Key, &String> = HashMap::new();
    for (n, stage, diags, _) in &checked {
        if *stage == Stage::Spec {
            for d in diags.iter().filter(|d| ws.files.get(*n) == Some(&d.file)) {
                owners.entry(key(d)).or_insert(*n);
            }
        }
    }
    let owner_of = |d: &Diagnostic| owners.get(&key(d)).copied();
    let mut seen: HashSet<Key> = HashSet::new();
    let mut results = Vec::new();
    let mut findings: Vec<Finding> = Vec::new();
    for (name, stage, diags, files) in &checked {
        let mut count = 0;
        for d in diags {
            // Rendered files are named by their path in the tree; a finding in a file of
            // the project (a patch of the spec whose target or path does not exist) is a
            // finding in the input.
            let stage = if d.file.starts_with(&ws.root) {
                Stage::Spec
            } else {
                *stage
            };
            if stage == Stage::Spec {
                if seen.contains(&key(d)) || owner_of(d).is_some_and(|owner| owner != *name) {
                    continue;
                }
                seen.insert(key(d));
            }
            let finding = Finding::new(name, stage, d, &ws.root);
            if stage == Stage::Output && !in_subset(&subset, &finding) {
                continue;
            }
            count += 1;
            findings.push(finding);
        }
        results.push(EnvResult {
            name: (*name).clone(),
            // Not ok when its spec (or the system file) has errors listed under another
            // environment: it was not checked.
            ok: count == 0 && (*stage != Stage::Spec || diags.is_empty()),
            files: *files,
            findings: count,
        });
    }

    let ok = findings.is_empty();
    let bad_input = findings.iter().any(|f| f.stage == Stage::Spec);
    let text = match args.format {
        Format::Json => {
            let report = JsonReport {
                version: report::VERSION,
                ok,
                environments: results,
                findings,
            };
            format!("{}\n", serde_json::to_string_pretty(&report)?)
        }
        Format::Text => text_report(ctx, &results, &findings),
        Format::Junit => report::junit("validate", &suites(&results), &items(&findings)),
        Format::Sarif => report::sarif(&items(&findings)),
        other => return Err(super::unsupported(other, "validate").into()),
    };
    out(&text)?;
    // Bad input is an error (2), as everywhere else (DESIGN §6); findings in the rendered
    // output of valid specs are findings (1). Either way every finding is reported first.
    Ok(if ok {
        ExitStatus::Success
    } else if bad_input {
        ExitStatus::Error
    } else {
        ExitStatus::Failure
    })
}

/// The findings as CI items. A finding in a rendered file names the file where `render`
/// writes it by default (`rendered/<env>/<path>`).
fn items(findings: &[Finding]) -> Vec<report::Item> {
    findings
        .iter()
        .map(|f| {
            let (rule, file) = match f.stage {
                Stage::Spec => ("portalgen/spec", f.file.clone()),
                Stage::Output => {
                    let path = f.file.split(" (from templates/").next().unwrap_or(&f.file);
                    (
                        "portalgen/output",
                        format!("rendered/{}/{path}", f.environment),
                    )
                }
            };
            report::Item {
                environment: f.environment.clone(),
                rule: f.rule.unwrap_or(rule).to_owned(),
                severity: f.severity,
                file: file.replace('\\', "/"),
                line: f.line,
                column: f.column,
                object: f.object.clone(),
                path: f.path.clone(),
                message: f.message.clone(),
                hint: f.hint.clone(),
            }
        })
        .collect()
}

fn suites(results: &[EnvResult]) -> Vec<report::Suite> {
    results
        .iter()
        .map(|r| report::Suite {
            name: r.name.clone(),
            passed: if r.ok {
                vec![format!("{} files pass every check", r.files)]
            } else {
                Vec::new()
            },
        })
        .collect()
}

/// A finding in the rendered output is in the subset when its file and its object are.
fn in_subset(subset: &Subset, f: &Finding) -> bool {
    let path = f.file.split(" (from templates/").next().unwrap_or(&f.file);
    let kind = f.object_ref.as_ref().map(|o| o.kind.as_str());
    let name = f.object_ref.as_ref().map(|o| o.name.as_str());
    subset.keeps_path(path) && subset.keeps_object(kind, name)
}

fn text_report(ctx: &Context, results: &[EnvResult], findings: &[Finding]) -> String {
    let color = super::diff::use_color(ctx.color);
    let mut s = String::new();
    for r in results {
        if r.ok {
            if !ctx.quiet {
                let ok = paint(color, "32", "ok");
                s.push_str(&format!("{}: {ok} ({} files checked)\n", r.name, r.files));
            }
            continue;
        }
        let found = if r.findings == 0 {
            "not checked: its specs have the errors shown above".to_owned()
        } else {
            format!(
                "{} finding{}",
                r.findings,
                if r.findings == 1 { "" } else { "s" }
            )
        };
        s.push_str(&format!("{}: {}\n", r.name, paint(color, "1;31", &found)));
        for f in findings.iter().filter(|f| f.environment == r.name) {
            let at = match (f.line, f.column) {
                (Some(l), Some(c)) => format!(":{l}:{c}"),
                _ => String::new(),
            };
            s.push_str(&format!("  {}{at}: {}\n", f.file, f.message));
            match (&f.object, &f.path) {
                (Some(o), Some(p)) => s.push_str(&format!("      at: {o}: {p}\n")),
                (Some(x), None) | (None, Some(x)) => s.push_str(&format!("      at: {x}\n")),
                (None, None) => {}
            }
            if let Some(h) = &f.hint {
                s.push_str(&format!("      hint: {}\n", h.replace('\n', "\n      ")));
            }
        }
    }
    let failing = results.iter().filter(|r| !r.ok).count();
    if failing > 0 {
        s.push_str(&format!(
            "{} finding{} in {failing} of {} environment{}\n",
            findings.len(),
            if findings.len() == 1 { "" } else { "s" },
            results.len(),
            if results.len() == 1 { "" } else { "s" },
        ));
    }
    s
}
