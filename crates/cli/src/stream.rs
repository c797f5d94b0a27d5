//! `slack-rtm stream`: standard input into a streamed reply, as it arrives.

use crate::cli::{ConnOpts, exit};
use crate::commands::{Failure, exit_code, interrupted};
use slack_rtm::types::TeamId;
use slack_rtm::web::StreamError;
use tokio::io::AsyncReadExt;

/// What `stream` needs.
pub struct StreamOptions {
    pub channel: String,
    pub thread: Option<String>,
    pub recipient: Option<String>,
    pub team: Option<String>,
}

impl From<StreamError> for Failure {
    fn from(e: StreamError) -> Self {
        let code = match &e {
            StreamError::Call { source, .. } => exit_code(source.kind()),
            _ => exit::OTHER,
        };
        Self { message: e.to_string(), code }
    }
}

/// Splits off the longest valid UTF-8 prefix of `pending`, keeping an incomplete character's
/// bytes for the next read. Invalid bytes become U+FFFD.
fn take_text(pending: &mut Vec<u8>, eof: bool) -> String {
    let cut = match std::str::from_utf8(pending) {
        Ok(_) => pending.len(),
        Err(e) if e.error_len().is_none() && !eof => e.valid_up_to(),
        Err(_) => pending.len(),
    };
    let rest = pending.split_off(cut);
    let text = String::from_utf8_lossy(pending).into_owned();
    *pending = rest;
    text
}

/// Pipes stdin into a streamed reply; prints each message's ts; exit 0 only when all of it was
/// posted.
pub async fn run(conn: ConnOpts, opts: StreamOptions) -> Result<u8, Failure> {
    // The reply starts with the first text: a bad token is found before stdin is read.
    let web = crate::web::checked_web_client(&conn).await?;
    let mut b = web.chat_stream(opts.channel.as_str());
    if let Some(t) = &opts.thread {
        b = b.in_thread(t.as_str());
    }
    if let Some(u) = &opts.recipient {
        b = b.recipient(u.as_str(), opts.team.as_deref().map(TeamId::from));
    }
    let mut reply = b.start();
    let mut stdin = tokio::io::stdin();
    let mut buf = vec![0u8; 16 * 1024];
    let mut pending = Vec::new();
    let mut stop = interrupted();
    loop {
        let n = tokio::select! {
            r = stdin.read(&mut buf) => r.map_err(|e| Failure::other(format!("cannot read stdin: {e}")))?,
            () = &mut stop => {
                let report = reply.cancel().await?;
                eprintln!("slack-rtm: interrupted; stopped the reply after {} characters", report.chars);
                return Ok(exit::OTHER);
            }
        };
        pending.extend_from_slice(&buf[..n]);
        let text = take_text(&mut pending, n == 0);
        reply.append(text).await?;
        if n == 0 {
            break;
        }
    }
    let report = reply.finish(None).await?;
    for ts in &report.messages {
        println!("{ts}");
    }
    tracing::info!(chars = report.chars, calls = report.calls, messages = report.messages.len(), "posted");
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::take_text;

    #[test]
    fn a_character_split_across_reads_is_kept_whole() {
        let bytes = "é✓".as_bytes();
        let mut pending = bytes[..3].to_vec();
        assert_eq!(take_text(&mut pending, false), "é");
        pending.extend_from_slice(&bytes[3..]);
        assert_eq!(take_text(&mut pending, false), "✓");
        let mut bad = vec![b'a', 0xff, b'b'];
        assert_eq!(take_text(&mut bad, false), "a\u{fffd}b");
        let mut cut = vec![b'a', 0xe2];
        assert_eq!(take_text(&mut cut, true), "a\u{fffd}");
    }
}
