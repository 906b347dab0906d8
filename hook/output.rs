//! Writing to stdout/stderr: a closed pipe is not an error; errors print their whole chain.

use std::io::Write;

/// Writes `text` to stdout; a broken pipe (`leakgate ... | head`) is ignored.
pub fn stdout(text: &str) -> std::io::Result<()> {
    ignore_broken_pipe(std::io::stdout().lock().write_all(text.as_bytes()))
}

/// Writes `text` to stderr; a broken pipe is ignored.
pub fn stderr(text: &str) -> std::io::Result<()> {
    ignore_broken_pipe(std::io::stderr().lock().write_all(text.as_bytes()))
}

fn ignore_broken_pipe(result: std::io::Result<()>) -> std::io::Result<()> {
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// `outer: inner: innermost`, sanitized for the terminal.
pub fn error_chain(error: &anyhow::Error) -> String {
    let parts: Vec<String> = error.chain().map(|e| e.to_string()).collect();
    leakgate::report::sanitize::sanitize(&parts.join(": "))
}
