//! A presence watcher with batched presence events.
//!
//! ```text
//! cargo run -p slack-rtm --example presence_watcher                       # scripted, local emulator
//! SLACK_BOT_TOKEN=xoxb-… cargo run -p slack-rtm --example presence_watcher U123 U456   # for real
//! ```
//!
//! The client connects with `batch_presence_aware` (one `presence_change` may name several
//! users) and `presence_sub` (only subscribed users are reported; the subscription is sent again
//! by the session after every reconnect). It subscribes to the users, asks for their current
//! presence once with `query_presence`, then prints every change as `presence <user> <state>`.
//!
//! Without `SLACK_BOT_TOKEN` (or `SLACK_TOKEN`), it starts the emulator, watches `alice` and `bob`, makes both go away
//! and come back, checks that it saw each change, and exits. With `SLACK_BOT_TOKEN` it watches the
//! user ids given as arguments until Ctrl-C.

use slack_rtm::rtm::Event;
use slack_rtm::rtm::SessionEvent;
use slack_rtm::types::UserId;
use slack_rtm::types::event::Presence;
use slack_rtm::{Client, Events};
use slack_rtm_emulator::{Emulator, EmulatorConfig};
use std::error::Error;
use std::time::Duration;

type BoxResult<T> = Result<T, Box<dyn Error + Send + Sync>>;

/// Decides, from the changes seen so far, when to stop watching.
type StopWhen = dyn Fn(&[(UserId, Presence)]) -> bool + Send + Sync;

#[tokio::main]
async fn main() -> BoxResult<()> {
    match std::env::var("SLACK_BOT_TOKEN").or_else(|_| std::env::var("SLACK_TOKEN")) {
        Ok(token) if !token.trim().is_empty() => {
            let users: Vec<UserId> = std::env::args().skip(1).map(UserId::new).collect();
            if users.is_empty() {
                return Err("give the user ids to watch as arguments".into());
            }
            let mut builder = Client::builder(token.trim());
            if let Ok(url) = std::env::var("SLACK_API_URL") {
                builder = builder.api_url(&url).allow_insecure(url.starts_with("http://"));
            }
            let (client, events) = builder.batch_presence_aware(true).presence_sub(true).connect().await?;
            client.subscribe_presence(users.clone()).await?;
            client.query_presence(users).await?;
            let mut events = events;
            let watcher = tokio::spawn(async move { watch(&mut events, None).await.map(|_| ()) });
            tokio::signal::ctrl_c().await?;
            client.shutdown().await;
            watcher.await??;
            Ok(())
        }
        _ => scripted().await,
    }
}

/// Prints presence changes until the stream ends, or until `until` returns true for the
/// changes seen so far. Returns every (user, presence) seen.
async fn watch(events: &mut Events, until: Option<&StopWhen>) -> BoxResult<Vec<(UserId, Presence)>> {
    let mut seen = Vec::new();
    while let Some(event) = events.next().await {
        match event {
            SessionEvent::Rtm(Event::PresenceChange(change)) => {
                // One event, one or many users: the same type for both wire forms.
                for user in &change.users {
                    println!("presence {user} {}", change.presence.as_str());
                    seen.push((user.clone(), change.presence.clone()));
                }
                if until.is_some_and(|done| done(&seen)) {
                    break;
                }
            }
            SessionEvent::Stopped { reason } if reason.is_error() => return Err(reason.into()),
            SessionEvent::Connected { reconnect: true, .. } => eprintln!("reconnected; subscription renewed"),
            _ => {}
        }
    }
    Ok(seen)
}

async fn scripted() -> BoxResult<()> {
    let emu = Emulator::start(EmulatorConfig::default()).await?;
    let alice = emu.second_user().user;
    let bob = emu.add_user("bob").user;
    let (client, events) = Client::builder(emu.token())
        .api_url(&emu.api_url())
        .allow_insecure(true)
        .batch_presence_aware(true)
        .connect()
        .await?;
    let mut events = events;
    client.subscribe_presence([alice.clone(), bob.clone()]).await?;
    // Like Slack, the server first reports the current presence of newly subscribed users;
    // once that arrived, the subscription is in force.
    let both = {
        let (alice, bob) = (alice.clone(), bob.clone());
        move |seen: &[(UserId, Presence)]| {
            seen.iter().any(|(u, _)| *u == alice) && seen.iter().any(|(u, _)| *u == bob)
        }
    };
    let initial = tokio::time::timeout(Duration::from_secs(5), watch(&mut events, Some(&both)))
        .await
        .map_err(|_| "the initial presence report did not arrive in time")??;
    println!("initial report: {} users", initial.len());

    let script = [
        (alice.clone(), Presence::Away),
        (bob.clone(), Presence::Away),
        (alice.clone(), Presence::Active),
        (bob.clone(), Presence::Active),
    ];
    for (user, presence) in &script {
        emu.set_presence(user, presence.clone()).ok_or("unknown user")?;
    }
    let want = script.len();
    let done = move |seen: &[(UserId, Presence)]| seen.len() >= want;
    let seen = tokio::time::timeout(Duration::from_secs(5), watch(&mut events, Some(&done)))
        .await
        .map_err(|_| "the presence changes did not arrive in time")??;
    if seen != script {
        return Err(format!("expected {script:?}, saw {seen:?}").into());
    }
    client.shutdown().await;
    println!("presence_watcher: saw all {} presence changes, in order", script.len());
    emu.shutdown().await;
    Ok(())
}
