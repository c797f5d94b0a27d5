//! Peak memory of `web.upload` from disk: a file of `--mb` MiB (default 50) written to the temp
//! directory, uploaded to an in-process emulator (whose upload URL streams too: it counts and
//! hashes, keeps nothing), and the process's peak resident set (`VmHWM`) printed before and
//! after, with the file size, as one JSON line. Linux only (reads `/proc/self/status`).
//! Run by `cargo xtask bench --upload` (release build), which records the result.
//!
//! `upload-rss [--mb N]`

use slack_rtm::Client;
use slack_rtm::web::UploadFile;
use slack_rtm_emulator::{Emulator, EmulatorConfig, FNV_OFFSET, fnv1a};
use std::io::Write;
use std::time::Instant;

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut mb: u64 = 50;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--mb" => mb = args.next().and_then(|v| v.parse().ok()).unwrap_or(mb),
            other => {
                eprintln!("upload-rss: unknown argument {other}");
                std::process::exit(2);
            }
        }
    }
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(run(mb));
}

async fn run(mb: u64) {
    let path = std::env::temp_dir().join(format!("slack-rtm-upload-rss-{}.bin", std::process::id()));
    // Written in 1 MiB pieces, so writing it does not raise the peak either.
    let mut hash = FNV_OFFSET;
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).expect("temp file"));
        let mut piece = vec![0u8; 1 << 20];
        for i in 0..mb {
            for (j, b) in piece.iter_mut().enumerate() {
                *b = (i as usize).wrapping_mul(31).wrapping_add(j) as u8;
            }
            hash = fnv1a(hash, &piece);
            f.write_all(&piece).expect("write");
        }
        f.flush().expect("flush");
    }
    let emu = Emulator::start(EmulatorConfig::default()).await.expect("emulator");
    let web = Client::builder(emu.token())
        .api_url(&emu.api_url())
        .allow_insecure(true)
        .proxy_from_env(false)
        .build_web()
        .expect("web client");
    let before = peak_rss_kib();
    let started = Instant::now();
    let done = web.upload([UploadFile::path(&path)]).channel(emu.general_channel()).await;
    let elapsed = started.elapsed();
    let after = peak_rss_kib();
    let _ = std::fs::remove_file(&path);
    let done = match done {
        Ok(done) => done,
        Err(e) => {
            eprintln!("upload-rss: the upload failed: {e}");
            std::process::exit(1);
        }
    };
    let record = emu.uploaded_files().into_iter().find(|f| f.id == done.files[0].id);
    if record.map(|r| r.fnv1a) != Some(hash) {
        eprintln!("upload-rss: the emulator did not receive the file's bytes intact");
        std::process::exit(1);
    }
    // One JSON line, read by `cargo xtask bench --upload`.
    println!(
        "{}",
        serde_json::json!({
            "file_mib": mb,
            "peak_rss_before_kib": before,
            "peak_rss_after_kib": after,
            "seconds": elapsed.as_secs_f64(),
            "mib_per_s": mb as f64 / elapsed.as_secs_f64(),
        })
    );
}
