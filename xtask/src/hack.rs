//! The workspace-hack rule: `cargo build -p slack-rtm-cli` must resolve, for every third-party
//! crate it builds, features the workspace's test build also resolves, so the README's
//! `cargo run -p slack-rtm-cli -- demo` after `cargo test --workspace` reuses that build's
//! artifacts instead of recompiling tokio and everything above it. The crate
//! `slack-rtm-workspace-hack` (crates/workspace-hack) holds the features; this check says
//! which to add when the list falls behind, and that only the CLI depends on it.

use crate::deps::Graph;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// The hack crate's package name.
pub const HACK: &str = "slack-rtm-workspace-hack";
/// The one crate allowed to depend on it: libraries keep their own graphs.
pub const HACK_USER: &str = "slack-rtm-cli";

/// A third-party package (`name vX.Y.Z`) → every feature set it is built with.
pub type Resolved = BTreeMap<String, BTreeSet<BTreeSet<String>>>;

/// Parses `cargo tree --prefix none -f '{p}|{f}'` output, keeping third-party packages only
/// (a workspace crate prints its path: `name v0.1.0 (/path)`).
pub fn parse_tree(text: &str) -> Resolved {
    let mut out = Resolved::new();
    for line in text.lines() {
        let line = line.trim_end_matches(" (*)");
        let Some((package, features)) = line.split_once('|') else { continue };
        let package = package.trim_end_matches(" (proc-macro)");
        if package.contains(" (") || package.is_empty() {
            continue;
        }
        let set = features.split(',').filter(|f| !f.is_empty()).map(str::to_owned).collect();
        out.entry(package.to_owned()).or_default().insert(set);
    }
    out
}

/// What the CLI alone resolves that the test build does not: one line per package, naming the
/// features to add to the hack.
pub fn compare(cli: &Resolved, workspace: &Resolved) -> Vec<String> {
    let mut problems = Vec::new();
    for (package, sets) in cli {
        let theirs = workspace.get(package);
        for set in sets {
            if theirs.is_some_and(|t| t.contains(set)) {
                continue;
            }
            let union: BTreeSet<&String> = theirs.into_iter().flatten().flatten().collect();
            let missing: Vec<&str> =
                union.iter().filter(|f| !set.contains(**f)).map(|f| f.as_str()).collect();
            problems.push(format!(
                "`cargo build -p {HACK_USER}` builds {package} with features [{}], which the \
                 workspace's test build never does (it adds [{}]): add them to {HACK} \
                 (crates/workspace-hack/Cargo.toml), or cargo run -p {HACK_USER} recompiles it",
                set.iter().map(String::as_str).collect::<Vec<_>>().join(","),
                missing.join(",")
            ));
        }
    }
    problems
}

/// Only [`HACK_USER`] depends on the hack, and the hack on no workspace crate.
pub fn check_edges(graph: &Graph, workspace_crates: &[&str]) -> Vec<String> {
    let mut problems = Vec::new();
    for (krate, deps) in graph {
        if krate != HACK_USER && deps.contains(HACK) {
            problems.push(format!(
                "{krate} depends on {HACK}: only {HACK_USER} may (libraries keep their graphs)"
            ));
        }
    }
    for dep in graph.get(HACK).into_iter().flatten() {
        if workspace_crates.contains(&dep.as_str()) {
            problems.push(format!(
                "{HACK} depends on the workspace crate {dep}: it lists third-party crates only"
            ));
        }
    }
    problems
}

fn tree(args: &[&str]) -> Result<Resolved, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml");
    let out = Command::new(cargo)
        .arg("tree")
        .args(args)
        .args(["--prefix", "none", "-f", "{p}|{f}", "--manifest-path", manifest])
        .output()
        .map_err(|e| format!("cannot run cargo tree: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo tree failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(parse_tree(&String::from_utf8_lossy(&out.stdout)))
}

/// Resolves both builds with `cargo tree` (the test build: every member, dev-dependencies
/// included; the CLI: its normal and build dependencies) and compares them.
pub fn check_features() -> Vec<String> {
    let workspace = tree(&["--workspace", "-e", "normal,build,dev"]);
    let cli = tree(&["-p", HACK_USER, "-e", "normal,build"]);
    match (cli, workspace) {
        (Ok(cli), Ok(workspace)) => compare(&cli, &workspace),
        (Err(e), _) | (_, Err(e)) => vec![e],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feature_only_the_cli_build_lacks_is_named() {
        let workspace = parse_tree(
            "tokio v1.0.0|full,rt,test-util\nserde v1.0.0|alloc,std (*)\nslack-rtm v0.1.0 (/w/crates/slack-rtm)|default\nproptest v1.0.0|std\n",
        );
        let cli =
            parse_tree("tokio v1.0.0|rt\nserde v1.0.0|alloc,std\nslack-rtm v0.1.0 (/w/crates/slack-rtm)|\n");
        assert!(!cli.contains_key("slack-rtm v0.1.0 (/w/crates/slack-rtm)"), "workspace crates are left out");
        let problems = compare(&cli, &workspace);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("tokio v1.0.0 with features [rt]"), "{problems:?}");
        assert!(problems[0].contains("it adds [full,test-util]"), "{problems:?}");
        let same = parse_tree("tokio v1.0.0|full,rt,test-util\n");
        assert!(compare(&same, &workspace).is_empty());
    }

    #[test]
    fn only_the_cli_may_depend_on_the_hack() {
        let mut g = Graph::new();
        g.entry(HACK_USER.into()).or_default().insert(HACK.into());
        g.entry("slack-rtm-types".into()).or_default().insert(HACK.into());
        g.entry(HACK.into()).or_default().insert("slack-rtm".into());
        let problems = check_edges(&g, &["slack-rtm"]);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("slack-rtm-types depends on"), "{problems:?}");
        assert!(problems[1].contains("the workspace crate slack-rtm"), "{problems:?}");
    }
}
