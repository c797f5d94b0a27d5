//! A Web API client for an emulator (shared by the Web API test files).

use slack_rtm::{Client, WebClient};
use slack_rtm_emulator::Emulator;

/// A client for `token` against `emu` over loopback, paced only by 429s.
pub fn web_client(emu: &Emulator, token: String) -> WebClient {
    Client::builder(token)
        .api_url(&emu.api_url())
        .allow_insecure(true)
        .proxy_from_env(false)
        .build_web()
        .expect("a web client")
        .without_pacing()
}
