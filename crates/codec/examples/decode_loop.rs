//! Decodes blast-shaped `message` frames in a loop, for instruction counts:
//! `valgrind --tool=callgrind target/release/examples/decode_loop N [typed|view]`.

use slack_rtm_codec::{EventFrame, decode_event_frame, decode_message_view};
use std::hint::black_box;

const WORDS: &[&str] = &[
    "deploy", "finished", "on", "staging", "please", "review", "the", "pull", "request", "before", "lunch",
    "metrics", "look", "good", "latency", "is", "down", "after", "the", "cache", "change", "thanks",
];

/// A frame shaped like the emulator's plain blast frame number `i` (keys in Slack's order, a
/// text of 10 to 125 characters repeated in `blocks`).
fn frame(i: usize) -> String {
    let words = WORDS.iter().cycle().skip(i).step_by(7).take(2 + i);
    let text = words.copied().collect::<Vec<_>>().join(" ");
    format!(
        r#"{{"client_msg_id":"5c0ffee0-{i:04x}-4000-8000-00000000{i:04x}","type":"message","text":"{text}","user":"U0000000001","ts":"1765000000.{i:06}","blocks":[{{"block_id":"b{i:03}","elements":[{{"elements":[{{"text":"{text}","type":"text"}}],"type":"rich_text_section"}}],"type":"rich_text"}}],"team":"T0000000001","channel":"C0000000001","event_ts":"1765000000.{i:06}"}}"#
    )
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let mode = args.next().unwrap_or_else(|| "typed".into());
    let extra: Vec<String> = args.collect();
    let texts: Vec<String> = if extra.is_empty() {
        (0..16).map(frame).collect()
    } else {
        extra.iter().map(|p| std::fs::read_to_string(p).expect("file")).collect()
    };
    let frames: Vec<EventFrame> = texts.into_iter().map(|t| EventFrame::new(t).expect("a type")).collect();
    let mut ok = 0usize;
    for k in 0..n {
        let f = &frames[k % frames.len()];
        if mode == "view" {
            ok += usize::from(black_box(decode_message_view(black_box(f))).is_ok());
        } else {
            ok += usize::from(black_box(decode_event_frame(black_box(f))).is_ok());
        }
    }
    println!("{ok}");
}
