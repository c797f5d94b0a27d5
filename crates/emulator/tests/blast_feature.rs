//! The benchmark-only blast code is behind the `blast` feature: the binary built without it
//! refuses the blast flags with a clear error; built with it (`cargo xtask bench`), it starts.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_slack-rtm-emulator");

#[cfg(not(feature = "blast"))]
#[test]
fn blast_flags_need_the_blast_feature() {
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    for flag in ["--blast", "--blast-type-last", "--blast-slack-shapes", "--sm-blast", "--sm-blast-rate"] {
        let mut child = Command::new(BIN)
            .args([flag, "1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // A binary that accepts the flag starts an emulator and never exits: give it a
        // deadline instead of waiting for ever (e.g. one last linked with `blast`).
        let deadline = Instant::now() + Duration::from_secs(30);
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                child.kill().unwrap();
                let _ = child.wait();
                panic!("{flag}: the emulator did not refuse the flag within 30 s (it started)");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = child.wait_with_output().unwrap();
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
