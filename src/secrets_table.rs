//! The scanner's table: every shape it must find, and look-alikes it must leave alone.
//! Tokens are assembled from parts so that this file itself holds none.

use super::*;

fn rep(s: &str, n: usize) -> String {
    s.repeat(n)
}

fn positives() -> Vec<String> {
    let hex40 = rep("a1b2c3d4e5", 4);
    let b36 = rep("A1b2C3d4E5f6", 3);
    vec![
        // URL credentials in any position.
        "repoURL: https://deploy:hunter2secret@github.com/x/y.git".into(),
        "url: 'https://user:s3cr3t'pw@host.example.com/'".into(),
        "https://user:${notavar@host.example.com".into(),
        "https://user:${A}${B}@host.example.com".into(),
        "https://user:$(X)tail@host.example.com".into(),
        format!("https://{hex40}@github.com/x/y.git"),
        "# clone with git+ssh://git:pa55word@example.com/repo".into(),
        "\"url\": \"postgres://app:Very$ecret1@db:5432/app\"".into(),
        "HTTPS://admin:admin@EXAMPLE.COM".into(),
        "see redis://:hunter2@cache:6379/0".into(),
        "https://api.example.com/v1?access_token=abcdef123456".into(),
        "https://api.example.com/v1?x=1&api_key=abcdef123456".into(),
        "https://x.example.com/?TOKEN=abcdef123456".into(),
        "https://x.example.com/cb?client_secret=Zm9vYmFyYmF6".into(),
        "https://x.example.com/?password=correcthorse".into(),
        // Slack.
        "https://hooks.slack.com/services/T0/B0/XXXXXXXX".into(),
        "https://Hooks.Slack.com/services/T0/B0/XXXXXXXX".into(),
        "HOOKS.SLACK.COM/services/T000/B000/abc".into(),
        format!("{}-{}", "xoxb", "123456789012-abcdefghij"),
        format!("{}-{}", "xoxp", "123456789012-abcdefghij"),
        format!("{}-{}", "xapp", "1-A0123456789-abcdef"),
        // GitHub, GitLab.
        format!("ghp_{b36}"),
        format!("token: gho_{b36}"),
        format!("ghs_{b36}"),
        format!("github_pat_{}", rep("11ABCDEFG0", 5)),
        format!("glpat-{}", rep("xY9", 8)),
        format!("glrt-{}", rep("xY9", 8)),
        // AWS.
        format!("AKIA{}", "IOSFODNN7EXAMPL1"),
        format!("key: ASIA{}", "Y34FZKBOKMUTVV7A"),
        format!(
            "aws_secret_access_key = {}{}",
            "wJalrXUtnFEMI/K7MDENG", "/bPxRfiCYEXAMPLEKEY"
        ),
        format!(
            "secret: {}{}",
            "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEX", "AMPLEKE1"
        ),
        // Google.
        format!("AIza{}", rep("SyA1b2C3d4E5f6G7h8", 2)),
        format!("\"private_key_id\": \"{hex40}\""),
        "{\"type\": \"service_account\", \"private_key\": \"-----BEGIN PRIVATE KEY-----\\nMIIE\"}"
            .into(),
        // Azure.
        format!(
            "DefaultEndpointsProtocol=https;AccountName=x;AccountKey={}==",
            rep("Ab3+", 10)
        ),
        format!(
            "Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=r;SharedAccessKey={}=",
            rep("Xy7/", 8)
        ),
        format!("accountkey={}", rep("Zz9a", 6)),
        // JWT.
        format!(
            "Authorization: Bearer eyJ{}.eyJ{}.{}",
            rep("hbGciOi", 2),
            rep("zdWIiOi", 2),
            rep("SflKxw", 3)
        ),
        // PEM blocks.
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEow".into(),
        "-----BEGIN OPENSSH PRIVATE KEY-----".into(),
        "-----BEGIN EC PRIVATE KEY-----".into(),
        "-----BEGIN PRIVATE KEY-----".into(),
        "-----BEGIN ENCRYPTED PRIVATE KEY-----".into(),
        // Others.
        format!("sk_live_{}", rep("abcd1234", 3)),
        format!("rk_live_{}", rep("abcd1234", 3)),
        format!("npm_{}", rep("abcdef123456", 3)),
        format!("pypi-AgEI{}", rep("cHlwaS5vcmc", 6)),
    ]
}

fn negatives() -> Vec<String> {
    vec![
        "repoURL: https://github.com/example/gitops.git".into(),
        "https://user@github.com/x/y.git".into(),
        "ssh://git@github.com/x/y.git".into(),
        "https://x-access-token@example.com".into(),
        "https://user:${GIT_TOKEN}@github.com/x".into(),
        "https://user:$(TOKEN)@github.com/x".into(),
        "https://user:{{ .token }}@github.com/x".into(),
        "http://localhost:8080/metrics".into(),
        "http://[::1]:9090/".into(),
        "mailto:ops@example.com".into(),
        "'https://host.example.com' 'a:b@c'".into(),
        "https://api.example.com/v1?access_token=${TOKEN}".into(),
        "https://api.example.com/v1?token=".into(),
        "https://x.example.com/?tokens_per_page=10".into(),
        "https://x.example.com/?page=2&sort=asc".into(),
        "https://hooks.example.com/services/T0".into(),
        "slack.com/services".into(),
        "xoxb-short".into(),
        "ghp_short".into(),
        "aghp_0123456789012345678901234567890123456789".into(),
        "glpat-short".into(),
        "AKIA-not-a-key".into(),
        "AKIAIOSFODNN7EXAMPLEXX".into(),
        "sha: 0123456789abcdef0123456789abcdef01234567".into(),
        "digest: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".into(),
        "zoneId: 0123456789abcdef0123456789abcdef".into(),
        "path: /var/lib/postgresql/data/pgdata/base/global/pg".into(),
        "image: registry.example.com/portal/app:2.14.0".into(),
        "expr: sum(rate(http_requests_total{job=\"portal\"}[5m])) by (tenant)".into(),
        "AIzaShort".into(),
        "AccountKey=".into(),
        "AccountKey=${var.storage_key}".into(),
        "SharedAccessKeyName=RootManageSharedAccessKey".into(),
        "eyJhbGciOiJIUzI1NiJ9".into(),
        "eyJnot.eyJjwt".into(),
        "-----BEGIN CERTIFICATE-----".into(),
        "-----BEGIN PUBLIC KEY-----".into(),
        "\"private_key_id\": \"${var.key_id}\"".into(),
        "secretName: portal-tls".into(),
        "password: ${DB_PASSWORD}".into(),
        "sk_test_abcdefghijklmnop".into(),
        "npm_config_cache".into(),
        "kubernetes.io/service-account-token".into(),
        "a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t".into(),
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn".into(),
        // An alert's runbook: 40 base64 characters after the host's last dot.
        "runbook_url: https://runbooks.dev.example.com/portal/WideSvc07AvailabilityBelowSLO".into(),
    ]
}

#[test]
fn finds_every_credential_shape_and_nothing_else() {
    let (pos, neg) = (positives(), negatives());
    assert!(
        pos.len() >= 40 && neg.len() >= 40,
        "{} / {}",
        pos.len(),
        neg.len()
    );
    for p in &pos {
        assert!(contains_secret(p), "missed: {p}");
    }
    for n in &neg {
        assert_eq!(scan(n), vec![], "false positive: {n}");
    }
}

#[test]
fn references_are_whole_variables() {
    assert!(is_reference("${DB_PASSWORD}"));
    assert!(is_reference("$(TOKEN)"));
    assert!(is_reference("{{ .Values.x }}"));
    assert!(!is_reference("${notclosed"));
    assert!(!is_reference("${A}${B}"));
    assert!(!is_reference("${A}tail"));
    assert!(is_secret_name("DB_PASSWORD") && is_secret_name("apiKey"));
    assert!(!is_secret_name("secretName"));
    assert!(!is_secret_name("credentials.existingSecret"));
    assert!(is_secret_name("clientSecret") && is_secret_name("credentials.secret"));
}

/// The scan as it would be without skipping positions inside words: every position tried.
fn scan_every_position(text: &str) -> Vec<Finding> {
    let b = text.as_bytes();
    let (mut out, mut i) = (Vec::new(), 0);
    while i < b.len() {
        match super::detect(b, i) {
            Some((len, what)) => {
                out.push(Finding {
                    offset: i,
                    len,
                    what,
                });
                i += len.max(1);
            }
            None => i += 1,
        }
    }
    out
}

#[test]
fn scan_matches_the_scan_at_every_position() {
    let mut texts: Vec<String> = positives().into_iter().chain(negatives()).collect();
    // Every shape glued to words on either side, and to each other: where the skip of
    // positions inside words could go wrong.
    let shapes = positives();
    for (k, p) in shapes.iter().enumerate() {
        let q = &shapes[(k + 7) % shapes.len()];
        texts.push(format!("word{p}"));
        texts.push(format!("x{p}y {q}"));
        texts.push(format!("{p}{q}"));
        texts.push(format!("9{p}-{q}:"));
    }
    // Every golden file: what the scan really reads.
    let mut dirs = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/golden"
    ))];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if let Ok(t) = std::fs::read_to_string(&p) {
                texts.push(t);
            }
        }
    }
    assert!(texts.len() > 500, "{}", texts.len());
    let mut found = 0;
    for t in &texts {
        let expected = scan_every_position(t);
        found += expected.len();
        assert_eq!(scan(t), expected, "in: {}", &t[..t.len().min(80)]);
    }
    assert!(found >= 150, "{found}");
}
