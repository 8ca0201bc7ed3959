//! The local SSE source the followed feeds connect to, when the shared one (`examples/bench_source.rs` of the
//! root package, `--events 0`) is not given: every connection gets the SSE header, then a heartbeat comment
//! every [`HEARTBEAT`].

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// Start the source on a thread of its own; returns its base URL.
pub fn start() -> std::io::Result<String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let url = format!("http://{}", listener.local_addr()?);
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime for the source");
        runtime.block_on(serve(listener))
    });
    Ok(url)
}

async fn serve(listener: std::net::TcpListener) {
    let listener = TcpListener::from_std(listener).expect("the source's listener");
    while let Ok((mut socket, _)) = listener.accept().await {
        tokio::spawn(async move {
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match socket.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let header = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-store\r\n\r\n";
            if socket.write_all(header).await.is_err() {
                return;
            }
            let mut ticks = tokio::time::interval(HEARTBEAT);
            loop {
                ticks.tick().await;
                if socket.write_all(b":\n\n").await.is_err() {
                    return;
                }
            }
        });
    }
}
