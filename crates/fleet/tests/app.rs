//! A `slack_rtm::App` on fleet workers (`Worker::run_app`), against the emulator and a real
//! redis-server: events reach their listeners, `say` and `respond` work, `ack_with` cannot
//! answer in the ack (the gateway acked already), and a failing listener is tried again.
#![cfg(feature = "testing")]

use slack_rtm::app::{AckError, App, MessageResponse};
use slack_rtm::emulator::{Emulator, EmulatorConfig};
use slack_rtm::{Client, SocketModeClient};
use slack_rtm_fleet::testing::RedisServer;
use slack_rtm_fleet::{FleetConfig, Gateway, Worker, WorkerConfig};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_runs_on_a_worker_and_answers_through_respond_and_say() {
    let redis = RedisServer::start().expect("redis-server (apt-get install redis-server)");
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let fleet = FleetConfig::new(redis.url(), "fleet-app-test");
    let socket = SocketModeClient::builder(emu.app_token()).api_url(&emu.api_url()).allow_insecure(true);
    let gateway = Gateway::builder(socket, fleet.clone()).start().await.unwrap();

    let ack_results = Arc::new(Mutex::new(Vec::new()));
    let flaky_attempts = Arc::new(Mutex::new(0));
    let mut app = App::new();
    let results = ack_results.clone();
    app.command("/echo", move |cmd, ack, ctx| {
        let results = results.clone();
        async move {
            let r = ack.ack_with(MessageResponse::text("in the ack")).await;
            results.lock().unwrap().push(matches!(r, Err(AckError::NoResponsePayload)));
            ctx.respond(MessageResponse::in_channel(cmd.text)).await?;
            Ok(())
        }
    });
    app.message("ping", |_, ctx| async move {
        ctx.say("pong").await?;
        Ok(())
    });
    let attempts = flaky_attempts.clone();
    app.message("flaky", move |_, ctx| {
        let attempts = attempts.clone();
        async move {
            let n = {
                let mut a = attempts.lock().unwrap();
                *a += 1;
                *a
            };
            if n == 1 {
                return Err("the first attempt fails".into());
            }
            ctx.say(format!("flaky handled on attempt {n}")).await?;
            Ok(())
        }
    });
    let web = Client::builder(emu.token()).api_url(&emu.api_url()).allow_insecure(true).build_web().unwrap();
    let dispatcher = app.into_dispatcher(web).await;
    let config =
        WorkerConfig::new("app").block(Duration::from_millis(100)).retry_delay(Duration::from_millis(50));
    let mut worker = Worker::new(&fleet, config).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(async move {
        worker
            .run_app(&dispatcher, async {
                let _ = stopped.await;
            })
            .await
    });

    let alice = emu.user(&emu.second_user().user);
    let general = emu.general_channel();
    let cmd = alice.run_command(&general, "/echo", "hello fleet");
    let ack = emu.wait_for_ack(cmd.seq, T).await.unwrap();
    assert_eq!(ack.payload, None, "the gateway acks empty");
    emu.wait_for_responses(1, T).await.unwrap();
    let response = emu.responses().pop().unwrap();
    assert_eq!(
        response.body,
        Some(serde_json::json!({"response_type": "in_channel", "text": "hello fleet"}))
    );
    assert_eq!(*ack_results.lock().unwrap(), [true], "ack_with: NoResponsePayload");

    alice.say(&general, "ping").unwrap();
    alice.say(&general, "flaky").unwrap();
    let said = |text: &str| emu.posted_messages().iter().any(|m| m.text == text && m.user == emu.bot_user());
    for _ in 0..500 {
        if said("pong") && said("flaky handled on attempt 2") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(said("pong"), "say works on a worker");
    assert!(said("flaky handled on attempt 2"), "a failed listener's entry is tried again");

    let _ = stop.send(());
    let counts = run.await.unwrap();
    assert_eq!(counts.failures, 1, "{counts:?}");
    assert!(counts.handled >= 4, "{counts:?}"); // the command, ping, flaky, the bot's own posts
    gateway.shutdown().await;
}
