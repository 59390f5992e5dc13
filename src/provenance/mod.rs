//! Provenance (issue 17): where each value of the resolved model came from.
//!
//! The model records an [`Origin`] for its values as it resolves them
//! ([`crate::model::Model::origins`]): a value written in the environment spec (with its
//! file, line and column), a tier default, a value of the system file, a value derived from
//! others by a rule of the model, or a constant of the model. The table is keyed by the
//! value's JSON pointer in the model as templates see it (`/services/0/replicas`); an entry
//! stands for the whole subtree below its pointer unless a deeper entry says otherwise, so a
//! section decided by one rule needs one entry. `crate::explain` maps each leaf of a
//! rendered object to the model value it came from and reads its origin here.

pub mod record;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use crate::diagnostic::{FieldPath, Position};
use crate::spec::system::System;
use crate::spec::{Environment, Tier};

/// Where a value came from.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    /// Written in an environment spec (`environments/<env>.yaml`).
    Spec {
        file: PathBuf,
        position: Option<Position>,
        /// The JSON pointer in the spec (`/spec/overrides/replicas`).
        pointer: String,
    },
    /// A default of the environment's tier (DESIGN §3, `src/model/tiers.rs`).
    TierDefault {
        tier: Tier,
        /// The default's name in the tier table (`replicas`, `requests.cpu`).
        key: &'static str,
        /// The default, as the table holds it.
        value: String,
    },
    /// Written in the system file (`portalgen.yaml`).
    SystemFile {
        file: PathBuf,
        position: Option<Position>,
        pointer: String,
    },
    /// Set by a patch (`spec.patches`) of an environment spec or of the system file.
    Patch {
        file: PathBuf,
        position: Option<Position>,
        /// The patch's pointer in its file (`/spec/patches/0`).
        pointer: String,
        /// `jsonPatch` or `mergePatch`.
        how: &'static str,
    },
    /// Computed by a rule of the model from other values.
    Derived {
        /// The rule and where it is written (`the PDB of the replica count (src/model/disruption.rs)`).
        rule: String,
        /// The origins of the values it is computed from (may be empty: from the
        /// environment as a whole).
        from: Vec<Origin>,
    },
    /// A constant of the model (a convention decided once in code).
    Constant { what: String },
    /// Laid out by a family's code (the JSON documents of `cloudflare/` and Grafana's
    /// dashboards are built as values in Rust, not written by a template).
    Code { file: &'static str },
    /// Written literally in a template.
    TemplateLiteral { template: String, line: Option<u64> },
    /// Nothing says where it came from. A test walks every shipped tree and fails on it.
    Unknown { why: String },
}

impl Origin {
    /// The kind, as `explain --format json` names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Origin::Spec { .. } => "spec",
            Origin::TierDefault { .. } => "tier-default",
            Origin::SystemFile { .. } => "system-file",
            Origin::Patch { .. } => "patch",
            Origin::Derived { .. } => "derived",
            Origin::Constant { .. } => "constant",
            Origin::Code { .. } => "code",
            Origin::TemplateLiteral { .. } => "template",
            Origin::Unknown { .. } => "unknown",
        }
    }

    /// The file and position it points at, if any (for a derived value: its first source
    /// that has one).
    pub fn location(&self) -> (Option<String>, Option<Position>) {
        match self {
            Origin::Spec { file, position, .. }
            | Origin::SystemFile { file, position, .. }
            | Origin::Patch { file, position, .. } => (Some(file.display().to_string()), *position),
            Origin::TemplateLiteral { template, line } => (
                Some(format!("templates/{template}")),
                line.map(|line| Position { line, column: 1 }),
            ),
            Origin::Code { file } => (Some((*file).to_owned()), None),
            Origin::Derived { from, .. } => from
                .iter()
                .map(Origin::location)
                .find(|(f, _)| f.is_some())
                .unwrap_or((None, None)),
            _ => (None, None),
        }
    }

    /// The origin with its files relative to the project root `root` (as people type them).
    pub fn relative_to(&self, root: &std::path::Path) -> Origin {
        let rel = |f: &PathBuf| {
            f.strip_prefix(root)
                .map_or_else(|_| f.clone(), PathBuf::from)
        };
        match self {
            Origin::Spec {
                file,
                position,
                pointer,
            } => Origin::Spec {
                file: rel(file),
                position: *position,
                pointer: pointer.clone(),
            },
            Origin::SystemFile {
                file,
                position,
                pointer,
            } => Origin::SystemFile {
                file: rel(file),
                position: *position,
                pointer: pointer.clone(),
            },
            Origin::Patch {
                file,
                position,
                pointer,
                how,
            } => Origin::Patch {
                file: rel(file),
                position: *position,
                pointer: pointer.clone(),
                how,
            },
            Origin::Derived { rule, from } => Origin::Derived {
                rule: rule.clone(),
                from: from.iter().map(|o| o.relative_to(root)).collect(),
            },
            other => other.clone(),
        }
    }

    /// A spec value at `pointer` of `env`, with its position.
    pub fn spec(env: &Environment, pointer: &str) -> Origin {
        Origin::Spec {
            file: env.file.clone(),
            position: env.written_at(pointer).map(|(value, _)| value),
            pointer: pointer.to_owned(),
        }
    }

    /// A value at `pointer` of the system file; for the built-in system, a constant.
    pub fn system(system: &System, pointer: &str) -> Origin {
        match &system.file {
            Some(file) => Origin::SystemFile {
                file: file.clone(),
                position: system.written_at(pointer),
                pointer: pointer.to_owned(),
            },
            None => Origin::Constant {
                what: "the built-in system: the single portal app (src/spec/system.rs)".into(),
            },
        }
    }

    pub fn derived(rule: impl Into<String>, from: Vec<Origin>) -> Origin {
        Origin::Derived {
            rule: rule.into(),
            from,
        }
    }

    pub fn constant(what: impl Into<String>) -> Origin {
        Origin::Constant { what: what.into() }
    }

    pub fn tier(tier: Tier, key: &'static str, value: impl fmt::Display) -> Origin {
        Origin::TierDefault {
            tier,
            key,
            value: value.to_string(),
        }
    }
}

fn at(file: &std::path::Path, position: &Option<Position>) -> String {
    match position {
        Some(p) => format!("{}:{}:{}", file.display(), p.line, p.column),
        None => file.display().to_string(),
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Spec {
                file,
                position,
                pointer,
            } => write!(
                f,
                "{} {}",
                at(file, position),
                FieldPath::from_pointer(pointer).quoted()
            ),
            Origin::TierDefault { tier, key, value } => {
                write!(f, "tier default {} ({key}: {value})", tier.as_str())
            }
            Origin::SystemFile {
                file,
                position,
                pointer,
            } => write!(
                f,
                "system file {} {}",
                at(file, position),
                FieldPath::from_pointer(pointer).quoted()
            ),
            Origin::Patch {
                file,
                position,
                pointer,
                how,
            } => write!(
                f,
                "patch {} ({how}) at {}",
                FieldPath::from_pointer(pointer).quoted(),
                at(file, position)
            ),
            Origin::Derived { rule, from } => {
                write!(f, "derived by {rule}")?;
                if !from.is_empty() {
                    let from: Vec<String> = from.iter().map(Origin::to_string).collect();
                    write!(f, " from {}", from.join("; "))?;
                }
                Ok(())
            }
            Origin::Constant { what } => write!(f, "constant: {what}"),
            Origin::Code { file } => write!(f, "laid out by {file}"),
            Origin::TemplateLiteral { template, line } => match line {
                Some(line) => write!(f, "template templates/{template}:{line}"),
                None => write!(f, "template templates/{template}"),
            },
            Origin::Unknown { why } => write!(f, "unknown ({why})"),
        }
    }
}

/// The origins of the model's values, by JSON pointer in the model. An entry covers its
/// subtree unless a deeper one is set.
#[derive(Debug, Clone, Default)]
pub struct Origins {
    map: BTreeMap<String, Origin>,
}

impl Origins {
    /// Records where the value at `pointer` (and below it) came from.
    pub fn set(&mut self, pointer: impl Into<String>, origin: Origin) {
        self.map.insert(pointer.into(), origin);
    }

    /// Adds `other`'s entries below `prefix`.
    pub fn nest(&mut self, prefix: &str, other: Origins) {
        for (p, o) in other.map {
            self.map.insert(format!("{prefix}{p}"), o);
        }
    }

    /// The origin of the value at `pointer`: its own entry or its nearest ancestor's, with
    /// the pointer of the entry.
    /// A numeric segment also matches an entry written with `*` (`/tenants/*/quota`: one
    /// entry for every synthetic tenant); the longer match wins.
    pub fn lookup(&self, pointer: &str) -> Option<(&str, &Origin)> {
        let exact = self.lookup_exact(pointer);
        if !pointer.bytes().any(|b| b.is_ascii_digit()) {
            return exact;
        }
        let wild: Vec<&str> = pointer
            .split('/')
            .map(|s| {
                if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
                    "*"
                } else {
                    s
                }
            })
            .collect();
        let wild = self.lookup_exact(&wild.join("/"));
        match (exact, wild) {
            (Some(e), Some(w)) if w.0.len() > e.0.len() => Some(w),
            (Some(e), _) => Some(e),
            (None, w) => w,
        }
    }

    fn lookup_exact(&self, pointer: &str) -> Option<(&str, &Origin)> {
        let mut p = pointer;
        loop {
            if let Some((k, o)) = self.map.get_key_value(p) {
                return Some((k.as_str(), o));
            }
            if p.is_empty() {
                return None;
            }
            p = p.rfind('/').map_or("", |i| &p[..i]);
        }
    }

    /// Every entry, by pointer.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Origin)> {
        self.map.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// `key` escaped for a JSON pointer.
pub fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_covers_its_subtree_unless_a_deeper_one_is_set() {
        let mut o = Origins::default();
        o.set("/a", Origin::constant("a"));
        o.set("/a/b/c", Origin::constant("c"));
        assert_eq!(o.lookup("/a/b/d").unwrap().0, "/a");
        assert_eq!(o.lookup("/a/b/c/0").unwrap().0, "/a/b/c");
        assert!(o.lookup("/z").is_none());
        o.set("", Origin::constant("root"));
        assert_eq!(o.lookup("/z").unwrap().0, "");
    }

    #[test]
    fn origins_read_like_the_issue_asks() {
        let tier = Origin::tier(Tier::Prod, "replicas", 6);
        assert_eq!(tier.to_string(), "tier default prod (replicas: 6)");
        let spec = Origin::Spec {
            file: "environments/prod-us.yaml".into(),
            position: Some(Position {
                line: 26,
                column: 5,
            }),
            pointer: "/spec/overrides/replicas".into(),
        };
        assert_eq!(
            spec.to_string(),
            "environments/prod-us.yaml:26:5 spec.overrides.replicas"
        );
        let d = Origin::derived("the PDB rule", vec![tier]);
        assert_eq!(
            d.to_string(),
            "derived by the PDB rule from tier default prod (replicas: 6)"
        );
        assert_eq!(d.location(), (None, None));
    }
}
