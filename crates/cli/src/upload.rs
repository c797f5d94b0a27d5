//! `slack-rtm upload FILE… --channel C [--thread TS] [--comment TEXT]`.

use crate::cli::{ConnOpts, exit};
use crate::commands::{Failure, exit_code};
use crate::web::web_client;
use indicatif::{ProgressBar, ProgressStyle};
use slack_rtm::web::UploadError;
use slack_rtm::web::UploadFile;
use std::io::IsTerminal;
use std::path::PathBuf;

/// Uploads `files` and shares them in `channel`; prints each file's id, one per line.
pub async fn upload(
    conn: ConnOpts,
    files: Vec<PathBuf>,
    channel: String,
    thread: Option<String>,
    comment: Option<String>,
) -> Result<u8, Failure> {
    if channel.trim().is_empty() {
        return Err(Failure::usage("--channel must not be empty"));
    }
    let mut total = 0u64;
    for f in &files {
        let meta = std::fs::metadata(f).map_err(|e| Failure::usage(format!("{}: {e}", f.display())))?;
        if !meta.is_file() {
            return Err(Failure::usage(format!("{}: not a file", f.display())));
        }
        total += meta.len();
    }
    let web = web_client(&conn)?;
    let mut call = web.upload(files.iter().map(UploadFile::path)).channel(channel.as_str());
    if let Some(ts) = thread {
        call = call.in_thread(ts.as_str());
    }
    if let Some(text) = comment {
        call = call.comment(text);
    }
    // A bar on a terminal only: nothing is drawn when stderr is piped.
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(total);
        if let Ok(style) =
            ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    });
    if let Some(bar) = bar.clone() {
        // `sent` restarts at 0 when a transfer is retried: the bar follows the sum of the
        // files finished so far plus the current file's bytes.
        let done_before: std::sync::Mutex<(usize, u64, u64)> = std::sync::Mutex::new((0, 0, 0));
        call = call.on_progress(move |p| {
            if let Ok(mut d) = done_before.lock() {
                if p.file != d.0 {
                    *d = (p.file, d.1 + d.2, 0);
                }
                d.2 = p.sent;
                bar.set_position(d.1 + p.sent);
            }
            bar.set_message(p.filename.clone());
        });
    }
    let result = call.await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    match result {
        Ok(done) => {
            for f in done.files {
                println!("{}", f.id);
            }
            Ok(exit::OK)
        }
        Err(e) if e.may_have_been_applied() => {
            eprintln!("slack-rtm: {e} (the files may have been shared)");
            Ok(exit::NOT_ALL_SENT)
        }
        Err(UploadError::Read { file, source }) => Err(Failure::usage(format!("{file}: {source}"))),
        Err(UploadError::GetUrl { source, .. } | UploadError::Complete(source)) => {
            Err(Failure { message: format!("upload failed: {source}"), code: exit_code(source.kind()) })
        }
        Err(e) => Err(Failure { message: e.to_string(), code: exit::NETWORK }),
    }
}
