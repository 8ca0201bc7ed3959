//! The `tidings` command: parse the arguments, run the command, turn its outcome into an exit code.

mod cli;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

fn main() -> ExitCode {
    let matches = cli::Cli::command().get_matches();
    let args = cli::Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    cli::init_logging(&args);
    // One thread for every feed: following is waiting on sockets, and a wake-up handed to another worker
    // thread costs more than the work it brings (idle CPU at 10,000 feeds, bench part 5). The store's
    // writer, blocking calls and notifications have their own threads.
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("tidings: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(args, &matches)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("tidings: {error}");
            ExitCode::FAILURE
        }
    }
}
