//! `slack-rtm-emulator`: runs the emulator standalone until Ctrl-C.
//!
//! ```text
//! slack-rtm-emulator [--port N] [--tls] [--blast N] [--no-rate-limit] [--ws-ping SECS]
//! ```
//!
//! Prints the Web API base URL and a valid bot token (and, with `--tls`, the certificate to
//! trust) on stdout.

use slack_rtm_emulator::{Emulator, EmulatorConfig};
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str =
    "usage: slack-rtm-emulator [--port N] [--tls] [--blast N] [--no-rate-limit] [--ws-ping SECS]";

fn parse_args() -> Result<EmulatorConfig, String> {
    let mut config = EmulatorConfig::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--port" => {
                let v = value("--port")?;
                config = config.port(v.parse().map_err(|_| format!("invalid port {v:?}"))?);
            }
            "--tls" => config = config.tls(true),
            "--blast" => {
                let v = value("--blast")?;
                let n: u64 = v.parse().map_err(|_| format!("invalid event count {v:?}"))?;
                config = config.blast(Some(n)).for_benchmarks();
            }
            "--no-rate-limit" => config = config.send_rate(None),
            "--ws-ping" => {
                let v = value("--ws-ping")?;
                let secs: f64 = v.parse().map_err(|_| format!("invalid interval {v:?}"))?;
                if !(secs.is_finite() && secs > 0.0) {
                    return Err(format!("invalid interval {v:?}"));
                }
                config = config.ws_ping_interval(Some(Duration::from_secs_f64(secs)));
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(config)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let config = match parse_args() {
        Ok(c) => c,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("error: {e}");
            }
            eprintln!("{USAGE}");
            return if e.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(2) };
        }
    };
    let emu = match Emulator::start(config).await {
        Ok(emu) => emu,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("SLACK_API_URL={}", emu.api_url());
    println!("SLACK_TOKEN={}", emu.token());
    if let Some(pem) = emu.tls_root_cert_pem() {
        println!("# trust this certificate:\n{pem}");
    }
    if tokio::signal::ctrl_c().await.is_err() {
        eprintln!("error: cannot listen for Ctrl-C");
    }
    emu.shutdown().await;
    ExitCode::SUCCESS
}
