//! The process itself: open the engine, follow the feeds, serve the tray's requests and the engine's changes
//! until Quit or a signal, then stop in order (window, feeds, demo server, tray).

use std::process::ExitCode;
use std::time::Duration;

use ksni::TrayMethods;
use tidings::demo::DemoKeeper;
use tidings::notify::{ClickHandler, Clicked};
use tidings::{Change, Engine, FollowOptions};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::menu::{Action, TidingsTray};
use crate::window;

/// While events are unread, how often the unread count is read again: the window marks them read in its own
/// process, which this one hears nothing of.
const UNREAD_RECOUNT: Duration = Duration::from_secs(5);
/// How long the changes of a burst are gathered before the unread count is read once for all of them.
const CHANGES_BATCH: Duration = Duration::from_millis(100);

/// Follow the feeds with the tray icon until Quit or a signal.
pub fn main() -> ExitCode {
    // zbus warns when the tray's connection closes under its name watcher at Quit: nothing to act on.
    tidings::logging::to_stderr("info,zbus=error", true);
    let engine = match tidings::engine::data_dir_from_env().and_then(|dir| Engine::open(dir).map_err(|e| e.to_string()))
    {
        Ok(engine) => engine,
        Err(e) => {
            eprintln!("tidings-tray: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    match runtime {
        Ok(runtime) => runtime.block_on(run(engine)),
        Err(e) => {
            eprintln!("tidings-tray: cannot start: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(engine: Engine) -> ExitCode {
    tracing::info!("data directory: {}", engine.data_dir().display());
    let changes = engine.subscribe();
    // A `demo` feed gets its server back before the feeds are followed, so it connects at the first try.
    let demo = DemoKeeper::default();
    if let Err(e) = demo.restart(&engine).await {
        tracing::warn!("cannot look for the demo feed: {e}");
    }
    let options = FollowOptions {
        on_click: Some(on_click()),
        ..FollowOptions::default()
    };
    let following = match engine.follow(options).await {
        Ok(following) => following,
        Err(e) => {
            demo.shutdown().await;
            return match e {
                tidings::Error::AlreadyRunning { .. } => {
                    tracing::info!("nothing to do: {e}");
                    ExitCode::SUCCESS
                }
                e => {
                    tracing::error!("cannot follow the feeds: {e}");
                    ExitCode::FAILURE
                }
            };
        }
    };
    let (actions, requests) = mpsc::unbounded_channel();
    let tray = TidingsTray::new(
        actions,
        engine.unread_count().await.unwrap_or(0),
        engine.do_not_disturb().await.unwrap_or(false),
    );
    // A desktop without a tray host yet (early at login) gets the icon once its host starts.
    let tray = match tray.assume_sni_available(true).spawn().await {
        Ok(tray) => Some(tray),
        Err(e) => {
            tracing::warn!(
                "no tray icon ({e}); the feeds are followed all the same: open the window from the app menu \
                 (Tidings), and quit with `kill {}`",
                std::process::id()
            );
            None
        }
    };
    serve(&engine, &demo, tray.as_ref(), changes, requests).await;
    tracing::info!("stopping");
    window::quit().await;
    following.shutdown().await;
    demo.shutdown().await;
    if let Some(tray) = tray {
        tray.shutdown().await;
    }
    tracing::info!("stopped");
    ExitCode::SUCCESS
}

/// Answer the tray and the engine's changes until Quit or a signal.
async fn serve(
    engine: &Engine,
    demo: &DemoKeeper,
    tray: Option<&ksni::Handle<TidingsTray>>,
    mut changes: tokio::sync::broadcast::Receiver<Change>,
    mut requests: mpsc::UnboundedReceiver<Action>,
) {
    let (Ok(mut terminate), Ok(mut interrupt)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt()))
    else {
        tracing::error!("cannot listen for signals");
        return;
    };
    let mut unread = engine.unread_count().await.unwrap_or(0);
    // When the unread count is read next: soon after changes (once for a whole burst of them), and every
    // [`UNREAD_RECOUNT`] while some are unread.
    let mut count_soon: Option<Instant> = None;
    loop {
        let count_at = count_soon.or_else(|| (unread > 0).then(|| Instant::now() + UNREAD_RECOUNT));
        let count_due = async {
            match count_at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = terminate.recv() => return,
            _ = interrupt.recv() => return,
            _ = count_due => {
                count_soon = None;
                if let Ok(now) = engine.unread_count().await && now != unread {
                    unread = now;
                    update(tray, |tray| tray.unread = now).await;
                }
            }
            request = requests.recv() => match request {
                None | Some(Action::Quit) => return,
                Some(action) => act(engine, action).await,
            },
            change = changes.recv() => match change {
                Ok(Change::DoNotDisturb { on }) => update(tray, |tray| tray.do_not_disturb = on).await,
                Ok(Change::FeedState { feed, .. }) if feed == tidings::demo::DEMO_FEED => {
                    // The window that served the demo has closed: serve it here.
                    if let Err(e) = demo.restart(engine).await {
                        tracing::warn!("cannot look for the demo feed: {e}");
                    }
                }
                Ok(Change::FeedState { .. }) => {}
                Ok(_) | Err(RecvError::Lagged(_)) => {
                    count_soon.get_or_insert(Instant::now() + CHANGES_BATCH);
                }
                Err(RecvError::Closed) => return,
            },
        }
    }
}

async fn act(engine: &Engine, action: Action) {
    let done = match action {
        Action::ShowWindow => {
            window::show(&[]);
            Ok(())
        }
        Action::PauseAll => engine.pause_all().await.map(drop),
        Action::ResumeAll => engine.resume_all().await.map(drop),
        Action::DoNotDisturb(on) => engine.set_do_not_disturb(on).await,
        Action::Quit => Ok(()),
    };
    if let Err(e) = done {
        tracing::warn!("{e}");
    }
}

async fn update(tray: Option<&ksni::Handle<TidingsTray>>, change: impl FnOnce(&mut TidingsTray)) {
    if let Some(tray) = tray {
        tray.update(change).await;
    }
}

/// A click on a notification opens its web link, or else shows its (newest) event in the window.
fn on_click() -> ClickHandler {
    ClickHandler(std::sync::Arc::new(|clicked: Clicked| {
        match clicked.link.as_deref().and_then(tidings::notify::web_link) {
            Some(link) => window::open_link(link.as_str()),
            None => match clicked.seqs.iter().max() {
                Some(seq) => window::show(&["--show-event".into(), seq.to_string()]),
                None => window::show(&[]),
            },
        }
    }))
}
