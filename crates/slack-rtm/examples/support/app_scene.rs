//! The `app` example's scene: the app runs on Socket Mode against a local emulator, a user
//! acts (the emulator's actor API), and every answer is checked in the emulator's records.

use serde_json::{Value, json};
use slack_rtm::SocketModeClient;
use slack_rtm::app::App;
use slack_rtm_emulator::{ActionSurface, Emulator, EmulatorConfig, WebCall};
use std::time::{Duration, Instant};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How long any step may take.
pub const T: Duration = Duration::from_secs(10);

/// Waits (up to [`T`]) until `found` finds something in the emulator's records.
pub async fn eventually<R>(what: &str, mut found: impl FnMut() -> Option<R>) -> Result<R, BoxError> {
    let until = Instant::now() + T;
    loop {
        if let Some(r) = found() {
            return Ok(r);
        }
        if Instant::now() > until {
            return Err(format!("not seen within {T:?}: {what}").into());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The argument `name` of a recorded Web API call, as text.
pub fn arg(call: &WebCall, name: &str) -> Option<String> {
    call.args.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim_matches('"').to_owned())
}

/// The successful `chat.postMessage` calls with this text (and thread, if given).
pub fn posted(emu: &Emulator, text: &str, thread: Option<&str>) -> Vec<WebCall> {
    let same_thread = |c: &WebCall| thread.is_none_or(|t| arg(c, "thread_ts").as_deref() == Some(t));
    let calls = emu.web_calls_of("chat.postMessage").into_iter();
    calls.filter(|c| c.error.is_none() && arg(c, "text").as_deref() == Some(text) && same_thread(c)).collect()
}

/// Plays the scene against `emu` (the app already running on it), checking each answer.
pub async fn act(emu: &Emulator, web: &slack_rtm::WebClient) -> Result<(), BoxError> {
    let alice = emu.user(&emu.second_user().user);
    let ch = emu.general_channel();
    let expect = |ok: bool, what: String| if ok { Ok(()) } else { Err(BoxError::from(what)) };

    let panic = alice.say(&ch, "panic")?;
    emu.wait_for_ack(panic.seq, T).await?;
    println!("8. `panic`: acked, its listener panics; what follows is still handled");

    let cmd = alice.run_command(&ch, "/echo", "hello there");
    let ack = emu.wait_for_ack(cmd.seq, T).await?.payload;
    expect(ack == Some(json!({"text": "hello there"})), format!("/echo acked {ack:?}"))?;
    println!("1. /echo hello there -> ack {}", ack.unwrap_or_default());

    let ping = alice.say(&ch, "ping 1")?;
    let ts = ping.ts.ok_or("a ts")?;
    eventually("pong in the ping's thread", || posted(emu, "pong", Some(ts.as_str())).pop()).await?;
    // The bot's own "ping" is never answered (checked at the end).
    let own = web.post_message(ch.clone(), "ping from the bot itself").await?.ts;
    println!("2. ping 1 -> pong in its thread ({ts})");

    let mention = alice.mention_bot(&ch, "hello")?;
    let (ts, hi) = (mention.ts.ok_or("a ts")?, format!("hi <@{}>", alice.id()));
    eventually("hi in the mention's thread", || posted(emu, &hi, Some(ts.as_str())).pop()).await?;
    println!("3. mention -> {hi} in its thread ({ts})");

    let blocks = json!([{"type": "actions", "block_id": "b", "elements": [
        {"type": "button", "action_id": "approve", "text": {"type": "plain_text", "text": "Approve"}, "value": "1"},
        {"type": "external_select", "action_id": "pick", "placeholder": {"type": "plain_text", "text": "Fruit"}}]}]);
    let msg = web.post_message(ch.clone(), "A request").blocks(blocks).await?.ts;
    let surface = ActionSurface::message(&ch, &msg);

    let typed = alice.type_in_select(&surface, "pick", "E")?;
    let options = emu.wait_for_options(typed.seq, T).await?;
    let values: Vec<&str> = options.iter().filter_map(|o| o["value"].as_str()).collect();
    expect(values == ["apple", "cherry", "date", "elderberry"], format!("options {values:?}"))?;
    println!("7. typed E in pick -> options {values:?}");

    let click = alice.click(&surface, "approve")?;
    let ack = emu.wait_for_ack(click.seq, T).await?.payload;
    expect(ack.is_none(), format!("approve acked {ack:?}"))?;
    let approved = format!("Approved by <@{}>", alice.id());
    let text = |m: Value| m["text"].as_str().map(str::to_owned);
    eventually("the message replaced", || emu.message(&ch, &msg).and_then(text).filter(|t| *t == approved))
        .await?;
    println!("4. approve -> empty ack, then the message replaced: {approved}");

    let shortcut = alice.global_shortcut("open_form");
    emu.wait_for_ack(shortcut.seq, T).await?;
    let view = eventually("the form opened", || emu.open_views(alice.id()).pop()).await?;
    let input = &view.view["blocks"][0];
    let shape = (&view.view["callback_id"], &input["block_id"], &input["element"]["action_id"]);
    expect(shape == (&json!("form"), &json!("name"), &json!("value")), format!("view {}", view.view))?;
    println!("5. open_form -> views.open {} (callback_id form)", view.id);

    let empty = alice.submit_view(&view.id, &[("value", "")])?;
    let ack = emu.wait_for_ack(empty.seq, T).await?.payload;
    let errors = json!({"response_action": "errors", "errors": {"name": "Please enter a name"}});
    expect(ack.as_ref() == Some(&errors), format!("empty form acked {ack:?}"))?;
    let named = alice.submit_view(&view.id, &[("value", "Ada")])?;
    let ack = emu.wait_for_ack(named.seq, T).await?.payload;
    expect(ack.is_none(), format!("the form acked {ack:?}"))?;
    // (Slack takes a user id as the channel: the app's DM with them. The emulator records the
    // call but answers `channel_not_found`, so the call itself is what is checked.)
    let thanks = |c: &WebCall| {
        arg(c, "channel").as_deref() == Some(alice.id().as_str())
            && arg(c, "text").as_deref() == Some("Thanks, Ada")
    };
    eventually("thanks to the user", || emu.web_calls_of("chat.postMessage").into_iter().find(thanks))
        .await?;
    println!("6. form: empty -> errors ack; Ada -> empty ack and Thanks, Ada to the user");

    let pongs = posted(emu, "pong", None);
    expect(pongs.len() == 1, format!("{} pongs", pongs.len()))?;
    expect(posted(emu, "pong", Some(own.as_str())).is_empty(), "the bot answered itself".into())?;
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
    let web = running.dispatcher().web().clone();
    let result = act(&emu, &web).await;
    let finished = running.shutdown(Duration::from_secs(5)).await;
    emu.shutdown().await;
    result?;
    println!("app: all 8 behaviours checked in the emulator's records (listeners finished: {finished})");
    Ok(())
}
