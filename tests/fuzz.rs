//! Property tests over spec parsing and the whole render: no input may panic, every error
//! names a position and a field, and every spec that parses renders a tree that passes
//! every check (the security policy included) or fails with diagnostics.
//!
//! Bounded in `cargo test` (a few hundred cases); for a longer campaign raise the count:
//! `PROPTEST_CASES=100000 cargo test --release --test fuzz` (see docs/hardening.md).
//!
//! [`yaml_subset`] checks the fast reader of rendered YAML against serde-saphyr.

use std::path::Path;

use crate::common;

use proptest::prelude::*;

use portalgen::model;
use portalgen::pipeline;
use portalgen::render::Templates;
use portalgen::spec::parse_bytes;

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(default)
}

/// The spec every case starts from (mutated line by line, or replaced field by field).
fn base() -> String {
    common::minimal_spec("fuzz", "staging", 3)
}

fn path() -> &'static Path {
    Path::new("environments/fuzz.yaml")
}

/// Parses and, when that succeeds, renders (primaries only; a replica needs its primary).
/// Returns whether it rendered.
fn parse_and_render(bytes: &[u8], templates: &Templates) -> bool {
    match parse_bytes(path(), bytes) {
        Err(diags) => {
            assert!(!diags.is_empty());
            for d in &diags {
                assert!(d.position.is_some(), "no position: {d}");
                assert!(d.path.is_some(), "no field path: {d}");
            }
            false
        }
        Ok(env) => {
            if env.spec.replica_of.is_some() {
                return false;
            }
            match model::resolve(&env, None) {
                Err(diags) => {
                    for d in &diags {
                        assert!(d.position.is_some() && d.path.is_some(), "{d}");
                    }
                    false
                }
                Ok(m) => match pipeline::render(&m, templates, pipeline::Keep::All, |_, _, _| ()) {
                    Ok(rendered) => {
                        assert!(!rendered.tree.files.is_empty());
                        true
                    }
                    Err(e) => panic!("a spec that parses must render cleanly:\n{e}"),
                },
            }
        }
    }
}

/// Lines that a mutation may insert.
fn junk_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("\t".to_owned()),
        Just("  tier: prod".to_owned()),
        Just("---".to_owned()),
        Just("  &a [*a]".to_owned()),
        Just("    count: -1".to_owned()),
        Just("\"".to_owned()),
        Just("  overrides: {replicas: 0}".to_owned()),
        "[ -~]{0,30}",
        "\\PC{0,10}",
    ]
}

/// A value that a field may be given.
fn field_value() -> impl Strategy<Value = String> {
    prop_oneof![
        (0i64..200_000).prop_map(|n| n.to_string()),
        Just("-1".to_owned()),
        Just("99999999999999999999".to_owned()),
        Just("null".to_owned()),
        Just("~".to_owned()),
        Just("[]".to_owned()),
        Just("{}".to_owned()),
        Just("\"../x\"".to_owned()),
        Just("latest".to_owned()),
        Just("yes".to_owned()),
        "[a-z0-9-]{1,45}",
        "\"[ -~]{0,20}\"",
    ]
}

/// Overrides: none, coherent ones, or random (often contradictory) ones.
fn overrides() -> impl Strategy<Value = String> {
    // At least 2 pods: a single-pod prod spec is refused (model::disruption), and the
    // random overrides below still reach one pod on every tier.
    let coherent = (2u32..20, 0u32..40, 1u32..2000, 0u32..2000, 64u32..4096, 0u32..4096).prop_map(
        |(min, span, cpu, cpu_extra, mem, mem_extra)| {
            format!(
                "  overrides:\n    replicas: {min}\n    autoscaling: {{minReplicas: {min}, maxReplicas: {}}}\n    \
                 resources: {{requests: {{cpu: {cpu}m, memory: {mem}Mi}}, limits: {{cpu: {}m, memory: {}Mi}}}}\n",
                min + span,
                cpu + cpu_extra,
                mem + mem_extra
            )
        },
    );
    prop_oneof![3 => Just(String::new()), 2 => coherent, 1 => random_overrides()]
}

/// Random overrides, valid or contradictory.
fn random_overrides() -> impl Strategy<Value = String> {
    (
        proptest::option::of(1u32..80),
        proptest::option::of((1u32..80, 1u32..80)),
        proptest::option::of((1u32..4000, 1u32..4000)),
        proptest::option::of((1u32..9000, 1u32..9000)),
        proptest::option::of(1u32..10),
    )
        .prop_map(|(replicas, scaling, cpu, mem, db)| {
            let mut s = String::from("  overrides:\n");
            if let Some(r) = replicas {
                s.push_str(&format!("    replicas: {r}\n"));
            }
            if let Some((min, max)) = scaling {
                s.push_str(&format!("    autoscaling: {{minReplicas: {min}, maxReplicas: {max}}}\n"));
            }
            if cpu.is_some() || mem.is_some() {
                let (rc, lc) = cpu.unwrap_or((100, 200));
                let (rm, lm) = mem.unwrap_or((128, 256));
                s.push_str(&format!(
                    "    resources: {{requests: {{cpu: {rc}m, memory: {rm}Mi}}, limits: {{cpu: {lc}m, memory: {lm}Mi}}}}\n"
                ));
            }
            if let Some(n) = db {
                s.push_str(&format!("    database: {{instances: {n}, storage: 10Gi}}\n"));
            }
            if s.ends_with("overrides:\n") {
                String::new()
            } else {
                s
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(256), failure_persistence: None, ..ProptestConfig::default() })]

    /// Arbitrary bytes never panic the parser, and every error has a position and a field.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        if let Err(diags) = parse_bytes(path(), &bytes) {
            for d in &diags {
                prop_assert!(d.position.is_some() && d.path.is_some(), "{}", d);
            }
        }
    }

    /// The good spec with lines deleted, duplicated or replaced by junk.
    #[test]
    fn mutated_lines_never_panic(ops in proptest::collection::vec((0usize..20, 0u8..3, junk_line()), 1..6)) {
        let mut lines: Vec<String> = base().lines().map(str::to_owned).collect();
        for (at, op, junk) in ops {
            let i = at % lines.len().max(1);
            match op {
                0 if lines.len() > 1 => { lines.remove(i); }
                1 => { let l = lines[i].clone(); lines.insert(i, l); }
                _ => lines.insert(i, junk),
            }
        }
        let text = lines.join("\n") + "\n";
        if let Err(diags) = parse_bytes(path(), text.as_bytes()) {
            for d in &diags {
                prop_assert!(d.position.is_some() && d.path.is_some(), "{}", d);
            }
        }
    }
}

/// Specs with random values in their fields (or none changed) and random overrides,
/// through the whole render: a spec that parses renders a tree that passes every check.
#[test]
fn the_whole_render_never_panics() {
    use proptest::test_runner::{Config, TestRunner};
    let strategy = (
        prop_oneof![Just("dev"), Just("staging"), Just("prod")],
        0usize..9,
        field_value(),
        1u32..40,
        proptest::option::of(1u32..70),
        any::<bool>(),
        overrides(),
    );
    let templates = Templates::embedded().unwrap();
    let mut config = Config {
        cases: cases(48),
        failure_persistence: None,
        ..Config::default()
    };
    // A fixed seed unless PROPTEST_RNG_SEED names one: the share of generated specs that
    // render (asserted below) varies from seed to seed (8 to 14 of 48), and a test that
    // fails one run in twenty teaches people to re-run it. Other seeds explore more cases.
    if config.rng_seed == proptest::test_runner::RngSeed::Random {
        config.rng_seed = proptest::test_runner::RngSeed::Fixed(3);
    }
    let (total, rendered) = (std::cell::Cell::new(0u32), std::cell::Cell::new(0u32));
    let mut runner = TestRunner::new(config);
    runner
        .run(
            &strategy,
            |(tier, field, value, count, shards, digest, overrides)| {
                let mut text = base()
                    .replace("tier: staging", &format!("tier: {tier}"))
                    .replace("count: 3", &format!("count: {count}"));
                if let Some(n) = shards {
                    text = text.replace(
                        "    targetRevision: main\n",
                        &format!("    targetRevision: main\n    tenantShards: {n}\n"),
                    );
                }
                if digest {
                    text = text.replace(
                        "tag: \"1.0.0\"",
                        &format!("digest: \"sha256:{}\"", "ab".repeat(32)),
                    );
                }
                text.push_str(&overrides);
                let targets = [
                    "  region: us-east-1",
                    "    count: ",
                    "  domain: fuzz.example.com",
                    "    repository: registry.example.com/portal/app",
                    "    targetRevision: main",
                    "  name: fuzz",
                ];
                if let Some(target) = targets.get(field) {
                    if let Some(line) = text
                        .lines()
                        .find(|l| l.starts_with(target))
                        .map(str::to_owned)
                    {
                        let key = line.split(':').next().unwrap().to_owned();
                        text = text.replacen(&line, &format!("{key}: {value}"), 1);
                    }
                }
                total.set(total.get() + 1);
                if parse_and_render(text.as_bytes(), &templates) {
                    rendered.set(rendered.get() + 1);
                }
                Ok(())
            },
        )
        .unwrap();
    let (total, rendered) = (total.get(), rendered.get());
    eprintln!("whole render: {total} cases, {rendered} rendered");
    // The generator must reach the renderer, not only the parser's error paths.
    assert!(
        rendered * 5 >= total,
        "only {rendered} of {total} generated specs rendered"
    );
}

#[test]
fn the_base_spec_renders() {
    assert!(parse_and_render(
        base().as_bytes(),
        &Templates::embedded().unwrap()
    ));
}

/// Replays the committed corpora of the fuzz targets in `fuzz/` (cargo-fuzz layout; see
/// docs/hardening.md) through the same properties the targets check.
#[test]
fn the_fuzz_corpora_replay_without_a_finding() {
    let corpus = common::repo().join("fuzz/corpus");
    type Property = fn(&[u8]);
    let targets: [(&str, Property); 3] = [
        ("spec_parse", portalgen::fuzzing::spec_parse),
        ("yaml_subset", portalgen::fuzzing::yaml_subset),
        ("check_file", portalgen::fuzzing::check_file),
    ];
    for (name, property) in targets {
        let mut n = 0;
        for entry in std::fs::read_dir(corpus.join(name)).unwrap() {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            let r = std::panic::catch_unwind(|| property(&bytes));
            assert!(r.is_ok(), "{name}: {} fails", path.display());
            n += 1;
        }
        assert!(n >= 3, "{name}: only {n} inputs");
    }
}

/// The fast reader of rendered YAML agrees with serde-saphyr.
#[path = "yaml_subset/mod.rs"]
mod yaml_subset;
