//! Tidings' desktop app: a Tauri shell around the [`tidings`] engine on the shared data directory. The shell
//! holds no business logic: it wires the engine to a window and the OS.
//!
//! Two processes: this one is the window, and ends when the window closes, so WebKit's memory goes with it;
//! `tidings-tray` (`src/bin/tidings-tray`, no GTK, no WebView) follows the feeds, raises the notifications and
//! shows the tray icon, and starts this one when the window is asked for.
//!
//! # Layout
//! - [`commands`]: what the UI may invoke (`docs/desktop-ipc.md`), each a few lines over one engine call.
//! - [`changes`]: the engine's change stream, forwarded to the UI in batches.
//! - [`background`]: starting `tidings-tray` when nothing follows the feeds yet.
//! - [`follower`]: standing by while `tidings-tray` follows the feeds, or following them here if it cannot.
//! - [`window`]: the main window.
//! - [`webkit`]: WebKitGTK settings that keep the window's cost down.
//! - [`demo`]: the one-click demo feed.
//! - [`error`]: [`CommandError`], how every command fails.
//! - [`bindings`]: the TypeScript types of the contract, generated into `ui/src/lib/bindings/`.

pub mod background;
pub mod bindings;
pub mod changes;
pub mod commands;
pub mod demo;
pub mod error;
pub mod follower;
pub mod webkit;
pub mod window;

use std::sync::Mutex;

use tauri::async_runtime::{JoinHandle, block_on, spawn};
use tauri::{App, AppHandle, Builder, Manager, RunEvent, Runtime};
use tauri_plugin_autostart::MacosLauncher;
use tidings::{Engine, Following};
use tokio_util::sync::CancellationToken;

pub use error::CommandError;

use demo::Demo;
use window::PendingFocus;

/// Start in the tray, without a window (what starting at login does): start `tidings-tray` and exit.
pub const HIDDEN: &str = "--hidden";
/// Quit the running window (the tray's Quit sends it through the single-instance plugin).
pub const QUIT: &str = "--quit";
/// Show the window on the event with the `seq` that follows (a notification without a link was clicked).
pub const SHOW_EVENT: &str = "--show-event";

/// The app's entry point: open the engine, add the OS integrations, run until the window closes.
pub fn run() {
    commands::painted::mark_start();
    webkit::before_gtk();
    tidings::logging::to_stderr("info", true);
    let engine = match tidings::engine::data_dir_from_env().and_then(|dir| Engine::open(dir).map_err(|e| e.to_string()))
    {
        Ok(engine) => engine,
        Err(e) => {
            eprintln!("tidings-desktop: {e}");
            std::process::exit(1);
        }
    };
    tracing::info!("data directory: {}", engine.data_dir().display());
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|arg| arg == HIDDEN) {
        std::process::exit(match background::ensure(&engine) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("tidings-desktop: {e}");
                1
            }
        });
    }
    let builder = tauri::Builder::default()
        // First: a second launch hands its arguments to this one and exits before doing anything else.
        // (`--hidden` never gets here: it starts tidings-tray and exits above.)
        .plugin(tauri_plugin_single_instance::init(|app, args, _cwd| {
            if args.iter().any(|arg| arg == QUIT) {
                quit(app);
            } else if let Some(seq) = event_to_show(&args) {
                window::focus_event(app, seq);
            } else if let Err(e) = window::show(app) {
                tracing::warn!("cannot show the window: {e}");
            }
        }))
        .plugin(tauri_plugin_autostart::init(
            MacosLauncher::LaunchAgent,
            Some(vec![HIDDEN]),
        ))
        .plugin(tauri_plugin_opener::init());
    let start = if args.iter().any(|arg| arg == QUIT) {
        Start::Quit
    } else {
        Start::Window {
            show_event: event_to_show(&args),
        }
    };
    run_app(builder, engine, start);
}

/// The `seq` after [`SHOW_EVENT`] in `args`.
fn event_to_show(args: &[String]) -> Option<i64> {
    let at = args.iter().position(|arg| arg == SHOW_EVENT)?;
    args.get(at + 1)?.parse().ok()
}

/// How this launch starts, once the single-instance plugin has let it (no other window runs).
#[derive(Debug, Clone, Copy)]
pub enum Start {
    /// Show the window, on the event with this `seq` if one is given.
    Window { show_event: Option<i64> },
    /// `--quit` with no window running: nothing to do.
    Quit,
}

/// Run the app on `builder` (the real runtime, or a mock one in tests).
pub fn run_app<R: Runtime>(builder: Builder<R>, engine: Engine, start_as: Start) {
    let app = with_commands(builder, engine)
        .setup(move |app| match start_as {
            Start::Window { show_event } => start(app, show_event),
            Start::Quit => std::process::exit(0),
        })
        .build(context())
        .unwrap_or_else(|e| {
            eprintln!("tidings-desktop: cannot start: {e}");
            std::process::exit(1);
        });
    // Closing the window ends this process; `tidings-tray` goes on following the feeds.
    app.run(|app, event| {
        if let RunEvent::Exit = event {
            stop(app)
        }
    });
}

/// `tauri.conf.json`, the capabilities and the UI's files, compiled in.
fn context<R: Runtime>() -> tauri::Context<R> {
    tauri::generate_context!()
}

/// The engine, the state the commands use, and the commands themselves.
pub fn with_commands<R: Runtime>(builder: Builder<R>, engine: Engine) -> Builder<R> {
    use commands::{events, feeds, painted, settings};
    builder
        .manage(engine)
        .manage(Demo::default())
        .manage(PendingFocus::default())
        .invoke_handler(tauri::generate_handler![
            feeds::list_feeds,
            feeds::add_feed,
            feeds::edit_feed,
            feeds::remove_feed,
            feeds::pause_feed,
            feeds::resume_feed,
            feeds::test_feed,
            demo::add_demo_feed,
            events::list_events,
            events::get_event,
            events::mark_read,
            events::mark_all_read,
            events::take_pending_focus,
            settings::get_do_not_disturb,
            settings::set_do_not_disturb,
            settings::get_autostart,
            settings::set_autostart,
            settings::open_link,
            painted::painted,
        ])
}

/// The tasks that run for the app's whole life, stopped in [`stop`].
struct Tasks {
    stop: CancellationToken,
    follower: Mutex<Option<JoinHandle<Option<Following>>>>,
    forwarder: JoinHandle<()>,
}

fn start<R: Runtime>(app: &mut App<R>, show_event: Option<i64>) -> Result<(), Box<dyn std::error::Error>> {
    let handle = app.handle().clone();
    let engine = app.state::<Engine>().inner().clone();
    // Subscribe before following, so the UI misses nothing.
    let forwarder = spawn(changes::forward(handle.clone(), engine.subscribe()));
    let stop = CancellationToken::new();
    let follower = spawn(follower::follow(handle.clone(), engine.clone(), stop.clone()));
    app.manage(Tasks {
        stop: stop.clone(),
        follower: Mutex::new(Some(follower)),
        forwarder,
    });
    #[cfg(unix)]
    spawn(quit_on_sigterm(handle.clone(), stop));
    match show_event {
        Some(seq) => window::focus_event(&handle, seq),
        None => drop(window::show(&handle)?),
    }
    Ok(())
}

/// The tray's Quit: stop standing by at once, so the window does not take over the feeds the tray lets go
/// of, then exit.
fn quit<R: Runtime>(app: &AppHandle<R>) {
    if let Some(tasks) = app.try_state::<Tasks>() {
        tasks.stop.cancel();
    }
    app.exit(0);
}

/// Quitting: stop following if this window did (the last events are committed, the lock released), then the
/// demo server.
fn stop<R: Runtime>(app: &AppHandle<R>) {
    let Some(background) = app.try_state::<Tasks>() else {
        return;
    };
    background.stop.cancel();
    background.forwarder.abort();
    let follower = background.follower.lock().unwrap_or_else(|e| e.into_inner()).take();
    block_on(async {
        if let Some(follower) = follower
            && let Ok(Some(following)) = follower.await
        {
            following.shutdown().await;
        }
        app.state::<Demo>().0.shutdown().await;
    });
    tracing::info!("stopped");
}

/// A session logout or `kill` quits as cleanly as closing the window.
#[cfg(unix)]
async fn quit_on_sigterm<R: Runtime>(app: AppHandle<R>, stop: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut terminate) = signal(SignalKind::terminate()) else {
        return;
    };
    tokio::select! {
        _ = terminate.recv() => app.exit(0),
        _ = stop.cancelled() => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use tauri::ipc::{CallbackFn, InvokeBody};
    use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder};
    use tauri::webview::InvokeRequest;
    use tauri::{WebviewUrl, WebviewWindow, WebviewWindowBuilder};

    use super::*;

    /// The app's commands on a mock runtime, with a fresh data directory, and a window labelled `label`.
    fn window(label: &str) -> (tempfile::TempDir, WebviewWindow<MockRuntime>) {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(dir.path()).unwrap();
        (dir, window_on(engine, label))
    }

    fn window_on(engine: Engine, label: &str) -> WebviewWindow<MockRuntime> {
        let app = with_commands(mock_builder(), engine).build(context()).unwrap();
        WebviewWindowBuilder::new(&app, label, WebviewUrl::default())
            .build()
            .unwrap()
    }

    fn invoke(window: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
        let request = InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        };
        get_ipc_response(window, request).map(|body| body.deserialize::<Value>().unwrap())
    }

    #[test]
    fn an_unknown_feed_is_a_command_error_with_its_code() {
        let (_dir, main) = window("main");
        let error = invoke(&main, "pause_feed", json!({"name": "nope"})).unwrap_err();
        assert_eq!(error["code"], "feed_not_found", "{error}");
        assert!(error["message"].as_str().unwrap().contains("nope"), "{error}");
    }

    #[test]
    fn adding_a_feed_answers_its_status() {
        let (_dir, main) = window("main");
        let input = json!({"url": "http://127.0.0.1:9/events", "name": "ci", "headers": ["X-Team: ops"]});
        let feed = invoke(&main, "add_feed", json!({"input": input})).unwrap();
        assert_eq!(
            (&feed["name"], &feed["state"]["kind"], &feed["unread"]),
            (&json!("ci"), &json!("idle"), &json!(0))
        );
        let error = invoke(&main, "add_feed", json!({"input": input})).unwrap_err();
        assert_eq!(error["code"], "feed_exists");
        let events = invoke(&main, "list_events", json!({"query": {"feed": "ci", "limit": 10}})).unwrap();
        assert_eq!(events, json!([]));
    }

    #[test]
    fn editing_keeps_what_the_form_does_not_show() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(dir.path()).unwrap();
        let spec = tidings::FeedSpec {
            url: "http://127.0.0.1:9/events".into(),
            name: Some("ci".into()),
            headers: vec!["Authorization: Bearer s3cret".into()],
            title: Some("{{/title}}".into()),
            // No keyring in this test: kept in plain text, and an edit without a keyring keeps it so.
            plaintext_secrets: true,
            ..Default::default()
        };
        block_on(engine.add_feed(spec)).unwrap();
        let main = window_on(engine.clone(), "main");
        let shown = invoke(&main, "list_feeds", json!({})).unwrap();
        let headers = shown[0]["headers"].clone();
        let input = json!({"url": "http://127.0.0.1:10/events", "name": "builds", "headers": headers});
        let feed = invoke(&main, "edit_feed", json!({"name": "ci", "input": input})).unwrap();
        assert_eq!(feed["name"], "builds");
        let config = engine.store().feed("builds").unwrap().config;
        assert_eq!(config.url.as_str(), "http://127.0.0.1:10/events");
        assert_eq!(config.to_spec().title.as_deref(), Some("{{/title}}"));
        assert_eq!(config.to_spec().headers, ["Authorization: Bearer s3cret"]);
    }

    #[test]
    fn only_web_links_open() {
        let (_dir, main) = window("main");
        for url in ["file:///etc/passwd", "javascript:alert(1)", "tidings://x"] {
            let error = invoke(&main, "open_link", json!({"url": url})).unwrap_err();
            assert_eq!(error["code"], "invalid_link", "{url}: {error}");
        }
    }

    #[test]
    fn other_windows_cannot_invoke_commands() {
        let (_dir, other) = window("other");
        let error = invoke(&other, "list_feeds", json!({})).unwrap_err();
        assert!(error.as_str().is_some_and(|e| e.contains("not allowed")), "{error}");
    }

    #[test]
    fn the_capability_grants_exactly_the_commands() {
        let capability: Value = serde_json::from_str(include_str!("../capabilities/main.json")).unwrap();
        let mut granted: Vec<&str> = capability["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        granted.sort();
        let mut expected: Vec<String> = commands::COMMANDS
            .iter()
            .map(|command| format!("allow-{}", command.replace('_', "-")))
            .chain(["core:event:default".to_string()])
            .collect();
        expected.sort();
        assert_eq!(granted, expected);
    }
}
