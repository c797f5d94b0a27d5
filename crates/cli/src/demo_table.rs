//! The summary of `demo --socket-mode` as a table for a person (`--json` prints the object).

use serde_json::Value;
use std::time::Duration;

/// Prints the bot's counts beside the emulator's record, one row per measure.
pub fn print_socket_summary(summary: &Value, duration: Duration) {
    let (bot, emu) = (&summary["bot"], &summary["emulator"]);
    let n = |v: &Value| v.as_u64().map(|n| n.to_string()).unwrap_or_else(|| "-".to_owned());
    let envelopes: u64 =
        bot["envelopes"].as_object().into_iter().flatten().filter_map(|(_, v)| v.as_u64()).sum();
    let rows = [
        ("envelopes", envelopes.to_string(), n(&emu["envelopes"])),
        ("acks", n(&bot["acks"]), n(&emu["acks"])),
        ("acks with a payload", n(&bot["acks_with_payload"]), n(&emu["acks_with_payload"])),
        ("Web API replies", n(&bot["web_replies"]), n(&emu["chat_post_message_calls"])),
        (
            "failed acks / replies",
            format!("{} / {}", n(&bot["acks_failed"]), n(&bot["web_failed"])),
            "-".into(),
        ),
        ("late acks", "-".into(), n(&emu["late_acks"])),
        ("redeliveries", "-".into(), n(&emu["redeliveries"])),
        ("envelopes never acked", "-".into(), n(&emu["unacked"])),
        ("sockets opened", "-".into(), n(&emu["sockets_opened"])),
    ];
    println!();
    println!("── summary ({} s) ──────────────────────────────────", duration.as_secs());
    println!("  {:<24} {:>10} {:>14}", "", "the bot", "the emulator");
    for (what, by_bot, by_emu) in rows {
        println!("  {what:<24} {by_bot:>10} {by_emu:>14}");
    }
    if let Some(types) = bot["envelopes"].as_object() {
        let list: Vec<String> = types.iter().map(|(t, c)| format!("{t} {c}")).collect();
        println!("  envelopes by type: {}", list.join(", "));
    }
}
