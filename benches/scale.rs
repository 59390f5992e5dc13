//! The scale benchmark (issues: performance at 10,000 tenants; round two, streaming at
//! 100,000). Run it with
//!
//! ```sh
//! cargo bench --bench scale            # N = 10,000 and 100,000, 3 runs each, on tmpfs
//! BENCH_RUNS=5 BENCH_TENANTS=10000 cargo bench --bench scale
//! BENCH_DISK=1 cargo bench --bench scale                               # + output on disk
//! BENCH_SERVICES=0,20 BENCH_TENANTS=10000 cargo bench --bench scale   # + a 20-service system
//! ```
//!
//! The default run takes about 10 minutes after the release build on the 2-core machine
//! (most of it the N = 100,000 renders). It generates, in a temporary root, prod-tier
//! environments of N synthetic tenants (and N - 10 with one changed override), and times the
//! release binary as a whole process (validation always on) for every row of issue 19's
//! table: `render` into a fresh folder, `cp -r` of the rendered tree (the floor, in the same
//! run), `render` over an identical tree, `render --check`, `render` after one tenant was
//! added (and how many files it wrote), `diff ENV` (against the tree on disk),
//! `diff A B`, and `validate` with the tenants counted and listed. It reports the median
//! wall time, that time as a multiple of the `cp -r`
//! beside it, the peak RSS of the hungriest run, and at the end the growth of peak RSS
//! from the smallest N to the largest.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_portalgen");

fn spec(name: &str, tenants: u32, max_replicas: u32) -> String {
    format!(
        "apiVersion: portalgen.dev/v1alpha1
kind: Environment
metadata:
  name: {name}
spec:
  tier: prod
  region: us-east-1
  domain: {name}.example.com
  image:
    repository: registry.example.com/portal/app
    tag: \"2.14.0\"
  tenants:
    count: {tenants}
  cloudflare:
    zoneId: 0123456789abcdef0123456789abcdef
  gitops:
    repoURL: https://github.com/example/portal-gitops.git
    targetRevision: main
    tenantShards: 16
  alerting:
    slackChannel: \"#portal-alerts\"
    pagerduty: true
  overrides:
    autoscaling: {{minReplicas: 6, maxReplicas: {max_replicas}}}
"
    )
}

/// A system file of `n` services, each using the next one, the database and Redis.
fn system(n: usize) -> String {
    let mut s = String::from(
        "apiVersion: portalgen.dev/v1alpha1\nkind: System\nmetadata:\n  name: bench\nspec:\n  services:\n",
    );
    for i in 0..n {
        let next = if i + 1 < n {
            format!("svc-{:02}, ", i + 1)
        } else {
            String::new()
        };
        let route = if i == 0 {
            "\"/\"".to_owned()
        } else {
            format!("\"/api/s{i}\"")
        };
        s.push_str(&format!(
            "    - name: svc-{i:02}\n      port: {}\n      routes: [{route}]\n      uses: [{next}database, redis]\n      metrics: {{port: 9090}}\n",
            4000 + i
        ));
    }
    s
}

struct Run {
    wall: Duration,
    max_rss_kb: i64,
    status: i32,
}

/// Runs the binary once; wall time and peak RSS of that process alone (wait4).
fn run(root: &Path, args: &[&str]) -> Run {
    let start = Instant::now();
    let child = Command::new(BIN)
        .arg("--root")
        .arg(root)
        .arg("--quiet")
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn portalgen");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: plain FFI calls on a child we own; rusage is fully written by wait4.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    std::mem::forget(child);
    Run {
        wall,
        max_rss_kb: usage.ru_maxrss,
        status: if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            -1
        },
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn tree_size(dir: &Path) -> (usize, u64) {
    let mut files = 0;
    let mut bytes = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let m = e.metadata().unwrap();
            if m.is_dir() {
                stack.push(e.path());
            } else {
                files += 1;
                bytes += m.len();
            }
        }
    }
    (files, bytes)
}

struct Measure {
    name: &'static str,
    median: Duration,
    max_rss_kb: i64,
    expected_status: i32,
}

fn measure(
    name: &'static str,
    runs: usize,
    expected_status: i32,
    mut before: impl FnMut(),
    root: &Path,
    args: &[&str],
) -> Measure {
    let mut walls = Vec::new();
    let mut rss = 0;
    for _ in 0..runs {
        before();
        let r = run(root, args);
        assert_eq!(
            r.status, expected_status,
            "{name}: portalgen {args:?} exited {}",
            r.status
        );
        walls.push(r.wall);
        rss = rss.max(r.max_rss_kb);
    }
    Measure {
        name,
        median: median(walls),
        max_rss_kb: rss,
        expected_status,
    }
}

/// Like [`measure`], for another program.
fn measure_command(
    name: &'static str,
    runs: usize,
    mut before: impl FnMut(),
    command: &mut Command,
) -> Measure {
    let mut walls = Vec::new();
    for _ in 0..runs {
        before();
        let start = Instant::now();
        let status = command.status().expect("run the command");
        walls.push(start.elapsed());
        assert!(status.success(), "{name} failed");
    }
    Measure {
        name,
        median: median(walls),
        max_rss_kb: 0,
        expected_status: 0,
    }
}

/// Every regular file below `dir` by inode: to count the files a render wrote anew.
fn inodes(dir: &Path) -> std::collections::HashSet<u64> {
    use std::os::unix::fs::MetadataExt;
    let mut out = std::collections::HashSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let m = std::fs::symlink_metadata(e.path()).unwrap();
            if m.is_dir() {
                stack.push(e.path());
            } else {
                out.insert(m.ino());
            }
        }
    }
    out
}

fn bench(n: u32, services: usize, out_base: &Path, runs: usize) -> Vec<(String, Measure)> {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("environments")).unwrap();
    if services > 0 {
        std::fs::write(root.path().join("portalgen.yaml"), system(services)).unwrap();
    }
    std::fs::write(
        root.path().join("environments/bench.yaml"),
        spec("bench", n, 50),
    )
    .unwrap();
    std::fs::write(
        root.path().join("environments/bench-b.yaml"),
        spec("bench-b", n - 10, 60),
    )
    .unwrap();
    let out: PathBuf = out_base.join(format!("portalgen-bench-{n}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let out_s = out.to_str().unwrap().to_owned();
    let r = root.path();
    let render = ["render", "bench", "--out", &out_s];
    let mut results = Vec::new();
    let fresh = measure(
        "render, fresh directory",
        runs,
        0,
        || {
            let _ = std::fs::remove_dir_all(&out);
        },
        r,
        &render,
    );
    let (files, bytes) = tree_size(&out.join("bench"));
    results.push((format!("{files} files, {bytes} bytes"), fresh));
    // The floor, measured beside the rest: this machine's speed drifts from run to run, and
    // the cost of the bytes alone says how fast it was at the time.
    let copy = out.join("copy");
    results.push((
        "the floor: the bytes alone".to_owned(),
        measure_command(
            "cp -r of the rendered tree",
            runs,
            || {
                let _ = std::fs::remove_dir_all(&copy);
            },
            Command::new("cp")
                .arg("-r")
                .arg(out.join("bench"))
                .arg(&copy),
        ),
    ));
    let _ = std::fs::remove_dir_all(&copy);
    results.push((
        String::new(),
        measure("render over an identical tree", runs, 0, || {}, r, &render),
    ));
    let check = ["render", "bench", "--check", "--out", &out_s];
    results.push((
        String::new(),
        measure("render --check", runs, 0, || {}, r, &check),
    ));
    // One tenant added: before each run the tree of N - 2 tenants is rendered (untimed),
    // then the spec says N - 1. Not N - 1 → N: synthetic ids have as many digits as the
    // count needs (at least 5), so at N = 100,000 every id would grow a digit (t99999 →
    // t099999) and every file be renamed; and N + 1 would pass the spec's maximum.
    let spec_path = r.join("environments/bench.yaml");
    let tree = out.join("bench");
    let mut before_inodes = std::collections::HashSet::new();
    let added = measure(
        "render, one tenant added",
        runs,
        0,
        || {
            std::fs::write(&spec_path, spec("bench", n - 2, 50)).unwrap();
            assert_eq!(run(r, &render).status, 0);
            before_inodes = inodes(&tree);
            std::fs::write(&spec_path, spec("bench", n - 1, 50)).unwrap();
        },
        r,
        &render,
    );
    let fresh_files = inodes(&tree)
        .iter()
        .filter(|i| !before_inodes.contains(i))
        .count();
    results.push((
        format!("{fresh_files} files written anew (tenant, shard, manifest), the rest linked"),
        added,
    ));
    std::fs::write(&spec_path, spec("bench", n, 50)).unwrap();
    assert_eq!(run(r, &render).status, 0);
    // The tree on disk is the old side: the spec changes an override.
    std::fs::write(&spec_path, spec("bench", n, 60)).unwrap();
    results.push((
        String::new(),
        measure(
            "diff ENV (tree on disk vs fresh, one override)",
            runs,
            1,
            || {},
            r,
            &["diff", "bench", "--out", &out_s],
        ),
    ));
    std::fs::write(&spec_path, spec("bench", n, 50)).unwrap();
    results.push((
        String::new(),
        measure(
            "diff A B (N vs N-10, one override)",
            runs,
            1,
            || {},
            r,
            &["diff", "bench", "bench-b"],
        ),
    ));
    results.push((
        String::new(),
        measure(
            "validate",
            runs,
            0,
            || {},
            r,
            &["validate", "bench", "--quiet"],
        ),
    ));
    // The same size as an explicit list of tenants (ids and plans in the spec): what a
    // team with real tenants has, and what the spec reader must take in.
    std::fs::write(&spec_path, listed_spec("bench", n)).unwrap();
    results.push((
        "tenants as an explicit list".to_owned(),
        measure(
            "validate",
            runs,
            0,
            || {},
            r,
            &["validate", "bench", "--quiet"],
        ),
    ));
    let _ = std::fs::remove_dir_all(&out);
    results
}

/// [`spec`] with its N tenants written out as a list.
fn listed_spec(name: &str, tenants: u32) -> String {
    let mut list = String::from("    list:\n");
    for i in 1..=tenants {
        let plan = ["free", "team", "enterprise"][(i as usize - 1) % 3];
        list.push_str(&format!("      - {{id: acme-{i:06}, plan: {plan}}}\n"));
    }
    spec(name, tenants, 50).replace(&format!("    count: {tenants}\n"), &list)
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` would too: keep that quick.
    if std::env::args().any(|a| a == "--test") || std::env::var_os("BENCH_SKIP").is_some() {
        return;
    }
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let sizes: Vec<u32> = std::env::var("BENCH_TENANTS")
        .ok()
        .map(|v| v.split(',').filter_map(|x| x.parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000]);
    let services: Vec<usize> = std::env::var("BENCH_SERVICES")
        .ok()
        .map(|v| v.split(',').filter_map(|x| x.parse().ok()).collect())
        .unwrap_or_else(|| vec![0]);
    let disk = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target");
    let mut places = vec![("tmpfs", PathBuf::from("/dev/shm"))];
    if !Path::new("/dev/shm").is_dir() {
        places.clear();
    }
    if places.is_empty() || std::env::var_os("BENCH_DISK").is_some() {
        places.push(("disk", disk));
    }
    println!("portalgen scale benchmark: median of {runs} runs, release build, validation on\n");
    println!("| output | services | N | measure | median | × cp -r | peak RSS | |");
    println!("|---|---|---|---|---|---|---|---|");
    let mut fresh_rss = Vec::new();
    for (place, base) in &places {
        for &svc in &services {
            for &n in &sizes {
                let shown = if svc == 0 {
                    "built-in".to_owned()
                } else {
                    svc.to_string()
                };
                let results = bench(n, svc, base, runs);
                let floor = results[1].1.median.as_secs_f64();
                fresh_rss.push((*place, svc, n, results[0].1.max_rss_kb));
                for (note, m) in results {
                    println!(
                        "| {place} | {shown} | {n} | {} | {:.3} s | {:.2}× | {} | {note}{} |",
                        m.name,
                        m.median.as_secs_f64(),
                        m.median.as_secs_f64() / floor,
                        if m.max_rss_kb == 0 {
                            "–".to_owned()
                        } else {
                            format!("{:.0} MB", m.max_rss_kb as f64 / 1024.0)
                        },
                        if m.expected_status == 1 {
                            "exit 1 (differences)"
                        } else {
                            ""
                        }
                    );
                }
            }
        }
    }
    // Bounded memory: the growth of a fresh render's peak RSS from the smallest N to the
    // largest, per place and system.
    for (place, svc, n, rss) in &fresh_rss {
        if let Some((_, _, n0, rss0)) = fresh_rss
            .iter()
            .find(|(p, s, m, _)| p == place && s == svc && m < n)
        {
            println!(
                "\n{place}, services {svc}: peak RSS of a fresh render grows {:.2}× from N = {n0} to N = {n}",
                *rss as f64 / *rss0 as f64
            );
        }
    }
}
