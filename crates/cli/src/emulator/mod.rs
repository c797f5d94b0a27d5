//! `slack-rtm emulator`: the local Slack emulator, standalone. It prints what a newcomer needs:
//! the API URL, a bot token like every app made today gets (granular permissions: Web API and
//! Socket Mode, refused by `rtm.connect` as Slack refuses it), a classic bot token for RTM, an
//! app-level token, the general channel, and commands to paste.

mod client;
mod control;

pub use client::{EmulatorAction, run as act};

use crate::cli::exit;
use crate::commands::Failure;
use slack_rtm::emulator::{Emulator, EmulatorConfig, TokenFlavor};
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::Arc;

/// Runs the emulator until Ctrl-C, with its control API on `control_port` (0: any free port).
pub async fn run(port: u16, tls: bool, control_port: u16) -> Result<u8, Failure> {
    let emu = Emulator::start(EmulatorConfig::default().port(port).tls(tls))
        .await
        .map_err(|e| Failure::other(format!("cannot start the emulator: {e}")))?;
    let emu = Arc::new(emu);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", control_port)).await.map_err(|e| {
        Failure::other(format!("cannot listen for the control API on port {control_port}: {e}"))
    })?;
    let control = format!(
        "http://{}/",
        listener.local_addr().map_err(|e| Failure::other(format!("the control API's address: {e}")))?
    );
    let server = tokio::spawn(control::serve(emu.clone(), listener));
    let bot = emu
        .add_token(&emu.bot_user(), TokenFlavor::Granular)
        .ok_or_else(|| Failure::other("the emulator has no bot user"))?;
    let (api, classic, app, channel) = (emu.api_url(), emu.token(), emu.app_token(), emu.general_channel());
    // Ctrl-C from now on stops the emulator cleanly (the handler is installed here).
    let ctrl_c = crate::commands::interrupted();
    // Written at once, and a closed stdout (`| head`) does not stop the emulator.
    let mut text = String::new();
    macro_rules! out {
        ($($t:tt)*) => {
            let _ = writeln!(text, $($t)*);
        };
    }
    out!("api url         {api}");
    out!("bot token       {bot}");
    out!("                (an app with granular permissions, as every app made today: Web API and");
    out!("                Socket Mode; rtm.connect refuses it with not_allowed_token_type, as Slack does)");
    out!("classic token   {classic}");
    out!("                (a classic app's bot token: RTM works too)");
    out!("app token       {app}");
    out!("channel         {channel}");
    out!("socket mode url {}", emu.socket_mode_url());
    out!("control url     {control}");
    out!("                (make users act: slack-rtm emulator say|mention|command|click|submit|home,");
    out!("                and see what the app did: slack-rtm emulator posted|acks)");
    if let Some(pem) = emu.tls_root_cert_pem() {
        out!("certificate (trust it to use https):\n{pem}");
    }
    out!();
    out!("try, in another terminal:");
    out!("  export SLACK_API_URL={api} SLACK_BOT_TOKEN={bot} SLACK_APP_TOKEN={app}");
    out!("  slack-rtm send --channel {channel} --text hello     # Web API");
    out!("  slack-rtm socket tail                                 # Socket Mode");
    out!("  SLACK_BOT_TOKEN={classic} slack-rtm tail   # RTM");
    out!("and, as a user of the workspace:");
    out!("  export SLACK_RTM_EMULATOR={control}");
    out!("  slack-rtm emulator mention \"hello bot\"");
    out!("  slack-rtm emulator command /deploy staging");
    out!("  slack-rtm emulator posted");
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush());
    drop(stdout);
    eprintln!("slack-rtm: emulator running; Ctrl-C to stop");
    ctrl_c.await;
    // Stop taking control requests, let those under way finish (briefly), then close every
    // socket with a close frame.
    server.abort();
    let _ = server.await;
    let mut emu = emu;
    for _ in 0..20 {
        match Arc::try_unwrap(emu) {
            Ok(only) => {
                only.shutdown().await;
                return Ok(exit::OK);
            }
            Err(shared) => emu = shared,
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tracing::debug!("a control request is still under way; its sockets close with the process");
    Ok(exit::OK)
}
