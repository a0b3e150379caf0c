//! Progress bars on stderr for long work; hidden with `--quiet` or when stderr is not a
//! terminal.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar counting `total` units of work named `what`.
pub fn bar(show: bool, total: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), target(show));
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:>14} [{bar:30}] {pos}/{len} {elapsed_precise} eta {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

/// A spinner with a running count for work of unknown size.
pub fn spinner(show: bool, what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, target(show));
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {human_pos} rows {elapsed_precise}")
            .expect("valid template"),
    );
    bar.set_message(what.to_string());
    bar
}

fn target(show: bool) -> ProgressDrawTarget {
    if show {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}
