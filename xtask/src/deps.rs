//! The design card's dependency rules, checked on `cargo metadata`'s resolved graph.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// The project's crates, in design-card order: a crate may depend only on crates before it.
pub const LAYERS: &[&str] = &[
    "slack-rtm-types",
    "slack-rtm-codec",
    "slack-rtm-hyper",
    "slack-rtm-session",
    "slack-rtm-oauth",
    "slack-rtm",
    "slack-rtm-fleet",
    "slack-rtm-emulator",
    "slack-rtm-cli",
];

/// Crates that must stay pure (no runtime, no IO).
pub const PURE: &[&str] = &["slack-rtm-types", "slack-rtm-codec"];

/// Packages that mean IO or a runtime; a pure crate must not reach any of them, even
/// transitively.
pub const IO_CRATES: &[&str] = &[
    "tokio",
    "hyper",
    "hyper-util",
    "hyper-rustls",
    "h2",
    "mio",
    "socket2",
    "async-std",
    "smol",
    "async-io",
    "reqwest",
    "fastwebsockets",
    "tokio-rustls",
    "rustls",
    "native-tls",
    "openssl",
    "tungstenite",
    "tokio-tungstenite",
    "futures-io",
    "ureq",
    "curl",
    "redis",
];

/// Extra rules: who may not depend on whom, besides layering.
const FORBIDDEN_EDGES: &[(&str, &str, &str)] = &[
    (
        "slack-rtm-emulator",
        "slack-rtm-session",
        "the emulator must share no session logic with the client it tests",
    ),
    ("slack-rtm-emulator", "slack-rtm", "the emulator must share no session logic with the client it tests"),
    ("slack-rtm-emulator", "slack-rtm-fleet", "the emulator must share no logic with the client it tests"),
    ("slack-rtm-emulator", "slack-rtm-hyper", "the emulator must not use the client's transport"),
    ("slack-rtm-session", "slack-rtm-hyper", "decoding/retry/rate limiting must not depend on a transport"),
    ("slack-rtm", "redis", "Redis belongs to the fleet crate: users of the facade alone never compile it"),
    ("slack-rtm-session", "redis", "Redis belongs to the fleet crate"),
    (
        "slack-rtm-oauth",
        "redis",
        "Redis belongs to the fleet crate (its Redis installation store lives there)",
    ),
    ("slack-rtm-oauth", "hyper", "the installation store needs no HTTP"),
    (
        "slack-rtm-test-support",
        "slack-rtm",
        "test support is a dev-dependency of the facade's tests: depending on the facade would compile it twice",
    ),
    (
        "slack-rtm-test-support",
        "slack-rtm-session",
        "test support is a dev-dependency of the session's tests: depending on it would compile it twice",
    ),
];

/// Edges below the layering that are allowed on purpose, with the reason.
const ALLOWED_EXCEPTIONS: &[(&str, &str, &str)] = &[(
    "slack-rtm",
    "slack-rtm-emulator",
    "optional, behind the off-by-default `emulator` feature, so users' tests get the local Slack \
     from one dependency; the emulator does not depend on the facade, so there is no cycle",
)];

/// A resolved graph: package name → names of its normal (non-dev, non-build) dependencies.
pub type Graph = BTreeMap<String, BTreeSet<String>>;

/// Runs `cargo metadata` (all features, so optional dependencies count too) and builds the
/// graph of normal dependencies.
pub fn load_graph() -> Result<Graph, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml");
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--all-features", "--manifest-path", manifest])
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let meta: Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("cargo metadata output: {e}"))?;
    graph_from_metadata(&meta)
}

/// Builds the graph from `cargo metadata` JSON.
pub fn graph_from_metadata(meta: &Value) -> Result<Graph, String> {
    let names: BTreeMap<&str, &str> = meta["packages"]
        .as_array()
        .ok_or("metadata has no packages")?
        .iter()
        .filter_map(|p| Some((p["id"].as_str()?, p["name"].as_str()?)))
        .collect();
    let mut graph = Graph::new();
    for node in meta["resolve"]["nodes"].as_array().ok_or("metadata has no resolve graph")? {
        let Some(name) = node["id"].as_str().and_then(|id| names.get(id)) else { continue };
        let entry = graph.entry((*name).to_owned()).or_default();
        for dep in node["deps"].as_array().into_iter().flatten() {
            let normal = dep["dep_kinds"].as_array().into_iter().flatten().any(|k| k["kind"].is_null());
            if let (true, Some(dep_name)) = (normal, dep["pkg"].as_str().and_then(|id| names.get(id))) {
                entry.insert((*dep_name).to_owned());
            }
        }
    }
    Ok(graph)
}

/// Everything `root` reaches through normal dependencies, with one path to each.
fn closure(graph: &Graph, root: &str) -> BTreeMap<String, Vec<String>> {
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut stack = vec![(root.to_owned(), vec![root.to_owned()])];
    while let Some((name, path)) = stack.pop() {
        for dep in graph.get(&name).into_iter().flatten() {
            if !seen.contains_key(dep) {
                let mut p = path.clone();
                p.push(dep.clone());
                seen.insert(dep.clone(), p.clone());
                stack.push((dep.clone(), p));
            }
        }
    }
    seen
}

/// Checks every rule; returns a summary or the list of violations.
pub fn check(graph: &Graph) -> Result<String, Vec<String>> {
    let mut problems = Vec::new();
    for pure in PURE {
        if !graph.contains_key(*pure) {
            problems.push(format!("{pure} is missing from the workspace"));
            continue;
        }
        for (dep, path) in closure(graph, pure) {
            if IO_CRATES.contains(&dep.as_str()) {
                problems.push(format!("{pure} reaches IO crate {dep} via {}", path.join(" -> ")));
            }
        }
    }
    for (i, krate) in LAYERS.iter().enumerate() {
        for dep in graph.get(*krate).into_iter().flatten() {
            if let Some(j) = LAYERS.iter().position(|l| l == dep) {
                let excepted = ALLOWED_EXCEPTIONS.iter().any(|(a, b, _)| a == krate && b == dep);
                if j >= i && !excepted {
                    problems
                        .push(format!("{krate} depends on {dep}, which is not above it in the design card"));
                }
            }
        }
    }
    for (from, to, why) in FORBIDDEN_EDGES {
        if let Some(path) = closure(graph, from).get(*to) {
            problems.push(format!("{from} reaches {to} ({}): {why}", path.join(" -> ")));
        }
    }
    if problems.is_empty() {
        let types = closure(graph, "slack-rtm-types").into_keys().collect::<Vec<_>>().join(", ");
        let codec = closure(graph, "slack-rtm-codec").into_keys().collect::<Vec<_>>().join(", ");
        Ok(format!(
            "dependency rules hold\n  slack-rtm-types reaches: {types}\n  slack-rtm-codec reaches: {codec}"
        ))
    } else {
        Err(problems)
    }
}

/// Loads the workspace's graph and checks it, then the workspace-hack rule
/// ([`crate::hack`]: only the CLI depends on it, and the CLI's build resolves the features the
/// test build does).
pub fn check_workspace() -> Result<String, Vec<String>> {
    let graph = load_graph().map_err(|e| vec![e])?;
    let mut problems = crate::hack::check_edges(&graph, LAYERS);
    problems.extend(crate::hack::check_features());
    match check(&graph) {
        Ok(report) if problems.is_empty() => Ok(format!(
            "{report}\n  `cargo build -p slack-rtm-cli` resolves the test build's features (workspace-hack)"
        )),
        Ok(_) => Err(problems),
        Err(mut rules) => {
            rules.extend(problems);
            Err(rules)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &str)]) -> Graph {
        let mut g = Graph::new();
        for (a, b) in edges {
            g.entry((*a).to_owned()).or_default().insert((*b).to_owned());
            g.entry((*b).to_owned()).or_default();
        }
        g
    }

    #[test]
    fn the_workspace_keeps_the_rules() {
        match check_workspace() {
            Ok(_) => {}
            Err(problems) => panic!("dependency rules violated:\n{}", problems.join("\n")),
        }
    }

    #[test]
    fn a_transitive_io_dependency_of_codec_is_caught() {
        let g = graph(&[
            ("slack-rtm-types", "serde"),
            ("slack-rtm-codec", "slack-rtm-types"),
            ("slack-rtm-codec", "some-helper"),
            ("some-helper", "tokio"),
        ]);
        let problems = check(&g).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("slack-rtm-codec -> some-helper -> tokio"), "{problems:?}");
    }

    #[test]
    fn upward_and_forbidden_edges_are_caught() {
        let g = graph(&[
            ("slack-rtm-types", "serde"),
            ("slack-rtm-codec", "slack-rtm-session"),
            ("slack-rtm-emulator", "slack-rtm-session"),
            ("slack-rtm", "redis"),
        ]);
        let problems = check(&g).unwrap_err();
        assert!(
            problems.iter().any(|p| p.contains("slack-rtm-codec depends on slack-rtm-session")),
            "{problems:?}"
        );
        assert!(problems.iter().any(|p| p.contains("no session logic")), "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("slack-rtm reaches redis")), "{problems:?}");
        let clean = graph(&[("slack-rtm-types", "serde"), ("slack-rtm-codec", "slack-rtm-types")]);
        assert!(check(&clean).is_ok());
    }
}
