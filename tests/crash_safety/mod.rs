//! Crash safety: a render killed with SIGKILL at a random point while it writes a large
//! environment leaves `<out>/<env>` holding exactly the complete old tree or the complete
//! new one, and the next render recovers (leftover staging folders are removed).
//!
//! Bounded for `cargo test`; a longer campaign:
//! `PORTALGEN_CRASH_ITERATIONS=200 PORTALGEN_CRASH_TENANTS=3000 cargo test --release --test bad_input crash_safety`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::common::{minimal_spec, read_tree, Scratch};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Two versions of the spec whose trees differ in every platform file and move most tenant
/// files (other image, domain and shard count).
fn spec(version: usize, tenants: u64) -> String {
    let s = minimal_spec("big", "staging", tenants as u32);
    if version == 0 {
        s.replace(
            "    targetRevision: main\n",
            "    targetRevision: main\n    tenantShards: 4\n",
        )
    } else {
        s.replace("tag: \"1.0.0\"", "tag: \"2.0.0\"")
            .replace("domain: big.example.com", "domain: big2.example.com")
            .replace(
                "    targetRevision: main\n",
                "    targetRevision: main\n    tenantShards: 7\n",
            )
    }
}

fn render(s: &Scratch) -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("portalgen"));
    c.current_dir(s.root())
        .args(["--quiet", "render", "big", "--out", "out"])
        .env_remove("PORTALGEN_TEST_FAIL_AFTER_FILES")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

fn staging_dirs(out: &Path) -> Vec<String> {
    std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".portalgen-staging-"))
        .collect()
}

/// A small deterministic generator (xorshift), seeded per run and printed for replay.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn a_killed_render_leaves_the_old_or_the_new_tree() {
    let iterations = env_or("PORTALGEN_CRASH_ITERATIONS", 8);
    let tenants = env_or("PORTALGEN_CRASH_TENANTS", 600);
    let seed = env_or(
        "PORTALGEN_CRASH_SEED",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            | 1,
    );
    eprintln!("crash test: {iterations} iterations, {tenants} tenants, seed {seed}");
    let mut rng = Rng(seed);

    // The two complete trees, each rendered on its own.
    let s = Scratch::new();
    let out = s.root().join("out");
    let mut trees: Vec<BTreeMap<String, Vec<u8>>> = Vec::new();
    let mut write_time = Duration::ZERO;
    for v in 0..2 {
        s.write_env("big", &spec(v, tenants));
        let _ = std::fs::remove_dir_all(&out);
        // Once into an empty folder, then again over the other version, timing how long
        // the write phase (staging folder present) lasts.
        assert!(render(&s).status().unwrap().success());
        trees.push(read_tree(&out.join("big")));
    }
    assert_ne!(trees[0], trees[1]);
    // Measure the write window: from the staging folder's appearance to the end.
    {
        s.write_env("big", &spec(0, tenants));
        let mut child = render(&s).spawn().unwrap();
        let mut appeared = None;
        loop {
            if appeared.is_none() && !staging_dirs(&out).is_empty() {
                appeared = Some(Instant::now());
            }
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        write_time = appeared
            .map_or(write_time, |t| t.elapsed())
            .max(Duration::from_millis(5));
        assert_eq!(read_tree(&out.join("big")), trees[0]);
    }

    let mut state = 0; // which tree is on disk
    let (mut kept_old, mut got_new, mut finished_first) = (0, 0, 0);
    for i in 0..iterations {
        let target = 1 - state;
        s.write_env("big", &spec(target, tenants));
        let mut child = render(&s).spawn().unwrap();
        // Wait for the write phase, then kill at a random point in (or just past) it.
        let started = Instant::now();
        while staging_dirs(&out)
            .iter()
            .all(|d| !d.ends_with(&child.id().to_string()))
        {
            if child.try_wait().unwrap().is_some() || started.elapsed() > Duration::from_secs(120) {
                break;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        let delay = rng.next() % (write_time.as_micros() as u64 * 6 / 5 + 1);
        std::thread::sleep(Duration::from_micros(delay));
        let finished_alone = child.try_wait().unwrap().is_some();
        child.kill().ok(); // SIGKILL
        child.wait().unwrap();

        let now = read_tree(&out.join("big"));
        if now == trees[state] {
            kept_old += 1;
        } else if now == trees[target] {
            got_new += 1;
            state = target;
        } else {
            let missing = trees[target]
                .keys()
                .filter(|k| !now.contains_key(*k))
                .count();
            panic!(
                "iteration {i} (seed {seed}, kill after {delay} µs): the tree is neither the old nor the new one ({} files, {missing} of the new missing)",
                now.len()
            );
        }
        if finished_alone {
            finished_first += 1;
        }
        // At most the killed run's own staging folder is left.
        assert!(staging_dirs(&out).len() <= 1, "{:?}", staging_dirs(&out));
    }
    eprintln!(
        "crash test: {iterations} kills: {kept_old} left the old tree, {got_new} the new one ({finished_first} runs had finished before the kill)"
    );

    // Recovery: the next render completes and cleans every leftover up.
    let target = 1 - state;
    s.write_env("big", &spec(target, tenants));
    assert!(render(&s).status().unwrap().success());
    assert_eq!(read_tree(&out.join("big")), trees[target]);
    assert_eq!(staging_dirs(&out), Vec::<String>::new());
}

#[test]
fn an_injected_failure_mid_write_changes_nothing_and_the_next_render_recovers() {
    let s = Scratch::new();
    s.write_env("big", &spec(0, 20));
    assert!(render(&s).status().unwrap().success());
    let old = read_tree(&s.root().join("out/big"));
    s.write_env("big", &spec(1, 20));
    let status = render(&s)
        .env("PORTALGEN_TEST_FAIL_AFTER_FILES", "7")
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(2));
    assert_eq!(read_tree(&s.root().join("out/big")), old);
    assert_eq!(staging_dirs(&s.root().join("out")), Vec::<String>::new());
    assert!(render(&s).status().unwrap().success());
    assert_ne!(read_tree(&s.root().join("out/big")), old);
}
