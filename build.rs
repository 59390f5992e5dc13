//! Embeds `templates/` and `schemas/` in the binary, so that it runs from any folder.
//! Writes `$OUT_DIR/assets.rs` with one `(relative path, include_str!(…))` per file,
//! sorted by path so that the build is reproducible.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn emit(name: &str, root: &Path, file: &mut fs::File) {
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    collect(root, &mut files);
    files.sort();
    writeln!(file, "pub static {name}: &[(&str, &str)] = &[").unwrap();
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let rel = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        writeln!(
            file,
            "    ({rel:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .unwrap();
    }
    writeln!(file, "];").unwrap();
}

/// FNV-1a, 64 bit: a stable fingerprint (the same on every toolchain and machine).
fn fnv1a(hash: &mut u64, bytes: &[u8]) {
    for b in bytes {
        *hash ^= u64::from(*b);
        *hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
}

/// A fingerprint of the code of the checks (`src/validate/`) and of the dependency versions
/// (`Cargo.lock`): part of the stamp under which `.portalgen-validated` records checks
/// passed, so that a build with other checks never trusts an older record.
fn checks_fingerprint(manifest: &Path) -> u64 {
    let mut files = Vec::new();
    collect(&manifest.join("src/validate"), &mut files);
    // Each family's own checks (PromQL, dashboards, Terraform) live in its folder.
    collect(&manifest.join("src/families"), &mut files);
    files.push(manifest.join("Cargo.lock"));
    files.sort();
    let mut hash = 0xcbf2_9ce4_8422_2325;
    for path in files {
        println!("cargo:rerun-if-changed={}", path.display());
        let rel = path
            .strip_prefix(manifest)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        fnv1a(&mut hash, rel.as_bytes());
        // Line endings do not change what the code checks.
        let text = fs::read(&path).unwrap_or_default();
        let text: Vec<u8> = text.into_iter().filter(|b| *b != b'\r').collect();
        fnv1a(&mut hash, &text);
    }
    hash
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("assets.rs");
    let mut file = fs::File::create(out).unwrap();
    emit("TEMPLATES", &manifest.join("templates"), &mut file);
    emit("SCHEMAS", &manifest.join("schemas"), &mut file);
    println!(
        "cargo:rerun-if-changed={}",
        manifest.join("src/validate").display()
    );
    println!(
        "cargo:rustc-env=PORTALGEN_CHECKS_FINGERPRINT={:016x}",
        checks_fingerprint(&manifest)
    );
}
