//! Posting to a `response_url`: JSON, no token, 429s waited out.

use crate::web::{ApiCallError, WebClient};
use slack_rtm_codec::TransportFailure;
use std::time::Duration;

/// Why `say` or `respond` failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplyError {
    /// `say` on a request without a channel (a global shortcut, `app_home_opened` without one).
    #[error("this request has no channel to say something in")]
    NoChannel,
    /// `respond` on a payload without a `response_url` (events, view submissions without
    /// `response_url_enabled`).
    #[error("this request has no response_url")]
    NoResponseUrl,
    /// The Web API call failed.
    #[error(transparent)]
    Web(#[from] ApiCallError),
    /// The `response_url` answered with an error status (expired, used too often, bad body).
    #[error("the response_url answered {status}: {body}")]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// The body (at most 200 bytes of it).
        body: String,
    },
    /// Still rate limited after the retries.
    #[error("the response_url is rate limited (retry after {0:?})")]
    RateLimited(Duration),
    /// The request to the `response_url` could not be built (it is not a URL).
    #[error("the response_url request could not be built (is it a URL?)")]
    InvalidRequest(#[source] http::Error),
    /// The response could not be encoded as JSON.
    #[error("the response could not be encoded as JSON")]
    Encode(#[source] serde_json::Error),
    /// The request could not be sent or its answer read: the transport's failure (how far the
    /// request got, and the transport's own error as its source).
    #[error("the response_url could not be reached: {0}")]
    Transport(#[source] TransportFailure),
}

/// Attempts at a rate-limited `response_url` before giving up.
const ATTEMPTS: u32 = 3;
/// The longest `Retry-After` waited out.
const MAX_WAIT: Duration = Duration::from_secs(30);

/// POSTs `body` (JSON) to `url` through the Web client's transport, without its token.
pub(crate) async fn post_response(web: &WebClient, url: &str, body: Vec<u8>) -> Result<(), ReplyError> {
    let uri: http::Uri =
        url.parse().map_err(|e: http::uri::InvalidUri| ReplyError::InvalidRequest(e.into()))?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let request = http::Request::post(uri.clone())
            .header(http::header::CONTENT_TYPE, "application/json; charset=utf-8")
            .body(body.clone())
            .map_err(ReplyError::InvalidRequest)?;
        let response = web.transport().send_boxed(request).await.map_err(ReplyError::Transport)?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        if status == http::StatusCode::TOO_MANY_REQUESTS {
            let wait = response
                .headers()
                .get(http::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map_or(Duration::from_secs(1), Duration::from_secs)
                .min(MAX_WAIT);
            if attempt >= ATTEMPTS {
                return Err(ReplyError::RateLimited(wait));
            }
            tracing::info!(?wait, attempt, "response_url rate limited; waiting");
            tokio::time::sleep(wait).await;
            continue;
        }
        let text = String::from_utf8_lossy(response.body());
        let body: String = text.chars().take(200).collect();
        return Err(ReplyError::Rejected { status: status.as_u16(), body });
    }
}
