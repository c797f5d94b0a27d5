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
    tokio::spawn(control::serve(emu.clone(), listener));
    let bot = emu
        .add_token(&emu.bot_user(), TokenFlavor::Granular)
        .ok_or_else(|| Failure::other("the emulator has no bot user"))?;
    let (api, classic, app, channel) = (emu.api_url(), emu.token(), emu.app_token(), emu.general_channel());
    println!("api url         {api}");
    println!("bot token       {bot}");
    println!("                (an app with granular permissions, as every app made today: Web API and");
    println!(
        "                Socket Mode; rtm.connect refuses it with not_allowed_token_type, as Slack does)"
    );
    println!("classic token   {classic}");
    println!("                (a classic app's bot token: RTM works too)");
    println!("app token       {app}");
    println!("channel         {channel}");
    println!("socket mode url {}", emu.socket_mode_url());
    println!("control url     {control}");
    println!("                (make users act: slack-rtm emulator say|mention|command|click|submit|home,");
    println!("                and see what the app did: slack-rtm emulator posted|acks)");
    if let Some(pem) = emu.tls_root_cert_pem() {
        println!("certificate (trust it to use https):\n{pem}");
    }
    println!();
    println!("try, in another terminal:");
    println!("  export SLACK_API_URL={api} SLACK_BOT_TOKEN={bot} SLACK_APP_TOKEN={app}");
    println!("  slack-rtm send --channel {channel} --text hello     # Web API");
    println!("  slack-rtm socket tail                                 # Socket Mode");
    println!("  SLACK_BOT_TOKEN={classic} slack-rtm tail   # RTM");
    println!("and, as a user of the workspace:");
    println!("  export SLACK_RTM_EMULATOR={control}");
    println!("  slack-rtm emulator mention \"hello bot\"");
    println!("  slack-rtm emulator command /deploy staging");
    println!("  slack-rtm emulator posted");
    eprintln!("slack-rtm: emulator running; Ctrl-C to stop");
    let _ = tokio::signal::ctrl_c().await;
    match Arc::try_unwrap(emu) {
        Ok(emu) => emu.shutdown().await,
        // A control request is being answered: its sockets close with the process.
        Err(_) => tracing::debug!("the emulator is in use by a control request; not waiting"),
    }
    Ok(exit::OK)
}
