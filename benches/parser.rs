//! Throughput of `sse::parser::Parser::push` on ~16 MiB of realistic events, fed in 64 KiB chunks
//! as an HTTP body would arrive, beside a bare `memchr::memmem` count of "\n\n" over the same
//! bytes: the practical limit for anything that has to find event boundaries.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use memchr::memmem;
use tidings::sse::parser::{Dispatch, Parser};

const STREAM_BYTES: usize = 16 * 1024 * 1024;
const CHUNK_BYTES: usize = 64 * 1024;

/// Events like a price feed's: an `id`, an `event` type, and ~120 bytes of JSON data; with a
/// comment line (a keep-alive) now and then.
/// Returns the bytes and the number of events in them.
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

fn bench_parser(c: &mut Criterion) {
    let (bytes, events) = stream();
    // Sanity check outside the timing: the parser sees every event the generator wrote.
    let mut parser = Parser::new();
    let mut out = Vec::new();
    let mut dispatched = 0;
    for chunk in bytes.chunks(CHUNK_BYTES) {
        if let Err(err) = parser.push(chunk, &mut out) {
            panic!("the generated stream does not parse: {err}");
        }
        dispatched += out.iter().filter(|item| matches!(item, Dispatch::Event(_))).count();
        out.clear();
    }
    assert_eq!(dispatched, events, "every generated event is dispatched");
    assert_eq!(parser.last_event_id(), events.to_string());

    let mut group = c.benchmark_group("sse_parse_16MiB");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.sample_size(20);

    group.bench_function("Parser::push, 64 KiB chunks", |b| {
        let mut out = Vec::with_capacity(1024);
        b.iter(|| {
            let mut parser = Parser::new();
            let mut count = 0usize;
            for chunk in black_box(&bytes).chunks(CHUNK_BYTES) {
                if parser.push(chunk, &mut out).is_err() {
                    break;
                }
                count += out.len();
                black_box(&out);
                out.clear();
            }
            count
        });
    });

    group.bench_function("memmem count of \\n\\n (limit)", |b| {
        let finder = memmem::Finder::new(b"\n\n");
        b.iter(|| finder.find_iter(black_box(&bytes)).count());
    });

    group.finish();
}

criterion_group!(benches, bench_parser);
criterion_main!(benches);
