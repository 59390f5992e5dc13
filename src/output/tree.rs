//! A rendered environment in memory: its files by relative path, in sorted order.

use std::collections::BTreeMap;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tree {
    pub files: BTreeMap<String, Vec<u8>>,
}

impl Tree {
    /// A tree of text files (not checked), e.g. for tests.
    pub fn from_texts<'a>(files: impl IntoIterator<Item = &'a (&'a str, &'a str)>) -> Tree {
        Tree {
            files: files
                .into_iter()
                .map(|(p, t)| (p.to_string(), t.as_bytes().to_vec()))
                .collect(),
        }
    }

    pub fn bytes(&self) -> u64 {
        self.files.values().map(|b| b.len() as u64).sum()
    }
}
