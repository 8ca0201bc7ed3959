include!("src/commands/list.rs");

fn main() {
    // Listing the app's commands turns on permission checks for them: the UI can call a command only if a
    // capability (capabilities/main.json) allows it.
    let manifest = tauri_build::AppManifest::new().commands(COMMANDS);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest)).expect("failed to run tauri-build");
}
