//! The fast reader of rendered YAML (`validate::yaml_subset`) agrees with serde-saphyr on
//! every document it accepts: on every golden file, and on generated documents written by
//! portalgen's own YAML writer and by serde-saphyr's.

use std::path::Path;

use portalgen::render::block;
use portalgen::validate::yaml_subset::parse_documents;
use proptest::prelude::*;
use serde_json::{Map, Value};

fn yaml_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
}

#[test]
fn agrees_with_serde_saphyr_on_every_golden_file() {
    let mut files = Vec::new();
    yaml_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("golden"),
        &mut files,
    );
    assert!(files.len() > 400);
    let mut fast = 0;
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let expected: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
        if let Some(values) = parse_documents(&text) {
            assert_eq!(values, expected, "{}", path.display());
            fast += 1;
        }
    }
    // The point of the fast reader: the rendered tree is (almost) all in its subset.
    assert!(
        fast * 100 >= files.len() * 95,
        "only {fast} of {} files took the fast path",
        files.len()
    );
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|i| Value::from(i64::from(i))),
        (-1000i32..1000, 0u8..100)
            .prop_map(|(a, b)| Value::from(f64::from(a) + f64::from(b) / 100.0)),
        prop::sample::select(vec![
            "on",
            "off",
            "yes",
            "no",
            "y",
            "n",
            "true",
            "null",
            "~",
            "",
            "12:30",
            "0x1F",
            "1e3",
            "007",
            "1_000",
            ".inf",
            "-",
            "- a",
            "a: b",
            "#x",
            "a #b",
            "100m",
            "2Gi",
            "1.0",
            "2.14.0",
            "portal-system",
            "tenant:t1:admins",
            "'q'",
            "\"dq\"",
            "a\\b",
            "[x]",
            "{}",
            "*x",
            "&a",
            "!tag",
            "|",
            ">",
            "%x",
            "@x",
            "`x",
            "Prune=false",
            "0",
            "-1",
            "+1",
            "ünï",
            " lead",
            "30d",
            "25%",
            "0 2 * * *",
            "1:30",
            "2001-12-14",
            "0o17",
            "1e-3",
            "5xx,reset",
            "0b2",
            "12e",
            "1.2.3e4",
            "0xZ",
            "trail ",
            "x\ny",
        ])
        .prop_map(|s| Value::String(s.to_owned())),
        "[a-zA-Z0-9 ._:/#@*&!|>'\"-]{0,12}".prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(("[a-z][a-z0-9./-]{0,8}|on|1|null|a: b", inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(512)))]

    #[test]
    fn agrees_with_serde_saphyr_on_generated_documents(v in value()) {
        let root = Value::Object([("root".to_owned(), v)].into_iter().collect());
        let ours = format!("root:{}\n", block(&root["root"], 2));
        let theirs = serde_saphyr::to_string(&root).unwrap();
        for text in [ours, theirs] {
            if let Some(fast) = parse_documents(&text) {
                let expected: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
                prop_assert_eq!(fast, expected, "{}", text);
            }
        }
    }
}
