//! One log line, one write. `eprintln!` writes each piece of its format
//! separately, and on WASI every piece is a host call
//! (`blocking-write-and-flush`); Spin 4.0.2 turns each into a write of the
//! component's log file through tokio's blocking-thread pool
//! (`crates/trigger/src/cli/stdio.rs` at `v4.0.2`: `ComponentStdioWriter`
//! over a `tokio::fs::File`). A refusal's line had seven pieces, so a flood
//! of wrong keys cost several file writes each. Formatting the line first and
//! writing it once keeps the whole detail at the cost of one write
//! (docs/benchmarks.md, "What a log line costs").

use std::fmt::Write as _;
use std::io::Write as _;

/// Formats `args` and a newline into one buffer and writes it to stderr in
/// one call. A failed write is ignored, as `eprintln!` would panic instead;
/// a request is never failed for its log line.
pub fn write_line(args: std::fmt::Arguments<'_>) {
    let mut line = String::with_capacity(160);
    let _ = line.write_fmt(args);
    line.push('\n');
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// `eprintln!` with the line written once: `log_line!("x={x}")`.
macro_rules! log_line {
    ($($arg:tt)*) => {
        $crate::log::write_line(format_args!($($arg)*))
    };
}
pub(crate) use log_line;
