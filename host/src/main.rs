//! The `inbound` command line.

mod cli;

/// jemalloc instead of the system allocator: a webhook allocates and frees
/// on different threads (the async workers, the plugin pool, the storage
/// writer), which glibc's arenas handle poorly; measured in
/// docs/performance.md.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    if !matches!(cli.command, cli::Command::Serve(_)) {
        end_quietly_on_a_closed_pipe();
    }
    cli::init_logging(cli.log_format, &cli.command);
    match cli::run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Rust ignores SIGPIPE, so `println!` into a closed pipe (`inbound check |
/// head -0`) panics. A command that prints should end quietly instead, as
/// `cat` does: the reader has all it wanted. `serve` keeps ignoring it (its
/// sockets report closed peers as errors, and it prints nothing to stdout).
fn end_quietly_on_a_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: restoring a signal's default disposition at start-up, before
    // any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
