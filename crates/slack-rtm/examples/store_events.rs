//! Storing RTM events with nothing but `slack-rtm-types` (and `serde_json`): no session, no
//! socket, no runtime. A service that archives or forwards events needs only the types crate.
//!
//! ```text
//! cargo run -p slack-rtm --example store_events                     # built-in sample frames
//! slack-rtm tail --json | cargo run -p slack-rtm --example store_events -- - events.jsonl
//! cargo run -p slack-rtm --example store_events -- frames.ndjson events.jsonl
//! ```
//!
//! Arguments: `[INPUT] [OUTPUT]`. INPUT is a file of raw RTM frames, one JSON object per line
//! (`-` for standard input); without it, a built-in set of frames is used. Each frame is
//! decoded into a typed `Event` (any valid JSON decodes; unknown types are kept verbatim), then
//! appended to OUTPUT (default: a file in the temporary directory) as one JSON line
//! `{"stored_at_ms":…,"type":…,"event":{…}}`. The file is then read back and every stored
//! event is checked to decode to the same value. This example never connects to anything (so
//! it ignores `SLACK_TOKEN`): pipe `slack-rtm tail --json` into it to store live events.

// Only the types crate: `slack_rtm_types` is the `slack_rtm::types` module as its own crate.
use serde_json::value::RawValue;
use slack_rtm_types::Event;
use std::collections::{BTreeMap, HashMap};
use std::error::Error;
use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

/// Frames as a server sends them, including ones this crate has no dedicated type for.
const SAMPLE: &[&str] = &[
    r#"{"type":"hello"}"#,
    r#"{"type":"message","channel":"C024BE91L","user":"U2147483697","text":"Hello world","ts":"1355517523.000005"}"#,
    r#"{"type":"message","subtype":"message_changed","channel":"C024BE91L","hidden":true,"ts":"1358878755.000001","message":{"type":"message","user":"U2147483697","text":"Hello, world!","ts":"1355517523.000005"}}"#,
    r#"{"type":"reaction_added","user":"U2147483697","reaction":"thumbsup","item":{"type":"message","channel":"C024BE91L","ts":"1355517523.000005"},"event_ts":"1360782804.083113"}"#,
    r#"{"type":"presence_change","users":["U2147483697","U2147483698"],"presence":"away"}"#,
    r#"{"type":"user_typing","channel":"C024BE91L","user":"U2147483697"}"#,
    r#"{"type":"channel_created","channel":{"id":"C024BE91L","name":"fun","created":1360782804,"creator":"U024BE7LH"}}"#,
    r#"{"type":"a_type_from_the_future","detail":{"kept":"verbatim"}}"#,
];

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let input = args.next();
    let output = args.next().map(PathBuf::from).unwrap_or_else(|| {
        std::env::temp_dir().join(format!("slack-rtm-events-{}.jsonl", std::process::id()))
    });

    let frames: Vec<String> = match input.as_deref() {
        None => SAMPLE.iter().map(|s| s.to_string()).collect(),
        Some("-") => std::io::stdin().lock().lines().collect::<Result<_, _>>()?,
        Some(path) => std::fs::read_to_string(path)?.lines().map(str::to_owned).collect(),
    };

    // Decode and store.
    let mut decoded = Vec::new();
    let mut by_type: BTreeMap<String, usize> = BTreeMap::new();
    let file = std::fs::OpenOptions::new().create(true).append(true).open(&output)?;
    let mut out = BufWriter::new(file);
    let mut skipped = 0usize;
    for frame in frames.iter().filter(|f| !f.trim().is_empty()) {
        let event = match Event::from_json(frame) {
            Ok(e) => e,
            Err(e) => {
                // Only invalid JSON fails; keep going.
                eprintln!("skipping a frame that is not JSON: {e}");
                skipped += 1;
                continue;
            }
        };
        let stored_at_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
        // The event is written as serialized (not through a `serde_json::Value`, which would
        // reorder the keys of events kept verbatim).
        writeln!(
            out,
            r#"{{"stored_at_ms":{},"type":{},"event":{}}}"#,
            stored_at_ms as u64,
            serde_json::to_string(event.event_type())?,
            serde_json::to_string(&event)?
        )?;
        *by_type.entry(event.event_type().to_owned()).or_default() += 1;
        decoded.push(event);
    }
    out.flush()?;
    drop(out);

    // Read back the lines written now (the file may hold older runs: take the last ones).
    let text = std::fs::read_to_string(&output)?;
    let lines: Vec<&str> = text.lines().collect();
    let ours = &lines[lines.len().saturating_sub(decoded.len())..];
    let mut back = Vec::with_capacity(ours.len());
    for line in ours {
        let stored: HashMap<String, Box<RawValue>> = serde_json::from_str(line)?;
        let event = stored.get("event").ok_or("a stored line without an event")?;
        let event = Event::from_json(event.get())?;
        back.push(event);
    }
    for (a, b) in decoded.iter().zip(&back) {
        if a != b {
            return Err(format!("an event read back differs from the one stored:\n{a:?}\n{b:?}").into());
        }
    }
    for (ty, n) in &by_type {
        println!("  {ty:<28} {n}");
    }
    println!(
        "store_events: stored {} events in {} and read them back identical ({skipped} skipped)",
        decoded.len(),
        output.display()
    );
    if input.is_none() {
        // The sample run leaves nothing behind.
        let _ = std::fs::remove_file(&output);
    }
    Ok(())
}
