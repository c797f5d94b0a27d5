//! The benchmark-only blast code is behind the `blast` feature: the binary built without it
//! refuses the blast flags with a clear error; built with it (`cargo xtask bench`), it starts.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_slack-rtm-emulator");

#[cfg(not(feature = "blast"))]
#[test]
fn blast_flags_need_the_blast_feature() {
    for flag in ["--blast", "--blast-type-last", "--blast-slack-shapes", "--sm-blast", "--sm-blast-rate"] {
        let out = Command::new(BIN).args([flag, "1"]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{flag}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("{flag} needs the emulator built with the `blast` feature")), "{err}");
        assert!(out.stdout.is_empty(), "{flag}: no emulator started");
    }
}

#[cfg(feature = "blast")]
#[test]
fn blast_flags_start_a_blasting_emulator() {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(BIN)
        .args(["--blast", "3", "--blast-slack-shapes", "--sm-blast", "2", "--sm-blast-rate", "100"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    child.kill().unwrap();
    let _ = child.wait();
    assert!(first.starts_with("SLACK_API_URL=http://127.0.0.1:"), "{first:?}");
}
