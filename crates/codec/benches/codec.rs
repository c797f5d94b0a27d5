//! Micro benchmarks of the codec: rtm.connect parsing, event decoding (typed, against a
//! `serde_json::Value` baseline), and client message encoding. Run with `cargo bench -p
//! slack-rtm-codec`.

use criterion::{BenchmarkId, Criterion, Throughput, black_box, criterion_group, criterion_main};
use slack_rtm_codec::types::client::Ping;
use slack_rtm_codec::{ClientMessage, ConnectConfig, decode_event, encode_client_message};
use std::num::NonZeroU64;
use std::time::Instant;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../types/tests/fixtures/events");

fn fixture(name: &str) -> String {
    let raw = std::fs::read_to_string(format!("{FIXTURES}/{name}.json")).expect("fixture");
    // Frames arrive compact on the wire.
    serde_json::to_string(&serde_json::from_str::<serde_json::Value>(&raw).expect("json")).expect("json")
}

fn connect_response(c: &mut Criterion) {
    let body = br#"{"ok":true,"self":{"id":"U4X318ZMZ","name":"robotoverlord"},"team":{"domain":"slackdemo","id":"T2U81E2FP","name":"SlackDemo"},"url":"wss:\/\/cerberus-xxxx.lb.slack-msgs.com\/websocket\/ABC"}"#;
    let resp = http::Response::builder()
        .status(200)
        .header("content-type", "application/json; charset=utf-8")
        .header("x-slack-req-id", "0123456789abcdef")
        .body(body.to_vec())
        .unwrap();
    let config = ConnectConfig::default();
    let now = Instant::now();
    c.bench_function("rtm.connect/parse_response", |b| {
        b.iter(|| config.parse_response(black_box(&resp), now).unwrap())
    });
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode_event");
    for name in [
        "message",
        "message.message_changed",
        "presence_change.batched",
        "user_typing",
        "reaction_added",
        "unknown",
    ] {
        let text = fixture(name);
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::new("typed", name), &text, |b, t| {
            b.iter(|| decode_event(black_box(t)).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("serde_json::Value", name), &text, |b, t| {
            b.iter(|| serde_json::from_str::<serde_json::Value>(black_box(t)).unwrap())
        });
    }
    group.finish();
}

fn encode(c: &mut Criterion) {
    let id = NonZeroU64::new(42).unwrap();
    let msg = ClientMessage::message("C024BE91L", "Hello world, this is a typical short bot reply.");
    let ping = ClientMessage::Ping(Ping::with_time(1_403_299_273_342));
    c.bench_function("encode/message", |b| b.iter(|| encode_client_message(id, black_box(&msg)).unwrap()));
    c.bench_function("encode/ping", |b| b.iter(|| encode_client_message(id, black_box(&ping)).unwrap()));
}

criterion_group!(benches, connect_response, decode, encode);
criterion_main!(benches);
