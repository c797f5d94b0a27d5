//! Runs the `fleet_app` example (local emulator and redis-server) and checks what it printed.
#![cfg(feature = "testing")]

use std::process::Command;

#[test]
fn fleet_app_hands_every_event_to_a_worker() {
    // target/<profile>/deps/example-<hash> → target/<profile>/examples/fleet_app
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|d| d.parent()).unwrap().join("examples");
    let out =
        Command::new(dir.join("fleet_app")).env_remove("SLACK_APP_TOKEN").output().expect("fleet_app runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        stdout.contains("fleet_app: 30 events appended by 2 gateways, all 30 handled by 3 workers"),
        "{stdout}"
    );
    // The failed event was handed over again, as its second attempt.
    let failed: Vec<&str> = stdout.lines().filter(|l| l.starts_with("failed ")).collect();
    assert_eq!(failed.len(), 1, "{stdout}");
    let id = failed[0].split_whitespace().nth(1).unwrap();
    assert!(
        stdout.lines().any(|l| l.starts_with(&format!("handled {id} ")) && l.ends_with("(attempt 2)")),
        "{stdout}"
    );
    assert!(!stdout.contains("xapp-"));
}
