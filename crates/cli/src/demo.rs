//! `slack-rtm demo`: the embedded emulator, a bot that answers, simulated users who talk, type
//! and change presence, a `goodbye`-initiated reconnect, live output, then a summary.

use crate::cli::exit;
use crate::commands::Failure;
use crate::output::{Printer, Style};
use slack_rtm::Client;
use slack_rtm::emulator::{Emulator, EmulatorConfig, Presence, Target};
use slack_rtm::rtm::ClientMessage;
use slack_rtm::rtm::Event;
use slack_rtm::rtm::OutgoingMessage;
use slack_rtm::rtm::RtmAck;
use slack_rtm::rtm::SessionEvent;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// What the bot saw and did, compared at the end with what the emulator recorded.
#[derive(Default)]
struct Tally {
    events: BTreeMap<String, u64>,
    replies_sent: u64,
    acks: u64,
    failed: u64,
    ack_rtts: Vec<Duration>,
    ping_rtts: Vec<Duration>,
    reconnects: u64,
}

/// Whether the bot should answer this message: a plain message from a user other than itself,
/// and not from a bot (two bots answering each other would never stop).
fn is_from_someone_else(m: &slack_rtm::types::event::Message, me: Option<&slack_rtm::types::UserId>) -> bool {
    m.user.is_some() && m.user.as_ref() != me && m.bot_id.is_none() && m.subtype.is_none()
}

/// A finished request of the bot.
enum Done {
    /// A reply's acknowledgement (with its round trip) or failure.
    Ack(Result<Duration, slack_rtm::rtm::SendError>),
    /// An application-level ping's round trip.
    Ping(Duration),
}

impl Tally {
    fn record(&mut self, done: Done) {
        match done {
            Done::Ack(Ok(rtt)) => self.ack_rtts.push(rtt),
            Done::Ack(Err(_)) => self.failed += 1,
            Done::Ping(rtt) => self.ping_rtts.push(rtt),
        }
    }
}

fn stats(v: &mut [Duration]) -> serde_json::Value {
    if v.is_empty() {
        return serde_json::json!(null);
    }
    v.sort();
    let ms = |d: Duration| (d.as_secs_f64() * 1e6).round() / 1e3;
    serde_json::json!({"count": v.len(), "min_ms": ms(v[0]), "median_ms": ms(v[v.len() / 2]), "max_ms": ms(v[v.len() - 1])})
}

/// `slack-rtm demo`: both protocols one after the other (half the time each), or one of them.
pub async fn run(duration: Duration, json: bool, rtm: bool, socket_mode: bool) -> Result<u8, Failure> {
    match (rtm, socket_mode) {
        (true, false) => run_rtm(duration, json).await,
        (false, true) => crate::demo_socket::run(duration, json).await,
        _ => {
            let half = duration / 2;
            if !json {
                println!("── RTM: a classic app, events and replies over one socket ──");
            }
            let code = run_rtm(half, json).await?;
            if code != exit::OK {
                return Ok(code);
            }
            if !json {
                println!();
                println!(
                    "── Socket Mode: an app made today, events over sockets, replies in acks and through the Web API ──"
                );
            }
            crate::demo_socket::run(duration.saturating_sub(half), json).await
        }
    }
}

async fn run_rtm(duration: Duration, json: bool) -> Result<u8, Failure> {
    let emu = std::sync::Arc::new(
        Emulator::start(EmulatorConfig::default())
            .await
            .map_err(|e| Failure::other(format!("cannot start the embedded emulator: {e}")))?,
    );
    let channel = emu.general_channel();
    let alice = emu.second_user();
    let bob = emu.add_user("bob");
    eprintln!(
        "slack-rtm demo: local Slack at {} — running for {} s (Ctrl-C to stop early)",
        emu.api_url(),
        duration.as_secs()
    );

    let connect = |token: &str| {
        Client::builder(token)
            .api_url(&emu.api_url())
            .allow_insecure(true)
            .batch_presence_aware(true)
            .connect()
    };
    let (bot, mut bot_events) = connect(&emu.token()).await?;
    let (alice_client, mut alice_events) = connect(&alice.token).await?;
    let (bob_client, mut bob_events) = connect(&bob.token).await?;
    // The simulated users don't read what they receive; keep their streams drained.
    tokio::spawn(async move { while alice_events.next().await.is_some() {} });
    tokio::spawn(async move { while bob_events.next().await.is_some() {} });

    if let Err(e) = bot.subscribe_presence(vec![alice.user.clone(), bob.user.clone()]).await {
        tracing::warn!("presence subscription failed: {e}");
    }

    // The simulated users: talk, type, change presence; one `goodbye` halfway.
    let script = {
        let (channel, alice_user, bob_user) = (channel.clone(), alice.user.clone(), bob.user.clone());
        let emu_handle = emu.clone();
        tokio::spawn(async move {
            let lines = [
                "hello bot, are you there?",
                "what's the weather like in the emulator?",
                "see https://example.com/docs for the spec",
                "typing before talking is polite",
                "one more message for the road",
            ];
            let start = Instant::now();
            let mut i = 0usize;
            while start.elapsed() < duration.saturating_sub(Duration::from_secs(2)) {
                let (who, client, user) = if i.is_multiple_of(2) {
                    ("alice", &alice_client, &alice_user)
                } else {
                    ("bob", &bob_client, &bob_user)
                };
                let _ = client.typing(channel.as_str()).await;
                tokio::time::sleep(Duration::from_millis(600)).await;
                let text = format!("{} ({who})", lines[i % lines.len()]);
                let _ = client.send_message(channel.as_str(), text).await;
                let presence = if i % 4 < 2 { Presence::Away } else { Presence::Active };
                emu_handle.set_presence(user, presence);
                i += 1;
                tokio::time::sleep(Duration::from_millis(1400)).await;
            }
            let _ = alice_client.shutdown().await;
            let _ = bob_client.shutdown().await;
        })
    };

    // Halfway through, the server says `goodbye` to everyone: the bot reconnects
    // make-before-break while the users keep talking.
    let goodbye = {
        let emu_handle = emu.clone();
        tokio::spawn(async move {
            tokio::time::sleep(duration / 2).await;
            emu_handle.goodbye(Target::All);
        })
    };

    let mut printer = Printer::new(Style::human(crate::output::use_color(std::io::stdout().is_terminal())));
    let mut tally = Tally::default();
    let deadline = tokio::time::Instant::now() + duration;
    let mut ping_timer = tokio::time::interval(Duration::from_secs(3));
    let (ack_tx, mut ack_rx) = tokio::sync::mpsc::unbounded_channel::<Done>();
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let me = bot.self_info().map(|s| s.id);
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => break,
            _ = &mut ctrl_c => { eprintln!("slack-rtm demo: interrupted"); break }
            _ = ping_timer.tick() => {
                let bot = bot.clone();
                let tx = ack_tx.clone();
                tokio::spawn(async move {
                    if let Ok(rtt) = bot.ping().await {
                        let _ = tx.send(Done::Ping(rtt));
                    }
                });
            }
            Some(done) = ack_rx.recv() => tally.record(done),
            ev = bot_events.next() => {
                let Some(ev) = ev else { break };
                match ev {
                    SessionEvent::Rtm(event) => {
                        *tally.events.entry(event.event_type().to_owned()).or_default() += 1;
                        printer.event(&event);
                        if let Event::Message(m) = &event
                            && is_from_someone_else(m, me.as_ref())
                            && let (Some(ch), Some(ts)) = (m.channel.clone(), m.ts.clone())
                        {
                            tally.replies_sent += 1;
                            let reply = format!("got it: “{}”", m.text.as_deref().unwrap_or(""));
                            let msg = OutgoingMessage::new(ch, reply).in_thread(ts);
                            // Queued right here, so the shutdown at the end flushes it.
                            let sent = Instant::now();
                            match bot.session().try_submit(ClientMessage::Message(msg)) {
                                Ok(pending) => {
                                    let tx = ack_tx.clone();
                                    tokio::spawn(async move {
                                        let r = match pending.await {
                                            Ok(RtmAck::Posted { .. }) => Ok(sent.elapsed()),
                                            Ok(_) => Err(slack_rtm::rtm::SendError::Unconfirmed),
                                            Err(e) => Err(e),
                                        };
                                        let _ = tx.send(Done::Ack(r));
                                    });
                                }
                                Err(e) => tally.record(Done::Ack(Err(e))),
                            }
                        }
                    }
                    SessionEvent::Connected { reconnect: true, .. } => {
                        tally.reconnects += 1;
                        printer.lifecycle(&ev);
                    }
                    SessionEvent::Stopped { reason } if reason.is_error() => {
                        return Err(Failure::from(slack_rtm::Error::from(reason)));
                    }
                    other => printer.lifecycle(&other),
                }
            }
        }
    }
    script.abort();
    goodbye.abort();
    bot.shutdown().await;
    // The stream ends once the close frame is written.
    let _ = tokio::time::timeout(crate::commands::CLOSE_WAIT, async {
        while bot_events.next().await.is_some() {}
    })
    .await;
    // Collect acks still arriving from the shutdown flush.
    drop(ack_tx);
    while let Some(done) = ack_rx.recv().await {
        tally.record(done);
    }
    tally.acks = tally.ack_rtts.len() as u64;
    let mut rtts = std::mem::take(&mut tally.ack_rtts);

    let bot_user = emu.bot_user();
    let posted = emu.posted_messages();
    let posted_by_bot = posted.iter().filter(|m| m.user == bot_user).count();
    let calls = emu.rtm_connect_calls();
    let bot_calls = calls.iter().filter(|c| c.user.as_ref() == Some(&bot_user)).count();
    let bot_connections = emu.connections().iter().filter(|c| c.user == bot_user).count();
    let summary = serde_json::json!({
        "seconds": duration.as_secs_f64(),
        "events_by_type": tally.events,
        "events_total": tally.events.values().sum::<u64>(),
        "replies_sent": tally.replies_sent,
        "acks": tally.acks,
        "failed": tally.failed,
        "reconnects": tally.reconnects,
        "ack_round_trip": stats(&mut rtts),
        "ping_round_trip": stats(&mut tally.ping_rtts),
        "emulator": {
            "messages_posted_by_bot": posted_by_bot,
            "messages_posted_total": posted.len(),
            "rtm_connect_calls": emu.rtm_connect_call_count(),
            "rtm_connect_calls_by_bot": bot_calls,
            "connections": emu.connection_count(),
            "connections_by_bot": bot_connections,
        },
    });
    if let Ok(emu) = std::sync::Arc::try_unwrap(emu) {
        emu.shutdown().await;
    }
    if json {
        println!("{summary}");
    } else {
        let rtt = |v: &serde_json::Value| match v {
            serde_json::Value::Null => "none".to_owned(),
            v => format!(
                "min {} ms, median {} ms, max {} ms ({} samples)",
                v["min_ms"], v["median_ms"], v["max_ms"], v["count"]
            ),
        };
        println!();
        println!("── summary ({} s) ──────────────────────────────────", duration.as_secs());
        println!("  events received by the bot, by type:");
        for (ty, n) in &tally.events {
            println!("    {ty:<24} {n}");
        }
        println!(
            "  replies sent by the bot    {}  (acknowledged {}, failed {})",
            tally.replies_sent, tally.acks, tally.failed
        );
        println!("  emulator recorded          {posted_by_bot} messages from the bot");
        println!("  ack round trip             {}", rtt(&summary["ack_round_trip"]));
        println!("  ping round trip            {}", rtt(&summary["ping_round_trip"]));
        println!("  reconnects of the bot      {}", tally.reconnects);
        println!(
            "  rtm.connect calls          {bot_calls} by the bot, {} in all (3 clients)",
            summary["emulator"]["rtm_connect_calls"]
        );
    }
    Ok(exit::OK)
}

#[cfg(test)]
mod bot_filter_tests {
    use super::*;
    use slack_rtm::types::UserId;
    use slack_rtm::types::event::Message;

    #[test]
    fn answers_people_only() {
        let me = UserId::new("UBOT");
        let person = Message { user: Some(UserId::new("U1")), ..Message::default() };
        assert!(is_from_someone_else(&person, Some(&me)));
        let ourselves = Message { user: Some(me.clone()), ..Message::default() };
        assert!(!is_from_someone_else(&ourselves, Some(&me)));
        // Another bot user: it has a user id too, and a bot id.
        let other_bot =
            Message { user: Some(UserId::new("U2")), bot_id: Some("B2".into()), ..Message::default() };
        assert!(!is_from_someone_else(&other_bot, Some(&me)));
    }
}
