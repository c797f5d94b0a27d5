//! Socket Mode frames, envelopes and payloads, decoded from realistic frames (written for
//! this project after the shapes in Slack's documentation), round trips, and the never-lose
//! rule for unknown types and unexpected shapes.

use serde_json::{Value, json};
use slack_rtm_types::Event;
use slack_rtm_types::socket_mode::{
    ApiEvent, DisconnectReason, EnvelopeAck, EnvelopeFrame, EnvelopeType, Interactive, Payload, SocketFrame,
};

fn frame(text: &str) -> SocketFrame {
    SocketFrame::from_json(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn envelope(kind: &str, payload: Value) -> String {
    json!({
        "envelope_id": "1d4c6f2e-8a8b-4c55-9f0e-3b0d6f1c2a7e",
        "payload": payload,
        "type": kind,
        "accepts_response_payload": kind != "events_api",
        "retry_attempt": 0,
        "retry_reason": ""
    })
    .to_string()
}

fn callback(event: Value) -> Value {
    json!({
        "token": "verification-token-not-a-secret-here",
        "team_id": "T0EXAMPLE",
        "api_app_id": "A0EXAMPLE",
        "event": event,
        "type": "event_callback",
        "event_id": "Ev0EXAMPLE01",
        "event_time": 1_700_000_000,
        "authorizations": [{"enterprise_id": null, "team_id": "T0EXAMPLE", "user_id": "U0BOT",
                            "is_bot": true, "is_enterprise_install": false}],
        "is_ext_shared_channel": false,
        "event_context": "4-eyJldCI6Im1lc3NhZ2UifQ"
    })
}

/// The envelope's payload, decoded; `Payload::decode` on its text must agree.
fn payload_of(text: &str) -> Payload {
    match frame(text) {
        SocketFrame::Envelope(e) => {
            let payload = e.decode_payload();
            if let Some(raw) = &e.payload {
                assert_eq!(Payload::decode(&e.envelope_type, raw), payload, "{text}");
            }
            payload
        }
        other => panic!("not an envelope: {other:?}"),
    }
}

fn api_event(event: Value) -> ApiEvent {
    match payload_of(&envelope("events_api", callback(event))) {
        Payload::EventsApi(cb) => cb.event,
        other => panic!("not events_api: {other:?}"),
    }
}

fn interactive(payload: Value) -> Interactive {
    match payload_of(&envelope("interactive", payload)) {
        Payload::Interactive(i) => *i,
        other => panic!("not interactive: {other:?}"),
    }
}

#[test]
fn hello_with_every_field() {
    let text = r#"{"type":"hello","num_connections":2,"debug_info":{"host":"applink-7fc4fdbb64-4x5xq","build_number":10,"approximate_connection_time":18060},"connection_info":{"app_id":"A0EXAMPLE"}}"#;
    let SocketFrame::Hello(h) = frame(text) else { panic!() };
    assert_eq!(h.num_connections, Some(2));
    let d = h.debug_info.as_ref().unwrap();
    assert_eq!(d.host.as_deref(), Some("applink-7fc4fdbb64-4x5xq"));
    assert_eq!((d.build_number, d.approximate_connection_time), (Some(10), Some(18060)));
    assert_eq!(h.connection_info.unwrap().app_id.as_deref(), Some("A0EXAMPLE"));
    // A bare hello decodes too.
    assert!(matches!(frame(r#"{"type":"hello"}"#), SocketFrame::Hello(_)));
}

#[test]
fn disconnect_reasons_known_and_unknown() {
    for (wire, reason) in [
        ("warning", DisconnectReason::Warning),
        ("refresh_requested", DisconnectReason::RefreshRequested),
        ("too_many_websockets", DisconnectReason::TooManyWebsockets),
        ("link_disabled", DisconnectReason::LinkDisabled),
        ("brand_new_reason", DisconnectReason::Other("brand_new_reason".into())),
    ] {
        let text =
            format!(r#"{{"type":"disconnect","reason":"{wire}","debug_info":{{"host":"applink-1"}}}}"#);
        let SocketFrame::Disconnect(d) = frame(&text) else { panic!("{text}") };
        assert_eq!(d.reason, reason);
        assert_eq!(d.reason.as_str(), wire);
        assert_eq!(d.reason.is_fatal(), wire == "link_disabled");
        assert_eq!(d.debug_info.unwrap().host.as_deref(), Some("applink-1"));
        // Round trip.
        let back = serde_json::to_value(frame_disconnect(&text)).unwrap();
        assert_eq!(back["reason"], wire);
    }
}

fn frame_disconnect(text: &str) -> slack_rtm_types::socket_mode::Disconnect {
    match frame(text) {
        SocketFrame::Disconnect(d) => d,
        _ => unreachable!(),
    }
}

#[test]
fn envelope_fields_and_retries() {
    let text = json!({"envelope_id":"e-7","payload":callback(json!({"type":"app_uninstalled"})),
        "type":"events_api","accepts_response_payload":false,"retry_attempt":2,"retry_reason":"timeout"})
    .to_string();
    let SocketFrame::Envelope(e) = frame(&text) else { panic!() };
    assert_eq!(e.envelope_id, "e-7");
    assert_eq!(e.envelope_type, EnvelopeType::EventsApi);
    assert!(!e.accepts_response_payload);
    assert_eq!(e.retry_attempt, 2);
    assert_eq!(e.retry_reason.as_deref(), Some("timeout"));
    assert!(e.is_retry());
    assert_eq!(e.ack(), EnvelopeAck::new("e-7"));
    // Round trip: serializing gives back the same JSON.
    assert_eq!(serde_json::to_value(&*e).unwrap(), serde_json::from_str::<Value>(&text).unwrap());
}

#[test]
fn events_api_wrapper_fields() {
    let Payload::EventsApi(cb) =
        payload_of(&envelope("events_api", callback(json!({"type":"app_uninstalled"}))))
    else {
        panic!()
    };
    assert_eq!(cb.team_id.as_ref().unwrap().as_str(), "T0EXAMPLE");
    assert_eq!(cb.api_app_id.as_deref(), Some("A0EXAMPLE"));
    assert_eq!(cb.callback_type, "event_callback");
    assert_eq!(cb.event_id, "Ev0EXAMPLE01");
    assert_eq!(cb.event_time, 1_700_000_000);
    assert_eq!(cb.authorizations.len(), 1);
    assert!(cb.authorizations[0].is_bot);
    assert_eq!(cb.authorizations[0].user_id.as_ref().unwrap().as_str(), "U0BOT");
    assert!(!cb.is_ext_shared_channel);
    assert_eq!(cb.event_context.as_deref(), Some("4-eyJldCI6Im1lc3NhZ2UifQ"));
    assert_eq!(cb.event.event_type(), "app_uninstalled");
}

#[test]
fn inner_events_shared_with_rtm_use_the_rtm_model() {
    let ev = api_event(json!({"type":"message","channel":"C0EXAMPLE","user":"U0ALICE","text":"hi",
        "ts":"1700000000.000100","event_ts":"1700000000.000100","channel_type":"channel",
        "client_msg_id":"f1b2c3d4-0000-4000-8000-000000000001","team":"T0EXAMPLE"}));
    let ApiEvent::Rtm(Event::Message(m)) = ev else { panic!("{ev:?}") };
    assert_eq!(m.text.as_deref(), Some("hi"));
    assert_eq!(m.channel_type.as_deref(), Some("channel"));

    let ev = api_event(json!({"type":"reaction_added","user":"U0ALICE","reaction":"thumbsup",
        "item_user":"U0BOB","item":{"type":"message","channel":"C0EXAMPLE","ts":"1700000000.000100"},
        "event_ts":"1700000001.000200"}));
    assert!(matches!(ev, ApiEvent::Rtm(Event::ReactionAdded(_))), "{ev:?}");

    let ev = api_event(json!({"type":"member_joined_channel","user":"U0ALICE","channel":"C0EXAMPLE",
        "channel_type":"C","team":"T0EXAMPLE","event_ts":"1700000002.000300"}));
    assert!(matches!(ev, ApiEvent::Rtm(Event::MemberJoinedChannel(_))), "{ev:?}");
}

#[test]
fn events_api_only_events() {
    let ApiEvent::AppMention(m) = api_event(json!({"type":"app_mention","user":"U0ALICE",
        "text":"<@U0BOT> deploy","ts":"1700000000.000100","channel":"C0EXAMPLE",
        "event_ts":"1700000000.000100","thread_ts":"1699999999.000001","blocks":[{"type":"rich_text"}]}))
    else {
        panic!()
    };
    assert_eq!(m.text, "<@U0BOT> deploy");
    assert_eq!(m.channel.as_str(), "C0EXAMPLE");
    assert_eq!(m.thread_ts.unwrap().as_str(), "1699999999.000001");
    assert!(m.blocks.unwrap().as_str().contains("rich_text"));

    let ApiEvent::AppHomeOpened(h) = api_event(json!({"type":"app_home_opened","user":"U0ALICE",
        "channel":"D0EXAMPLE","tab":"home","event_ts":"1700000000.000100","view":{"id":"V0HOME"}}))
    else {
        panic!()
    };
    assert_eq!((h.user.as_str(), h.tab.as_deref()), ("U0ALICE", Some("home")));
    assert!(h.view.unwrap().as_str().contains("V0HOME"));

    assert!(matches!(api_event(json!({"type":"app_uninstalled"})), ApiEvent::AppUninstalled(_)));

    let ApiEvent::TokensRevoked(t) =
        api_event(json!({"type":"tokens_revoked","tokens":{"oauth":["U0ALICE"],"bot":["U0BOT"]}}))
    else {
        panic!()
    };
    assert_eq!(t.tokens.oauth[0].as_str(), "U0ALICE");
    assert_eq!(t.tokens.bot[0].as_str(), "U0BOT");

    let ApiEvent::LinkShared(l) = api_event(json!({"type":"link_shared","channel":"C0EXAMPLE",
        "user":"U0ALICE","message_ts":"1700000000.000100","unfurl_id":"C0EXAMPLE.1700000000.000100.abc",
        "source":"conversations_history","links":[{"domain":"example.com","url":"https://example.com/a"}],
        "event_ts":"1700000000.000200"}))
    else {
        panic!()
    };
    assert_eq!(l.links[0].url, "https://example.com/a");
    assert_eq!(l.source.as_deref(), Some("conversations_history"));
}

#[test]
fn unknown_and_misshapen_inner_events_are_kept_whole() {
    let ev = api_event(json!({"type":"function_executed","function":{"id":"Fn1"},"inputs":{}}));
    let ApiEvent::Rtm(Event::Unknown { event_type, raw, .. }) = ev else { panic!() };
    assert_eq!(event_type.as_deref(), Some("function_executed"));
    assert!(raw.as_str().contains("Fn1"));

    // app_mention without its channel: an unexpected shape, kept whole with the reason.
    let ev = api_event(json!({"type":"app_mention","user":"U0ALICE","text":"x","ts":"1.2"}));
    let ApiEvent::Rtm(Event::Unknown { event_type, raw, shape_error }) = ev else { panic!() };
    assert_eq!(event_type.as_deref(), Some("app_mention"));
    assert!(shape_error.unwrap().contains("channel"));
    assert!(raw.as_str().contains(r#""text":"x""#));
}

#[test]
fn slash_command() {
    let Payload::SlashCommand(c) = payload_of(&envelope(
        "slash_commands",
        json!({"token":"verification-token","team_id":"T0EXAMPLE","team_domain":"example",
               "channel_id":"C0EXAMPLE","channel_name":"general","user_id":"U0ALICE","user_name":"alice",
               "command":"/weather","text":"paris tomorrow","api_app_id":"A0EXAMPLE",
               "is_enterprise_install":"false",
               "response_url":"https://hooks.slack.com/commands/T0EXAMPLE/1/abc",
               "trigger_id":"1.2.abc"}),
    )) else {
        panic!()
    };
    assert_eq!((c.command.as_str(), c.text.as_str()), ("/weather", "paris tomorrow"));
    assert_eq!(c.user_id.as_str(), "U0ALICE");
    assert_eq!(c.channel_name.as_deref(), Some("general"));
    assert_eq!(c.team_domain.as_deref(), Some("example"));
    assert!(c.response_url.unwrap().starts_with("https://hooks.slack.com/"));
    assert_eq!(c.trigger_id.as_deref(), Some("1.2.abc"));
}

fn user() -> Value {
    json!({"id":"U0ALICE","username":"alice","name":"alice","team_id":"T0EXAMPLE"})
}

fn view() -> Value {
    json!({"id":"V0MODAL","type":"modal","callback_id":"deploy","private_metadata":"m","hash":"1.abc",
           "state":{"values":{"env_block":{"env_input":{"type":"plain_text_input","value":"prod"}}}}})
}

#[test]
fn block_actions() {
    let Interactive::BlockActions(b) = interactive(json!({"type":"block_actions","user":user(),
        "api_app_id":"A0EXAMPLE","team":{"id":"T0EXAMPLE","domain":"example"},
        "channel":{"id":"C0EXAMPLE","name":"general"},"trigger_id":"1.2.abc",
        "response_url":"https://hooks.slack.com/actions/T0EXAMPLE/1/abc",
        "container":{"type":"message"},"message":{"ts":"1700000000.000100"},
        "actions":[{"action_id":"approve","block_id":"b1","type":"button","value":"yes",
                    "action_ts":"1700000001.000000"}]}))
    else {
        panic!()
    };
    assert_eq!(b.user.id.as_str(), "U0ALICE");
    assert_eq!(b.team.unwrap().domain.as_deref(), Some("example"));
    assert_eq!(b.channel.unwrap().id.as_str(), "C0EXAMPLE");
    assert_eq!(b.trigger_id.as_deref(), Some("1.2.abc"));
    assert!(b.response_url.is_some());
    let a = &b.actions[0];
    assert_eq!(
        (a.action_id.as_str(), a.block_id.as_deref(), a.value.as_deref()),
        ("approve", Some("b1"), Some("yes"))
    );
}

#[test]
fn view_submission_and_closed() {
    let Interactive::ViewSubmission(v) = interactive(json!({"type":"view_submission","user":user(),
        "team":{"id":"T0EXAMPLE","domain":"example"},"api_app_id":"A0EXAMPLE","view":view(),
        "trigger_id":"1.2.abc","response_urls":[]}))
    else {
        panic!()
    };
    assert_eq!(v.view.id, "V0MODAL");
    assert_eq!(v.view.callback_id.as_deref(), Some("deploy"));
    assert_eq!(v.view.state.values["env_block"]["env_input"].value.as_deref(), Some("prod"));
    let Interactive::ViewClosed(c) =
        interactive(json!({"type":"view_closed","user":user(),"view":view(),"is_cleared":true}))
    else {
        panic!()
    };
    assert_eq!(c.is_cleared, Some(true));
}

#[test]
fn shortcuts_and_block_suggestion() {
    let Interactive::Shortcut(s) = interactive(json!({"type":"shortcut","user":user(),
        "callback_id":"new_ticket","trigger_id":"1.2.abc","action_ts":"1700000000.1"}))
    else {
        panic!()
    };
    assert_eq!(s.callback_id, "new_ticket");
    let Interactive::MessageAction(m) = interactive(json!({"type":"message_action","user":user(),
        "callback_id":"summarize","trigger_id":"1.2.abc","channel":{"id":"C0EXAMPLE","name":"general"},
        "message_ts":"1700000000.000100","message":{"text":"long"},
        "response_url":"https://hooks.slack.com/app/T0EXAMPLE/1/abc"}))
    else {
        panic!()
    };
    assert_eq!(m.channel.unwrap().id.as_str(), "C0EXAMPLE");
    assert_eq!(m.message_ts.as_deref(), Some("1700000000.000100"));
    let Interactive::BlockSuggestion(b) = interactive(json!({"type":"block_suggestion","user":user(),
        "action_id":"pick_repo","block_id":"repo","value":"sla","view":view()}))
    else {
        panic!()
    };
    assert_eq!((b.action_id.as_str(), b.value.as_str()), ("pick_repo", "sla"));
}

#[test]
fn unknown_interactive_and_misshapen_ones_are_kept_whole() {
    let i = interactive(json!({"type":"workflow_step_edit","callback_id":"x"}));
    assert_eq!(i.interactive_type(), "workflow_step_edit");
    let Interactive::Unknown { raw, shape_error: None, .. } = i else { panic!() };
    assert!(raw.as_str().contains("workflow_step_edit"));
    // block_actions without a user.
    let Interactive::Unknown { interactive_type, shape_error, .. } =
        interactive(json!({"type":"block_actions","actions":[]}))
    else {
        panic!()
    };
    assert_eq!(interactive_type.as_deref(), Some("block_actions"));
    assert!(shape_error.unwrap().contains("user"));
}

#[test]
fn unknown_envelope_types_payloads_and_frames_are_kept_whole() {
    let text = envelope("brand_new_envelope", json!({"x":1}));
    let SocketFrame::Envelope(e) = frame(&text) else { panic!() };
    assert_eq!(e.envelope_type, EnvelopeType::Other("brand_new_envelope".into()));
    assert!(matches!(e.decode_payload(), Payload::Unknown { shape_error: None, .. }));

    // A slash command without its command: the payload is kept with the reason.
    let Payload::Unknown { raw, shape_error } = payload_of(&envelope("slash_commands", json!({"text":"x"})))
    else {
        panic!()
    };
    assert!(shape_error.unwrap().contains("command"));
    assert_eq!(raw.as_str(), r#"{"text":"x"}"#);

    for text in [r#"{"type":"brand_new_frame","a":[1]}"#, r#"[1,2]"#, r#""str""#, r#"{"no_type":true}"#] {
        let SocketFrame::Unknown { raw, shape_error: None, .. } = frame(text) else { panic!("{text}") };
        assert_eq!(raw.as_str(), text);
    }
    // A known frame type of an unexpected shape.
    let text = r#"{"type":"disconnect","reason":42}"#;
    let SocketFrame::Unknown { frame_type, shape_error: Some(_), raw } = frame(text) else { panic!() };
    assert_eq!((frame_type.as_deref(), raw.as_str()), (Some("disconnect"), text));
    // An envelope whose id is not a string.
    let text = r#"{"envelope_id":7,"type":"events_api","payload":{}}"#;
    assert!(matches!(frame(text), SocketFrame::Unknown { shape_error: Some(_), .. }));
    // Invalid JSON is the only error.
    assert!(SocketFrame::from_json(r#"{"type":"hello""#).is_err());
    assert!(SocketFrame::from_json(r#"{"envelope_id":"e","type":"events_api","payload":{]}"#).is_err());
}

#[test]
fn envelope_frame_gives_id_and_type_before_any_decode() {
    let text = envelope("interactive", json!({"type":"shortcut","user":user(),"callback_id":"c"}));
    let f = EnvelopeFrame::new(text.clone()).unwrap();
    assert_eq!(f.envelope_id(), "1d4c6f2e-8a8b-4c55-9f0e-3b0d6f1c2a7e");
    assert_eq!(f.envelope_type(), "interactive");
    assert_eq!(f.ack(), EnvelopeAck::new("1d4c6f2e-8a8b-4c55-9f0e-3b0d6f1c2a7e"));
    assert_eq!(f.decode().unwrap(), SocketFrame::from_json(&text).unwrap());
    assert_eq!(f.as_str(), text);
    // The payload's own `type` and ids never confuse the scan.
    let nested =
        r#"{"payload":{"type":"x","envelope_id":"inner"},"envelope_id":"outer","type":"events_api"}"#;
    let f = EnvelopeFrame::new(nested.to_owned()).unwrap();
    assert_eq!((f.envelope_id(), f.envelope_type()), ("outer", "events_api"));
    // The scan never reads the payload: the id is there even before (or without) a decode.
    let broken = r#"{"envelope_id":"e9","type":"events_api","payload":{"event":{]}}"#;
    let f = EnvelopeFrame::new(broken.to_owned()).unwrap();
    assert_eq!(f.ack(), EnvelopeAck::new("e9"));
    assert!(f.decode().is_err());
    // hello, disconnect and unscannable frames are given back untouched.
    for t in [
        r#"{"type":"hello"}"#,
        r#"{"type":"disconnect","reason":"warning"}"#,
        r#"{"envelope_id":"e\u0031","type":"events_api"}"#,
    ] {
        assert_eq!(EnvelopeFrame::new(t.to_owned()), Err(t.to_owned()));
    }
}

#[test]
fn ack_shapes() {
    assert_eq!(serde_json::to_string(&EnvelopeAck::new("e-1")).unwrap(), r#"{"envelope_id":"e-1"}"#);
    let with =
        EnvelopeAck::with_payload("e-2", slack_rtm_types::RawJson::from_json(r#"{"text":"ok"}"#).unwrap());
    assert_eq!(serde_json::to_string(&with).unwrap(), r#"{"envelope_id":"e-2","payload":{"text":"ok"}}"#);
    let back: EnvelopeAck = serde_json::from_str(r#"{"envelope_id":"e-2","payload":{"text":"ok"}}"#).unwrap();
    assert_eq!(back, with);
}

/// Every typed frame and payload serializes back to JSON that decodes to the same value.
#[test]
fn typed_frames_and_payloads_round_trip() {
    let hello = frame(
        r#"{"type":"hello","num_connections":3,"debug_info":{"host":"h","build_number":1,"approximate_connection_time":60},"connection_info":{"app_id":"A1"}}"#,
    );
    let SocketFrame::Hello(h) = &hello else { panic!() };
    let back: slack_rtm_types::socket_mode::SocketModeHello =
        serde_json::from_value(serde_json::to_value(h).unwrap()).unwrap();
    assert_eq!(&back, h);

    let payloads = [
        envelope(
            "slash_commands",
            json!({"command":"/a","text":"b","user_id":"U1","channel_id":"C1","team_id":"T1","trigger_id":"t"}),
        ),
        envelope(
            "interactive",
            json!({"type":"block_actions","user":user(),"actions":[{"action_id":"a","value":"v"}],"view":view()}),
        ),
        envelope("interactive", json!({"type":"view_submission","user":user(),"view":view()})),
        envelope("interactive", json!({"type":"shortcut","user":user(),"callback_id":"c"})),
        envelope("interactive", json!({"type":"block_suggestion","user":user(),"action_id":"a","value":"x"})),
        envelope(
            "events_api",
            callback(json!({"type":"app_mention","user":"U1","text":"<@U2> hi","ts":"1.2","channel":"C1"})),
        ),
        envelope(
            "events_api",
            callback(
                json!({"type":"link_shared","channel":"C1","message_ts":"1.2","links":[{"domain":"d","url":"https://d/x"}]}),
            ),
        ),
        envelope("events_api", callback(json!({"type":"tokens_revoked","tokens":{"oauth":["U1"],"bot":[]}}))),
        envelope(
            "events_api",
            callback(
                json!({"type":"message","channel":"C1","user":"U1","text":"t","ts":"1.2","channel_type":"im"}),
            ),
        ),
    ];
    for text in payloads {
        let decoded = payload_of(&text);
        let again = match &decoded {
            Payload::SlashCommand(c) => Payload::SlashCommand(Box::new(
                serde_json::from_value(serde_json::to_value(c).unwrap()).unwrap(),
            )),
            Payload::EventsApi(cb) => Payload::EventsApi(Box::new(
                serde_json::from_value(serde_json::to_value(cb).unwrap()).unwrap(),
            )),
            Payload::Interactive(i) => {
                let v = match &**i {
                    Interactive::BlockActions(x) => serde_json::to_value(x),
                    Interactive::ViewSubmission(x) | Interactive::ViewClosed(x) => serde_json::to_value(x),
                    Interactive::Shortcut(x) | Interactive::MessageAction(x) => serde_json::to_value(x),
                    Interactive::BlockSuggestion(x) => serde_json::to_value(x),
                    other => panic!("untyped: {other:?}"),
                };
                let mut v = v.unwrap();
                v["type"] = json!(i.interactive_type());
                Payload::Interactive(Box::new(Interactive::from_raw(
                    &slack_rtm_types::RawJson::from_value(&v).unwrap(),
                )))
            }
            other => panic!("untyped: {other:?}"),
        };
        assert_eq!(again, decoded, "{text}");
    }
}
