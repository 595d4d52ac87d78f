//! An export's progress on standard error: on a terminal, a bar with the tiles done of the
//! total, the rate and the time left (indicatif); otherwise (a log, a CI job, a pipe) a plain
//! line every few seconds, which a log keeps readable where a redrawn bar would not be.

use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often a plain line is written.
const LINE_EVERY: Duration = Duration::from_secs(2);

/// The progress of `total` tiles.
#[derive(Debug)]
pub struct Progress {
    total: u64,
    started: Instant,
    shown: Shown,
}

#[derive(Debug)]
enum Shown {
    Bar(ProgressBar),
    /// When the last line was written.
    Lines(Mutex<Option<Instant>>),
    Nothing,
}

impl Progress {
    /// Progress of `total` tiles on standard error: a bar when it is a terminal, plain lines
    /// when not.
    pub fn on_stderr(total: u64) -> Self {
        use std::io::IsTerminal;
        let shown = if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(
                "{spinner} {elapsed_precise} [{wide_bar}] {human_pos}/{human_len} tiles, {per_sec}, {eta} left",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style.progress_chars("=> "));
            Shown::Bar(bar)
        } else {
            Shown::Lines(Mutex::new(None))
        };
        Self { total, started: Instant::now(), shown }
    }

    /// Progress that shows nothing (tests, library use).
    pub fn hidden(total: u64) -> Self {
        Self { total, started: Instant::now(), shown: Shown::Nothing }
    }

    /// `done` tiles of the total are rendered.
    pub fn set(&self, done: u64) {
        match &self.shown {
            Shown::Bar(bar) => bar.set_position(done),
            Shown::Lines(last) => {
                let mut last = last.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if last.is_none_or(|t| t.elapsed() >= LINE_EVERY) || done == self.total {
                    *last = Some(Instant::now());
                    let _ = writeln!(std::io::stderr(), "{}", self.line(done, self.started.elapsed()));
                }
            }
            Shown::Nothing => {}
        }
    }

    /// Clears the bar (the caller says what came of it).
    pub fn finish(&self) {
        if let Shown::Bar(bar) = &self.shown {
            bar.finish_and_clear();
        }
    }

    /// `export: 1200/5460 tiles (22%), 310 tiles/s, about 14 s left`.
    fn line(&self, done: u64, elapsed: Duration) -> String {
        let secs = elapsed.as_secs_f64();
        let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
        let pct = if self.total > 0 { done as f64 * 100.0 / self.total as f64 } else { 100.0 };
        let left = match (rate > 0.0, done < self.total) {
            (true, true) => format!(", about {} left", human_secs((self.total - done) as f64 / rate)),
            (_, false) => String::new(),
            (false, true) => ", time left not known yet".to_owned(),
        };
        format!("export: {done}/{} tiles ({pct:.0}%), {rate:.0} tiles/s{left}", self.total)
    }
}

/// `14 s`, `3 min 20 s`, `2 h 5 min`.
fn human_secs(s: f64) -> String {
    let s = s.round() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_line_gives_the_count_the_rate_and_the_time_left() {
        let p = Progress::hidden(5460);
        assert_eq!(p.line(1200, Duration::from_secs(4)), "export: 1200/5460 tiles (22%), 300 tiles/s, about 14 s left");
        assert_eq!(p.line(5460, Duration::from_secs(20)), "export: 5460/5460 tiles (100%), 273 tiles/s");
        assert_eq!(human_secs(200.0), "3 min 20 s");
        assert_eq!(human_secs(7500.0), "2 h 5 min");
    }
}
