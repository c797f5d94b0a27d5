//! A streamed reply, coalesced (`ChatStream`) beside the naive way (one `chat.appendStream`
//! per word), against an in-process emulator with Slack's rate limits (`chat.appendStream`:
//! 100 a minute). A stand-in model yields `--words` words at `--rate` words/s.
//!
//! ```text
//! cargo run --release -p slack-rtm-bench --bin stream-bench -- [--words 2000] [--rate 100]
//! ```
//!
//! Prints one JSON line per way: time from the user's message to the first visible text,
//! Web API calls, 429s, words shown, wall time, and CPU per word (the whole process: the
//! emulator's share included, the same for both ways). The naive way does not retry (a 429
//! loses the word, as for an app that ignores errors; one that waits instead falls ~20 minutes
//! behind a 2,000-word reply).

use slack_rtm::types::Ts;
use slack_rtm::types::web::{AppendStream, StartStream};
use slack_rtm::web::RetryPolicy;
use slack_rtm::{Client, WebClient};
use slack_rtm_bench::cpu_time;
use slack_rtm_emulator::{Emulator, EmulatorConfig};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The stand-in model: words at `rate` per second into a channel.
fn model(words: u64, rate: u64) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1) / rate.max(1) as u32);
        for i in 0..words {
            tick.tick().await;
            if tx.send(format!("w{i} ")).await.is_err() {
                return;
            }
        }
    });
    rx
}

fn report(
    emu: &Emulator,
    way: &str,
    t0: Instant,
    elapsed: Duration,
    cpu: Duration,
    words: u64,
    since: usize,
) {
    let calls: Vec<_> =
        emu.web_calls().into_iter().skip(since).filter(|c| c.method.starts_with("chat.")).collect();
    let limited = calls.iter().filter(|c| c.status == 429).count();
    let streamed = emu.streamed_messages();
    let shown: usize =
        streamed.iter().filter(|m| m.started >= t0).map(|m| m.text.split_whitespace().count()).sum();
    let first = streamed
        .iter()
        .filter(|m| m.started >= t0)
        .flat_map(|m| m.parts.iter())
        .filter(|(_, chars)| *chars > 0)
        .map(|(at, _)| at.duration_since(t0))
        .min();
    println!(
        "{}",
        serde_json::json!({
            "way": way, "words": words, "first_visible_ms": first.map(|d| d.as_millis() as u64),
            "api_calls": calls.len(), "rate_limited": limited, "words_shown": shown,
            "elapsed_ms": elapsed.as_millis() as u64, "cpu_us_per_word": cpu.as_micros() as u64 / words.max(1),
        })
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let (words, rate) = (arg("--words", 2000), arg("--rate", 100));
    let emu = Emulator::start(EmulatorConfig::default()).await.expect("emulator");
    emu.use_slack_web_rate_limits();
    let web: WebClient = Client::builder(emu.token())
        .api_url(&emu.api_url())
        .allow_insecure(true)
        .proxy_from_env(false)
        .build_web()
        .expect("web");
    let (general, alice) = (emu.general_channel(), emu.second_user().user);

    // Coalesced.
    let since = emu.web_calls().len();
    let parent: Ts = emu.post_message(&general, &alice, "question one").expect("post");
    let (t0, cpu0) = (Instant::now(), cpu_time());
    let mut reply = web.chat_stream(general.clone()).in_thread(parent).recipient(alice.clone(), None).start();
    let mut rx = model(words, rate);
    while let Some(word) = rx.recv().await {
        reply.append(word).await.expect("append");
    }
    reply.finish(None).await.expect("finish");
    report(&emu, "chat_stream", t0, t0.elapsed(), cpu_time() - cpu0, words, since);

    // Naive: one appendStream per word, no pacing, no retries.
    tokio::time::sleep(Duration::from_secs(61)).await; // a fresh rate-limit window
    let naive = web.with_retry_policy(RetryPolicy::never()).without_pacing();
    let since = emu.web_calls().len();
    let parent: Ts = emu.post_message(&general, &alice, "question two").expect("post");
    let (t0, cpu0) = (Instant::now(), cpu_time());
    let mut rx = model(words, rate);
    let mut ts = None;
    while let Some(word) = rx.recv().await {
        match &ts {
            None => {
                let mut start = StartStream::new(general.clone());
                start.thread_ts = Some(parent.clone());
                start.recipient_user_id = Some(alice.clone());
                start.markdown_text = Some(word);
                ts = naive.start_stream(&start).await.ok().map(|r| r.ts);
            }
            Some(ts) => {
                let _ = naive.append_stream(&AppendStream::text(general.clone(), ts.clone(), word)).await;
            }
        }
    }
    if let Some(ts) = ts {
        let _ = naive.stop_stream(&slack_rtm::types::web::StopStream::new(general.clone(), ts)).await;
    }
    report(&emu, "one_append_per_word", t0, t0.elapsed(), cpu_time() - cpu0, words, since);
}
