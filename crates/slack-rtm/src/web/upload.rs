//! File uploads: `files.getUploadURLExternal`, the bytes streamed to the URL it returns, then
//! one `files.completeUploadExternal` for every file.

use super::{ApiCallError, WebClient};
use http::header::CONTENT_TYPE;
use http::{Method, Request};
use slack_rtm_codec::{BodySource, BoxError, StreamingBody};
use slack_rtm_types::web::{CompleteUpload, CompleteUploadResponse, GetUploadUrl, UploadUrl, UploadedFile};
use slack_rtm_types::{ChannelId, Ts};
use std::fmt;
use std::future::{Future, IntoFuture};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::io::{AsyncRead, ReadBuf};

/// Bytes read from a source at a time (and the most held in memory per file).
pub const UPLOAD_CHUNK: usize = 64 * 1024;
/// Attempts of a byte transfer that can be replayed (from a path or bytes).
const TRANSFER_ATTEMPTS: u32 = 4;

/// One file to upload: from a path (streamed from disk), bytes, or any `AsyncRead`.
pub struct UploadFile {
    filename: String,
    title: Option<String>,
    alt_text: Option<String>,
    snippet_type: Option<String>,
    source: Source,
}

enum Source {
    Path(PathBuf),
    Bytes(Arc<Vec<u8>>),
    /// Read once: a failed transfer cannot be replayed.
    Reader(Mutex<Option<Box<dyn AsyncRead + Send + Unpin>>>, u64),
}

impl fmt::Debug for UploadFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match &self.source {
            Source::Path(p) => format!("path {}", p.display()),
            Source::Bytes(b) => format!("{} bytes", b.len()),
            Source::Reader(_, len) => format!("reader of {len} bytes"),
        };
        f.debug_struct("UploadFile").field("filename", &self.filename).field("source", &source).finish()
    }
}

impl UploadFile {
    /// The file at `path`, streamed from disk (never read whole into memory); named after it.
    pub fn path(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let filename =
            path.file_name().map_or_else(|| "file".to_owned(), |n| n.to_string_lossy().into_owned());
        Self::with_source(filename, Source::Path(path))
    }

    /// Bytes already in memory.
    pub fn bytes(filename: impl Into<String>, data: impl Into<Vec<u8>>) -> Self {
        Self::with_source(filename.into(), Source::Bytes(Arc::new(data.into())))
    }

    /// `length` bytes read from `reader` (exactly: more or fewer fails the transfer). Read
    /// once, so a failed transfer is not retried.
    pub fn reader(
        filename: impl Into<String>,
        reader: impl AsyncRead + Send + Unpin + 'static,
        length: u64,
    ) -> Self {
        Self::with_source(filename.into(), Source::Reader(Mutex::new(Some(Box::new(reader))), length))
    }

    fn with_source(filename: String, source: Source) -> Self {
        Self { filename, title: None, alt_text: None, snippet_type: None, source }
    }

    /// Its title (default: the file name).
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// A description for screen readers (`alt_txt`).
    pub fn alt_text(mut self, alt: impl Into<String>) -> Self {
        self.alt_text = Some(alt.into());
        self
    }

    /// A snippet's syntax (`snippet_type`, e.g. `python`).
    pub fn snippet_type(mut self, kind: impl Into<String>) -> Self {
        self.snippet_type = Some(kind.into());
        self
    }

    /// The file name.
    pub fn filename(&self) -> &str {
        &self.filename
    }

    async fn length(&self) -> Result<u64, std::io::Error> {
        match &self.source {
            Source::Path(p) => Ok(tokio::fs::metadata(p).await?.len()),
            Source::Bytes(b) => Ok(b.len() as u64),
            Source::Reader(_, len) => Ok(*len),
        }
    }

    /// A fresh reader of the bytes; `None` once a one-shot reader was used.
    async fn open(&self) -> Result<Option<Box<dyn AsyncRead + Send + Unpin>>, std::io::Error> {
        match &self.source {
            Source::Path(p) => Ok(Some(Box::new(tokio::fs::File::open(p).await?))),
            Source::Bytes(b) => Ok(Some(Box::new(std::io::Cursor::new(SharedBytes(b.clone()))))),
            Source::Reader(r, _) => Ok(r.lock().ok().and_then(|mut r| r.take())),
        }
    }
}

struct SharedBytes(Arc<Vec<u8>>);

impl AsRef<[u8]> for SharedBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// How far an upload's bytes got, given to the progress callback after every chunk.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// Which file (index in the order given).
    pub file: usize,
    /// Its name.
    pub filename: String,
    /// Bytes of it sent so far (from 0 again if a transfer is retried).
    pub sent: u64,
    /// Its length.
    pub total: u64,
}

type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// Reads chunks from a reader and reports them.
struct ReaderSource {
    reader: Box<dyn AsyncRead + Send + Unpin>,
    buf: Vec<u8>,
    progress: Progress,
    report: Option<ProgressFn>,
}

impl BodySource for ReaderSource {
    fn poll_chunk(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Vec<u8>, BoxError>>> {
        let this = self.get_mut();
        this.buf.resize(UPLOAD_CHUNK, 0);
        let mut read = ReadBuf::new(&mut this.buf);
        if let Err(e) = ready!(Pin::new(&mut this.reader).poll_read(cx, &mut read)) {
            return Poll::Ready(Some(Err(Box::new(e))));
        }
        let n = read.filled().len();
        if n == 0 {
            return Poll::Ready(None);
        }
        let chunk = this.buf[..n].to_vec();
        this.progress.sent += n as u64;
        if let Some(report) = &this.report {
            report(&this.progress);
        }
        Poll::Ready(Some(Ok(chunk)))
    }
}

/// Why an upload failed, by step.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UploadError {
    /// A local file could not be read (nothing was sent for it).
    #[error("{file}: cannot read the file: {source}")]
    Read {
        /// The file name.
        file: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// `files.getUploadURLExternal` failed.
    #[error("{file}: files.getUploadURLExternal failed: {source}")]
    GetUrl {
        /// The file name.
        file: String,
        /// The call's error.
        #[source]
        source: ApiCallError,
    },
    /// The bytes could not be sent to the upload URL (after retries when the source can be
    /// read again: a path or bytes; a reader is read once). Nothing was shared.
    #[error("{file}: sending the bytes failed after {attempts} attempt(s): {cause}")]
    Transfer {
        /// The file name.
        file: String,
        /// How many transfers were tried.
        attempts: u32,
        /// The HTTP status of the last answer, if one came.
        status: Option<u16>,
        /// What went wrong last.
        cause: String,
    },
    /// `files.completeUploadExternal` failed. It is a write: it was not sent again after it
    /// may have reached Slack ([`ApiFailure::OutcomeUnknown`](crate::web::ApiFailure::OutcomeUnknown)), so the files may or may not
    /// have been shared — see [`UploadError::may_have_been_applied`].
    #[error("files.completeUploadExternal failed: {0}")]
    Complete(#[source] ApiCallError),
}

impl UploadError {
    /// Whether the files may have been shared although the upload failed (the completion
    /// call's outcome is unknown).
    pub fn may_have_been_applied(&self) -> bool {
        matches!(self, UploadError::Complete(e) if e.may_have_been_applied())
    }
}

/// An upload being prepared: `.await` it. Made by [`WebClient::upload`].
#[must_use = "nothing is uploaded until awaited"]
pub struct UploadCall {
    web: WebClient,
    files: Vec<UploadFile>,
    channel: Option<ChannelId>,
    thread_ts: Option<Ts>,
    comment: Option<String>,
    progress: Option<ProgressFn>,
}

impl fmt::Debug for UploadCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadCall")
            .field("files", &self.files)
            .field("channel", &self.channel)
            .field("thread_ts", &self.thread_ts)
            .finish_non_exhaustive()
    }
}

impl WebClient {
    /// Uploads one or several files and shares them in one message (with
    /// [`UploadCall::channel`]; else they stay private to the uploader): for each file
    /// `files.getUploadURLExternal` then its bytes, streamed in [`UPLOAD_CHUNK`]s, then one
    /// `files.completeUploadExternal` for all.
    ///
    /// ```no_run
    /// # async fn f(web: slack_rtm::WebClient) -> Result<(), slack_rtm::web::UploadError> {
    /// use slack_rtm::web::UploadFile;
    /// let done = web
    ///     .upload([UploadFile::path("report.pdf").title("Weekly report")])
    ///     .channel("C024BE91L")
    ///     .comment("This week's numbers")
    ///     .on_progress(|p| eprintln!("{}: {}/{}", p.filename, p.sent, p.total))
    ///     .await?;
    /// println!("shared {}", done.files[0].id);
    /// # Ok(()) }
    /// ```
    pub fn upload(&self, files: impl IntoIterator<Item = UploadFile>) -> UploadCall {
        UploadCall {
            web: self.clone(),
            files: files.into_iter().collect(),
            channel: None,
            thread_ts: None,
            comment: None,
            progress: None,
        }
    }
}

impl UploadCall {
    /// Share the files in this conversation.
    pub fn channel(mut self, channel: impl Into<ChannelId>) -> Self {
        self.channel = Some(channel.into());
        self
    }

    /// In the thread of this message (with [`UploadCall::channel`]).
    pub fn in_thread(mut self, ts: impl Into<Ts>) -> Self {
        self.thread_ts = Some(ts.into());
        self
    }

    /// The message shared with the files.
    pub fn comment(mut self, text: impl Into<String>) -> Self {
        self.comment = Some(text.into());
        self
    }

    /// Called after every chunk sent.
    pub fn on_progress(mut self, f: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    async fn run(self) -> Result<CompleteUploadResponse, UploadError> {
        let mut uploaded = Vec::with_capacity(self.files.len());
        for (index, file) in self.files.iter().enumerate() {
            let name = file.filename.clone();
            let length =
                file.length().await.map_err(|source| UploadError::Read { file: name.clone(), source })?;
            let args = GetUploadUrl {
                filename: name.clone(),
                length,
                alt_txt: file.alt_text.clone(),
                snippet_type: file.snippet_type.clone(),
            };
            let url: UploadUrl = self
                .web
                .typed("files.getUploadURLExternal", &args)
                .await
                .map_err(|source| UploadError::GetUrl { file: name.clone(), source })?;
            let progress = Progress { file: index, filename: name.clone(), sent: 0, total: length };
            self.transfer(file, &url.upload_url, progress).await?;
            uploaded.push(UploadedFile { id: url.file_id, title: Some(file.title.clone().unwrap_or(name)) });
        }
        let complete = CompleteUpload {
            files: uploaded,
            channel_id: self.channel.clone(),
            thread_ts: self.thread_ts.clone(),
            initial_comment: self.comment.clone(),
        };
        self.web.typed("files.completeUploadExternal", &complete).await.map_err(UploadError::Complete)
    }

    /// Sends one file's bytes; retried (from the start) after a transport error, a 5xx, 408
    /// or 429, when the source can be read again.
    async fn transfer(&self, file: &UploadFile, url: &str, progress: Progress) -> Result<(), UploadError> {
        let name = &progress.filename;
        let fail = |attempts, status, cause: String| UploadError::Transfer {
            file: name.clone(),
            attempts,
            status,
            cause,
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let reader = match file.open().await {
                Ok(Some(r)) => r,
                Ok(None) => return Err(fail(attempt - 1, None, "the reader was already used".into())),
                Err(source) => return Err(UploadError::Read { file: name.clone(), source }),
            };
            let source = ReaderSource {
                reader,
                buf: Vec::new(),
                progress: progress.clone(),
                report: self.progress.clone(),
            };
            let request = Request::builder()
                .method(Method::POST)
                .uri(url)
                .header(CONTENT_TYPE, "application/octet-stream")
                .body(StreamingBody::new(progress.total, source))
                .map_err(|e| fail(attempt, None, format!("bad upload URL: {e}")))?;
            let (status, cause) = match self.web.inner.transport.send_streaming_boxed(request).await {
                Ok(resp) if resp.status().is_success() => return Ok(()),
                Ok(resp) => {
                    let status = resp.status();
                    let text =
                        String::from_utf8_lossy(&resp.body()[..resp.body().len().min(200)]).into_owned();
                    (Some(status.as_u16()), format!("HTTP {status}: {text}"))
                }
                Err(e) => (None, e.to_string()),
            };
            let retryable = status.is_none_or(|s| s >= 500 || s == 408 || s == 429);
            let replayable = !matches!(file.source, Source::Reader(..));
            if !retryable || !replayable || attempt >= TRANSFER_ATTEMPTS {
                return Err(fail(attempt, status, cause));
            }
            let wait = Duration::from_millis(500 << (attempt - 1));
            tracing::info!(file = %name, attempt, ?wait, %cause, "upload transfer failed; retrying");
            tokio::time::sleep(wait).await;
        }
    }
}

impl IntoFuture for UploadCall {
    type Output = Result<CompleteUploadResponse, UploadError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}
