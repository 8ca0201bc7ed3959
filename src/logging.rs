//! Logs on stderr, set up the same way by every program (the CLI, the desktop window, `tidings-tray`):
//! `RUST_LOG` when it is set, else the program's own default filter; colours only on a terminal.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Send logs to stderr, filtered by `RUST_LOG` or else `default_filter`; `with_targets` prefixes each line
/// with the module it comes from. A second call changes nothing.
pub fn to_stderr(default_filter: &str, with_targets: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(with_targets)
        .try_init();
}
