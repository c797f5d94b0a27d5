//! `slack-rtm emulator`: the local Slack emulator, standalone. It prints what a newcomer needs:
//! the API URL, a bot token like every app made today gets (granular permissions: Web API and
//! Socket Mode, refused by `rtm.connect` as Slack refuses it), a classic bot token for RTM, an
//! app-level token, the general channel, and commands to paste.

use crate::cli::exit;
use crate::commands::Failure;
use slack_rtm::emulator::{Emulator, EmulatorConfig, TokenFlavor};

/// Runs the emulator until Ctrl-C.
pub async fn run(port: u16, tls: bool) -> Result<u8, Failure> {
    let emu = Emulator::start(EmulatorConfig::default().port(port).tls(tls))
        .await
        .map_err(|e| Failure::other(format!("cannot start the emulator: {e}")))?;
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
    if let Some(pem) = emu.tls_root_cert_pem() {
        println!("certificate (trust it to use https):\n{pem}");
    }
    println!();
    println!("try, in another terminal:");
    println!("  export SLACK_API_URL={api} SLACK_BOT_TOKEN={bot} SLACK_APP_TOKEN={app}");
    println!("  slack-rtm send --channel {channel} --text hello     # Web API");
    println!("  slack-rtm socket tail                                 # Socket Mode");
    println!("  SLACK_BOT_TOKEN={classic} slack-rtm tail   # RTM");
    eprintln!("slack-rtm: emulator running; Ctrl-C to stop");
    let _ = tokio::signal::ctrl_c().await;
    emu.shutdown().await;
    Ok(exit::OK)
}
