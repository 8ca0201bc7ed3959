//! WebKitGTK specifics that keep the window's cost down, on Linux.
//!
//! - Before GTK starts, without a GPU: GDK's own GL is turned off (`GDK_GL=disable`, unless set). GTK 3 on
//!   X11 otherwise loads the software GL (Mesa's llvmpipe and LLVM, ~30 MB) at start-up just to pick visuals,
//!   even when no window is ever shown; nothing in the app draws with GDK's GL.
//! - At creation: WebKit's memory cache is sized for a local single-page app (`DocumentViewer`), not for
//!   browsing; and without a GPU (no DRM render node: a VM, a remote or headless session) its accelerated
//!   compositing, which would run on a software GL, is turned off: WebKit's CPU path draws the same pages
//!   faster there and its web process stays ~80 MB smaller.
//! - After the window is destroyed: WebKit ends the page's web process itself, but keeps its network process
//!   for the app's life (Tauri keeps the web context on Linux, tauri-apps/tauri#14626). The UI stores nothing
//!   there (no cookies, no web storage: its files come from the app and its calls go through IPC), so it is
//!   ended once the web process has gone, unless a window was built meanwhile (checked on the main thread, where
//!   windows are built), and the heap the page's machinery freed is handed back to the OS.
//!   WebKit starts a new network process with the next window.

use tauri::{AppHandle, Runtime, WebviewWindow};

/// Call first thing, before any other thread exists (see the module's docs).
pub fn before_gtk() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("GDK_GL").is_none() && !has_gpu() {
        // SAFETY: the app has not started any other thread yet, so nothing reads the environment meanwhile.
        unsafe { std::env::set_var("GDK_GL", "disable") };
    }
}

/// Tune the main window's WebView (see the module's docs).
pub fn tune<R: Runtime>(window: &WebviewWindow<R>) {
    #[cfg(target_os = "linux")]
    {
        let software_only = !has_gpu();
        let tuned = window.with_webview(move |webview| {
            use webkit2gtk::{CacheModel, HardwareAccelerationPolicy, SettingsExt, WebContextExt, WebViewExt};
            let view = webview.inner();
            if let Some(context) = view.context() {
                context.set_cache_model(CacheModel::DocumentViewer);
            }
            if software_only && let Some(settings) = WebViewExt::settings(&view) {
                settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
            }
        });
        if let Err(e) = tuned {
            tracing::warn!("cannot tune the window's WebView: {e}");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = window;
}

/// The main window was destroyed: release what WebKit keeps (see the module's docs), off the main thread.
pub fn release<R: Runtime>(app: &AppHandle<R>) {
    #[cfg(target_os = "linux")]
    {
        let app = app.clone();
        let builds = crate::window::builds();
        std::thread::spawn(move || linux::release(&app, builds));
    }
    #[cfg(not(target_os = "linux"))]
    let _ = app;
}

/// A DRM render node (Mesa, or NVIDIA with nvidia-drm) or NVIDIA's own device: GL runs on a GPU.
#[cfg(target_os = "linux")]
fn has_gpu() -> bool {
    let render_node = std::fs::read_dir("/dev/dri")
        .into_iter()
        .flatten()
        .flatten()
        .any(|entry| entry.file_name().to_string_lossy().starts_with("renderD"));
    render_node || std::path::Path::new("/dev/nvidiactl").exists()
}

#[cfg(target_os = "linux")]
mod linux {
    use std::time::{Duration, Instant};

    use tauri::{AppHandle, Manager, Runtime};

    use crate::window::MAIN;

    /// How long the web process may take to exit before the network process is left alone.
    const WEB_PROCESS_EXIT: Duration = Duration::from_secs(10);

    /// Release WebKit after the window that was the `builds`-th one built is gone (see the module's docs);
    /// nothing if another window was built since.
    pub fn release<R: Runtime>(app: &AppHandle<R>, builds: u64) {
        let deadline = Instant::now() + WEB_PROCESS_EXIT;
        while !children_named("WebKitWebProces").is_empty() {
            if Instant::now() > deadline || crate::window::builds() != builds {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // Checked and done on the main thread, where windows are built and WebKit starts its processes: a window
        // built meanwhile, or being built, keeps the network process it needs (else its page never loads).
        let (done, ended) = std::sync::mpsc::channel();
        let handle = app.clone();
        let queued = app.run_on_main_thread(move || {
            let idle = crate::window::builds() == builds && handle.get_webview_window(MAIN).is_none();
            if idle {
                end_network_process();
            }
            let _ = done.send(idle);
        });
        if let Err(e) = queued {
            tracing::warn!("cannot release the window's WebView: {e}");
            return;
        }
        if ended.recv() != Ok(true) {
            return;
        }
        // SAFETY: malloc_trim only returns free heap pages to the OS.
        unsafe { libc::malloc_trim(0) };
        tracing::info!("the window's WebView is released");
    }

    /// SIGTERM WebKit's network process; WebKit starts a new one with the next window.
    fn end_network_process() {
        for pid in children_named("WebKitNetworkPr") {
            // SAFETY: a plain kill(2) of this process's own child.
            if unsafe { libc::kill(pid, libc::SIGTERM) } != 0 {
                tracing::warn!(
                    "cannot end WebKit's network process {pid}: {}",
                    std::io::Error::last_os_error()
                );
            }
        }
    }

    /// This process's children whose name (`comm`, 15 bytes at most) is `name`.
    fn children_named(name: &str) -> Vec<i32> {
        let me = std::process::id().to_string();
        std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
            .filter(|pid| {
                let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
                // `pid (comm) state ppid ...`
                let Some((comm, rest)) = stat.split_once(" (").and_then(|(_, rest)| rest.rsplit_once(") ")) else {
                    return false;
                };
                comm == name && rest.split(' ').nth(1) == Some(me.as_str())
            })
            .collect()
    }
}
