//! `web.upload`: the three-step flow against the emulator over loopback — streamed from a
//! path, bytes or a reader, several files in one completion, progress, and the typed errors
//! of each step.

use slack_rtm::rtm::Event;
use slack_rtm::rtm::SessionEvent;
use slack_rtm::types::web::HistoryQuery;
use slack_rtm::web::UploadError;
use slack_rtm::web::UploadFile;
use slack_rtm::{Client, WebClient};
use slack_rtm_emulator::{Emulator, EmulatorConfig, FNV_OFFSET, Rejection, fnv1a};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod emu_web;

fn web(emu: &Emulator) -> WebClient {
    emu_web::web_client(emu, emu.token())
}

/// A file of `len` pseudo-random bytes in the temp directory; removed on drop.
struct TempFile(PathBuf, Vec<u8>);

impl TempFile {
    fn new(name: &str, len: usize) -> Self {
        let mut x: u32 = 0x2545_f491;
        let data: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        let path = std::env::temp_dir().join(format!("slack-rtm-upload-{}-{name}", std::process::id()));
        std::fs::write(&path, &data).unwrap();
        Self(path, data)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[tokio::test]
async fn uploads_a_path_and_bytes_in_one_share_with_progress_and_events() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let (client, mut events) = Client::builder(emu.token())
        .api_url(&emu.api_url())
        .allow_insecure(true)
        .proxy_from_env(false)
        .connect()
        .await
        .unwrap();
    let web = client.web().without_pacing();
    let general = emu.general_channel();
    let parent = web.post_message(general.clone(), "the report thread").await.unwrap().ts;
    let file = TempFile::new("report.bin", 3 * 64 * 1024 + 123);
    let seen: Arc<Mutex<Vec<(usize, u64, u64)>>> = Arc::default();
    let log = seen.clone();
    let done = web
        .upload([
            UploadFile::path(&file.0).title("Report"),
            UploadFile::bytes("notes.txt", b"hello notes".to_vec()),
        ])
        .channel(general.clone())
        .in_thread(parent.clone())
        .comment("this week's files")
        .on_progress(move |p| log.lock().unwrap().push((p.file, p.sent, p.total)))
        .await
        .unwrap();
    assert_eq!(done.files.len(), 2);
    assert_eq!(done.files[0].title.as_deref(), Some("Report"));

    // The bytes arrived whole, in one completion call.
    let records = emu.uploaded_files();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].received, Some(file.1.len() as u64));
    assert_eq!(records[0].fnv1a, fnv1a(FNV_OFFSET, &file.1));
    assert_eq!(records[1].fnv1a, fnv1a(FNV_OFFSET, b"hello notes"));
    assert_eq!(emu.web_calls_of("files.completeUploadExternal").len(), 1);
    // No token went to the upload URL: it is not an API call.
    assert_eq!(emu.web_calls_of("files.getUploadURLExternal").len(), 2);

    // Progress: per chunk, growing, ending at the length.
    let seen = seen.lock().unwrap().clone();
    let first: Vec<u64> = seen.iter().filter(|(f, _, _)| *f == 0).map(|(_, s, _)| *s).collect();
    assert_eq!(first.len(), 4, "{first:?}");
    assert!(first.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(seen.iter().rev().find(|(f, _, _)| *f == 0).unwrap().1, file.1.len() as u64);
    assert_eq!(seen.last().unwrap(), &(1, 11, 11));

    // files.info shows them; the thread shows one file_share message.
    let info = web.file_info(&done.files[0].id).await.unwrap();
    assert_eq!(info.file.name.as_deref(), Some(file.0.file_name().unwrap().to_str().unwrap()));
    let thread = web.replies(slack_rtm::types::web::RepliesQuery::new(general.clone(), parent.clone()));
    let messages = thread.collect_messages(10).await.unwrap();
    let share = messages.iter().find(|m| m.text.as_deref() == Some("this week's files")).expect("the share");
    assert_eq!(share.subtype.as_ref().map(|s| s.as_str()), Some("file_share"));
    let history = web.history(HistoryQuery::new(general.clone())).collect_messages(10).await.unwrap();
    assert!(history.iter().all(|m| m.text.as_deref() != Some("this week's files")), "a thread reply only");

    // The socket saw the share as a `file_share` message with its files, then file_shared for
    // each file.
    let mut shared_ids = Vec::new();
    let mut share_event = None;
    tokio::time::timeout(Duration::from_secs(10), async {
        while shared_ids.len() < 2 {
            match events.next().await {
                Some(SessionEvent::Rtm(Event::FileShared(f))) => shared_ids.push(f.file_id.clone().unwrap()),
                Some(SessionEvent::Rtm(Event::Message(m))) if m.ts == share.ts => share_event = Some(m),
                _ => {}
            }
        }
    })
    .await
    .expect("file_shared events");
    assert_eq!(shared_ids, vec![done.files[0].id.clone(), done.files[1].id.clone()]);
    let live = share_event.expect("the share's message event, before file_shared");
    assert_eq!(live.subtype.as_ref().map(|s| s.as_str()), Some("file_share"));
    assert_eq!(live.upload, Some(true));
    let files = live.files.as_ref().expect("files").to_value();
    assert_eq!(files[0]["id"], done.files[0].id.as_str());
    assert_eq!(files[1]["id"], done.files[1].id.as_str());
}

#[tokio::test]
async fn a_failed_transfer_is_retried_and_then_reported() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let web = web(&emu);
    let file = TempFile::new("retry.bin", 100_000);
    emu.fail_next_uploads(2, 503);
    let done = web.upload([UploadFile::path(&file.0)]).channel(emu.general_channel()).await.unwrap();
    assert_eq!(emu.uploaded_files()[0].received, Some(100_000));
    assert_eq!(done.files.len(), 1);

    emu.fail_next_uploads(10, 503);
    let err = web.upload([UploadFile::path(&file.0)]).channel(emu.general_channel()).await.unwrap_err();
    match &err {
        UploadError::Transfer { attempts, status, .. } => {
            assert_eq!(*attempts, 4);
            assert_eq!(*status, Some(503));
        }
        other => panic!("{other}"),
    }
    assert!(!err.may_have_been_applied());
    assert_eq!(
        emu.web_calls_of("files.completeUploadExternal").len(),
        1,
        "not completed after a failed transfer"
    );

    // A reader is read once: not replayed after a failure.
    emu.fail_next_uploads(10, 503);
    let reader = UploadFile::reader("r.bin", std::io::Cursor::new(vec![7u8; 10]), 10);
    let err = web.upload([reader]).await.unwrap_err();
    assert!(matches!(err, UploadError::Transfer { attempts: 1, .. }), "{err}");
}

#[tokio::test]
async fn a_reader_of_the_wrong_length_fails_the_transfer() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let web = web(&emu);
    let short = UploadFile::reader("short.bin", std::io::Cursor::new(vec![1u8; 10]), 20);
    let err = web.upload([short]).await.unwrap_err();
    assert!(matches!(err, UploadError::Transfer { .. }), "{err}");
    assert_eq!(emu.uploaded_files()[0].received, None);
    let exact = UploadFile::reader("ok.bin", std::io::Cursor::new(vec![1u8; 20]), 20);
    web.upload([exact]).await.unwrap();
    assert_eq!(emu.uploaded_files()[1].received, Some(20));
}

#[tokio::test]
async fn each_step_has_its_error() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let web = web(&emu);
    let missing = std::env::temp_dir().join("slack-rtm-upload-does-not-exist.bin");
    let err = web.upload([UploadFile::path(missing)]).await.unwrap_err();
    assert!(matches!(err, UploadError::Read { .. }), "{err}");
    let err = web.upload([UploadFile::bytes("empty.txt", Vec::new())]).await.unwrap_err();
    assert!(
        matches!(&err, UploadError::GetUrl { source, .. } if source.api_error().map(|e| e.as_str()) == Some("invalid_arguments")),
        "{err}"
    );
    let err = web.upload([UploadFile::bytes("a.txt", b"a".to_vec())]).channel("C0MISSING").await.unwrap_err();
    assert!(
        matches!(&err, UploadError::Complete(e) if e.api_error().map(|e| e.as_str()) == Some("channel_not_found")),
        "{err}"
    );
    assert!(!err.may_have_been_applied());

    // The completion is a write: after a 500 it is not sent again, and the outcome is unknown.
    emu.reject_next_web_calls("files.completeUploadExternal", 1, Rejection::Status(500));
    let before = emu.web_calls_of("files.completeUploadExternal").len();
    let err = web
        .upload([UploadFile::bytes("b.txt", b"b".to_vec())])
        .channel(emu.general_channel())
        .await
        .unwrap_err();
    assert!(err.may_have_been_applied(), "{err}");
    assert_eq!(emu.web_calls_of("files.completeUploadExternal").len(), before + 1);
    let err = web.file_info("F0NOPE").await.unwrap_err();
    assert_eq!(err.api_error().map(|e| e.as_str()), Some("file_not_found"));
}
