//! A scriptable HTTP/1.1 server on 127.0.0.1:0 for integration tests.
//!
//! Each accepted connection is handed to the test's handler as a [`Conn`] with its parsed request and its
//! index (0 for the first connection), so a test scripts exactly what the wire carries: any status and
//! headers, events split anywhere, a clean close, a TCP reset, or silence. Every request is recorded.

#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Header names lowercased, in order.
    pub headers: Vec<(String, String)>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }
}

/// One accepted connection.
pub struct Conn {
    /// 0 for the first connection the server accepted, 1 for the next…
    pub index: usize,
    pub request: Request,
    stream: TcpStream,
}

impl Conn {
    /// Answer 200 with `text/event-stream` and keep the connection open for events.
    pub async fn sse(&mut self) {
        self.head(200, &[("Content-Type", "text/event-stream")]).await;
    }

    /// Status line and headers, body delimited by closing the connection.
    pub async fn head(&mut self, status: u16, headers: &[(&str, &str)]) {
        let mut head = format!("HTTP/1.1 {status} {}\r\nConnection: close\r\n", reason(status));
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        self.send(head).await;
    }

    /// A complete response with a body, then close.
    pub async fn respond(mut self, status: u16, headers: &[(&str, &str)], body: &str) {
        let length = body.len().to_string();
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        all.push(("Content-Length", &length));
        self.head(status, &all).await;
        self.send(body).await;
        self.close().await;
    }

    /// Write bytes now (ignoring a client that already went away).
    pub async fn send(&mut self, bytes: impl AsRef<[u8]>) {
        let _ = self.stream.write_all(bytes.as_ref()).await;
        let _ = self.stream.flush().await;
    }

    /// End the stream cleanly (FIN).
    pub async fn close(mut self) {
        let _ = self.stream.shutdown().await;
    }

    /// End the stream abruptly (RST).
    pub fn reset(self) {
        let _ = self.stream.set_zero_linger();
        drop(self.stream);
    }

    /// Say nothing more, keeping the connection open until the client goes away.
    pub async fn hold(mut self) {
        let mut buf = [0u8; 1024];
        while matches!(self.stream.read(&mut buf).await, Ok(n) if n > 0) {}
    }
}

/// A running test server; it stops when dropped.
pub struct Server {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    /// Serve every connection with `handler`.
    pub async fn start<F, Fut>(handler: F) -> Server
    where
        F: Fn(Conn) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = requests.clone();
        let handler = Arc::new(handler);
        let task = tokio::spawn(async move {
            let mut index = 0;
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let Some(request) = read_request(&mut stream).await else {
                    continue;
                };
                recorded.lock().unwrap().push(request.clone());
                let conn = Conn { index, request, stream };
                index += 1;
                tokio::spawn(handler(conn));
            }
        });
        Server { addr, requests, task }
    }

    /// `http://127.0.0.1:PORT{path}`
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// Wait until at least `n` requests arrived.
    pub async fn wait_requests(&self, n: usize, timeout: Duration) -> Vec<Request> {
        super::wait_until(timeout, &format!("{n} requests"), || {
            let seen = self.requests();
            (seen.len() >= n).then_some(seen)
        })
        .await
    }
}

async fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 || buf.len() > 64 * 1024 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&buf);
    let mut lines = text.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let headers = lines
        .take_while(|line| !line.is_empty())
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
        .collect();
    Some(Request { method, path, headers })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        410 => "Gone",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}
