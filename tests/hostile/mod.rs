//! Hostile input as an attacker with push access shapes it (issue 14). Every case is a
//! CLI regression test: the command must refuse cleanly (exit 2, old tree intact) or
//! succeed without losing or exposing anything.

use std::path::Path;

use super::common::{case, check_cases, minimal_spec, read_tree, stderr_of, Scratch};

fn render(s: &Scratch, args: &[&str]) -> std::process::Output {
    s.cmd().arg("render").args(args).output().unwrap()
}

#[test]
fn a_forged_checks_record_lets_no_secret_through() {
    let s = Scratch::new();
    s.write_env("app", &minimal_spec("app", "staging", 2));
    assert!(render(&s, &["app"]).status.success());
    let out = s.root().join("rendered/app");
    assert!(
        !out.join(".portalgen-validated").exists(),
        "no record is written"
    );
    let before = read_tree(&out);
    let leaky = minimal_spec("app", "staging", 2).replace(
        "https://github.com/example/gitops.git",
        "https://deploy:hunter2secret@github.com/example/gitops.git",
    );
    s.write_env("app", &leaky);
    // A record claiming every possible file passed, in the old format.
    let mut forged = String::from("stamp 0000\n");
    for path in before.keys() {
        forged.push_str(&format!("{}  {path}\n", "ab".repeat(32)));
    }
    std::fs::write(out.join(".portalgen-validated"), &forged).unwrap();
    for args in [&["app"][..], &["app", "--check"]] {
        let r = render(&s, args);
        assert_eq!(r.status.code(), Some(2), "{args:?}: {}", stderr_of(&r));
        let err = stderr_of(&r);
        assert!(err.contains("app.yaml:17:"), "{err}");
        assert!(err.contains("a spec never holds a secret"), "{err}");
        assert!(!err.contains("hunter2secret"), "{err}");
        assert!(!err.contains("up to date"), "{err}");
    }
    // The same through a template override: the rendered-file check (PG-S002) runs even
    // though the record claims the file passed.
    s.write_env("app", &minimal_spec("app", "staging", 2));
    let templates = s.root().join("tpl/kubernetes");
    std::fs::create_dir_all(&templates).unwrap();
    let original =
        std::fs::read_to_string(super::common::repo().join("templates/kubernetes/tenant.yaml"))
            .unwrap();
    std::fs::write(
        templates.join("tenant.yaml"),
        format!("# https://deploy:hunter2secret@example.com\n{original}"),
    )
    .unwrap();
    for args in [
        &["app", "--templates", "tpl"][..],
        &["app", "--check", "--templates", "tpl"],
    ] {
        let r = render(&s, args);
        assert_eq!(r.status.code(), Some(2), "{args:?}: {}", stderr_of(&r));
        let err = stderr_of(&r);
        assert!(err.contains("PG-S002"), "{err}");
        assert!(!err.contains("hunter2secret"), "{err}");
    }
    assert_eq!(read_tree(&out).len(), before.len() + 1, "nothing written");
}

#[test]
fn golden_trees_hold_no_checks_record() {
    let golden = super::common::repo().join("golden");
    for env in std::fs::read_dir(&golden).unwrap() {
        let dir = env.unwrap().path();
        assert!(
            !dir.join(".portalgen-validated").exists(),
            "{}",
            dir.display()
        );
    }
}

#[cfg(unix)]
#[test]
fn a_symlinked_output_root_is_refused_and_its_target_untouched() {
    use std::os::unix::fs::PermissionsExt;
    let s = Scratch::new();
    s.write_env("gcloud", &minimal_spec("gcloud", "staging", 2));
    let elsewhere = tempfile::tempdir().unwrap();
    let config = elsewhere.path().join("gcloud");
    std::fs::create_dir_all(config.join("empty")).unwrap();
    std::fs::write(config.join("credentials.db"), "keep me").unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), s.root().join("rendered")).unwrap();
    let before = read_tree(elsewhere.path());
    check_cases(
        || s.cmd(),
        [
            case(["render", "gcloud"], 2).stderr("symbolic link"),
            case(["render", "gcloud", "--check"], 2).stderr("symbolic link"),
            case(["diff", "gcloud"], 2),
        ],
    );
    assert_eq!(read_tree(elsewhere.path()), before);
    assert!(config.join("empty").is_dir());
    let mode = std::fs::metadata(&config).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    // A symlink further down the way (`--out` inside the root) is refused the same way.
    std::fs::remove_file(s.root().join("rendered")).unwrap();
    std::fs::create_dir(s.root().join("build")).unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), s.root().join("build/out")).unwrap();
    let out = s.root().join("build/out/trees");
    let r = render(&s, &["gcloud", "--out", out.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(2), "{}", stderr_of(&r));
    assert_eq!(read_tree(elsewhere.path()), before);
}

#[cfg(unix)]
#[test]
fn a_spec_that_is_a_symlink_is_refused_without_echoing_its_target() {
    let s = Scratch::new();
    let secret_dir = tempfile::tempdir().unwrap();
    let token = format!("ghp_{}", "Zx9Y8w7V6u5T4s3R2q1P0o9N8m7L6k5J4i3H");
    let target = secret_dir.path().join("hosts.yml");
    std::fs::write(
        &target,
        format!("github.com:\n    oauth_token: {token}\nroot:x:0:0:\n"),
    )
    .unwrap();
    std::os::unix::fs::symlink(&target, s.root().join("environments/leak.yaml")).unwrap();
    check_cases(
        || s.cmd(),
        [
            &["render", "leak"][..],
            &["validate", "leak"],
            &["validate", "leak", "--format", "json"],
        ]
        .map(|args| {
            case(args, 2)
                .says("symbolic link")
                .never("ghp_")
                .never("root:x")
                .never("oauth")
        }),
    );
    // Nor is a spec reached through a symlinked environments/ folder read.
    let s2 = Scratch::new();
    std::fs::remove_dir(s2.root().join("environments")).unwrap();
    std::fs::write(
        secret_dir.path().join("x.yaml"),
        format!("token: {token}\n"),
    )
    .unwrap();
    std::os::unix::fs::symlink(secret_dir.path(), s2.root().join("environments")).unwrap();
    let r = s2.cmd().args(["validate", "x"]).output().unwrap();
    assert_eq!(r.status.code(), Some(2), "{}", stderr_of(&r));
    assert!(!stderr_of(&r).contains("ghp_"), "{}", stderr_of(&r));
}

#[test]
fn spec_files_that_would_be_skipped_are_errors() {
    let s = Scratch::new();
    s.write_env("app", &minimal_spec("app", "staging", 2));
    std::fs::write(
        s.root().join("environments/target.yml"),
        minimal_spec("target", "dev", 1),
    )
    .unwrap();
    let r = render(&s, &["--all"]);
    assert_eq!(r.status.code(), Some(2), "{}", stderr_of(&r));
    assert!(stderr_of(&r).contains("end in .yaml"), "{}", stderr_of(&r));
    assert!(!s.root().join("rendered").exists());
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStrExt;
        std::fs::remove_file(s.root().join("environments/target.yml")).unwrap();
        let name = std::ffi::OsStr::from_bytes(b"caf\xe9.yaml");
        std::fs::write(s.root().join("environments").join(name), "x").unwrap();
        let r = render(&s, &["--all"]);
        assert_eq!(r.status.code(), Some(2), "{}", stderr_of(&r));
        assert!(stderr_of(&r).contains("not UTF-8"), "{}", stderr_of(&r));
    }
}

/// Renders `app` once into a scratch project and returns it with its tree's folder.
fn rendered_app() -> (Scratch, std::path::PathBuf) {
    let s = Scratch::new();
    s.write_env("app", &minimal_spec("app", "staging", 2));
    assert!(render(&s, &["app"]).status.success());
    let out = s.root().join("rendered/app");
    (s, out)
}

#[cfg(target_os = "linux")]
#[test]
fn foreign_files_and_folders_survive_a_render_byte_for_byte() {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::PermissionsExt;
    let (s, out) = rendered_app();
    let raw = std::ffi::OsStr::from_bytes(b"notes-\xff.txt");
    std::fs::write(out.join(raw), "raw bytes").unwrap();
    std::fs::write(out.join("notes-\u{FFFD}.txt"), "replacement char").unwrap();
    std::fs::create_dir_all(out.join("mine/empty")).unwrap();
    std::fs::create_dir(out.join("private")).unwrap();
    std::fs::write(out.join("private/key.txt"), "k").unwrap();
    std::fs::set_permissions(out.join("private"), std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::set_permissions(
        out.join("kubernetes"),
        std::fs::Permissions::from_mode(0o750),
    )
    .unwrap();
    let xattr = set_xattr(&out.join("private"), "user.portalgen-test", b"kept");
    // A spec change, so that the tree is really rewritten.
    s.write_env("app", &minimal_spec("app", "staging", 3));
    let r = render(&s, &["app"]);
    assert!(r.status.success(), "{}", stderr_of(&r));
    assert_eq!(std::fs::read(out.join(raw)).unwrap(), b"raw bytes");
    assert_eq!(
        std::fs::read(out.join("notes-\u{FFFD}.txt")).unwrap(),
        b"replacement char"
    );
    assert!(
        out.join("mine/empty").is_dir(),
        "a foreign empty folder is kept"
    );
    let mode = |p: &str| std::fs::metadata(out.join(p)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("private"), 0o700);
    assert_eq!(mode("kubernetes"), 0o750);
    if xattr {
        assert_eq!(
            get_xattr(&out.join("private"), "user.portalgen-test"),
            Some(b"kept".to_vec())
        );
    }
}

#[cfg(target_os = "linux")]
fn set_xattr(path: &Path, name: &str, value: &[u8]) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let p = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    let n = std::ffi::CString::new(name).unwrap();
    // SAFETY: valid C strings and a buffer of the given length.
    unsafe {
        libc::setxattr(
            p.as_ptr(),
            n.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        ) == 0
    }
}

#[cfg(target_os = "linux")]
fn get_xattr(path: &Path, name: &str) -> Option<Vec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    let p = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    let n = std::ffi::CString::new(name).unwrap();
    let mut buf = vec![0u8; 64];
    // SAFETY: valid C strings and a buffer of the given length.
    let len = unsafe { libc::getxattr(p.as_ptr(), n.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    (len >= 0).then(|| buf[..len as usize].to_vec())
}

#[test]
fn a_file_saved_during_the_render_makes_it_refuse_and_nothing_is_lost() {
    let (s, out) = rendered_app();
    s.write_env("app", &minimal_spec("app", "staging", 3));
    let before = read_tree(&out);
    let r = s
        .cmd()
        .args(["render", "app"])
        .env("PORTALGEN_TEST_WRITE_DURING_RENDER", "draft.txt")
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(2), "{}", stderr_of(&r));
    assert!(
        stderr_of(&r).contains("changed while portalgen was rendering"),
        "{}",
        stderr_of(&r)
    );
    let mut after = read_tree(&out);
    assert_eq!(
        after.remove("draft.txt").as_deref(),
        Some(&b"saved during the render\n"[..])
    );
    assert_eq!(after, before, "the old tree is intact");
    // The next render keeps the saved file as a foreign one.
    assert!(render(&s, &["app"]).status.success());
    assert!(out.join("draft.txt").exists());
}

#[cfg(target_os = "linux")]
#[test]
fn a_live_runs_staging_folder_is_left_alone_and_a_dead_ones_removed() {
    use std::os::fd::AsRawFd;
    let (s, _out) = rendered_app();
    let rendered = s.root().join("rendered");
    // Another run (in another PID namespace: its pid means nothing here) holds its lock.
    let live = rendered.join(".app.portalgen-staging-1-00000000000000aa");
    let dead = rendered.join(".app.portalgen-staging-1-00000000000000bb");
    std::fs::create_dir(&live).unwrap();
    std::fs::create_dir(&dead).unwrap();
    let lock = std::fs::File::open(&live).unwrap();
    // SAFETY: flock on a descriptor we own.
    assert_eq!(unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) }, 0);
    s.write_env("app", &minimal_spec("app", "staging", 3));
    let r = render(&s, &["app"]);
    assert!(r.status.success(), "{}", stderr_of(&r));
    assert!(
        live.is_dir(),
        "a locked staging folder belongs to a live run"
    );
    assert!(!dead.exists(), "an unlocked one is a leftover");
}

#[cfg(target_os = "linux")]
#[test]
fn a_mount_point_inside_the_tree_makes_the_render_refuse() {
    let (s, out) = rendered_app();
    let mnt = out.join("cache");
    std::fs::create_dir(&mnt).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "tmpfs"])
        .arg(&mnt)
        .output()
        .is_ok_and(|o| o.status.success());
    if !mounted {
        eprintln!("skipped: cannot mount a tmpfs here (needs root)");
        return;
    }
    std::fs::write(mnt.join("data"), "mounted").unwrap();
    s.write_env("app", &minimal_spec("app", "staging", 3));
    let r = render(&s, &["app"]);
    let data = std::fs::read(mnt.join("data"));
    let _ = std::process::Command::new("umount").arg(&mnt).status();
    assert_eq!(r.status.code(), Some(2), "{}", stderr_of(&r));
    assert!(stderr_of(&r).contains("mount point"), "{}", stderr_of(&r));
    assert_eq!(data.unwrap(), b"mounted", "the mount is intact");
}

#[test]
fn a_line_colon_x_in_a_committed_file_does_not_crash_diff() {
    let (s, out) = rendered_app();
    let file = out.join("kubernetes/platform/namespaces.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("{text}: x\n")).unwrap();
    let r = s.cmd().args(["diff", "app"]).output().unwrap();
    assert!(
        matches!(r.status.code(), Some(0..=2)),
        "{:?}: {}",
        r.status,
        stderr_of(&r)
    );
    assert!(!stderr_of(&r).contains("panicked"), "{}", stderr_of(&r));
}

#[test]
fn hostile_keys_and_values_are_capped_escaped_or_refused() {
    let s = Scratch::new();
    let base = minimal_spec("app", "staging", 2);
    // An 8 MB unknown key: a short message.
    let huge = base.replace(
        "  tier: staging\n",
        &format!("  tier: staging\n  {}: 1\n", "k".repeat(8_000_000)),
    );
    s.write_env("app", &huge);
    let r = s.cmd().args(["validate", "app"]).output().unwrap();
    assert_eq!(r.status.code(), Some(2));
    let printed = r.stderr.len() + r.stdout.len();
    assert!(printed < 4000, "{printed} bytes printed");
    // A key that hides the following lines in a terminal: escaped.
    s.write_env(
        "app",
        &base.replace("  tier: staging\n", "  tier: staging\n  \"x\\e[8my\": 1\n"),
    );
    let r = s.cmd().args(["validate", "app"]).output().unwrap();
    assert_eq!(r.status.code(), Some(2));
    let err = format!("{}{}", stderr_of(&r), String::from_utf8_lossy(&r.stdout));
    assert!(!err.contains('\u{1b}'), "{err:?}");
    assert!(err.contains("\\u{1b}[8m"), "{err}");
    // Control characters in a value are refused, never rendered.
    for bad in ["\\e[31mmain", "ma\\0in", "main\\u202Egnp.exe"] {
        s.write_env(
            "app",
            &base.replace(
                "targetRevision: main",
                &format!("targetRevision: \"{bad}\""),
            ),
        );
        let r = render(&s, &["app"]);
        assert_eq!(r.status.code(), Some(2), "{bad}: {}", stderr_of(&r));
        let err = stderr_of(&r);
        assert!(
            err.contains("control character") && err.contains("spec.gitops.targetRevision"),
            "{err}"
        );
        assert!(!s.root().join("rendered").exists());
    }
}

#[test]
fn template_overrides_have_fuel_and_an_output_limit() {
    let s = Scratch::new();
    s.write_env("app", &minimal_spec("app", "staging", 2));
    let dir = s.root().join("tpl/kubernetes");
    std::fs::create_dir_all(&dir).unwrap();
    for (body, needle) in [
        ("{% for i in range(10000) %}{% for j in range(10000) %}{% for k in range(10000) %}{% endfor %}{% endfor %}{% endfor %}", "fuel"),
        ("{% for i in range(10000) %}{{ 'x' * 2000 }}{% endfor %}", "larger than 16 MiB"),
    ] {
        std::fs::write(dir.join("namespaces.yaml"), body).unwrap();
        let start = std::time::Instant::now();
        let r = render(&s, &["app", "--templates", "tpl"]);
        assert_eq!(r.status.code(), Some(2), "{}", stderr_of(&r));
        assert!(stderr_of(&r).contains(needle), "{}", stderr_of(&r));
        assert!(start.elapsed().as_secs() < 60);
    }
}

#[test]
fn a_float_count_is_reported_at_its_field_and_reserved_names_are_refused() {
    let s = Scratch::new();
    s.write_env(
        "app",
        &minimal_spec("app", "staging", 2).replace("count: 2", "count: 5.0"),
    );
    let r = s.cmd().args(["render", "app"]).output().unwrap();
    assert_eq!(r.status.code(), Some(2));
    let err = stderr_of(&r);
    assert!(
        err.contains("app.yaml:13:12:") && err.contains("at: spec.tenants.count"),
        "{err}"
    );
    // Windows device names, as an environment and as a tenant id.
    for name in ["con", "nul", "aux"] {
        let s = Scratch::new();
        s.write_env(name, &minimal_spec(name, "dev", 1));
        let r = s.cmd().args(["render", name]).output().unwrap();
        assert_eq!(r.status.code(), Some(2), "{name}: {}", stderr_of(&r));
        assert!(
            stderr_of(&r).contains("reserved device name"),
            "{}",
            stderr_of(&r)
        );
    }
    let s = Scratch::new();
    let list = minimal_spec("app", "dev", 1).replace(
        "    count: 1\n",
        "    list:\n      - {id: acme, plan: free}\n      - {id: com1, plan: free}\n",
    );
    s.write_env("app", &list);
    let r = s.cmd().args(["render", "app"]).output().unwrap();
    assert_eq!(r.status.code(), Some(2), "{}", stderr_of(&r));
    let err = stderr_of(&r);
    assert!(
        err.contains("reserved device name") && err.contains("spec.tenants.list[1].id"),
        "{err}"
    );
}
