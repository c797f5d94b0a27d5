//! An in-test HTTP `CONNECT` proxy that records what it was asked for (the proxy tests of the
//! transport and of the whole session share it).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What a test proxy was asked for, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asked {
    /// `host:port` as the client sent it (for SOCKS5: `ip:port`, or the name for a domain).
    pub target: String,
    /// HTTP: the `Proxy-Authorization` value. SOCKS5: `user:password`.
    pub auth: Option<String>,
    /// SOCKS5: whether the target was sent as a domain name (else as an address).
    pub by_name: bool,
}

pub type Log = Arc<Mutex<Vec<Asked>>>;

pub fn asked(log: &Log) -> Vec<Asked> {
    log.lock().unwrap().clone()
}

/// Binds 127.0.0.1:0 and serves each connection with `serve`.
pub async fn listen<F, Fut>(serve: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream));
        }
    });
    addr
}

/// Connects to a loopback target the way a proxy would (any loopback name or address is
/// served on 127.0.0.1, where the test servers listen).
pub async fn upstream(host: &str, port: u16) -> Option<TcpStream> {
    let loopback = matches!(host, "127.0.0.1" | "localhost" | "::1" | "[::1]");
    if !loopback {
        return None;
    }
    TcpStream::connect(("127.0.0.1", port)).await.ok()
}

/// Reads a request head, up to the blank line (at most 8 KiB).
pub async fn read_head(stream: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") && buf.len() < 8192 {
        match stream.read(&mut byte).await {
            Ok(1) => buf.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// An HTTP `CONNECT` proxy. Records each request; answers `refuse` if given, else opens the
/// tunnel. `stall` makes it read the request and never answer.
pub async fn connect_proxy(refuse: Option<&'static str>, stall: bool) -> (SocketAddr, Log) {
    let log = Log::default();
    let l = Arc::clone(&log);
    let addr = listen(move |mut client| {
        let log = Arc::clone(&l);
        async move {
            let head = read_head(&mut client).await;
            let mut lines = head.split("\r\n");
            let request_line = lines.next().unwrap_or_default();
            let auth = lines
                .filter_map(|l| l.split_once(": "))
                .find(|(name, _)| name.eq_ignore_ascii_case("proxy-authorization"))
                .map(|(_, value)| value.to_owned());
            let target = match request_line.strip_prefix("CONNECT ").and_then(|r| r.strip_suffix(" HTTP/1.1"))
            {
                Some(target) => target.to_owned(),
                None => {
                    let _ = client.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
                    return;
                }
            };
            log.lock().unwrap().push(Asked { target: target.clone(), auth, by_name: false });
            if stall {
                let _ = client.read(&mut [0u8; 1]).await;
                return;
            }
            if let Some(answer) = refuse {
                let _ = client.write_all(answer.as_bytes()).await;
                return;
            }
            let (host, port) = target.rsplit_once(':').unwrap();
            let Some(mut up) = upstream(host, port.parse().unwrap()).await else {
                let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
                return;
            };
            let _ = client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await;
            let _ = tokio::io::copy_bidirectional(&mut client, &mut up).await;
        }
    })
    .await;
    (addr, log)
}

/// The `Proxy-Authorization: Basic` value for `user:password`.
pub fn basic(user_pass: &str) -> String {
    // Test-side base64, to check the header independently of the code under test.
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::from("Basic ");
    for chunk in user_pass.as_bytes().chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            out.push(if i <= chunk.len() { char::from(A[((n >> (18 - 6 * i)) & 63) as usize]) } else { '=' });
        }
    }
    out
}
