//! Waits for what an app does after its ack (post, open a modal, answer ephemerally), so a test
//! of a user's app asserts without sleeping.

use crate::interact::EphemeralMessage;
use crate::shared::State;
use crate::{Emulator, EmulatorError, OpenedView, PostedMessage};
use slack_rtm_types::UserId;
use std::time::Duration;

impl Emulator {
    /// Waits for a posted message (by anyone, through any path) matching `pred`, and returns
    /// the first one; messages posted before the call count too.
    pub async fn wait_for_message(
        &self,
        timeout: Duration,
        pred: impl Fn(&PostedMessage) -> bool,
    ) -> Result<PostedMessage, EmulatorError> {
        let find = |st: &State| st.messages.iter().find(|m| pred(m)).cloned();
        self.wait_until(|| "a matching posted message".to_owned(), timeout, |st| find(st).is_some()).await?;
        find(&self.shared.lock())
            .ok_or_else(|| EmulatorError::Timeout { what: "a posted message".into(), timeout })
    }

    /// Waits for an ephemeral message to `user` matching `pred` (earlier ones count too).
    pub async fn wait_for_ephemeral_message(
        &self,
        user: &UserId,
        timeout: Duration,
        pred: impl Fn(&EphemeralMessage) -> bool,
    ) -> Result<EphemeralMessage, EmulatorError> {
        let find = |st: &State| st.ix.ephemerals.iter().find(|m| &m.user == user && pred(m)).cloned();
        self.wait_until(|| format!("an ephemeral message to {user}"), timeout, |st| find(st).is_some())
            .await?;
        find(&self.shared.lock())
            .ok_or_else(|| EmulatorError::Timeout { what: "an ephemeral message".into(), timeout })
    }

    /// Waits until `user` sees a modal matching `pred` (the top of their stack) and returns it:
    /// e.g. the one the app opens after acking a shortcut.
    pub async fn wait_for_open_view(
        &self,
        user: &UserId,
        timeout: Duration,
        pred: impl Fn(&OpenedView) -> bool,
    ) -> Result<OpenedView, EmulatorError> {
        let top = |st: &State| {
            let id = st.web.stacks.get(user)?.last()?;
            st.web.views.iter().rev().find(|v| &v.id == id).filter(|v| pred(v)).cloned()
        };
        self.wait_until(|| format!("a modal open for {user}"), timeout, |st| top(st).is_some()).await?;
        top(&self.shared.lock())
            .ok_or_else(|| EmulatorError::Timeout { what: "an open modal".into(), timeout })
    }
}
