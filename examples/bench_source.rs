//! The benchmarks' local event source: one Rust server for every part of the suite, fast enough never to be
//! the bottleneck (hand-written HTTP/1.1 and WebSocket framing; events rendered into large buffers and written
//! with few syscalls). The interface is documented in `bench/notes/source.md`; add flags, don't change them.
//!
//! It binds 127.0.0.1 (`--port`, 0 = any), prints `http://127.0.0.1:PORT` as the first stdout line, and serves
//! every connection the events `after+1 ..= --events`, where `after` is SSE `Last-Event-ID` or `?after=K`:
//! - SSE on any path without an upgrade (`GET /sse`): `id: K` + `data: {JSON}` blocks in large HTTP chunks.
//! - WebSocket on any path with `Upgrade: websocket` (`/ws`): one text frame per event (the JSON), frames
//!   pre-encoded and written in large batches; the client's pings are answered.
//! - `GET /stats`: `{"open":N,"served":M}` (connections open now, events written so far).
//!
//! After the last event a connection stays open with heartbeats every `--heartbeat` s (SSE `:` comment,
//! WebSocket ping), or with `--end` the stream ends (SSE: end of the chunked body; WebSocket: close 1000).
//! `--rate 0` writes as fast as the client reads; `--rate R` writes R events a second, each when due.

use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Parser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

#[derive(Debug, Clone, Parser)]
#[command(about = "Serve numbered JSON events over SSE and WebSocket on 127.0.0.1 for the benchmarks")]
struct Args {
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Events per connection, numbered from 1 (0: heartbeats only, an idle feed)
    #[arg(long, default_value_t = 0)]
    events: u64,
    /// Events a second per connection (0: as fast as the client reads, in large writes)
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// A heartbeat (SSE comment, WebSocket ping) every this many seconds once the events are written
    #[arg(long, value_name = "SECS", default_value_t = 15)]
    heartbeat: u64,
    /// Wait this long after a connection opens before its first event
    #[arg(long, value_name = "MS", default_value_t = 0)]
    start_after_ms: u64,
    /// Extra bytes of padding in each event's body
    #[arg(long, value_name = "BYTES", default_value_t = 0)]
    pad: usize,
    /// A connection without Last-Event-ID/after gets only event K (then idles): "seen before going offline"
    #[arg(long, value_name = "K")]
    fresh_id: Option<u64>,
    /// End the stream after the last event instead of idling with heartbeats
    #[arg(long)]
    end: bool,
    /// Bytes per write when writing as fast as possible
    #[arg(long, value_name = "BYTES", default_value_t = 1024 * 1024)]
    chunk: usize,
}

/// What every connection shares.
struct Shared {
    args: Args,
    body: String,
    open: AtomicU64,
    served: AtomicU64,
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let body = format!("build of web passed in 7m 22s on runner 3{}", "x".repeat(args.pad));
    let shared = Arc::new(Shared {
        args,
        body,
        open: AtomicU64::new(0),
        served: AtomicU64::new(0),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(("127.0.0.1", shared.args.port)).await?;
        println!("http://{}", listener.local_addr()?);
        std::io::stdout().flush()?;
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors at 10,000 feeds: say so and keep serving the open ones.
                    eprintln!("bench_source: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let shared = shared.clone();
            tokio::spawn(async move {
                shared.open.fetch_add(1, Ordering::Relaxed);
                let _ = serve(stream, &shared).await;
                shared.open.fetch_sub(1, Ordering::Relaxed);
            });
        }
    })
}

/// What a client asked for.
struct Request {
    path: String,
    last_event_id: Option<u64>,
    websocket_key: Option<String>,
}

async fn serve(mut stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let Some(request) = read_request(&mut stream).await? else {
        return Ok(());
    };
    if request.path.starts_with("/stats") {
        let body = format!(
            "{{\"open\":{},\"served\":{}}}",
            shared.open.load(Ordering::Relaxed).saturating_sub(1),
            shared.served.load(Ordering::Relaxed)
        );
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await?;
        return stream.shutdown().await;
    }
    let resume = query_after(&request.path).or(request.last_event_id);
    let range = match (resume, shared.args.fresh_id) {
        (None, Some(fresh)) => fresh..=fresh,
        (after, _) => after.unwrap_or(0) + 1..=shared.args.events,
    };
    let (read, write) = stream.into_split();
    let mut out = Out {
        write: Arc::new(Mutex::new(write)),
        websocket: request.websocket_key.is_some(),
        shared,
    };
    match &request.websocket_key {
        Some(key) => {
            let head = format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Accept: {}\r\n\r\n",
                derive_accept_key(key.as_bytes())
            );
            out.raw(head.as_bytes()).await?;
            let reader = tokio::spawn(answer_client_frames(read, out.write.clone()));
            let served = serve_events(&mut out, range).await;
            if served.is_ok() {
                let mut close = Vec::new();
                frame_header(&mut close, 0x8, 2);
                close.extend_from_slice(&1000u16.to_be_bytes());
                out.raw(&close).await?;
                out.write.lock().await.shutdown().await?;
            }
            // The client answers the close, or goes away; either ends the reader.
            let _ = tokio::time::timeout(Duration::from_secs(5), reader).await;
            served
        }
        None => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n\
                        Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
            out.raw(head.as_bytes()).await?;
            // A client that goes away while idling is noticed by its read ending.
            let served = tokio::select! {
                served = serve_events(&mut out, range) => served,
                _ = wait_for_eof(read) => Ok(()),
            };
            if served.is_ok() {
                out.raw(b"0\r\n\r\n").await?;
                out.write.lock().await.shutdown().await?;
            }
            served
        }
    }
}

/// Read the request head (up to 16 KiB); None when the client went away first.
async fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<Request>> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 || head.len() > 16 * 1024 {
            return Ok(None);
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head);
    let mut lines = text.split("\r\n");
    let path = lines.next().unwrap_or("").split(' ').nth(1).unwrap_or("/").to_string();
    let mut request = Request {
        path,
        last_event_id: None,
        websocket_key: None,
    };
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "last-event-id" => request.last_event_id = value.trim().parse().ok(),
                "sec-websocket-key" => request.websocket_key = Some(value.trim().to_string()),
                _ => {}
            }
        }
    }
    Ok(Some(request))
}

fn query_after(path: &str) -> Option<u64> {
    let query = path.split_once('?')?.1;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("after="))
        .and_then(|value| value.parse().ok())
}

fn now_us() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or(0)
}

/// One connection's way out: SSE blocks in HTTP chunks, or WebSocket frames.
struct Out<'a> {
    /// Shared with the WebSocket reader, which answers pings.
    write: Arc<Mutex<OwnedWriteHalf>>,
    websocket: bool,
    shared: &'a Shared,
}

impl Out<'_> {
    /// Append event `id`, stamped `at`, in this connection's framing.
    fn render(&self, buf: &mut Vec<u8>, json: &mut Vec<u8>, id: u64, at: u128) {
        json.clear();
        let _ = write!(
            json,
            "{{\"n\":{id},\"t_us\":{at},\"title\":\"Event {id}\",\"body\":\"{}\"}}",
            self.shared.body
        );
        if self.websocket {
            frame_header(buf, 0x1, json.len());
            buf.extend_from_slice(json);
        } else {
            let _ = write!(buf, "id: {id}\ndata: ");
            buf.extend_from_slice(json);
            buf.extend_from_slice(b"\n\n");
        }
    }

    /// Write rendered events as they go on the wire (SSE: one HTTP chunk).
    async fn send(&mut self, events: &[u8], count: u64) -> std::io::Result<()> {
        if self.websocket {
            self.raw(events).await?;
        } else {
            let mut framed = Vec::with_capacity(events.len() + 16);
            let _ = write!(framed, "{:x}\r\n", events.len());
            framed.extend_from_slice(events);
            framed.extend_from_slice(b"\r\n");
            self.raw(&framed).await?;
        }
        self.shared.served.fetch_add(count, Ordering::Relaxed);
        Ok(())
    }

    async fn heartbeat(&mut self) -> std::io::Result<()> {
        if self.websocket {
            let mut ping = Vec::new();
            frame_header(&mut ping, 0x9, 0);
            self.raw(&ping).await
        } else {
            self.raw(b"3\r\n:\n\n\r\n").await
        }
    }

    async fn raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.write.lock().await.write_all(bytes).await
    }
}

/// Write the events in `range` at the configured pace, then idle with heartbeats unless `--end`.
async fn serve_events(out: &mut Out<'_>, range: std::ops::RangeInclusive<u64>) -> std::io::Result<()> {
    let args = &out.shared.args;
    if args.start_after_ms > 0 {
        tokio::time::sleep(Duration::from_millis(args.start_after_ms)).await;
    }
    let mut buf = Vec::with_capacity(args.chunk + 1024);
    let mut json = Vec::with_capacity(256);
    let (mut next, last) = range.into_inner();
    if args.rate == 0 {
        while next <= last {
            buf.clear();
            let (first, at) = (next, now_us());
            while next <= last && buf.len() < args.chunk {
                out.render(&mut buf, &mut json, next, at);
                next += 1;
            }
            out.send(&buf, next - first).await?;
        }
    } else {
        let start = tokio::time::Instant::now();
        let mut sent = 0u64;
        while next <= last {
            tokio::time::sleep_until(start + Duration::from_secs_f64(sent as f64 / args.rate as f64)).await;
            buf.clear();
            out.render(&mut buf, &mut json, next, now_us());
            out.send(&buf, 1).await?;
            next += 1;
            sent += 1;
        }
    }
    if args.end {
        return Ok(());
    }
    loop {
        tokio::time::sleep(Duration::from_secs(args.heartbeat.max(1))).await;
        out.heartbeat().await?;
    }
}

/// Server-to-client frames are unmasked: FIN + opcode, then the length.
fn frame_header(buf: &mut Vec<u8>, opcode: u8, len: usize) {
    buf.push(0x80 | opcode);
    if len < 126 {
        buf.push(len as u8);
    } else if len <= u16::MAX as usize {
        buf.push(126);
        buf.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        buf.push(127);
        buf.extend_from_slice(&(len as u64).to_be_bytes());
    }
}

async fn wait_for_eof(mut read: OwnedReadHalf) {
    let mut buf = [0u8; 1024];
    while let Ok(n) = read.read(&mut buf).await {
        if n == 0 {
            return;
        }
    }
}

/// Read the client's (masked) frames: answer pings, end at close or end of stream, ignore the rest.
async fn answer_client_frames(mut read: OwnedReadHalf, write: Arc<Mutex<OwnedWriteHalf>>) -> std::io::Result<()> {
    loop {
        let mut head = [0u8; 2];
        read.read_exact(&mut head).await?;
        let opcode = head[0] & 0x0f;
        let len = match head[1] & 0x7f {
            126 => read.read_u16().await? as u64,
            127 => read.read_u64().await?,
            n => n as u64,
        };
        let mut mask = [0u8; 4];
        if head[1] & 0x80 != 0 {
            read.read_exact(&mut mask).await?;
        }
        let mut payload = vec![0u8; len.min(1 << 20) as usize];
        read.read_exact(&mut payload).await?;
        for (i, byte) in payload.iter_mut().enumerate() {
            *byte ^= mask[i % 4];
        }
        match opcode {
            0x8 => return Ok(()),
            0x9 => {
                let mut pong = Vec::with_capacity(payload.len() + 4);
                frame_header(&mut pong, 0xA, payload.len());
                pong.extend_from_slice(&payload);
                write.lock().await.write_all(&pong).await?;
            }
            _ => {}
        }
    }
}
