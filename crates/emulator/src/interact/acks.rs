//! The app's acks, applied as Slack applies them, whatever carried them (a Socket Mode ack or
//! an HTTP response): a command's reply becomes a message, a view submission's
//! `response_action` changes the user's modals, an options list is kept for the test. Each
//! first ack is then "resolved" for [`crate::Emulator::wait_for_ack`].

use super::state::ResponseUrl;
use crate::socket_mode::AckRecord;
use crate::web::respond::{Source, apply_message};
use crate::web::{check_modal, push_view, replace_view};
use crate::{Emulator, EmulatorError, Shared};
use serde_json::Value;
use slack_rtm_types::{ChannelId, UserId};
use std::time::{Duration, Instant};

/// A Socket Mode envelope's first ack arrived (its record is in `sm.acks`).
pub(crate) fn on_socket_ack(shared: &Shared, seq: u64, envelope_id: &str, late: bool) {
    let ack = shared.lock().sm.acks.iter().rev().find(|a| a.envelope_id == envelope_id).cloned();
    let Some(ack) = ack else { return };
    if !late {
        apply(shared, seq, ack.payload.as_ref());
    }
    resolve(shared, seq, ack);
}

/// Makes `ack` the answer [`Emulator::wait_for_ack`] gives for envelope `seq`.
pub(crate) fn resolve(shared: &Shared, seq: u64, ack: AckRecord) {
    shared.lock().ix.resolved.insert(seq, ack);
    shared.notify();
}

/// Applies the ack of envelope `seq` (its body, if any).
pub(crate) fn apply(shared: &Shared, seq: u64, body: Option<&Value>) {
    // Only commands and interactions have acks that do something: events are not copied.
    let found = shared
        .lock()
        .sm
        .record(seq)
        .filter(|e| e.envelope_type != "events_api")
        .map(|e| (e.envelope_type.clone(), e.payload.clone()));
    let Some((kind, payload)) = found else { return };
    let body = body.filter(|b| b.as_object().is_some_and(|o| !o.is_empty()));
    match (kind.as_str(), payload["type"].as_str()) {
        ("slash_commands", _) => {
            if let Some(body) = body {
                command_reply(shared, &payload, body);
            }
        }
        ("interactive", Some("view_submission")) => view_response(shared, &payload, body),
        _ => {}
    }
}

/// A command's ack with a message: shown like a `response_url` answer.
fn command_reply(shared: &Shared, payload: &Value, body: &Value) {
    if body.get("text").is_none() && body.get("blocks").is_none() {
        return;
    }
    let target = ResponseUrl {
        channel: payload["channel_id"].as_str().map(ChannelId::new),
        user: UserId::new(payload["user_id"].as_str().unwrap_or("")),
        original: None,
        uses: 0,
        expires: Instant::now(),
    };
    if let Err(e) = apply_message(shared, &target, body, Source::Ack) {
        tracing::debug!(error = e, "a command's ack could not be shown");
    }
}

/// A view submission's `response_action`: `errors` (shown, the view stays), `update`,
/// `push`, `clear`; nothing closes the submitted view.
fn view_response(shared: &Shared, payload: &Value, body: Option<&Value>) {
    let view_id = payload["view"]["id"].as_str().unwrap_or("").to_owned();
    let user = UserId::new(payload["user"]["id"].as_str().unwrap_or(""));
    let action = body.and_then(|b| b["response_action"].as_str());
    let mut st = shared.lock();
    match (action, body) {
        (Some("errors"), Some(b)) => {
            if let Some(v) = st.web.view_mut(&view_id) {
                v.errors = Some(b["errors"].clone());
            }
        }
        (Some("update"), Some(b)) => match check_modal(b["view"].clone()) {
            Ok(view) => drop(replace_view(&mut st, &view_id, view)),
            Err(e) => tracing::warn!(error = e, "response_action update with an invalid view"),
        },
        (Some("push"), Some(b)) => {
            let pushed =
                check_modal(b["view"].clone()).and_then(|v| push_view(&mut st, &user, String::new(), v));
            if let Err(e) = pushed {
                tracing::warn!(error = e, "response_action push refused");
            }
        }
        (Some("clear"), _) => drop(st.web.close_all(&user)),
        _ => drop(st.web.close_view(&view_id)),
    }
    drop(st);
    shared.notify();
}

impl Emulator {
    /// Waits for the app's first ack of envelope `seq` ([`crate::Sent::seq`], or the number
    /// [`Emulator::send_envelope`] returns), applied (a view's `response_action`, a command's
    /// reply) before this returns. Its [`AckRecord::payload`] is the ack's body (options, a
    /// `response_action`, a message); [`AckRecord::late`] tells an ack Slack would have
    /// ignored (it is then not applied).
    pub async fn wait_for_ack(&self, seq: u64, timeout: Duration) -> Result<AckRecord, EmulatorError> {
        self.wait_until(
            || format!("the ack of envelope {seq}"),
            timeout,
            |st| st.ix.resolved.get(&seq).is_some(),
        )
        .await?;
        self.shared.lock().ix.resolved.get(&seq).cloned().ok_or_else(|| EmulatorError::Timeout {
            what: format!("the ack of envelope {seq} (forgotten)"),
            timeout,
        })
    }

    /// The options the app answered to a `block_suggestion` (envelope `seq`): the ack's
    /// `options`, or every option of its `option_groups`.
    pub async fn wait_for_options(&self, seq: u64, timeout: Duration) -> Result<Vec<Value>, EmulatorError> {
        let ack = self.wait_for_ack(seq, timeout).await?;
        let body = ack.payload.unwrap_or(Value::Null);
        let groups = body["option_groups"].as_array().into_iter().flatten().map(|g| &g["options"]);
        Ok(std::iter::once(&body["options"])
            .chain(groups)
            .flat_map(|l| l.as_array().into_iter().flatten())
            .cloned()
            .collect())
    }
}
