//! Issue 5, item 1: SSE parsing throughput, every row over the same bytes in the same run.
//!
//! The stream is ~8 MiB of pre-rendered events (an `id`, an `event` type and ~120 bytes of JSON data, with a
//! keep-alive comment now and then), fed in 16 KiB and 64 KiB chunks as an HTTP body arrives. Rows:
//! - `tidings`: `Parser::push_with`, the parser alone, handing each event to a callback as borrowed text;
//! - `tidings_owned`: `Parser::push`, the same parser building owned `Dispatch`es, which is what
//!   `sse::connection` hands on;
//! - `memmem_lflf`: a bare `memchr::memmem` count of "\n\n" (the practical limit the issue names);
//! - `memchr2_crlf`: a bare `memchr2_iter` count of CR and LF bytes: the least a parser that must honour all
//!   three line endings has to do (the second practical limit);
//! - `eventsource_client`: `eventsource-client` 0.18. Its parser is private, so this drives its public
//!   `Client` stream over an in-memory transport that returns the chunks as the response body: that row
//!   includes its stream state machine and its `Event`s (owned `String`s), but no HTTP, socket or TLS.
//!
//! `bench/part-1-parse` runs this and prints the table rows from criterion's estimates.

use std::hint::black_box;
use std::sync::Arc;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use eventsource_client::{Client, ClientBuilder, ReconnectOptions, SSE};
use futures_util::StreamExt;
use launchdarkly_sdk_transport::{ByteStream, HttpTransport, Request, Response, ResponseFuture};
use memchr::{memchr2_iter, memmem};
use tidings::sse::parser::{Dispatch, DispatchRef, Parser};

const STREAM_BYTES: usize = 8 * 1024 * 1024;
const CHUNK_SIZES: [usize; 2] = [16 * 1024, 64 * 1024];

/// Events like a price feed's: an `id`, an `event` type, and ~120 bytes of JSON data; with a comment line
/// (a keep-alive) every 100 events. Returns the bytes and the number of events in them.
fn stream() -> (Vec<u8>, usize) {
    let symbols = ["ACME", "GLOBEX", "INITECH", "UMBRELLA", "HOOLI"];
    let kinds = ["trade", "quote", "status"];
    let mut bytes = Vec::with_capacity(STREAM_BYTES + 512);
    let mut seq: u64 = 0;
    while bytes.len() < STREAM_BYTES {
        seq += 1;
        let symbol = symbols[(seq % 5) as usize];
        let kind = kinds[(seq % 3) as usize];
        let price = 100.0 + (seq % 997) as f64 / 7.0;
        let event = format!(
            "id: {seq}\nevent: {kind}\ndata: {{\"seq\":{seq},\"symbol\":\"{symbol}\",\"price\":{price:.4},\"volume\":{},\"venue\":\"XNAS\",\"ts\":\"2025-06-01T12:{:02}:{:02}.{:03}Z\"}}\n\n",
            seq * 37 % 10_000,
            seq / 60 % 60,
            seq % 60,
            seq % 1000,
        );
        bytes.extend_from_slice(event.as_bytes());
        if seq.is_multiple_of(100) {
            bytes.extend_from_slice(b": keep-alive\n\n");
        }
    }
    (bytes, seq as usize)
}

/// Our parser, events handed to a callback as borrowed text. Returns the number of events.
fn tidings_borrowed(bytes: &[u8], chunk: usize) -> usize {
    let mut parser = Parser::new();
    let mut events = 0usize;
    for piece in bytes.chunks(chunk) {
        let pushed = parser.push_with(piece, |item| {
            if let DispatchRef::Event(event) = item {
                events += 1;
                black_box(&event);
            }
        });
        if let Err(err) = pushed {
            panic!("the generated stream does not parse: {err}");
        }
    }
    events
}

/// Our parser building owned dispatches, as `sse::connection` uses it. Returns the number of events.
fn tidings_owned(bytes: &[u8], chunk: usize, out: &mut Vec<Dispatch>) -> usize {
    let mut parser = Parser::new();
    let mut events = 0usize;
    for piece in bytes.chunks(chunk) {
        if let Err(err) = parser.push(piece, out) {
            panic!("the generated stream does not parse: {err}");
        }
        events += out.iter().filter(|item| matches!(item, Dispatch::Event(_))).count();
        black_box(&out);
        out.clear();
    }
    events
}

fn memmem_lflf(bytes: &[u8], chunk: usize) -> usize {
    let finder = memmem::Finder::new(b"\n\n");
    bytes.chunks(chunk).map(|piece| finder.find_iter(piece).count()).sum()
}

fn memchr2_crlf(bytes: &[u8], chunk: usize) -> usize {
    bytes
        .chunks(chunk)
        .map(|piece| memchr2_iter(b'\r', b'\n', piece).count())
        .sum()
}

/// An HTTP transport that answers every request with 200 and the pre-cut chunks as the body.
#[derive(Clone)]
struct InMemoryBody {
    chunks: Arc<Vec<Bytes>>,
}

impl HttpTransport for InMemoryBody {
    fn request(&self, _request: Request<Option<Bytes>>) -> ResponseFuture {
        let chunks = Arc::clone(&self.chunks);
        Box::pin(async move {
            let body: ByteStream = Box::pin(futures_util::stream::iter(
                (0..chunks.len()).map(move |i| Ok(chunks[i].clone())),
            ));
            let response = Response::builder()
                .status(200)
                .header("content-type", "text/event-stream")
                .body(body)
                .expect("a static response builds");
            Ok(response)
        })
    }
}

/// `eventsource-client` over the in-memory body, until the body ends. Returns the number of events.
fn eventsource_client(runtime: &tokio::runtime::Runtime, body: &InMemoryBody) -> usize {
    let client = ClientBuilder::for_url("http://127.0.0.1/events")
        .expect("a static URL parses")
        .reconnect(ReconnectOptions::reconnect(false).build())
        .build_with_transport(body.clone());
    runtime.block_on(async {
        let mut stream = client.stream();
        let mut events = 0usize;
        while let Some(item) = stream.next().await {
            match item {
                Ok(SSE::Event(event)) => {
                    events += 1;
                    black_box(&event);
                }
                Ok(other) => {
                    black_box(&other);
                }
                Err(eventsource_client::Error::Eof) => break,
                Err(err) => panic!("eventsource-client failed on the generated stream: {err:?}"),
            }
        }
        events
    })
}

fn bench_parsers(c: &mut Criterion) {
    let (bytes, events) = stream();
    println!("SSE_PARSE_STREAM bytes={} events={events}", bytes.len());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime starts");
    let shared = Bytes::from(bytes.clone());

    for chunk in CHUNK_SIZES {
        let body = InMemoryBody {
            chunks: Arc::new(
                (0..shared.len())
                    .step_by(chunk)
                    .map(|at| shared.slice(at..shared.len().min(at + chunk)))
                    .collect(),
            ),
        };
        // Sanity checks outside the timing: every row sees every event the generator wrote.
        let mut out = Vec::with_capacity(1024);
        assert_eq!(tidings_borrowed(&bytes, chunk), events);
        assert_eq!(tidings_owned(&bytes, chunk, &mut out), events);
        assert_eq!(eventsource_client(&runtime, &body), events);
        assert!(memmem_lflf(&bytes, chunk) >= events);

        let mut group = c.benchmark_group(format!("sse_parse_{}KiB", chunk / 1024));
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.sample_size(20);
        group.warm_up_time(std::time::Duration::from_secs(1));
        group.measurement_time(std::time::Duration::from_secs(4));
        group.bench_function("tidings", |b| b.iter(|| tidings_borrowed(black_box(&bytes), chunk)));
        group.bench_function("tidings_owned", |b| {
            b.iter(|| tidings_owned(black_box(&bytes), chunk, &mut out))
        });
        group.bench_function("memmem_lflf", |b| b.iter(|| memmem_lflf(black_box(&bytes), chunk)));
        group.bench_function("memchr2_crlf", |b| b.iter(|| memchr2_crlf(black_box(&bytes), chunk)));
        group.bench_function("eventsource_client", |b| {
            b.iter(|| eventsource_client(&runtime, black_box(&body)))
        });
        group.finish();
    }
}

criterion_group!(benches, bench_parsers);
criterion_main!(benches);
