//! The UI's paint marks: the UI calls `painted` once its first frame is on screen (`shell`) and again once
//! the feeds and the first page of events are drawn (`loaded`). Each is one log line giving the time since
//! the app started, which is how `bench/part-7-desktop` times a cold start to first paint; otherwise it costs
//! two tiny calls per window.

use std::sync::OnceLock;
use std::time::Instant;

use serde::Deserialize;

static STARTED: OnceLock<Instant> = OnceLock::new();

/// Remember when the app started; call first thing.
pub fn mark_start() {
    STARTED.get_or_init(Instant::now);
}

/// Which frame the UI has drawn.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PaintStage {
    /// The dashboard's first frame: its layout, before any data.
    Shell,
    /// The first frame with the feeds and the first page of events.
    Loaded,
}

#[tauri::command]
pub fn painted(stage: PaintStage) {
    let since_start = STARTED
        .get()
        .map_or(0.0, |started| started.elapsed().as_secs_f64() * 1000.0);
    let stage = match stage {
        PaintStage::Shell => "shell",
        PaintStage::Loaded => "loaded",
    };
    tracing::info!("window painted: {stage} after {since_start:.0} ms");
}
