use super::*;

/// A model of Slack's streamed messages on a virtual clock: each message streams for
/// `lifetime`, holds at most `max_len` characters; calls listed in `limited` answer 429.
struct Sim {
    lifetime: Duration,
    max_len: usize,
    /// (text, started, streaming)
    messages: Vec<(String, Instant, bool)>,
    limited: Vec<usize>,
    calls: Vec<(Duration, &'static str, usize)>,
    t0: Instant,
}

impl Sim {
    fn new(t0: Instant) -> Self {
        Sim {
            lifetime: Duration::from_secs(300),
            max_len: 40_000,
            messages: vec![],
            limited: vec![],
            calls: vec![],
            t0,
        }
    }

    fn index(ts: &Ts) -> usize {
        ts.as_str().parse().unwrap()
    }

    fn apply(&mut self, step: &StreamStep, now: Instant) -> StreamOutcome {
        let n = self.calls.len();
        let (name, chars) = match step {
            StreamStep::Start { text } => ("start", text.chars().count()),
            StreamStep::Append { text, .. } => ("append", text.chars().count()),
            StreamStep::Stop { .. } => ("stop", 0),
            _ => unreachable!(),
        };
        self.calls.push((now - self.t0, name, chars));
        if self.limited.contains(&n) {
            return StreamOutcome::RateLimited { retry_after: Duration::from_secs(2) };
        }
        for m in &mut self.messages {
            if now - m.1 >= self.lifetime {
                m.2 = false;
            }
        }
        match step {
            StreamStep::Start { text } => {
                if text.chars().count() > self.max_len {
                    return StreamOutcome::TooLong;
                }
                self.messages.push((text.clone(), now, true));
                StreamOutcome::Ok { ts: Some(Ts::from((self.messages.len() - 1).to_string())) }
            }
            StreamStep::Append { ts, text } => {
                let m = &mut self.messages[Self::index(ts)];
                if !m.2 {
                    return StreamOutcome::NotStreaming;
                }
                if m.0.chars().count() + text.chars().count() > self.max_len {
                    return StreamOutcome::TooLong;
                }
                m.0.push_str(text);
                StreamOutcome::Ok { ts: None }
            }
            StreamStep::Stop { ts, .. } => {
                let m = &mut self.messages[Self::index(ts)];
                if !m.2 {
                    return StreamOutcome::NotStreaming;
                }
                m.2 = false;
                StreamOutcome::Ok { ts: None }
            }
            _ => unreachable!(),
        }
    }

    fn text(&self) -> String {
        self.messages.iter().map(|m| m.0.as_str()).collect()
    }
}

/// Feeds `inputs` (at their times) and drives the planner to the end on the virtual clock.
fn drive(p: &mut StreamPlanner, sim: &mut Sim, inputs: &[(Duration, String)], finish_at: Duration) {
    let t0 = sim.t0;
    let mut now = t0;
    let mut next = 0;
    let mut finished = false;
    for _ in 0..1_000_000 {
        while next < inputs.len() && t0 + inputs[next].0 <= now {
            p.push(&inputs[next].1, now);
            next += 1;
        }
        if !finished && next == inputs.len() && t0 + finish_at <= now {
            p.finish();
            finished = true;
        }
        let wake = |now: Instant| {
            let input = inputs.get(next).map(|i| t0 + i.0);
            let fin = (!finished).then_some(t0 + finish_at);
            [input, fin].into_iter().flatten().min().map(|t| t.max(now))
        };
        match p.poll(now) {
            StreamStep::Done => return,
            StreamStep::Wait(d) => now = wake(now).map_or(now + d, |w| w.min(now + d)),
            StreamStep::NeedInput => now = wake(now).expect("input must come"),
            StreamStep::InFlight => unreachable!(),
            step => {
                let outcome = sim.apply(&step, now);
                now += Duration::from_millis(20);
                p.on_result(outcome, now);
            }
        }
    }
    panic!("did not finish");
}

fn words(n: usize, per_sec: u64) -> Vec<(Duration, String)> {
    (0..n).map(|i| (Duration::from_millis(i as u64 * 1000 / per_sec), format!("w{i} "))).collect()
}

fn joined(inputs: &[(Duration, String)]) -> String {
    inputs.iter().map(|i| i.1.as_str()).collect()
}

#[test]
fn the_first_text_goes_out_fast_then_appends_are_paced_and_nothing_is_lost() {
    let t0 = Instant::now();
    let mut sim = Sim::new(t0);
    let mut p = StreamPlanner::new(StreamConfig::default());
    let inputs = words(2000, 100);
    drive(&mut p, &mut sim, &inputs, Duration::from_secs(20));
    assert_eq!(sim.text(), joined(&inputs));
    assert!(!p.failed());
    // The first call within first_delay of the first word.
    assert_eq!(sim.calls[0].1, "start");
    assert!(sim.calls[0].0 <= Duration::from_millis(150), "{:?}", sim.calls[0]);
    // No two appends closer than the interval.
    let appends: Vec<Duration> = sim.calls.iter().filter(|c| c.1 == "append").map(|c| c.0).collect();
    assert!(appends.windows(2).all(|w| w[1] - w[0] >= Duration::from_secs(1)), "{appends:?}");
    // About one call per second over 20 s, not one per word.
    assert!(sim.calls.len() <= 24, "{} calls", sim.calls.len());
    assert_eq!(sim.calls.last().unwrap().1, "stop");
}

#[test]
fn a_short_first_text_waits_at_most_first_delay_and_a_long_one_goes_at_once() {
    let t0 = Instant::now();
    let mut p = StreamPlanner::new(StreamConfig::default());
    p.push("Hi", t0);
    assert_eq!(p.poll(t0), StreamStep::Wait(Duration::from_millis(150)));
    assert_eq!(p.poll(t0 + Duration::from_millis(150)), StreamStep::Start { text: "Hi".into() });
    let mut p = StreamPlanner::new(StreamConfig::default());
    p.push("a sentence long enough to show at once", t0);
    assert!(matches!(p.poll(t0), StreamStep::Start { .. }));
    assert_eq!(p.poll(t0), StreamStep::InFlight);
}

#[test]
fn a_429_keeps_the_text_in_order_and_holds_for_retry_after() {
    let t0 = Instant::now();
    let mut sim = Sim::new(t0);
    sim.limited = vec![0, 2, 3];
    let mut p = StreamPlanner::new(StreamConfig::default());
    let inputs = words(300, 50);
    drive(&mut p, &mut sim, &inputs, Duration::from_secs(6));
    assert_eq!(sim.text(), joined(&inputs));
    // After each 429, the next call waited Retry-After (2 s).
    for i in [0usize, 2, 3] {
        assert!(sim.calls[i + 1].0 - sim.calls[i].0 >= Duration::from_secs(2), "{:?}", sim.calls);
    }
}

#[test]
fn a_stream_slack_ended_goes_on_in_a_new_message_whole_and_in_order() {
    let t0 = Instant::now();
    let mut sim = Sim::new(t0);
    sim.lifetime = Duration::from_secs(5);
    // The planner's own lifetime is longer than Slack's: it learns from the error.
    let mut p = StreamPlanner::new(StreamConfig::default());
    let inputs = words(1500, 100);
    drive(&mut p, &mut sim, &inputs, Duration::from_secs(15));
    assert_eq!(sim.text(), joined(&inputs));
    assert!(sim.messages.len() >= 3, "{}", sim.messages.len());
    assert_eq!(p.messages().len(), sim.messages.len());
}

#[test]
fn a_message_is_rolled_over_before_its_lifetime() {
    let t0 = Instant::now();
    let mut sim = Sim::new(t0);
    sim.lifetime = Duration::from_secs(5);
    let config = StreamConfig { max_lifetime: Duration::from_secs(4), ..StreamConfig::default() };
    let mut p = StreamPlanner::new(config);
    let inputs = words(1500, 100);
    drive(&mut p, &mut sim, &inputs, Duration::from_secs(15));
    assert_eq!(sim.text(), joined(&inputs));
    // Rolled over proactively: every message was stopped by the planner, none refused.
    assert!(sim.messages.len() >= 3);
    let stops = sim.calls.iter().filter(|c| c.1 == "stop").count();
    assert_eq!(stops, sim.messages.len());
}

#[test]
fn a_full_message_goes_on_in_the_next_whether_learned_or_configured() {
    let t0 = Instant::now();
    let inputs = words(1000, 200);
    // Learned from msg_too_long.
    let mut sim = Sim::new(t0);
    sim.max_len = 500;
    let mut p = StreamPlanner::new(StreamConfig::default());
    drive(&mut p, &mut sim, &inputs, Duration::from_secs(6));
    assert_eq!(sim.text(), joined(&inputs));
    assert!(sim.messages.iter().all(|m| m.0.chars().count() <= 500));
    assert!(sim.messages.len() >= 10);
    // Configured: cut at word boundaries, no refusal.
    let mut sim = Sim::new(t0);
    let config = StreamConfig { max_message_chars: 300, ..StreamConfig::default() };
    let mut p = StreamPlanner::new(config);
    drive(&mut p, &mut sim, &inputs, Duration::from_secs(6));
    assert_eq!(sim.text(), joined(&inputs));
    for m in &sim.messages {
        assert!(m.0.chars().count() <= 300);
        assert!(m.0.ends_with(' '), "cut inside a word: {:?}", &m.0[m.0.len().saturating_sub(10)..]);
    }
}

#[test]
fn a_call_too_long_even_for_a_new_message_is_split() {
    let t0 = Instant::now();
    let mut sim = Sim::new(t0);
    sim.max_len = 3_000;
    let mut p = StreamPlanner::new(StreamConfig::default());
    let big = "x".repeat(9_000);
    drive(&mut p, &mut sim, &[(Duration::ZERO, big.clone())], Duration::ZERO);
    assert_eq!(sim.text(), big);
}

#[test]
fn cancel_stops_the_open_message_with_what_was_sent() {
    let t0 = Instant::now();
    let mut p = StreamPlanner::new(StreamConfig::default());
    p.push("some text that is long enough", t0);
    let StreamStep::Start { text } = p.poll(t0) else { panic!() };
    p.on_result(StreamOutcome::Ok { ts: Some("1.1".into()) }, t0);
    p.push("more that will not be sent", t0);
    p.cancel();
    assert_eq!(p.poll(t0), StreamStep::Stop { ts: "1.1".into(), last: true });
    p.on_result(StreamOutcome::Ok { ts: None }, t0);
    assert_eq!(p.poll(t0), StreamStep::Done);
    assert_eq!(p.sent_chars(), text.chars().count());
    // Cancelled before anything started: no call at all.
    let mut p = StreamPlanner::new(StreamConfig::default());
    p.push("x", t0);
    p.cancel();
    assert_eq!(p.poll(t0), StreamStep::Done);
}

#[test]
fn an_empty_reply_still_gets_its_message_and_a_failure_ends_the_reply() {
    let t0 = Instant::now();
    let mut p = StreamPlanner::new(StreamConfig::default());
    p.finish();
    assert_eq!(p.poll(t0), StreamStep::Start { text: String::new() });
    p.on_result(StreamOutcome::Ok { ts: Some("1.1".into()) }, t0);
    assert_eq!(p.poll(t0), StreamStep::Stop { ts: "1.1".into(), last: true });
    p.on_result(StreamOutcome::Ok { ts: None }, t0);
    assert_eq!(p.poll(t0), StreamStep::Done);
    assert!(!p.failed());

    let mut p = StreamPlanner::new(StreamConfig::default());
    p.push("long enough to go at once, surely", t0);
    assert!(matches!(p.poll(t0), StreamStep::Start { .. }));
    p.on_result(StreamOutcome::Failed, t0);
    assert_eq!(p.poll(t0), StreamStep::Done);
    assert!(p.failed());
}

#[test]
fn the_buffer_is_bounded() {
    let t0 = Instant::now();
    let config = StreamConfig { max_buffer_chars: 100, ..StreamConfig::default() };
    let mut p = StreamPlanner::new(config);
    p.push(&"y".repeat(99), t0);
    assert!(p.has_room());
    p.push("zz", t0);
    assert!(!p.has_room());
    assert_eq!(p.buffered_chars(), 101);
}

#[test]
fn multibyte_text_is_cut_at_character_boundaries() {
    let t0 = Instant::now();
    let mut sim = Sim::new(t0);
    sim.max_len = 7;
    let config = StreamConfig { max_call_chars: 3, ..StreamConfig::default() };
    let mut p = StreamPlanner::new(config);
    let text = "héllo wörld ✓✓✓ ünïcödé".to_owned();
    drive(&mut p, &mut sim, &[(Duration::ZERO, text.clone())], Duration::ZERO);
    assert_eq!(sim.text(), text);
}
