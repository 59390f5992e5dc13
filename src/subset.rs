//! A part of a rendered tree chosen on the command line: `--family`, `--kind`, `--name`.
//!
//! A family is a top folder of the tree (`kubernetes/`, `prometheus/`, …). Kinds and names
//! select documents: a Kubernetes object by its `kind` and `metadata.name`; a document that
//! is not a Kubernetes object (a dashboard, Terraform JSON) has neither, so it is kept only
//! when no kind and no name is asked for. Given several values of one option, a document
//! matching any of them is kept; given several options, it must match each of them.

use crate::diagnostic::{did_you_mean, Error, Result};
use crate::validate::parse_yaml_documents;

/// The artifact families: the top folders of a rendered tree, in the tree's order.
pub const FAMILIES: [&str; 5] = [
    "argocd",
    "cloudflare",
    "grafana",
    "kubernetes",
    "prometheus",
];

/// Every kind portalgen can render and check: the core kinds it type-checks and the kinds
/// of the embedded CRD schemas, sorted. A test checks that every kind in the goldens is
/// among them.
pub fn kinds() -> &'static [&'static str] {
    crate::validate::kubernetes::known_kinds()
}

/// The families, kinds and names asked for (empty: all of them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subset {
    families: Vec<&'static str>,
    /// In lowercase: kinds are matched without regard to case.
    kinds: Vec<String>,
    names: Vec<String>,
}

impl Subset {
    /// Checks the families and kinds asked for: an unknown one is an error with a
    /// did-you-mean. Kinds are matched without regard to case (`--kind deployment`).
    pub fn new(families: &[String], kinds: &[String], names: &[String]) -> Result<Subset> {
        Subset::with_kinds(families, kinds, names, &[])
    }

    /// Like [`Subset::new`], also knowing `team_kinds` (the kinds of a team's schemas,
    /// `schemas/extra/`).
    pub fn with_kinds(
        families: &[String],
        kinds: &[String],
        names: &[String],
        team_kinds: &[String],
    ) -> Result<Subset> {
        let families = families
            .iter()
            .map(|f| known("family", f, &FAMILIES))
            .collect::<Result<_>>()?;
        let kinds = kinds
            .iter()
            .map(|k| {
                if team_kinds.iter().any(|t| t.eq_ignore_ascii_case(k)) {
                    return Ok(k.to_ascii_lowercase());
                }
                known("kind", k, crate::subset::kinds()).map(str::to_ascii_lowercase)
            })
            .collect::<Result<_>>()?;
        Ok(Subset {
            families,
            kinds,
            names: names.to_vec(),
        })
    }

    /// Nothing was asked for: the whole tree.
    pub fn is_everything(&self) -> bool {
        self.families.is_empty() && !self.selects_documents()
    }

    /// A kind or a name was asked for: files are kept by the documents in them.
    pub fn selects_documents(&self) -> bool {
        !self.kinds.is_empty() || !self.names.is_empty()
    }

    /// The file at `path` (relative to an environment's folder) is of a family asked for.
    pub fn keeps_path(&self, path: &str) -> bool {
        self.families.is_empty() || self.families.contains(&family_of(path))
    }

    /// A document of this kind and name (`None`: not a Kubernetes object) is kept.
    pub fn keeps_object(&self, kind: Option<&str>, name: Option<&str>) -> bool {
        let kind_ok = self.kinds.is_empty()
            || kind.is_some_and(|k| self.kinds.iter().any(|x| x.eq_ignore_ascii_case(k)));
        let name_ok =
            self.names.is_empty() || name.is_some_and(|n| self.names.iter().any(|x| x == n));
        kind_ok && name_ok
    }

    /// The file at `path` with these bytes holds something asked for.
    pub fn keeps_file(&self, path: &str, bytes: &[u8]) -> bool {
        if !self.keeps_path(path) {
            return false;
        }
        if !self.selects_documents() {
            return true;
        }
        let text = String::from_utf8_lossy(bytes);
        !self.documents(path, &text).is_empty()
    }

    /// The documents of the file at `path` that are kept, as their texts (each ending in a
    /// newline, without the `---` separators).
    pub fn documents<'t>(&self, path: &str, text: &'t str) -> Vec<&'t str> {
        if !self.keeps_path(path) {
            return Vec::new();
        }
        let docs = if path.ends_with(".yaml") {
            split_documents(text)
        } else {
            vec![text]
        };
        if !self.selects_documents() {
            return docs;
        }
        docs.into_iter()
            .filter(|doc| {
                let parsed = if path.ends_with(".yaml") {
                    parse_yaml_documents(doc).unwrap_or_default()
                } else {
                    Vec::new()
                };
                let object = parsed.first();
                let kind = object.map(|d| d.kind()).filter(|k| !k.is_empty());
                let name = object.map(|d| d.name()).filter(|n| !n.is_empty());
                self.keeps_object(kind, name)
            })
            .collect()
    }
}

/// The family of a file: the first segment of its path in the tree.
pub fn family_of(path: &str) -> &str {
    path.split('/').next().unwrap_or_default()
}

/// The documents of a multi-document YAML text as written by portalgen's templates: split
/// at the lines that are exactly `---`; empty documents are dropped.
pub fn split_documents(text: &str) -> Vec<&str> {
    let mut docs = Vec::new();
    let mut start = 0;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_end_matches(['\n', '\r']) == "---" {
            docs.push(&text[start..offset]);
            start = offset + line.len();
        }
        offset += line.len();
    }
    docs.push(&text[start..]);
    docs.retain(|d| !d.trim().is_empty());
    docs
}

/// The kind or the object `name` of the object `title` (`Kind namespace/name` or
/// `Kind name`), as messages and reports show objects.
pub fn kind_and_name(title: &str) -> (Option<&str>, Option<&str>) {
    match title.split_once(' ') {
        Some((kind, rest)) => {
            let name = rest.rsplit('/').next().unwrap_or(rest);
            (Some(kind), Some(name))
        }
        None => (None, None),
    }
}

fn known(what: &str, given: &str, candidates: &[&'static str]) -> Result<&'static str> {
    if let Some(c) = candidates.iter().find(|c| c.eq_ignore_ascii_case(given)) {
        return Ok(c);
    }
    let shown: String = given
        .chars()
        .take(40)
        .flat_map(char::escape_default)
        .collect();
    let hint = did_you_mean(given, candidates.iter().copied())
        .map(|h| format!("; {h}"))
        .unwrap_or_default();
    Err(Error::Other(format!(
        "unknown {what} '{shown}'{hint} (known: {})",
        candidates.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subset(f: &[&str], k: &[&str], n: &[&str]) -> Result<Subset> {
        let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Subset::new(&own(f), &own(k), &own(n))
    }

    #[test]
    fn split_keeps_every_document_and_drops_separators() {
        let docs = split_documents("a: 1\n---\nb: 2\n---\n\n");
        assert_eq!(docs, ["a: 1\n", "b: 2\n"]);
        assert_eq!(split_documents("a: '---'\n"), ["a: '---'\n"]);
    }

    #[test]
    fn unknown_family_or_kind_suggests_the_closest() {
        let e = subset(&["kubernets"], &[], &[]).unwrap_err().to_string();
        assert!(
            e.contains("unknown family 'kubernets'; did you mean 'kubernetes'?"),
            "{e}"
        );
        let e = subset(&[], &["Deploymnet"], &[]).unwrap_err().to_string();
        assert!(e.contains("did you mean 'Deployment'?"), "{e}");
        assert!(subset(&[], &["deployment"], &[]).is_ok());
    }

    #[test]
    fn documents_are_kept_by_kind_and_name() {
        let text =
            "kind: Namespace\nmetadata:\n  name: a\n---\nkind: Service\nmetadata:\n  name: a\n";
        let s = subset(&[], &["service"], &[]).unwrap();
        assert_eq!(s.documents("kubernetes/x.yaml", text).len(), 1);
        assert!(s.documents("kubernetes/x.yaml", text)[0].contains("Service"));
        let s = subset(&["prometheus"], &[], &[]).unwrap();
        assert!(s.documents("kubernetes/x.yaml", text).is_empty());
        let s = subset(&[], &[], &["a"]).unwrap();
        assert_eq!(s.documents("kubernetes/x.yaml", text).len(), 2);
        assert!(!s.keeps_file("grafana/dashboards/a.json", b"{}"));
    }

    #[test]
    fn titles_give_kind_and_name() {
        assert_eq!(
            kind_and_name("Deployment portal-system/app"),
            (Some("Deployment"), Some("app"))
        );
        assert_eq!(
            kind_and_name("Namespace monitoring"),
            (Some("Namespace"), Some("monitoring"))
        );
        assert_eq!(kind_and_name("grafana/x.json"), (None, None));
    }
}
