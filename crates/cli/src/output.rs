//! Printing events: human-readable lines (coloured on a terminal) or NDJSON.

use slack_rtm::StopReason;
use slack_rtm::rtm::Event;
use slack_rtm::rtm::SessionEvent;
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

/// How to print.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// One JSON object per line: the event as the server sent it.
    Json,
    /// One line per event.
    Human {
        /// ANSI colours.
        color: bool,
    },
}

impl Style {
    pub fn human(color: bool) -> Self {
        Style::Human { color }
    }
}

/// Whether to colour a stream: only a terminal, and never when `NO_COLOR` is set (to anything
/// but the empty string, as <https://no-color.org> says).
pub fn use_color(is_terminal: bool) -> bool {
    is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Prints events to stdout and lifecycle changes to stderr.
pub struct Printer {
    style: Style,
    out: std::io::Stdout,
}

/// The channel an event is about, if any: `channel` as a string, or `item.channel`, or
/// `channel.id`.
pub fn channel_of(event: &Event) -> Option<String> {
    let v = serde_json::to_value(event).ok()?;
    let pick = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    pick(&v["channel"]).or_else(|| pick(&v["item"]["channel"])).or_else(|| pick(&v["channel"]["id"]))
}

/// `HH:MM:SS` (UTC) of a Slack timestamp, or of now.
pub fn clock(ts: Option<&str>) -> String {
    let secs = ts
        .and_then(|t| t.split('.').next())
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or_else(|| SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0));
    let day = secs % 86_400;
    format!("{:02}:{:02}:{:02}", day / 3600, day % 3600 / 60, day % 60)
}

fn paint(color: bool, code: &str, text: &str) -> String {
    if color { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_owned() }
}

/// One human-readable line for an event.
pub fn human_line(event: &Event, color: bool) -> String {
    match event {
        Event::Message(m) => {
            let time = clock(m.ts.as_ref().map(|t| t.as_str()));
            let channel = m.channel.as_ref().map(|c| c.as_str()).unwrap_or("-");
            let who = m
                .user
                .as_ref()
                .map(|u| u.as_str().to_owned())
                .or_else(|| m.username.clone())
                .or_else(|| m.bot_id.as_ref().map(|b| b.as_str().to_owned()))
                .unwrap_or_else(|| "-".into());
            let mut text = m.text.clone().unwrap_or_default().replace('\n', "\n    ");
            if let Some(sub) = &m.subtype {
                text = format!("[{}] {text}", sub.as_str());
            }
            if m.thread_ts.is_some() && m.thread_ts != m.ts {
                text = format!("↳ {text}");
            }
            format!(
                "{}  {}  {}  {}",
                paint(color, "2", &time),
                paint(color, "36", &format!("#{channel}")),
                paint(color, "33", &who),
                text
            )
        }
        other => {
            let v = serde_json::to_value(other).unwrap_or_default();
            let mut parts = Vec::new();
            if let Some(c) = channel_of(other) {
                parts.push(paint(color, "36", &format!("#{c}")));
            }
            for key in ["user", "users", "presence", "reaction", "name", "url"] {
                match &v[key] {
                    serde_json::Value::String(s) => parts.push(format!("{key}={s}")),
                    serde_json::Value::Array(a) => parts.push(format!(
                        "{key}={}",
                        a.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join(",")
                    )),
                    _ => {}
                }
            }
            format!(
                "{}  {}  {}",
                paint(color, "2", &clock(v["event_ts"].as_str().or(v["ts"].as_str()))),
                paint(color, "35", other.event_type()),
                parts.join("  ")
            )
        }
    }
}

/// One stderr line for a lifecycle event.
pub fn lifecycle_line(event: &SessionEvent) -> Option<String> {
    Some(match event {
        SessionEvent::Connecting => "connecting".to_owned(),
        SessionEvent::Connected { self_, team, reconnect, .. } => format!(
            "{} as {} ({}) to {} ({})",
            if *reconnect { "reconnected" } else { "connected" },
            self_.name,
            self_.id,
            team.name,
            team.id
        ),
        SessionEvent::Reconnecting { attempt, reason, delay } => {
            format!("reconnecting (attempt {attempt}, in {} ms): {reason}", delay.as_millis())
        }
        SessionEvent::Disconnected { reason } => format!("disconnected: {reason}"),
        SessionEvent::Gap { from, to } => {
            format!(
                "events may have been missed during {} ms",
                to.saturating_duration_since(*from).as_millis()
            )
        }
        SessionEvent::Warning(w) => format!("warning: {w}"),
        SessionEvent::Stopped { reason: StopReason::Shutdown } => "stopped".to_owned(),
        SessionEvent::Stopped { reason } => format!("stopped: {reason}"),
        _ => return None,
    })
}

impl Printer {
    pub fn new(style: Style) -> Self {
        Self { style, out: std::io::stdout() }
    }

    /// Prints a server event on stdout.
    pub fn event(&mut self, event: &Event) {
        let line = match self.style {
            Style::Json => serde_json::to_string(event).unwrap_or_else(|_| "{}".into()),
            Style::Human { color } => human_line(event, color),
        };
        let mut out = self.out.lock();
        // A closed stdout (e.g. `| head`) is not an error worth a panic.
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }

    /// Prints a lifecycle change on stderr.
    pub fn lifecycle(&mut self, event: &SessionEvent) {
        if let Some(line) = lifecycle_line(event) {
            eprintln!("slack-rtm: {line}");
        }
    }
}
