//! A Rollout's pod template is judged by every pod rule (issue 16): the Rollout carries
//! the pod template itself (`model::rollout`), and `Rollout` is one of the
//! `POD_TEMPLATE_KINDS`.

use super::{ids, rule_ids};
use crate::common::repo;
use portalgen::validate::{check_file, policy};

/// prod-us's app, as rendered: a canary Rollout.
fn rollout() -> String {
    std::fs::read_to_string(repo().join("golden/prod-us/kubernetes/platform/app/rollout.yaml"))
        .unwrap()
}

#[test]
fn the_rollouts_pod_template_is_checked_by_every_pod_rule() {
    let good = rollout();
    assert!(good.contains("kind: Rollout\n"), "{good}");
    assert!(policy::pod_template("Rollout").is_some_and(|k| k.scaled && k.long_running));
    assert_eq!(
        ids(&good),
        Vec::<String>::new(),
        "the rendered Rollout passes"
    );
    let edit = |from: &str, to: &str| {
        assert!(good.contains(from), "{from:?}");
        good.replacen(from, to, 1)
    };
    for (rule, bad) in [
        ("PG-W001", edit("runAsUser: 1001", "runAsUser: 0")),
        (
            "PG-W002",
            edit(
                "readOnlyRootFilesystem: true",
                "readOnlyRootFilesystem: false",
            ),
        ),
        (
            "PG-W003",
            edit(
                "drop:\n                - ALL",
                "drop:\n                - NET_RAW",
            ),
        ),
        (
            "PG-W004",
            edit(
                "allowPrivilegeEscalation: false",
                "allowPrivilegeEscalation: true",
            ),
        ),
        ("PG-W005", edit("type: RuntimeDefault", "type: Unconfined")),
        ("PG-W006", edit("              cpu: \"2\"\n", "")),
        (
            "PG-W008",
            edit(
                "app@sha256:4f1c2d3e4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0",
                "app:latest",
            ),
        ),
    ] {
        let found = check_file("kubernetes/platform/app/rollout.yaml", "test", &bad);
        assert!(
            rule_ids(&found).contains(&rule.to_owned()),
            "{rule} does not fire on the Rollout: {:?}",
            found.iter().map(|d| &d.message).collect::<Vec<_>>()
        );
        assert!(
            found
                .iter()
                .filter(|d| d.message.starts_with(&format!("[{rule}]")))
                .all(|d| format!("{d:?}").contains("Rollout")),
            "{rule}: the finding names the Rollout"
        );
    }
}
