//! The comparison on small crafted trees.

use super::hunks::Tag;
use super::*;

fn tree(files: &[(&str, &str)]) -> Tree {
    Tree::from_texts(files)
}

fn tenant(id: &str, env: &str, plan: &str) -> (String, String) {
    (
        format!("kubernetes/tenants/{id}.yaml"),
        format!(
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: portal-tenant-{id}\n  labels:\n    \
             portal.dev/environment: {env}\n    portal.dev/tenant: {id}\n    portal.dev/plan: {plan}\n"
        ),
    )
}

fn tenants(env: &str, ids: &[&str]) -> Tree {
    Tree {
        files: ids
            .iter()
            .map(|id| {
                let (p, t) = tenant(id, env, "free");
                (p, t.into_bytes())
            })
            .collect(),
    }
}

#[test]
fn key_order_and_formatting_are_not_differences() {
    let a = tree(&[
        ("k.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: n}\ndata: {a: '1', b: '2'}\n"),
        ("g.json", r#"{"uid": "x", "panels": [{"id": 1, "title": "t"}]}"#),
    ]);
    let b = tree(&[
        ("k.yaml", "kind: ConfigMap\napiVersion: v1\nmetadata:\n  namespace: n\n  name: c\ndata:\n  b: \"2\"\n  a: \"1\"\n"),
        ("g.json", "{\n  \"panels\": [{\"title\": \"t\", \"id\": 1}],\n  \"uid\": \"x\"\n}\n"),
    ]);
    let r = compare("a", &a, "b", &b);
    assert!(r.identical, "{:#?}", r.entries);
    assert_eq!(r.summary.unchanged, 2);
}

#[test]
fn changed_added_and_removed_objects() {
    let a = tree(&[("d.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app, namespace: p}\nspec: {replicas: 3}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: old, namespace: p}\n")]);
    let b = tree(&[
        ("d.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app, namespace: p}\nspec: {replicas: 8}\n"),
        ("pdb.yaml", "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: app, namespace: p}\n"),
    ]);
    let r = compare("a", &a, "b", &b);
    assert_eq!(
        r.summary,
        Summary {
            changed: 1,
            added: 1,
            removed: 1,
            unchanged: 0
        }
    );
    let titles: Vec<(Status, &str)> = r
        .entries
        .iter()
        .map(|e| (e.status, e.title.as_str()))
        .collect();
    assert_eq!(
        titles,
        [
            (Status::Changed, "Deployment p/app"),
            (Status::Removed, "Service p/old"),
            (Status::Added, "PodDisruptionBudget p/app")
        ]
    );
    assert_eq!(r.entries[0].hunks[0].at, "spec.replicas");
    assert_eq!(
        (r.entries[0].added_lines, r.entries[0].removed_lines),
        (1, 1)
    );
}

#[test]
fn an_object_that_moves_file_is_matched_and_marked() {
    let obj = "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n";
    let r = compare(
        "a",
        &tree(&[("a.yaml", obj)]),
        "b",
        &tree(&[("b.yaml", obj)]),
    );
    assert_eq!(r.summary.changed, 1);
    assert!(r.entries[0].moved() && r.entries[0].hunks.is_empty());
}

#[test]
fn tenants_that_change_alike_are_one_entry_and_one_sided_tenants_are_counted() {
    let ids: Vec<String> = (1..=300).map(|i| format!("t{i:05}")).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let a = tenants("staging", &ids[..20]);
    let b = tenants("prod-us", &ids);
    let r = compare("staging", &a, "prod-us", &b);
    assert_eq!(r.entries.len(), 1, "{:#?}", r.entries);
    let e = &r.entries[0];
    assert_eq!(e.title, "Namespace portal-tenant-<tenant>");
    let g = e.tenants.as_ref().unwrap();
    assert_eq!((g.count, g.shown.as_str()), (20, "t00001"));
    assert_eq!(r.tenants.in_both, 20);
    assert_eq!(r.tenants.changed, 20);
    assert_eq!(
        (r.tenants.only_new.count, r.tenants.only_new.objects),
        (280, 280)
    );
    assert_eq!(r.tenants.only_new.ids[0], "t00021");
    assert_eq!(r.summary.added, 280);
}

#[test]
fn tenants_of_other_plans_that_change_alike_are_one_group() {
    // Two classes (the plan label differs, so their digests differ) with the same
    // change: one group of all four tenants, showing the first tenant's diff.
    let plans = [
        ("acme", "free"),
        ("globex", "pro"),
        ("initech", "free"),
        ("umbrella", "pro"),
    ];
    let side = |env: &str| Tree {
        files: plans
            .iter()
            .map(|(id, plan)| {
                let (p, t) = tenant(id, env, plan);
                (p, t.into_bytes())
            })
            .collect(),
    };
    let r = compare("a", &side("staging"), "b", &side("prod"));
    assert_eq!(r.entries.len(), 1, "{:#?}", r.entries);
    let g = r.entries[0].tenants.as_ref().unwrap();
    assert_eq!(g.ids, ["acme", "globex", "initech", "umbrella"]);
    assert_eq!(g.shown, "acme");
    assert_eq!(
        r.entries[0].old_path.as_deref(),
        Some("kubernetes/tenants/acme.yaml")
    );
    assert_eq!(r.tenants.changed, 4);
    let changed: Vec<&str> = r.entries[0].hunks[0]
        .lines
        .iter()
        .filter(|l| l.tag != Tag::Context)
        .map(|l| l.text.as_str())
        .collect();
    assert_eq!(
        changed,
        [
            "    portal.dev/environment: staging",
            "    portal.dev/environment: prod"
        ]
    );
}

#[test]
fn the_report_does_not_depend_on_hash_map_order() {
    // Classes are gathered in a HashMap, and every HashMap has its own random order: the
    // report (entries, their order, the tenant shown) must come out the same every time.
    // Here one tenant has two objects at the same place in two files, changing
    // differently: two classes that tie on tenant and index.
    let obj = |kind: &str, env: &str, extra: &str| {
        format!(
            "apiVersion: v1\nkind: {kind}\nmetadata:\n  name: x\n  namespace: portal-tenant-acme\n  \
             labels: {{portal.dev/environment: {env}{extra}}}\n"
        )
    };
    let side = |env: &str, extra: &str| {
        Tree::from_texts(&[
            ("a/acme.yaml", obj("ConfigMap", env, "").as_str()),
            ("b/acme.yaml", obj("ServiceAccount", env, extra).as_str()),
        ])
    };
    let (a, b) = (side("staging", ""), side("prod", ", x: y"));
    let first = serde_json::to_string(&compare("staging", &a, "prod", &b)).unwrap();
    for _ in 0..20 {
        let again = serde_json::to_string(&compare("staging", &a, "prod", &b)).unwrap();
        assert_eq!(again, first);
    }
}

#[test]
fn a_side_read_through_files_gives_the_same_report() {
    // What `diff A B` does: digests from the checks' parse, texts fetched on demand.
    struct Fetched<'a>(&'a Tree, std::sync::atomic::AtomicUsize);
    impl Files for Fetched<'_> {
        fn read(&self, path: &str) -> Option<std::borrow::Cow<'_, [u8]>> {
            self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.0.read(path)
        }
    }
    let ids: Vec<String> = (1..=50).map(|i| format!("t{i:05}")).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let (a, b) = (tenants("staging", &ids[..40]), tenants("prod", &ids[5..]));
    let (da, db) = (digest::digests(&a), digest::digests(&b));
    let (fa, fb) = (Fetched(&a, 0.into()), Fetched(&b, 0.into()));
    let side = |label, tree, digests| Side {
        label,
        env: Some(label),
        tree,
        digests,
    };
    let streamed = compare_digested(side("staging", &fa, &da), side("prod", &fb, &db));
    let whole = compare("staging", &a, "prod", &b);
    assert_eq!(
        serde_json::to_value(&streamed).unwrap(),
        serde_json::to_value(&whole).unwrap()
    );
    // One tenant's file per side is read, for the diff shown; not 40 or 45.
    let fetched = |f: &Fetched| f.1.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!((fetched(&fa), fetched(&fb)), (1, 1));
}

#[test]
fn tenants_that_change_differently_are_separate_groups() {
    let mut a = tenants("e", &["acme", "globex", "initech"]);
    let mut b = a.clone();
    let (p, t) = tenant("acme", "e", "enterprise");
    b.files.insert(p, t.into_bytes());
    a.files.remove("kubernetes/tenants/initech.yaml");
    b.files.remove("kubernetes/tenants/globex.yaml");
    let r = compare("a", &a, "b", &b);
    assert_eq!(r.entries.len(), 1);
    assert_eq!(r.entries[0].tenants.as_ref().unwrap().ids, ["acme"]);
    assert_eq!(r.tenants.only_old.ids, ["globex"]);
    assert_eq!(r.tenants.only_new.ids, ["initech"]);
}

#[test]
fn foreign_files_on_disk_are_listed_not_compared() {
    let fresh = tree(&[(
        "a.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n",
    )]);
    let disk = OnDisk {
        owned: fresh.files.clone(),
        owned_paths: fresh.files.keys().cloned().collect(),
        foreign: ["notes.txt".to_owned()].into(),
        exists: true,
        ..OnDisk::default()
    };
    let r = compare_with_disk("disk", std::path::Path::new("."), &disk, "fresh", &fresh).unwrap();
    assert!(r.identical);
    assert_eq!(
        r.foreign,
        [Foreign {
            path: "notes.txt".into(),
            in_the_way: false
        }]
    );
}

#[test]
fn files_the_same_on_both_sides_are_unchanged_and_their_tenants_in_both() {
    let disk_tree = tenants("prod", &["acme", "globex"]);
    let fresh = tenants("prod", &["acme", "globex", "initech"]);
    let disk = OnDisk {
        owned_paths: disk_tree.files.keys().cloned().collect(),
        owned: disk_tree.files.clone(),
        exists: true,
        ..OnDisk::default()
    };
    let r = compare_with_disk("disk", std::path::Path::new("."), &disk, "fresh", &fresh).unwrap();
    assert_eq!(r.summary.unchanged, 2);
    assert_eq!(r.summary.added, 1);
    assert_eq!(r.tenants.in_both, 2);
    assert_eq!(r.tenants.only_new.ids, ["initech"]);
    assert!(r.tenants.only_old.ids.is_empty());
    assert!(!r.identical);
}

#[test]
fn an_object_of_a_file_the_same_on_both_sides_is_still_matched_with_its_twin_elsewhere() {
    // `a.yaml` is the same on both sides, but the disk holds its object a second time: that
    // second one is matched by its place (removed as `b.yaml`), not taken for the object
    // of `a.yaml`.
    let ns = "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n";
    let fresh = tree(&[("a.yaml", ns)]);
    let on_disk = tree(&[("a.yaml", ns), ("b.yaml", ns)]);
    let disk = OnDisk {
        owned_paths: on_disk.files.keys().cloned().collect(),
        owned: on_disk.files,
        exists: true,
        ..OnDisk::default()
    };
    let r = compare_with_disk("disk", std::path::Path::new("."), &disk, "fresh", &fresh).unwrap();
    assert_eq!((r.summary.unchanged, r.summary.removed), (1, 1));
    let titles: Vec<&str> = r.entries.iter().map(|e| e.title.as_str()).collect();
    assert_eq!(titles, ["b.yaml"]);
}

#[test]
fn a_file_the_same_in_two_environments_with_an_object_named_after_one_is_compared() {
    // Named after the old environment, the object matches `portal-<env>-platform` there and
    // nothing in the new one: though the file is the same, its object is not unchanged.
    let ns = "apiVersion: v1\nkind: Namespace\nmetadata: {name: portal-staging-platform}\n";
    let (a, b) = (tree(&[("n.yaml", ns)]), tree(&[("n.yaml", ns)]));
    let r = compare("staging", &a, "prod", &b);
    assert!(!r.identical);
    assert_eq!((r.summary.added, r.summary.removed), (1, 1));
}
