//! The `app` example's scene: the app runs on Socket Mode against a local emulator, a user
//! acts, and every answer is checked in the emulator's records.

use serde_json::{Value, json};
use slack_rtm::SocketModeClient;
use slack_rtm::app::App;
use slack_rtm_emulator::{Emulator, EmulatorConfig};
use std::time::{Duration, Instant};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Waits (up to 10 s) until `found` finds something in the emulator's records.
pub async fn eventually<T>(what: &str, mut found: impl FnMut() -> Option<T>) -> Result<T, BoxError> {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(t) = found() {
            return Ok(t);
        }
        if Instant::now() > until {
            return Err(format!("not seen within 10 s: {what}").into());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The argument `name` of a recorded Web API call, as text.
pub fn arg(call: &slack_rtm_emulator::WebCall, name: &str) -> Option<String> {
    call.args.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim_matches('"').to_owned())
}

/// A `chat.postMessage` with this text (and thread, if given).
pub fn posted(emu: &Emulator, text: &str, thread: Option<&str>) -> Option<slack_rtm_emulator::WebCall> {
    emu.web_calls_of("chat.postMessage").into_iter().find(|c| {
        c.error.is_none()
            && arg(c, "text").as_deref() == Some(text)
            && thread.is_none_or(|t| arg(c, "thread_ts").as_deref() == Some(t))
    })
}

/// The ack payload recorded for the envelope numbered `seq`.
pub fn ack_of(emu: &Emulator, seq: u64) -> Option<Option<Value>> {
    let ids: Vec<String> = emu
        .envelopes()
        .into_iter()
        .find(|e| e.seq == seq)?
        .attempts
        .into_iter()
        .map(|a| a.envelope_id)
        .collect();
    emu.acks().into_iter().find(|a| ids.contains(&a.envelope_id)).map(|a| a.payload)
}

/// Plays the scene against `emu` (the app already running on it); one line per behaviour.
pub async fn act(emu: &Emulator) -> Result<(), BoxError> {
    let (alice, general) = (emu.second_user(), emu.general_channel());
    let (user, team) = (alice.user.clone(), emu.team().id);

    let panic_ts = emu.post_message(&general, &user, "panic").ok_or("post")?;
    println!("8. `panic` posted ({panic_ts}): its listener panics, the app goes on");

    let seq = emu.slash_command(&user, &general, "/echo", "hello there");
    let ack = eventually("the /echo ack", || ack_of(emu, seq)).await?;
    if ack != Some(json!({"text": "hello there"})) {
        return Err(format!("/echo acked {ack:?}").into());
    }
    println!("1. /echo hello there -> ack {}", ack.unwrap_or_default());

    let ts = emu.post_message(&general, &user, "ping 1").ok_or("post")?;
    eventually("pong in the thread", || posted(emu, "pong", Some(ts.as_str()))).await?;
    println!("2. ping 1 ({ts}) -> pong in its thread");

    let bot = emu.bot_user();
    let ts = emu.post_message(&general, &user, &format!("hello <@{bot}>")).ok_or("post")?;
    let hi = format!("hi <@{user}>");
    eventually("hi in the thread", || posted(emu, &hi, Some(ts.as_str()))).await?;
    println!("3. mention ({ts}) -> {hi} in its thread");

    let _ = team;
    Ok(())
}

/// Runs `app` on a fresh emulator, plays the scene, stops.
pub async fn play(app: App) -> Result<(), BoxError> {
    let emu = Emulator::start(EmulatorConfig::default()).await?;
    let builder = SocketModeClient::builder(emu.app_token())
        .web_token(emu.token())
        .api_url(&emu.api_url())
        .allow_insecure(true);
    let running = app.start_socket_mode(builder).await?;
    let result = act(&emu).await;
    let finished = running.shutdown(Duration::from_secs(5)).await;
    emu.shutdown().await;
    result?;
    println!("app: every behaviour answered (listeners finished: {finished})");
    Ok(())
}
