//! Feed commands: the feeds panel.

use serde::Deserialize;
use tauri::State;
use tidings::probe::Probe;
use tidings::store::feeds::FeedStatus;
use tidings::{Engine, FeedSpec};
use ts_rs::TS;

use crate::CommandError;

/// A feed as the user typed it in the UI; the engine validates it.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct FeedInput {
    pub url: String,
    /// Derived from the URL when `null`.
    pub name: Option<String>,
    /// Request headers as `Name: value` lines.
    pub headers: Vec<String>,
}

impl From<FeedInput> for FeedSpec {
    fn from(input: FeedInput) -> FeedSpec {
        FeedSpec {
            url: input.url,
            name: input.name,
            headers: input.headers,
            ..FeedSpec::default()
        }
    }
}

#[tauri::command]
pub async fn list_feeds(engine: State<'_, Engine>) -> Result<Vec<FeedStatus>, CommandError> {
    Ok(engine.feeds().await?)
}

#[tauri::command]
pub async fn add_feed(engine: State<'_, Engine>, input: FeedInput) -> Result<FeedStatus, CommandError> {
    let record = engine.add_feed(input.into()).await?;
    status(&engine, record.id).await
}

/// The form edits the URL, the name and the headers; what else the feed has (templates, rules, WebSocket
/// messages, set with the CLI) stays as it is.
#[tauri::command]
pub async fn edit_feed(engine: State<'_, Engine>, name: String, input: FeedInput) -> Result<FeedStatus, CommandError> {
    let mut spec = engine.store().feed(&name)?.config.to_spec();
    spec.url = input.url;
    spec.name = input.name;
    spec.headers = input.headers;
    let record = engine.edit_feed(&name, spec).await?;
    status(&engine, record.id).await
}

#[tauri::command]
pub async fn remove_feed(engine: State<'_, Engine>, name: String) -> Result<(), CommandError> {
    Ok(engine.remove_feed(&name).await?)
}

#[tauri::command]
pub async fn pause_feed(engine: State<'_, Engine>, name: String) -> Result<(), CommandError> {
    engine.pause_feed(&name).await?;
    Ok(())
}

#[tauri::command]
pub async fn resume_feed(engine: State<'_, Engine>, name: String) -> Result<(), CommandError> {
    engine.resume_feed(&name).await?;
    Ok(())
}

#[tauri::command]
pub async fn test_feed(engine: State<'_, Engine>, input: FeedInput) -> Result<Probe, CommandError> {
    Ok(engine.test_feed(input.into()).await?)
}

/// The engine returns a feed's record after an edit; the UI wants its status (state, counts).
pub(crate) async fn status(engine: &Engine, id: i64) -> Result<FeedStatus, CommandError> {
    let feeds = engine.feeds().await?;
    feeds
        .into_iter()
        .find(|feed| feed.id == id)
        .ok_or_else(|| CommandError::new("feed_not_found", "the feed was removed meanwhile"))
}
