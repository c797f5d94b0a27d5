//! The sentences of a failed call, shared by `rtm.connect`, `apps.connections.open` and the Web
//! API errors, so each says the same thing the same way: what went wrong and what to do.

use slack_rtm_types::ApiError;

/// What Slack said about a refused call beyond its error code.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErrorDetail {
    /// The scope Slack says is missing (`needed`, with `missing_scope`).
    pub needed: Option<String>,
    /// Slack's explanations (`response_metadata.messages`), e.g. which argument is wrong.
    pub messages: Vec<String>,
}

impl ErrorDetail {
    /// `None` when Slack said nothing more (the common case: no allocation).
    pub(crate) fn boxed(needed: Option<String>, messages: Vec<String>) -> Option<Box<Self>> {
        (needed.is_some() || !messages.is_empty()).then(|| Box::new(Self { needed, messages }))
    }
}

/// ` (x-slack-req-id …)`, or nothing.
pub(crate) fn req(id: &Option<String>) -> String {
    match id {
        Some(id) => format!(" (x-slack-req-id {id})"),
        None => String::new(),
    }
}

/// `{method} failed: {code}: {what it means}`, then the scope Slack says is needed, Slack's own
/// messages about the call and the request id.
pub(crate) fn api_failure(
    method: &str,
    error: &ApiError,
    detail: &Option<Box<ErrorDetail>>,
    req_id: &Option<String>,
) -> String {
    let mut s = format!("{method} failed: {error}");
    if let Some(d) = detail {
        if let Some(scope) = &d.needed {
            s.push_str(&format!(" The scope needed: {scope}."));
        }
        if !d.messages.is_empty() {
            s.push_str(&format!(" Slack says: {}.", d.messages.join("; ")));
        }
    }
    s.push_str(&req(req_id));
    s
}

/// An HTTP status other than 200, 429 and 5xx. A 404 almost always means an API URL that does
/// not end in `/api/` (or a misspelt method): say so instead of showing the page.
pub(crate) fn unexpected_status(
    method: &str,
    status: u16,
    content_type: &str,
    snippet: &str,
    req_id: &Option<String>,
) -> String {
    if status == 404 {
        format!(
            "{method} answered HTTP 404 (not found): is the API URL right? Slack's is \
             https://slack.com/api/ and a local emulator's ends in /api/ too{}",
            req(req_id)
        )
    } else {
        format!("{method} answered HTTP {status} ({content_type}): {snippet:?}{}", req(req_id))
    }
}
