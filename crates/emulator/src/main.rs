//! `slack-rtm-emulator`: runs the emulator standalone until Ctrl-C. The harness binary that
//! `cargo xtask` (benchmarks, conformance) drives; from a shell, start the emulator with the
//! CLI's `slack-rtm emulator`. The `--blast…` / `--sm-blast…` flags need the `blast` feature.
//!
//! ```text
//! slack-rtm-emulator [--port N] [--tls] [--blast N] [--blast-type-last] [--blast-slack-shapes] [--blast-frame-per-write] [--no-rate-limit] [--ws-ping SECS]
//!                    [--goodbye-after SECS] [--ack-timeout SECS] [--retry-now] [--socket-mode-script]
//!                    [--sm-blast N] [--sm-blast-rate PER_SEC] [--sm-blast-slack-shapes] [--request-url URL] [--actions]
//! ```
//!
//! `--actions` reads user actions as JSON lines on stdin and answers each with an `ACTION {…}`
//! line (see `bin_actions.rs`): say, mention, command, click, select, type, shortcut,
//! message_shortcut, submit, close, home, wait_ack, views.
//!
//! `--request-url URL` delivers everything by HTTP to that Request URL (after the
//! `url_verification` handshake), signed with the printed `SLACK_SIGNING_SECRET`.
//!
//! `--sm-blast N` sends N pre-encoded `events_api` envelopes to every Socket Mode socket after
//! `hello` (at `--sm-blast-rate` per second, default as fast as the socket takes them) and
//! prints one line per socket when its blast ends:
//! `SM_BLAST_REPORT {"socket":…,"sent":…,"acked":…,"ack_p50_us":…,"ack_p99_us":…,"ack_max_us":…}`.
//! With `--sm-blast-slack-shapes` the envelopes are shaped like Slack's (`type` first, the
//! `message` shapes Slack sends, 1–2.6 KB) and written one per write.
//!
//! Prints the Web API base URL, a valid bot token, the general channel's id, an app-level token,
//! the Socket Mode URL base, the signing secret and the OAuth client id and secret (and, with
//! `--tls`, the certificate to trust) on stdout. Slack's authorize page is at
//! `{origin}/oauth/v2/authorize`; `--actions` scripts it (`approve_next`, `deny_next`).
//!
//! `--ack-timeout SECS` sets the Socket Mode ack deadline; `--retry-now` redelivers right
//! after it (instead of Slack's 1 and 5 minutes for the later retries). `--socket-mode-script`
//! runs the emulator's side of the Socket Mode conformance check (see `bin_script.rs`).
//!
//! `--goodbye-after SECS` sends `goodbye` to every connection SECS after it was admitted (once
//! per connection; the server then closes it after the configured grace period unless the
//! client left first). It lets scripts in other languages exercise a `goodbye`-initiated
//! reconnect (`cargo xtask conformance`).

mod bin_actions;
mod bin_oauth;
mod bin_script;

use slack_rtm_emulator::{ConnectionId, Emulator, EmulatorConfig};
use std::collections::HashSet;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

const USAGE: &str = "usage: slack-rtm-emulator [--port N] [--tls] [--blast N] [--blast-type-last] [--blast-slack-shapes] [--blast-frame-per-write] [--no-rate-limit] \
                     [--ws-ping SECS] [--goodbye-after SECS] [--ack-timeout SECS] [--retry-now] [--socket-mode-script] \
                     [--sm-blast N] [--sm-blast-rate PER_SEC] [--sm-blast-slack-shapes] [--request-url URL] [--actions]";

/// Options of the binary that are not part of [`EmulatorConfig`].
#[derive(Default)]
struct Extra {
    goodbye_after: Option<Duration>,
    socket_mode_script: bool,
    request_url: Option<String>,
    actions: bool,
}

fn parse_secs(v: &str) -> Result<Duration, String> {
    let secs: f64 = v.parse().map_err(|_| format!("invalid interval {v:?}"))?;
    if !(secs.is_finite() && secs > 0.0) {
        return Err(format!("invalid interval {v:?}"));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn parse_args() -> Result<(EmulatorConfig, Extra), String> {
    let mut config = EmulatorConfig::default();
    let mut extra = Extra::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--port" => {
                let v = value("--port")?;
                config = config.port(v.parse().map_err(|_| format!("invalid port {v:?}"))?);
            }
            "--tls" => config = config.tls(true),
            #[cfg(feature = "blast")]
            "--blast" => {
                let v = value("--blast")?;
                let n: u64 = v.parse().map_err(|_| format!("invalid event count {v:?}"))?;
                config = config.blast(Some(n)).for_benchmarks();
            }
            #[cfg(feature = "blast")]
            "--blast-type-last" => config = config.blast_type_last(true),
            #[cfg(feature = "blast")]
            "--blast-slack-shapes" => config = config.blast_slack_shapes(true),
            #[cfg(feature = "blast")]
            "--blast-frame-per-write" => config = config.blast_frame_per_write(true),
            "--no-rate-limit" => config = config.send_rate(None),
            "--ws-ping" => {
                let v = value("--ws-ping")?;
                config = config.ws_ping_interval(Some(parse_secs(&v)?));
            }
            "--goodbye-after" => extra.goodbye_after = Some(parse_secs(&value("--goodbye-after")?)?),
            "--ack-timeout" => {
                let timeout = parse_secs(&value("--ack-timeout")?)?;
                config.socket_mode = config.socket_mode.clone().ack_timeout(timeout);
            }
            "--retry-now" => {
                config.socket_mode = config.socket_mode.clone().retry_delays(vec![Duration::ZERO; 3])
            }
            "--socket-mode-script" => extra.socket_mode_script = true,
            "--request-url" => extra.request_url = Some(value("--request-url")?),
            "--actions" => extra.actions = true,
            #[cfg(feature = "blast")]
            "--sm-blast" => {
                let v = value("--sm-blast")?;
                let n: u64 = v.parse().map_err(|_| format!("invalid envelope count {v:?}"))?;
                config.socket_mode = config.socket_mode.clone().blast(Some(n)).ping_interval(None);
                config = config.for_benchmarks();
            }
            #[cfg(feature = "blast")]
            "--sm-blast-slack-shapes" => {
                config.socket_mode = config.socket_mode.clone().blast_slack_shapes(true);
            }
            #[cfg(feature = "blast")]
            "--sm-blast-rate" => {
                let v = value("--sm-blast-rate")?;
                let r: u64 = v.parse().map_err(|_| format!("invalid rate {v:?}"))?;
                config.socket_mode = config.socket_mode.clone().blast_rate(Some(r));
            }
            #[cfg(not(feature = "blast"))]
            "--blast" | "--blast-type-last" | "--blast-slack-shapes" | "--sm-blast" | "--sm-blast-rate" => {
                return Err(format!(
                    "{arg} needs the emulator built with the `blast` feature (--features blast)"
                ));
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok((config, extra))
}

/// Prints each envelope blast report as it is published.
#[cfg(feature = "blast")]
async fn print_blast_reports(emu: Arc<Emulator>) {
    let mut seen = 0u64;
    loop {
        if emu.wait_for_envelope_blast_reports(seen + 1, Duration::from_secs(3600)).await.is_err() {
            continue;
        }
        let (total, reports) = emu.envelope_blast_reports_total();
        // The records are a bounded ring: print the ones not printed yet that it still holds.
        let new = reports.len().min(usize::try_from(total - seen).unwrap_or(usize::MAX));
        for r in &reports[reports.len() - new..] {
            let line = serde_json::json!({
                "socket": r.socket.0, "sent": r.sent, "acked": r.acked,
                "ack_p50_us": r.ack_p50.as_micros() as u64, "ack_p99_us": r.ack_p99.as_micros() as u64,
                "ack_max_us": r.ack_max.as_micros() as u64,
            });
            println!("SM_BLAST_REPORT {line}");
        }
        seen = total;
    }
}

/// Sends `goodbye` to each connection `after` its admission. Dropping (aborting) this task
/// drops the pending per-connection timers with it.
async fn goodbye_each(emu: Arc<Emulator>, after: Duration) {
    let mut seen: HashSet<ConnectionId> = HashSet::new();
    let mut timers = tokio::task::JoinSet::new();
    loop {
        let next = emu.connection_count() + 1;
        if emu.wait_for_connections(next, Duration::from_secs(3600)).await.is_err() {
            continue;
        }
        while timers.try_join_next().is_some() {}
        for id in emu.open_connections() {
            if seen.insert(id) {
                let emu = emu.clone();
                timers.spawn(async move {
                    tokio::time::sleep(after).await;
                    emu.goodbye(id);
                });
            }
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let (config, extra) = match parse_args() {
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
    println!("SLACK_CHANNEL={}", emu.general_channel().as_str());
    println!("SLACK_APP_TOKEN={}", emu.app_token());
    println!("SLACK_SOCKET_MODE_URL={}", emu.socket_mode_url());
    println!("SLACK_SIGNING_SECRET={}", emu.signing_secret());
    println!("SLACK_CLIENT_ID={}", emu.oauth_client_id());
    println!("SLACK_CLIENT_SECRET={}", emu.oauth_client_secret());
    if let Some(url) = &extra.request_url
        && let Err(e) = emu.set_request_url(Some(url)).await
    {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    if let Some(pem) = emu.tls_root_cert_pem() {
        println!("# trust this certificate:\n{pem}");
    }
    let emu = Arc::new(emu);
    let goodbyes = extra.goodbye_after.map(|after| tokio::spawn(goodbye_each(emu.clone(), after)));
    let script = extra.socket_mode_script.then(|| tokio::spawn(bin_script::run(emu.clone())));
    #[cfg(feature = "blast")]
    let blast_reports = emu.is_envelope_blast().then(|| tokio::spawn(print_blast_reports(emu.clone())));
    #[cfg(not(feature = "blast"))]
    let blast_reports = None;
    let actions = extra.actions.then(|| tokio::spawn(bin_actions::run(emu.clone())));
    if tokio::signal::ctrl_c().await.is_err() {
        eprintln!("error: cannot listen for Ctrl-C");
    }
    for task in [goodbyes, script, blast_reports, actions].into_iter().flatten() {
        task.abort();
        let _ = task.await;
    }
    if let Ok(emu) = Arc::try_unwrap(emu) {
        emu.shutdown().await;
    }
    ExitCode::SUCCESS
}
