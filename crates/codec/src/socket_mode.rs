//! Socket Mode's wire: `apps.connections.open` (request and answer, with rtm.connect's
//! classification of failures), socket frames, and acks.

use crate::api_error::{ApiCallError, ApiFailure};
use crate::frame::{DecodeError, decode_checked, utf8};
use crate::request::{ApiBase, BuildError, api_request};
use crate::response::{DEFAULT_RETRY_AFTER, read_answer};
use http::header::CONTENT_TYPE;
use http::{Method, Request, Response};
use slack_rtm_types::socket_mode::{EnvelopeAck, EnvelopeFrame, MAX_ACK_BYTES, SocketFrame};
use slack_rtm_types::{ApiWarning, AppToken, RawJson, find_string_special};
use std::fmt;
use std::time::Instant;

/// The Web API method that opens a Socket Mode connection.
pub const APPS_CONNECTIONS_OPEN: &str = "apps.connections.open";

/// Everything needed to call `apps.connections.open` and judge its answer, except the token.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpenConfig {
    /// Where the Web API lives.
    pub api_base: ApiBase,
    /// Allow a `ws://` socket URL (only when the API base itself is `http://`).
    pub allow_insecure: bool,
}

/// A successful `apps.connections.open`.
#[derive(Clone, PartialEq, Eq)]
pub struct OpenResponse {
    /// The single-use socket URL (`wss://…/link/?ticket=…&app_id=…`). Open it at once.
    pub url: String,
    /// Warnings that came with the answer.
    pub warnings: Vec<ApiWarning>,
    /// Slack's `x-slack-req-id`.
    pub req_id: Option<String>,
    /// When the answer arrived (the `now` given to the parser).
    pub obtained_at: Instant,
}

impl fmt::Debug for OpenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The ticket in the URL is a short-lived credential: show only where it points.
        let shown = self.url.split_once('?').map_or(self.url.as_str(), |(head, _)| head);
        f.debug_struct("OpenResponse")
            .field("url", &format_args!("{shown}?…"))
            .field("warnings", &self.warnings)
            .field("req_id", &self.req_id)
            .finish_non_exhaustive()
    }
}

impl OpenConfig {
    /// A config for another API base (e.g. a local emulator). `http://` needs `allow_insecure`,
    /// which then also allows a `ws://` socket URL from that server.
    pub fn with_api_base(api_base: &str, allow_insecure: bool) -> Result<Self, BuildError> {
        Ok(Self { api_base: ApiBase::parse(api_base, allow_insecure)?, allow_insecure })
    }

    /// Builds the call: `POST`, no arguments, the app token only in `Authorization: Bearer`.
    pub fn build_request(&self, token: &AppToken) -> Result<Request<Vec<u8>>, BuildError> {
        api_request(token.expose_secret())?
            .method(Method::POST)
            .uri(self.api_base.method_url(APPS_CONNECTIONS_OPEN))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Vec::new())
            .map_err(|_| BuildError::InvalidApiBase { reason: "the method URL is not a valid URI" })
    }

    /// Parses the answer received at `now`.
    pub fn parse_response<B: AsRef<[u8]>>(
        &self,
        response: &Response<B>,
        now: Instant,
    ) -> Result<OpenResponse, ApiCallError> {
        let answer = read_answer(APPS_CONNECTIONS_OPEN, response, DEFAULT_RETRY_AFTER)?;
        let url = match answer.value.get("url") {
            Some(serde_json::Value::String(url)) => url.clone(),
            Some(_) => return Err(answer.missing("url", "not a string".into())),
            None => return Err(answer.missing("url", "absent from a successful answer".into())),
        };
        crate::response::check_socket_url(&self.api_base, self.allow_insecure, &url).map_err(|reason| {
            let failure = ApiFailure::InvalidSocketUrl { reason };
            ApiCallError::new(APPS_CONNECTIONS_OPEN, answer.req_id.clone(), failure)
        })?;
        Ok(OpenResponse { url, warnings: answer.warnings, req_id: answer.req_id, obtained_at: now })
    }
}

/// Decodes one Socket Mode text frame. Never fails on valid JSON (see
/// [`SocketFrame::from_json`]); invalid JSON, or JSON nested deeper than
/// [`MAX_JSON_DEPTH`](crate::MAX_JSON_DEPTH), is a [`DecodeError`].
pub fn decode_socket_frame(text: &str) -> Result<SocketFrame, DecodeError> {
    decode_checked(text, SocketFrame::from_json)
}

/// Like [`decode_socket_frame`], for a frame that may not be valid UTF-8.
pub fn decode_socket_frame_bytes(bytes: &[u8]) -> Result<SocketFrame, DecodeError> {
    utf8(bytes).and_then(decode_socket_frame)
}

/// Decodes an envelope already scanned for its id and type ([`EnvelopeFrame`]): the same
/// result as [`decode_socket_frame`] on its text, without scanning again.
pub fn decode_envelope_frame(frame: &EnvelopeFrame) -> Result<SocketFrame, DecodeError> {
    decode_checked(frame.as_str(), |_| frame.decode())
}

/// An ack that may not be sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AckEncodeError {
    /// The encoded ack is [`MAX_ACK_BYTES`] (20 KB) or more: Slack would drop it or close the
    /// socket.
    #[error("the ack is {bytes} bytes; Slack accepts less than {MAX_ACK_BYTES}")]
    TooLarge {
        /// Its encoded size.
        bytes: usize,
    },
    /// The envelope id is empty.
    #[error("the ack has an empty envelope_id")]
    EmptyEnvelopeId,
    /// The ack could not be serialized (its payload is not valid JSON).
    #[error("the ack cannot be encoded: {0}")]
    Unencodable(String),
}

/// Encodes an ack, refusing (before anything is sent) one of [`MAX_ACK_BYTES`] or more.
pub fn encode_ack(ack: &EnvelopeAck) -> Result<String, AckEncodeError> {
    encode_ack_of(&ack.envelope_id, ack.payload.as_ref())
}

/// [`encode_ack`] of an envelope id and an optional response payload, without building an
/// [`EnvelopeAck`] (no copy of the id). The same text and the same refusals.
pub fn encode_ack_of(envelope_id: &str, payload: Option<&RawJson>) -> Result<String, AckEncodeError> {
    let mut text = String::new();
    encode_ack_of_into(envelope_id, payload, &mut text)?;
    Ok(text)
}

/// [`encode_ack_of`] written into `out` (cleared first), so a caller can reuse one buffer for
/// many acks. On an error `out` holds nothing to send (it may hold part of the text).
pub fn encode_ack_of_into(
    envelope_id: &str,
    payload: Option<&RawJson>,
    out: &mut String,
) -> Result<(), AckEncodeError> {
    out.clear();
    if envelope_id.is_empty() {
        return Err(AckEncodeError::EmptyEnvelopeId);
    }
    // The common ack (no payload, an id JSON writes as it is: no quote, backslash or control
    // character: checked eight bytes at a time) is written directly, as serde_json would write
    // it; anything else goes through serde_json.
    let plain = find_string_special(envelope_id.as_bytes(), 0) == envelope_id.len();
    if payload.is_none() && plain {
        const OPEN: &str = r#"{"envelope_id":""#;
        const CLOSE: &str = r#""}"#;
        out.reserve(OPEN.len() + envelope_id.len() + CLOSE.len());
        out.push_str(OPEN);
        out.push_str(envelope_id);
        out.push_str(CLOSE);
    } else {
        #[derive(serde::Serialize)]
        struct Ack<'a> {
            envelope_id: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            payload: Option<&'a RawJson>,
        }
        *out = serde_json::to_string(&Ack { envelope_id, payload })
            .map_err(|e| AckEncodeError::Unencodable(e.to_string()))?;
    }
    if out.len() >= MAX_ACK_BYTES {
        return Err(AckEncodeError::TooLarge { bytes: out.len() });
    }
    Ok(())
}
