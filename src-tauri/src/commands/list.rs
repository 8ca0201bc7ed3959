// Every command the UI may call. `build.rs` includes this file to generate an `allow-<command>` permission
// for each (so nothing is callable unless a capability grants it), and a test checks that
// `capabilities/main.json` grants exactly these.
pub const COMMANDS: &[&str] = &[
    "list_feeds",
    "add_feed",
    "edit_feed",
    "remove_feed",
    "pause_feed",
    "resume_feed",
    "test_feed",
    "add_demo_feed",
    "list_events",
    "get_event",
    "mark_read",
    "mark_all_read",
    "take_pending_focus",
    "get_do_not_disturb",
    "set_do_not_disturb",
    "get_autostart",
    "set_autostart",
    "open_link",
    "painted",
];
