//! The sans-IO machine's per-frame overhead: a connected session fed `message` frames as a
//! driver feeds them (scanned for their type, `RtmIncoming::message`) and drained of its outputs,
//! with and without the decode the consumer then does (`SessionEvent::from_raw`), against the
//! decode alone. Run with `cargo bench -p slack-rtm-session`.

use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};
use slack_rtm_codec::decode_event;
use slack_rtm_session::rtm::testing::RtmHarness;
use slack_rtm_session::rtm::{RtmIncoming, RtmInput, RtmOutput, SessionConfig, SessionEvent};

const FRAME: &str = r#"{"client_msg_id":"7f3c2a10-5b7e-4a7c-9d1e-2b6f0c9a1e33","type":"message","text":"Deploy of build 4821 finished: all 312 checks passed, see the dashboard for details","user":"U061F7AUR","ts":"1700000000.000100","blocks":[{"type":"rich_text","block_id":"Kx9f","elements":[{"type":"rich_text_section","elements":[{"type":"text","text":"Deploy of build 4821 finished"}]}]}],"team":"T061EG9R6","channel":"C024BE91L","event_ts":"1700000000.000100"}"#;

fn per_frame(c: &mut Criterion) {
    let mut group = c.benchmark_group("machine");
    group.throughput(Throughput::Elements(1));
    group.bench_function("decode only", |b| b.iter(|| decode_event(black_box(FRAME)).unwrap()));
    let (mut h, conn) = RtmHarness::connected(SessionConfig::default());
    let now = h.now;
    group.bench_function("classify + handle + drain (raw pass-through)", |b| {
        b.iter(|| {
            let frame = RtmIncoming::message(true, black_box(FRAME).as_bytes());
            h.session.handle(RtmInput::Frame { conn, frame }, now);
            while let Some(o) = h.session.poll_output() {
                black_box(o);
            }
        })
    });
    let (mut h, conn) = RtmHarness::connected(SessionConfig::default());
    let now = h.now;
    group.bench_function("classify + handle + drain + from_raw (what the application gets)", |b| {
        b.iter(|| {
            let frame = RtmIncoming::message(true, black_box(FRAME).as_bytes());
            h.session.handle(RtmInput::Frame { conn, frame }, now);
            while let Some(o) = h.session.poll_output() {
                match o {
                    RtmOutput::RawEvent { frame } => {
                        black_box(SessionEvent::from_raw(&frame));
                    }
                    other => {
                        black_box(other);
                    }
                }
            }
        })
    });
    group.finish();
}

criterion_group!(benches, per_frame);
criterion_main!(benches);
