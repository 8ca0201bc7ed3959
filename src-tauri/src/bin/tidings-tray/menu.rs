//! The tray icon, as a StatusNotifierItem on the session bus (what KDE, GNOME's AppIndicator extension,
//! Xfce, Cinnamon and the wlroots bars show). A click shows the window; the menu shows it too, pauses or
//! resumes every feed, toggles do not disturb and quits; the tooltip gives the unread count. The menu only
//! asks: [`Action`]s go to the main loop, which does the work with the engine.

use ksni::menu::{CheckmarkItem, StandardItem};
use ksni::{Icon, MenuItem, ToolTip};
use tokio::sync::mpsc::UnboundedSender;

/// What the user asked of the tray.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ShowWindow,
    PauseAll,
    ResumeAll,
    DoNotDisturb(bool),
    Quit,
}

/// The tray's state: what it shows, and where it sends what the user asks.
pub struct TidingsTray {
    pub unread: u64,
    pub do_not_disturb: bool,
    actions: UnboundedSender<Action>,
    icons: Vec<Icon>,
}

impl TidingsTray {
    pub fn new(actions: UnboundedSender<Action>, unread: u64, do_not_disturb: bool) -> TidingsTray {
        TidingsTray {
            unread,
            do_not_disturb,
            actions,
            icons: [
                include_bytes!("../../../../icons/32x32.png").as_slice(),
                include_bytes!("../../../../icons/64x64.png").as_slice(),
            ]
            .into_iter()
            .filter_map(argb_icon)
            .collect(),
        }
    }

    fn ask(&self, action: Action) {
        // The main loop only goes away when the process stops.
        let _ = self.actions.send(action);
    }
}

/// What the tooltip says.
pub fn unread_text(unread: u64) -> String {
    match unread {
        0 => "Tidings: nothing unread".to_string(),
        1 => "Tidings: 1 unread event".to_string(),
        n => format!("Tidings: {n} unread events"),
    }
}

impl ksni::Tray for TidingsTray {
    fn id(&self) -> String {
        "tidings".into()
    }

    fn title(&self) -> String {
        "Tidings".into()
    }

    fn icon_pixmap(&self) -> Vec<Icon> {
        self.icons.clone()
    }

    fn tool_tip(&self) -> ToolTip {
        ToolTip {
            title: unread_text(self.unread),
            ..ToolTip::default()
        }
    }

    fn activate(&mut self, _x: i32, _y: i32) {
        self.ask(Action::ShowWindow);
    }

    fn menu(&self) -> Vec<MenuItem<Self>> {
        let item = |label: &str, action: Action| -> MenuItem<Self> {
            StandardItem {
                label: label.into(),
                activate: Box::new(move |tray: &mut Self| tray.ask(action)),
                ..StandardItem::default()
            }
            .into()
        };
        vec![
            item("Show Tidings", Action::ShowWindow),
            MenuItem::Separator,
            item("Pause all feeds", Action::PauseAll),
            item("Resume all feeds", Action::ResumeAll),
            CheckmarkItem {
                label: "Do not disturb".into(),
                checked: self.do_not_disturb,
                // The engine's change confirms it (`TidingsTray::do_not_disturb` is set from there).
                activate: Box::new(|tray: &mut Self| tray.ask(Action::DoNotDisturb(!tray.do_not_disturb))),
                ..CheckmarkItem::default()
            }
            .into(),
            MenuItem::Separator,
            item("Quit Tidings", Action::Quit),
        ]
    }
}

/// A PNG as the ARGB32 pixels (network byte order) a StatusNotifierItem carries; `None` if it cannot be read.
fn argb_icon(png_bytes: &[u8]) -> Option<Icon> {
    let mut decoder = png::Decoder::new(png_bytes);
    decoder.set_transformations(png::Transformations::normalize_to_color8() | png::Transformations::ALPHA);
    let mut reader = decoder.read_info().ok()?;
    let mut rgba = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut rgba).ok()?;
    if frame.color_type != png::ColorType::Rgba {
        return None;
    }
    let data = rgba[..frame.buffer_size()]
        .chunks_exact(4)
        .flat_map(|px| [px[3], px[0], px[1], px[2]])
        .collect();
    Some(Icon {
        width: i32::try_from(frame.width).ok()?,
        height: i32::try_from(frame.height).ok()?,
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_icons_are_read_as_argb() {
        let (sender, _receiver) = tokio::sync::mpsc::unbounded_channel();
        let tray = TidingsTray::new(sender, 0, false);
        let sizes: Vec<_> = tray.icons.iter().map(|icon| (icon.width, icon.height)).collect();
        assert_eq!(sizes, [(32, 32), (64, 64)]);
        for icon in &tray.icons {
            assert_eq!(icon.data.len(), (icon.width * icon.height * 4) as usize);
            assert!(icon.data.chunks_exact(4).any(|px| px[0] == 0xff), "an opaque pixel");
        }
    }

    #[test]
    fn the_tooltip_counts_unread_events() {
        assert_eq!(unread_text(0), "Tidings: nothing unread");
        assert_eq!(unread_text(1), "Tidings: 1 unread event");
        assert_eq!(unread_text(12), "Tidings: 12 unread events");
    }
}
