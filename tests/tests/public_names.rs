//! No two public types of the library crates share a name: a name says what the type is, so
//! `use` lines and error messages are never ambiguous (`AckError` meant three things before).
//!
//! Scans `pub struct|enum|trait|type` in `crates/*/src` of the library crates (binaries, test
//! files and `pub(crate)` items excluded). No name may repeat, errors or not.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const LIBRARY_CRATES: &[&str] =
    &["types", "codec", "hyper", "session", "slack-rtm", "fleet", "emulator", "oauth"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if name != "tests" {
                rust_files(&path, out);
            }
        } else if name.ends_with(".rs") && name != "tests.rs" {
            out.push(path);
        }
    }
}

/// `name → [where]` for every public type declared in the library crates.
fn public_types() -> BTreeMap<String, Vec<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates");
    let decl = regex::Regex::new(r"^\s*pub (?:struct|enum|trait|type) ([A-Z][A-Za-z0-9_]*)").unwrap();
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for krate in LIBRARY_CRATES {
        let mut files = Vec::new();
        rust_files(&root.join(krate).join("src"), &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for (n, line) in text.lines().enumerate() {
                if let Some(c) = decl.captures(line) {
                    let at = format!("{}:{}", file.strip_prefix(&root).unwrap().display(), n + 1);
                    found.entry(c[1].to_owned()).or_default().push(at);
                }
            }
        }
    }
    found
}

#[test]
fn no_two_public_error_types_share_a_name() {
    let repeated: Vec<_> =
        public_types().into_iter().filter(|(name, at)| name.ends_with("Error") && at.len() > 1).collect();
    assert!(repeated.is_empty(), "public error types that share a name: {repeated:#?}");
}

#[test]
fn no_two_public_types_share_a_name() {
    let types = public_types();
    assert!(types.contains_key("ApiCallError"), "the scan found nothing: {:?}", types.keys().take(5));
    let unexpected: Vec<_> = types.iter().filter(|(_, at)| at.len() > 1).collect();
    assert!(unexpected.is_empty(), "public types that share a name (rename one): {unexpected:#?}");
}
