//! The tray icon: the app's face while the window is closed. Its menu shows the window, pauses or resumes
//! every feed, toggles do not disturb and quits; its tooltip (and its title, where the platform shows one)
//! gives the unread count. [`crate::changes`] keeps both up to date.

use tauri::menu::{CheckMenuItem, Menu, MenuEvent, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Runtime};
use tidings::Engine;

use crate::window;

const SHOW: &str = "show";
const PAUSE_ALL: &str = "pause_all";
const RESUME_ALL: &str = "resume_all";
const DO_NOT_DISTURB: &str = "do_not_disturb";
const QUIT: &str = "quit";

/// The tray icon and the menu item that mirrors a setting.
pub struct Tray<R: Runtime> {
    icon: TrayIcon<R>,
    do_not_disturb: CheckMenuItem<R>,
}

impl<R: Runtime> Tray<R> {
    pub fn create(app: &AppHandle<R>, do_not_disturb: bool, unread: u64) -> tauri::Result<Tray<R>> {
        let do_not_disturb = CheckMenuItem::with_id(
            app,
            DO_NOT_DISTURB,
            "Do not disturb",
            true,
            do_not_disturb,
            None::<&str>,
        )?;
        let menu = Menu::with_items(
            app,
            &[
                &MenuItem::with_id(app, SHOW, "Show Tidings", true, None::<&str>)?,
                &PredefinedMenuItem::separator(app)?,
                &MenuItem::with_id(app, PAUSE_ALL, "Pause all feeds", true, None::<&str>)?,
                &MenuItem::with_id(app, RESUME_ALL, "Resume all feeds", true, None::<&str>)?,
                &do_not_disturb,
                &PredefinedMenuItem::separator(app)?,
                &MenuItem::with_id(app, QUIT, "Quit Tidings", true, None::<&str>)?,
            ],
        )?;
        let mut builder = TrayIconBuilder::with_id("tidings")
            .menu(&menu)
            .show_menu_on_left_click(false)
            .on_menu_event(on_menu_event)
            .on_tray_icon_event(on_icon_event);
        if let Some(icon) = app.default_window_icon() {
            builder = builder.icon(icon.clone());
        }
        let tray = Tray {
            icon: builder.build(app)?,
            do_not_disturb,
        };
        tray.show_unread(unread);
        Ok(tray)
    }

    pub fn show_unread(&self, unread: u64) {
        let tooltip = match unread {
            0 => "Tidings: nothing unread".to_string(),
            1 => "Tidings: 1 unread event".to_string(),
            n => format!("Tidings: {n} unread events"),
        };
        let title = (unread > 0).then(|| unread.to_string());
        if let Err(e) = self.icon.set_tooltip(Some(tooltip)).and(self.icon.set_title(title)) {
            tracing::warn!("cannot update the tray: {e}");
        }
    }

    pub fn show_do_not_disturb(&self, on: bool) {
        if let Err(e) = self.do_not_disturb.set_checked(on) {
            tracing::warn!("cannot update the tray menu: {e}");
        }
    }
}

fn on_menu_event<R: Runtime>(app: &AppHandle<R>, event: MenuEvent) {
    let engine = app.state::<Engine>().inner().clone();
    match event.id().as_ref() {
        SHOW => {
            if let Err(e) = window::show(app) {
                tracing::warn!("cannot show the window: {e}");
            }
        }
        PAUSE_ALL => spawn("pause every feed", async move { engine.pause_all().await.map(drop) }),
        RESUME_ALL => spawn("resume every feed", async move { engine.resume_all().await.map(drop) }),
        DO_NOT_DISTURB => {
            // The item has already toggled itself; the engine's change confirms it (see `show_do_not_disturb`).
            let on = app.state::<Tray<R>>().do_not_disturb.is_checked().unwrap_or(false);
            spawn(
                "change do not disturb",
                async move { engine.set_do_not_disturb(on).await },
            )
        }
        QUIT => app.exit(0),
        _ => {}
    }
}

fn on_icon_event<R: Runtime>(icon: &TrayIcon<R>, event: TrayIconEvent) {
    // Where the platform reports clicks on the icon (not Linux), a left click shows the window.
    if let TrayIconEvent::Click {
        button: MouseButton::Left,
        button_state: MouseButtonState::Up,
        ..
    } = event
        && let Err(e) = window::show(icon.app_handle())
    {
        tracing::warn!("cannot show the window: {e}");
    }
}

fn spawn(what: &'static str, work: impl Future<Output = Result<(), tidings::Error>> + Send + 'static) {
    tauri::async_runtime::spawn(async move {
        if let Err(e) = work.await {
            tracing::warn!("cannot {what}: {e}");
        }
    });
}
