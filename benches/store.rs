//! Storing bursts: how many events a second the writer commits into a real SQLite file (WAL; the FTS5 index
//! is extended in the writer's idle time, see `store::fts`),
//! each burst in one transaction with its cursor advance, as `tidings run` does. Bursts of 1, 100 and
//! 1,000 events of ~120 bytes of JSON, all new (the common case: every event checked for a repeat).

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tidings::feed::FeedSpec;
use tidings::store::Store;
use tidings::store::events::NewEvent;
use tidings::store::writer;

fn burst(first_id: u64, size: u64) -> Vec<NewEvent> {
    (first_id..first_id + size)
        .map(|id| NewEvent {
            event_id: Some(id.to_string()),
            id_in_block: true,
            event_type: "build".into(),
            data: format!(
                "{{\"seq\":{id},\"repo\":\"web\",\"status\":\"passed\",\"title\":\"build #{id} of web passed\",\"took\":\"7m 22s\"}}"
            ),
            title: format!("build #{id} of web passed"),
            body: "Build passed in 7m 22s".into(),
            link: None,
            urgency: Default::default(),
            received_ms: 1_700_000_000_000,
            notify: false,
        })
        .collect()
}

fn store_bursts(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("store_burst");
    for size in [1u64, 100, 1000] {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let config = FeedSpec {
            url: "http://127.0.0.1/events".into(),
            ..FeedSpec::default()
        }
        .validate()
        .unwrap();
        let feed_id = store.add_feed(&config, 0).unwrap().id;
        let (handle, thread) = writer::spawn(store.path()).unwrap();
        let mut next_id = 1;
        group.throughput(Throughput::Elements(size));
        group.bench_with_input(BenchmarkId::from_parameter(size), &size, |b, &size| {
            b.iter(|| {
                let events = burst(next_id, size);
                next_id += size;
                let cursor = Some((next_id - 1).to_string());
                let stored = runtime.block_on(handle.write_burst(feed_id, 0, events, cursor));
                black_box(stored.unwrap().len())
            })
        });
        drop(handle);
        thread.join();
    }
    group.finish();
}

criterion_group!(benches, store_bursts);
criterion_main!(benches);
