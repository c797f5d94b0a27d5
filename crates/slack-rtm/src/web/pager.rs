//! Cursor pagination as something the caller iterates: one [`Pager`] for every cursor method.

use super::{ApiCallError, WebClient};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use slack_rtm_codec::web::to_args;
use slack_rtm_types::web::{CursorPage, HistoryPage};
use std::marker::PhantomData;

/// The pages of `conversations.history` and `conversations.replies`.
pub type Pages = Pager<HistoryPage>;

/// The pages of any cursor-paginated read (`conversations.history`, `.list`, `.members`,
/// `users.list`, `users.conversations`, …), each a typed `P`: call [`Pager::next`] until it
/// returns `None`.
///
/// ```no_run
/// # async fn f(web: slack_rtm::WebClient) -> Result<(), slack_rtm::ApiCallError> {
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
/// repeats a cursor (which would loop forever). [`Pager::of`] pages any method with any
/// answer type implementing [`CursorPage`].
#[derive(Debug)]
pub struct Pager<P> {
    web: WebClient,
    method: String,
    args: Result<Map<String, Value>, Option<ApiCallError>>,
    cursor: Option<String>,
    done: bool,
    page: PhantomData<fn() -> P>,
}

impl<P: CursorPage + DeserializeOwned> Pager<P> {
    /// The pages of `method` called with `query` (plus `cursor` from the second page on).
    pub fn of(web: &WebClient, method: impl Into<String>, query: &impl Serialize) -> Self {
        let method = method.into();
        let args = to_args(query).map_err(|e| Some(super::invalid(&method, e)));
        Self { web: web.clone(), method, args, cursor: None, done: false, page: PhantomData }
    }

    pub(crate) fn new(web: WebClient, method: &str, query: &impl Serialize) -> Self {
        Self::of(&web, method, query)
    }

    /// The next page; `None` when there are no more.
    pub async fn next(&mut self) -> Option<Result<P, ApiCallError>> {
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
        let page = match self.web.call(&self.method, args).await.and_then(|r| r.parse::<P>()) {
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

    /// Every remaining item, page after page, at most `max` of them (memory stays bounded).
    pub async fn collect<T>(
        mut self,
        max: usize,
        items: impl Fn(P) -> Vec<T>,
    ) -> Result<Vec<T>, ApiCallError> {
        let mut out = Vec::new();
        while out.len() < max {
            match self.next().await {
                Some(page) => out.extend(items(page?)),
                None => break,
            }
        }
        out.truncate(max);
        Ok(out)
    }
}

impl Pager<HistoryPage> {
    /// Every remaining message, page after page, at most `max` of them (memory stays bounded).
    pub async fn collect_messages(
        self,
        max: usize,
    ) -> Result<Vec<slack_rtm_types::event::Message>, ApiCallError> {
        self.collect(max, |p| p.messages).await
    }
}
