//! Kubernetes resource quantities, just enough to compare a request with a limit.

/// CPU in millicores: "500m" → 500, "1.5" → 1500.
pub fn cpu_millis(q: &str) -> Option<u64> {
    if let Some(m) = q.strip_suffix('m') {
        return m.parse().ok();
    }
    let (int, frac) = q.split_once('.').unwrap_or((q, ""));
    let int: u64 = int.parse().ok()?;
    let mut millis = int.checked_mul(1000)?;
    let digits: String = frac.chars().take(3).collect();
    if !digits.is_empty() {
        let scale = 10u64.pow(3 - digits.len() as u32);
        millis += digits.parse::<u64>().ok()? * scale;
    }
    Some(millis)
}

/// Bytes: "512Mi" → 536870912, "1G" → 1e9.
pub fn bytes(q: &str) -> Option<u128> {
    const SUFFIXES: [(&str, u128); 10] = [
        ("Ki", 1 << 10),
        ("Mi", 1 << 20),
        ("Gi", 1 << 30),
        ("Ti", 1 << 40),
        ("Pi", 1 << 50),
        ("k", 1_000),
        ("M", 1_000_000),
        ("G", 1_000_000_000),
        ("T", 1_000_000_000_000),
        ("P", 1_000_000_000_000_000),
    ];
    for (suffix, factor) in SUFFIXES {
        if let Some(n) = q.strip_suffix(suffix) {
            return n.parse::<u128>().ok()?.checked_mul(factor);
        }
    }
    q.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu() {
        assert_eq!(cpu_millis("250m"), Some(250));
        assert_eq!(cpu_millis("1"), Some(1000));
        assert_eq!(cpu_millis("1.5"), Some(1500));
        assert_eq!(cpu_millis("0.25"), Some(250));
        assert_eq!(cpu_millis("x"), None);
    }

    #[test]
    fn memory() {
        assert_eq!(bytes("512Mi"), Some(512 << 20));
        assert_eq!(bytes("1Ti"), Some(1 << 40));
        assert_eq!(bytes("2G"), Some(2_000_000_000));
        assert_eq!(bytes("100"), Some(100));
        assert!(bytes("1Gi") > bytes("1000Mi"));
    }
}
