//! A scriptable WebSocket server on 127.0.0.1:0 (tokio-tungstenite's server side) for integration tests.
//!
//! Each connection is handed to the test's handler with its index, request path and headers; the handler
//! scripts the channel: send text or binary, read what the client sends, close with any code, drop the TCP
//! connection without a close frame, or stop reading altogether (so pings go unanswered). A handshake can be
//! refused with an HTTP status.

#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// What the client asked for when it connected.
#[derive(Debug, Clone)]
pub struct Upgrade {
    /// Path and query, e.g. `/ws?since=a2`.
    pub path: String,
    pub headers: Vec<(String, String)>,
}

impl Upgrade {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }
}

/// One accepted WebSocket connection.
pub struct WsConn {
    pub index: usize,
    pub upgrade: Upgrade,
    socket: WebSocketStream<TcpStream>,
}

impl WsConn {
    pub async fn send_text(&mut self, text: impl Into<String>) {
        let _ = self.socket.send(Message::text(text.into())).await;
    }

    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        let _ = self.socket.send(Message::binary(bytes)).await;
    }

    /// The next text message from the client (pings are answered while waiting); None when it went away.
    pub async fn recv_text(&mut self) -> Option<String> {
        while let Some(Ok(message)) = self.socket.next().await {
            if let Message::Text(text) = message {
                return Some(text.as_str().to_string());
            }
        }
        None
    }

    /// Close with a code and reason, then wait for the client to go.
    pub async fn close(mut self, code: u16, reason: &str) {
        let frame = CloseFrame {
            code: CloseCode::from(code),
            reason: reason.into(),
        };
        let _ = self.socket.send(Message::Close(Some(frame))).await;
        while let Some(Ok(_)) = self.socket.next().await {}
    }

    /// Drop the TCP connection without a close frame (the client sees 1006).
    pub fn drop_abruptly(self) {
        let stream = self.socket.into_inner();
        let _ = stream.set_zero_linger();
        drop(stream);
    }

    /// Answer pings and read until the client goes away.
    pub async fn hold(mut self) {
        while let Some(Ok(_)) = self.socket.next().await {}
    }

    /// Stop reading: pings go unanswered, the connection stays open until the client gives up.
    pub async fn ignore_everything(self) {
        let mut stream = self.socket.into_inner();
        let mut buf = [0u8; 1024];
        use tokio::io::AsyncReadExt;
        // Reading raw bytes drains the socket without ever answering a ping.
        while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
    }
}

/// A running WebSocket test server; it stops when dropped.
pub struct WsServer {
    pub addr: SocketAddr,
    upgrades: Arc<Mutex<Vec<Upgrade>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for WsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl WsServer {
    /// Serve every connection with `handler`; `refuse(index)` may answer the handshake with an HTTP status.
    pub async fn start<F, Fut>(refuse: fn(usize) -> Option<u16>, handler: F) -> WsServer
    where
        F: Fn(WsConn) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let upgrades = Arc::new(Mutex::new(Vec::new()));
        let recorded = upgrades.clone();
        let handler = Arc::new(handler);
        let task = tokio::spawn(async move {
            let mut index = 0;
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let seen = Arc::new(Mutex::new(None));
                let seen_in_callback = seen.clone();
                let this = index;
                #[allow(clippy::result_large_err)] // the signature tungstenite asks for
                let callback = move |request: &Request, response: Response| -> Result<Response, ErrorResponse> {
                    let upgrade = Upgrade {
                        path: request.uri().to_string(),
                        headers: request
                            .headers()
                            .iter()
                            .map(|(n, v)| (n.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
                            .collect(),
                    };
                    *seen_in_callback.lock().unwrap() = Some(upgrade);
                    match refuse(this) {
                        Some(status) => {
                            let mut refusal = ErrorResponse::new(Some("refused".into()));
                            *refusal.status_mut() = StatusCode::from_u16(status).unwrap();
                            Err(refusal)
                        }
                        None => Ok(response),
                    }
                };
                let accepted = tokio_tungstenite::accept_hdr_async(stream, callback).await;
                let upgrade = seen.lock().unwrap().take();
                if let Some(upgrade) = upgrade.clone() {
                    recorded.lock().unwrap().push(upgrade);
                }
                index += 1;
                if let (Ok(socket), Some(upgrade)) = (accepted, upgrade) {
                    tokio::spawn(handler(WsConn {
                        index: this,
                        upgrade,
                        socket,
                    }));
                }
            }
        });
        WsServer { addr, upgrades, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }

    /// Every handshake so far (refused ones included).
    pub fn upgrades(&self) -> Vec<Upgrade> {
        self.upgrades.lock().unwrap().clone()
    }

    pub async fn wait_upgrades(&self, n: usize, timeout: std::time::Duration) -> Vec<Upgrade> {
        super::wait_until(timeout, &format!("{n} WebSocket handshakes"), || {
            let seen = self.upgrades();
            (seen.len() >= n).then_some(seen)
        })
        .await
    }
}

/// Accept every handshake.
pub fn accept_all(_: usize) -> Option<u16> {
    None
}
