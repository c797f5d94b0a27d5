//! Running this crate's examples as processes in tests: where cargo built them, and starting
//! one to read the first line it prints (the URL it listens on).

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The built example `name` (`cargo test -p slack-rtm` builds the examples).
pub fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile = exe.parent().and_then(|d| d.parent()).unwrap();
    let path = profile.join("examples").join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} not built; run `cargo test -p slack-rtm` (it builds the examples)",
        path.display()
    );
    path
}

/// Starts `command` (stdin closed, stderr dropped, killed on drop) and returns it with the first
/// line it printed on stdout (within 30 s).
pub async fn spawn_first_line(command: &mut Command) -> (Child, String) {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the example starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(std::time::Duration::from_secs(30), stdout.next_line())
        .await
        .expect("a first line in time")
        .unwrap()
        .expect("a first line");
    (child, first)
}
