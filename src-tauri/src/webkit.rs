//! WebKitGTK specifics that keep the window's cost down, on Linux.
//!
//! - Before GTK starts, without a GPU: GDK's own GL is turned off (`GDK_GL=disable`, unless set). GTK 3 on
//!   X11 otherwise loads the software GL (Mesa's llvmpipe and LLVM, ~30 MB) at start-up just to pick visuals,
//!   even when no window is ever shown; nothing in the app draws with GDK's GL.
//! - At creation: WebKit's memory cache is sized for a local single-page app (`DocumentViewer`), not for
//!   browsing; and without a GPU (no DRM render node: a VM, a remote or headless session) its accelerated
//!   compositing, which would run on a software GL, is turned off: WebKit's CPU path draws the same pages
//!   faster there and its web process stays ~80 MB smaller.
//! - After the window closes there is nothing to release: its process ends with it (`crate::run_app`).

use tauri::{Runtime, WebviewWindow};

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
