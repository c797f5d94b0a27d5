//! The sans-IO machine's per-frame overhead: a connected session fed `message` frames
//! (decoded inside, as `Session::handle_text` does) and drained of its outputs, against the
//! decode alone. Run with `cargo bench -p slack-rtm-session`.

use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};
use slack_rtm_codec::types::{Connected, SelfInfo, TeamInfo};
use slack_rtm_codec::{ConnectResponse, decode_event};
use slack_rtm_session::machine::{ConnId, Input, Output, Session, SessionConfig};
use std::time::Instant;

const FRAME: &str = r#"{"client_msg_id":"7f3c2a10-5b7e-4a7c-9d1e-2b6f0c9a1e33","type":"message","text":"Deploy of build 4821 finished: all 312 checks passed, see the dashboard for details","user":"U061F7AUR","ts":"1700000000.000100","blocks":[{"type":"rich_text","block_id":"Kx9f","elements":[{"type":"rich_text_section","elements":[{"type":"text","text":"Deploy of build 4821 finished"}]}]}],"team":"T061EG9R6","channel":"C024BE91L","event_ts":"1700000000.000100"}"#;

fn connected() -> (Session, ConnId, Instant) {
    let t0 = Instant::now();
    let mut s = Session::new(SessionConfig::default(), t0);
    while s.poll_output().is_some() {}
    let answer = ConnectResponse {
        connected: Connected {
            self_: SelfInfo { id: "U1".into(), name: "bot".into() },
            team: TeamInfo {
                id: "T1".into(),
                name: "Team".into(),
                domain: "team".into(),
                enterprise_id: None,
                enterprise_name: None,
            },
            url: "wss://example.invalid/ws".into(),
        },
        warnings: vec![],
        messages: vec![],
        req_id: None,
        obtained_at: t0,
    };
    s.handle(Input::ConnectResult(Ok(answer)), t0);
    let mut conn = None;
    while let Some(o) = s.poll_output() {
        if let Output::OpenSocket { conn: c, .. } = o {
            conn = Some(c);
        }
    }
    let conn = conn.expect("the machine opens a socket");
    s.handle(Input::SocketOpened { conn }, t0);
    s.handle_text(conn, r#"{"type":"hello"}"#, t0);
    while s.poll_output().is_some() {}
    (s, conn, t0)
}

fn per_frame(c: &mut Criterion) {
    let mut group = c.benchmark_group("machine");
    group.throughput(Throughput::Elements(1));
    group.bench_function("decode only", |b| b.iter(|| decode_event(black_box(FRAME)).unwrap()));
    let (mut s, conn, now) = connected();
    group.bench_function("handle_text + drain", |b| {
        b.iter(|| {
            s.handle_text(conn, black_box(FRAME), now);
            while let Some(o) = s.poll_output() {
                black_box(o);
            }
        })
    });
    let (mut s, conn, now) = connected();
    group.bench_function("handle(Input::Event) + drain (decoded elsewhere)", |b| {
        b.iter_batched(
            || decode_event(FRAME).unwrap(),
            |event| {
                s.handle(Input::Event { conn, event }, now);
                while let Some(o) = s.poll_output() {
                    black_box(o);
                }
            },
            criterion::BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, per_frame);
criterion_main!(benches);
