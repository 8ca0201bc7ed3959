//! A hello-world Tauri window, the baseline `bench/part-7-desktop` measures the desktop app against: one
//! window showing a trivial page (`dist/`), with the app's own paint mark (`painted`) so both are timed the
//! same way, and nothing else: no engine, no tray, no plugins. Built from this crate so it shares the app's
//! Tauri, wry and WebKitGTK versions.

fn main() {
    tidings_desktop::commands::painted::mark_start();
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![tidings_desktop::commands::painted::painted])
        .run(tauri::generate_context!("examples/hello/tauri.conf.json"))
        .expect("cannot run the hello-world window");
}
