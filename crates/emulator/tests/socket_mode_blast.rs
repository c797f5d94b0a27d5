//! The Socket Mode envelope blast over real loopback sockets: every socket gets its envelopes
//! after `hello`, acks map back to their send times, the report counts what was acked.

mod common;

use common::*;

async fn ack(c: &mut Client, env: &Value) {
    c.send(json!({"envelope_id": env["envelope_id"]})).await;
}

#[tokio::test]
async fn every_socket_gets_its_blast_and_the_acks_are_measured() {
    let emu = start_sm(sm().blast(Some(300))).await;
    let (mut a, _) = Client::socket_mode(&emu).await;
    let (mut b, _) = Client::socket_mode(&emu).await;
    let mut event_ids = std::collections::HashSet::new();
    for c in [&mut a, &mut b] {
        for _ in 0..300 {
            let env = c.envelope().await;
            assert_eq!(env["type"], "events_api");
            assert_eq!(env["payload"]["event"]["type"], "message");
            assert!(event_ids.insert(env["payload"]["event_id"].as_str().unwrap().to_owned()));
            ack(c, &env).await;
        }
    }
    emu.wait_for_envelope_blast_reports(2, WAIT).await.unwrap();
    let reports = emu.envelope_blast_reports();
    assert_eq!(reports.len(), 2);
    for r in &reports {
        assert_eq!((r.sent, r.acked), (300, 300), "{r:?}");
        assert!(r.ack_p50 <= r.ack_p99 && r.ack_p99 <= r.ack_max, "{r:?}");
    }
    // Blast envelopes skip the delivery engine: nothing recorded, nothing to redeliver.
    assert!(emu.envelopes().is_empty());
    assert!(emu.acks().is_empty());
}

#[tokio::test]
async fn a_paced_blast_keeps_its_rate_and_a_closed_socket_reports_what_was_acked() {
    // 50 envelopes at 1,000/s take at least 49 ms.
    let emu = start_sm(sm().blast(Some(50)).blast_rate(Some(1000))).await;
    let (mut c, _) = Client::socket_mode(&emu).await;
    let t0 = Instant::now();
    for i in 0..50 {
        let env = c.envelope().await;
        if i < 20 {
            ack(&mut c, &env).await;
        }
    }
    assert!(t0.elapsed() >= Duration::from_millis(45), "{:?}", t0.elapsed());
    // Closing before acking the rest: the report says 20 of 50.
    c.ws.write_frame(Frame::close(1000, b"")).await.unwrap();
    emu.wait_for_envelope_blast_reports(1, WAIT).await.unwrap();
    let r = &emu.envelope_blast_reports()[0];
    assert_eq!((r.sent, r.acked), (50, 20), "{r:?}");
}
