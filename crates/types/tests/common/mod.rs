//! Fixture helpers shared by the event tests.
#![allow(dead_code, reason = "each test file uses some of them")]

use slack_rtm_types::Event;
use std::path::{Path, PathBuf};

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/events")
}

/// Every fixture as `(name without .json, text)`, sorted by name.
pub fn fixtures() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(fixtures_dir()).expect("fixtures dir") {
        let path = entry.expect("dir entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let stem = path.file_stem().and_then(|s| s.to_str()).expect("utf-8 name").to_owned();
        let text = std::fs::read_to_string(&path).expect("read fixture");
        out.push((stem, text));
    }
    out.sort();
    assert!(!out.is_empty(), "no fixtures found");
    out
}

pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(fixtures_dir().join(format!("{name}.json")))
        .unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

pub fn decode(text: &str) -> Event {
    Event::from_json(text).unwrap_or_else(|e| panic!("valid JSON must decode: {e}\n{text}"))
}

/// Decodes a fixture, failing if it fell back to `Unknown`.
pub fn typed(name: &str) -> Event {
    let ev = decode(&fixture(name));
    if let Event::Unknown { shape_error, .. } = &ev {
        panic!("{name} fell back to Unknown: {shape_error:?}");
    }
    ev
}
