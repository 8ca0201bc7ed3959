//! The demo feed's first-run button: the core's [`DemoKeeper`] starts its server on loopback, and the feed is
//! added as `demo`. The background process serves it again after this window has closed.

use tauri::State;
use tidings::demo::{DEMO_FEED, DEMO_PORT, DemoKeeper};
use tidings::store::feeds::FeedStatus;
use tidings::{Engine, FeedSpec};

use crate::CommandError;
use crate::commands::feeds::status;

/// The demo server this window runs, if any.
#[derive(Default)]
pub struct Demo(pub DemoKeeper);

/// Start the demo server and add the `demo` feed; if it exists, make sure its server runs.
#[tauri::command]
pub async fn add_demo_feed(engine: State<'_, Engine>, demo: State<'_, Demo>) -> Result<FeedStatus, CommandError> {
    if let Some(feed) = demo.0.restart(&engine).await? {
        return Ok(feed);
    }
    let url = demo.0.serve(DEMO_PORT, true).await.map_err(demo_error)?;
    let spec = FeedSpec {
        url,
        name: Some(DEMO_FEED.into()),
        ..FeedSpec::default()
    };
    let record = engine.add_feed(spec).await?;
    status(&engine, record.id).await
}

fn demo_error(error: std::io::Error) -> CommandError {
    CommandError::new("demo", format!("cannot start the demo feed: {error}"))
}
