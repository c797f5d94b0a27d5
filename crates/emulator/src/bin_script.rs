//! Part of the `slack-rtm-emulator` binary (not the library): `--socket-mode-script`, the
//! emulator's side of `cargo xtask conformance` for Socket Mode clients written in other
//! languages.
//!
//! Once a first Socket Mode socket is open it makes, one at a time, each waiting for its ack:
//! a `message` (`events_api`), a slash command `/conformance`, a `block_actions`
//! (`interactive`), a `message` whose text contains `ack-late` (the client withholds the first
//! delivery's ack and must see a redelivery); then it refreshes the socket (`warning`,
//! `refresh_requested`, close) and, on the client's next socket, makes a last `message`
//! (`after-refresh`). It prints one `SOCKET_MODE_STEP <name> <ok|fail> [detail]` line per step
//! and finally `SOCKET_MODE_RECORD <json>`: the acks and deliveries the emulator recorded.

use serde_json::json;
use slack_rtm_emulator::{Emulator, SocketTarget};
use std::sync::Arc;
use std::time::Duration;

const STEP_WAIT: Duration = Duration::from_secs(20);

fn step(name: &str, ok: bool, detail: &str) {
    println!("SOCKET_MODE_STEP {name} {} {detail}", if ok { "ok" } else { "fail" });
}

/// Waits until envelope `seq` was acked (any delivery).
async fn acked(emu: &Emulator, seq: u64) -> bool {
    let deadline = tokio::time::Instant::now() + STEP_WAIT;
    while tokio::time::Instant::now() < deadline {
        if emu.envelopes().iter().any(|e| e.seq == seq && e.acked) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// The envelope made by the last call, found by its number.
fn last_seq(emu: &Emulator) -> u64 {
    emu.envelopes().last().map_or(0, |e| e.seq)
}

pub(crate) async fn run(emu: Arc<Emulator>) {
    if emu.wait_for_sockets(1, Duration::from_secs(3600)).await.is_err() {
        return;
    }
    // Let the client handle `hello` first.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (ch, alice) = (emu.general_channel(), emu.second_user().user);

    emu.post_message(&ch, &alice, "conformance: events_api");
    // A message is one envelope (no mention of the bot).
    let seq = last_seq(&emu);
    step("events_api-acked", acked(&emu, seq).await, "");
    let seq = emu.send_slash_command(&alice, &ch, "/conformance", "hello");
    step("slash_commands-acked", acked(&emu, seq).await, "");
    let seq = emu.send_block_action(&alice, &ch, "conformance_button", "b1", "clicked");
    step("interactive-acked", acked(&emu, seq).await, "");
    emu.post_message(&ch, &alice, "conformance: ack-late");
    let seq = last_seq(&emu);
    let ok = acked(&emu, seq).await;
    let rec = emu.envelopes().into_iter().find(|e| e.seq == seq);
    let redelivered_acked = rec
        .as_ref()
        .is_some_and(|r| r.attempts.len() >= 2 && r.attempts.iter().skip(1).any(|a| a.acked_at.is_some()));
    step(
        "redelivery-acked",
        ok && redelivered_acked,
        &format!("attempts={}", rec.map_or(0, |r| r.attempts.len())),
    );

    let first = emu.open_sockets();
    emu.refresh_socket(SocketTarget::All);
    let deadline = tokio::time::Instant::now() + STEP_WAIT;
    let mut replaced = false;
    while tokio::time::Instant::now() < deadline {
        if emu.open_sockets().iter().any(|s| !first.contains(s)) {
            replaced = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    step("refresh-reconnected", replaced, "");
    tokio::time::sleep(Duration::from_millis(500)).await;
    emu.post_message(&ch, &alice, "conformance: after-refresh");
    let seq = last_seq(&emu);
    step("after-refresh-acked", acked(&emu, seq).await, "");

    let acks: Vec<_> = emu
        .acks()
        .iter()
        .map(|a| {
            json!({"envelope_id": a.envelope_id, "socket": a.socket.0, "late": a.late,
                   "delay_ms": a.delay.map(|d| d.as_millis() as u64), "payload": a.payload})
        })
        .collect();
    let envelopes: Vec<_> = emu
        .envelopes()
        .iter()
        .map(|e| {
            json!({"type": e.envelope_type, "event_id": e.event_id, "acked": e.acked,
                   "attempts": e.attempts.iter().map(|a| json!({"socket": a.socket.0, "retry_attempt": a.retry_attempt,
                   "acked": a.acked_at.is_some()})).collect::<Vec<_>>()})
        })
        .collect();
    let sockets: Vec<_> = emu
        .sockets()
        .iter()
        .map(|s| json!({"id": s.id.0, "open": s.is_open(), "disconnects": s.disconnects, "client_pings": s.client_pings}))
        .collect();
    println!("SOCKET_MODE_RECORD {}", json!({"acks": acks, "envelopes": envelopes, "sockets": sockets}));
}
