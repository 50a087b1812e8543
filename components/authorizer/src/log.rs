//! One log line, one write. `eprintln!` writes each piece of its format
//! separately, and on WASI every piece is a host call
//! (`blocking-write-and-flush`). Spin 4.0.2 hands each write synchronously
//! to the component's log writer (`crates/factor-wasi/src/io.rs`,
//! `PipedWriteStream`, over `crates/trigger/src/cli/stdio.rs`,
//! `ComponentStdioWriter`, at `v4.0.2`): one `write` to the component's log
//! file and, since `spin up` follows every component's output by default,
//! one more to Spin's own stderr; the flush is a no-op on a file. A
//! refusal's line had seven pieces, so a flood of wrong keys cost several
//! file writes each. Formatting the line first and writing it once keeps the
//! whole detail at the cost of one write (docs/benchmarks.md). A plain
//! `write` without the flush would save nothing there: the bytes reach the
//! file in the same call either way.
//!
//! The write goes to the WASI stream directly
//! ([`flowgate_spin::write_stderr`]), not through `std::io::stderr()` and
//! wasi-libc: the same bytes in the same stream, a little cheaper per line;
//! the stream is kept for the instance's life, so on a reused (WASIp3)
//! instance a line costs the write alone.

use std::fmt::Write as _;

/// Formats `args` and a newline into one buffer and writes it to stderr in
/// one call. A failed write is ignored, as `eprintln!` would panic instead;
/// a request is never failed for its log line.
pub fn write_line(args: std::fmt::Arguments<'_>) {
    let mut line = String::with_capacity(160);
    let _ = line.write_fmt(args);
    line.push('\n');
    flowgate_spin::write_stderr(line.as_bytes());
}

/// `eprintln!` with the line written once: `log_line!("x={x}")`.
macro_rules! log_line {
    ($($arg:tt)*) => {
        $crate::log::write_line(format_args!($($arg)*))
    };
}
pub(crate) use log_line;
