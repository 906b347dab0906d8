//! Writing to stdout/stderr: a closed pipe is not an error; errors print their whole chain.

use std::io::Write;

/// Writes `text` to stdout; a broken pipe (`leakgate ... | head`) is ignored.
pub(crate) fn stdout(text: &str) -> std::io::Result<()> {
    ignore_broken_pipe(std::io::stdout().lock().write_all(text.as_bytes()))
}

/// Writes `text` to stderr; a broken pipe is ignored.
pub(crate) fn stderr(text: &str) -> std::io::Result<()> {
    ignore_broken_pipe(std::io::stderr().lock().write_all(text.as_bytes()))
}

fn ignore_broken_pipe(result: std::io::Result<()>) -> std::io::Result<()> {
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// `outer: inner: innermost`, sanitized for the terminal.
pub(crate) fn error_chain(error: &anyhow::Error) -> String {
    let parts: Vec<String> = error
        .chain()
        .map(std::string::ToString::to_string)
        .collect();
    leakgate::report::sanitize::sanitize(&parts.join(": "))
}

/// The width to wrap messages to: the terminal's (stderr, else stdout), else `COLUMNS`, else 80.
pub(crate) fn width() -> usize {
    let columns = terminal_columns(2)
        .or_else(|| terminal_columns(1))
        .or_else(|| std::env::var("COLUMNS").ok()?.trim().parse().ok())
        .filter(|c| *c > 0)
        .unwrap_or(leakgate::report::wrap::DEFAULT_WIDTH);
    columns.max(leakgate::report::wrap::MIN_WIDTH)
}

/// The columns of the terminal on file descriptor `fd`, when it is one.
fn terminal_columns(fd: i32) -> Option<usize> {
    let mut size = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one `winsize` through the valid pointer it is given; `fd` is a
    // standard stream of this process (an invalid one makes the call fail, nothing else).
    let rc = unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut size) };
    (rc == 0 && size.ws_col > 0).then_some(usize::from(size.ws_col))
}

/// Wraps every line of `text` to `width`, keeping each line's indentation.
pub(crate) fn wrap(text: &str, width: usize) -> String {
    leakgate::report::wrap::wrap(text, width)
}
