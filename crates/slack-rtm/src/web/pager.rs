//! Cursor pagination as something the caller iterates.

use super::{WebCallError, WebClient};
use serde::Serialize;
use serde_json::{Map, Value};
use slack_rtm_codec::web::to_args;
use slack_rtm_types::web::HistoryPage;

/// The pages of a paginated read (`conversations.history`, `conversations.replies`): call
/// [`Pages::next`] until it returns `None`.
///
/// ```no_run
/// # async fn f(web: slack_rtm::WebClient) -> Result<(), slack_rtm::WebCallError> {
/// use slack_rtm::types::web::HistoryQuery;
/// let mut pages = web.history(HistoryQuery::new("C024BE91L"));
/// while let Some(page) = pages.next().await {
///     for message in page?.messages {
///         println!("{:?}: {:?}", message.ts, message.text);
///     }
/// }
/// # Ok(()) }
/// ```
///
/// Iteration ends after the last page, after an error (returned once), or if the server
/// repeats a cursor (which would loop forever).
#[derive(Debug)]
pub struct Pages {
    web: WebClient,
    method: &'static str,
    args: Result<Map<String, Value>, Option<WebCallError>>,
    cursor: Option<String>,
    done: bool,
}

impl Pages {
    pub(crate) fn new(web: WebClient, method: &'static str, query: &impl Serialize) -> Self {
        let args = to_args(query).map_err(|e| Some(WebCallError::Build(e)));
        Self { web, method, args, cursor: None, done: false }
    }

    /// The next page; `None` when there are no more.
    pub async fn next(&mut self) -> Option<Result<HistoryPage, WebCallError>> {
        if self.done {
            return None;
        }
        let mut args = match &mut self.args {
            Ok(args) => args.clone(),
            Err(e) => {
                self.done = true;
                return e.take().map(Err);
            }
        };
        if let Some(c) = &self.cursor {
            args.insert("cursor".into(), Value::String(c.clone()));
        }
        let page = match self.web.call(self.method, args).await.and_then(|r| Ok(r.parse::<HistoryPage>()?)) {
            Ok(page) => page,
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        match page.next_cursor() {
            Some(next) if self.cursor.as_deref() != Some(next) => self.cursor = Some(next.to_owned()),
            _ => self.done = true,
        }
        Some(Ok(page))
    }

    /// Every remaining message, page after page, at most `max` of them (memory stays bounded).
    pub async fn collect_messages(
        mut self,
        max: usize,
    ) -> Result<Vec<slack_rtm_types::event::Message>, WebCallError> {
        let mut out = Vec::new();
        while out.len() < max {
            match self.next().await {
                Some(page) => out.extend(page?.messages),
                None => break,
            }
        }
        out.truncate(max);
        Ok(out)
    }
}
