//! Closing a window as a window manager does when its close button is clicked: a `WM_DELETE_WINDOW` client
//! message to each viewable top-level window with that title (Xvfb runs no window manager).

use std::ffi::{CStr, CString};
use std::ptr;

use x11_dl::xlib::{self, Xlib};

/// Ask every viewable window titled `title` to close; returns how many were asked.
pub fn close_window(title: &str) -> Result<usize, String> {
    let xlib = Xlib::open().map_err(|e| format!("cannot load libX11: {e}"))?;
    // SAFETY: plain Xlib calls on a display this function opens and closes; every pointer Xlib returns is
    // checked for null and freed with XFree.
    unsafe {
        let display = (xlib.XOpenDisplay)(ptr::null());
        if display.is_null() {
            return Err("cannot open the X display: is DISPLAY set?".into());
        }
        // A window may vanish between listing and asking it (a tooltip, a menu): ignore such errors rather
        // than let Xlib's default handler exit.
        (xlib.XSetErrorHandler)(Some(ignore_error));
        let atom = |name: &str| {
            let name = CString::new(name).expect("no NUL in an atom name");
            (xlib.XInternAtom)(display, name.as_ptr(), xlib::False)
        };
        let (protocols, delete) = (atom("WM_PROTOCOLS"), atom("WM_DELETE_WINDOW"));
        let mut asked = 0;
        for window in windows(&xlib, display, (xlib.XDefaultRootWindow)(display)) {
            if !viewable(&xlib, display, window) || window_title(&xlib, display, window).as_deref() != Some(title) {
                continue;
            }
            let mut event: xlib::XEvent = std::mem::zeroed();
            event.client_message = xlib::XClientMessageEvent {
                type_: xlib::ClientMessage,
                serial: 0,
                send_event: xlib::True,
                display,
                window,
                message_type: protocols,
                format: 32,
                data: xlib::ClientMessageData::from([delete as i64, xlib::CurrentTime as i64, 0, 0, 0]),
            };
            (xlib.XSendEvent)(display, window, xlib::False, xlib::NoEventMask, &mut event);
            asked += 1;
        }
        (xlib.XFlush)(display);
        (xlib.XCloseDisplay)(display);
        Ok(asked)
    }
}

unsafe extern "C" fn ignore_error(_: *mut xlib::Display, _: *mut xlib::XErrorEvent) -> i32 {
    0
}

/// Every window under `root`, depth first.
unsafe fn windows(xlib: &Xlib, display: *mut xlib::Display, root: xlib::Window) -> Vec<xlib::Window> {
    let (mut root_out, mut parent, mut children, mut count) = (0, 0, ptr::null_mut(), 0u32);
    let mut found = Vec::new();
    // SAFETY: see `close_window`.
    unsafe {
        if (xlib.XQueryTree)(display, root, &mut root_out, &mut parent, &mut children, &mut count) == 0 {
            return found;
        }
        if !children.is_null() {
            for &child in std::slice::from_raw_parts(children, count as usize) {
                found.push(child);
                found.extend(windows(xlib, display, child));
            }
            (xlib.XFree)(children.cast());
        }
    }
    found
}

unsafe fn viewable(xlib: &Xlib, display: *mut xlib::Display, window: xlib::Window) -> bool {
    // SAFETY: see `close_window`.
    unsafe {
        let mut attributes: xlib::XWindowAttributes = std::mem::zeroed();
        (xlib.XGetWindowAttributes)(display, window, &mut attributes) != 0 && attributes.map_state == xlib::IsViewable
    }
}

unsafe fn window_title(xlib: &Xlib, display: *mut xlib::Display, window: xlib::Window) -> Option<String> {
    // SAFETY: see `close_window`.
    unsafe {
        let mut name = ptr::null_mut();
        if (xlib.XFetchName)(display, window, &mut name) == 0 || name.is_null() {
            return None;
        }
        let title = CStr::from_ptr(name).to_string_lossy().into_owned();
        (xlib.XFree)(name.cast());
        Some(title)
    }
}
