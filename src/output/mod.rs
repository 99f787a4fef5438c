//! One printer decides what goes where: data to stdout, messages and progress
//! to stderr; color only on a terminal (or `--color always`), never with
//! `NO_COLOR`; progress bars only on a terminal.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use anstyle::{AnsiColor, Style};
use indicatif::{ProgressBar, ProgressStyle};

mod batch;
mod escape;
mod event_text;
use event_text::Shown;
mod progress;
mod typed;
pub use batch::DataBatch;
pub use escape::{escape_controls, json_string};

use crate::cli::ColorChoice;
use crate::events::{Delivery, Event, Outcome, Severity, StopReason};

#[derive(Debug, Clone)]
pub struct Printer {
    pub json: bool,
    pub quiet: bool,
    pub verbose: u8,
    color_out: bool,
    color_err: bool,
    progress: bool,
    /// The bars and spinner on the terminal now.
    drawn: progress::Shared,
}

pub const GREEN: Style = AnsiColor::Green.on_default();
pub const RED: Style = AnsiColor::Red.on_default().bold();
pub const YELLOW: Style = AnsiColor::Yellow.on_default().bold();
pub const CYAN: Style = AnsiColor::Cyan.on_default();
pub const DIM: Style = Style::new().dimmed();
pub const BOLD: Style = Style::new().bold();

impl Printer {
    pub fn new(json: bool, quiet: bool, verbose: u8, color: ColorChoice) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let decide = |tty: bool| match color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => tty && !no_color,
        };
        Printer {
            json,
            quiet,
            verbose,
            color_out: decide(std::io::stdout().is_terminal()),
            color_err: decide(std::io::stderr().is_terminal()),
            progress: std::io::stderr().is_terminal() && !quiet && !json,
            drawn: Default::default(),
        }
    }

    pub fn stdout_is_terminal(&self) -> bool {
        std::io::stdout().is_terminal()
    }

    /// Whether progress bars and spinners are drawn (stderr is a terminal).
    pub fn shows_progress(&self) -> bool {
        self.progress
    }

    pub fn colors_stdout(&self) -> bool {
        self.color_out
    }

    /// Styles text for stdout.
    pub fn out_style(&self, style: Style, text: &str) -> String {
        paint(self.color_out, style, text)
    }
    /// Styles text for stderr.
    pub fn err_style(&self, style: Style, text: &str) -> String {
        paint(self.color_err, style, text)
    }

    /// A line of data on stdout. Returns false when stdout is closed (a
    /// consumer like `head` went away): the caller stops, and exits 0.
    pub fn data(&self, line: &str) -> bool {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}").and_then(|_| out.flush()).is_ok()
    }

    /// A JSON object on one line of stdout.
    pub fn json_line(&self, value: &serde_json::Value) -> bool {
        self.data(&value.to_string())
    }

    /// A message for the user on stderr (hidden by `-q`).
    pub fn info(&self, msg: &str) {
        if !self.quiet {
            eprintln!("{msg}");
        }
    }

    pub fn warn(&self, msg: &str, hint: Option<&str>) {
        self.clear_progress();
        eprintln!("{} {msg}", self.err_style(YELLOW, "warning:"));
        if let Some(h) = hint {
            eprintln!("{} {h}", self.err_style(BOLD, "hint:"));
        }
    }

    pub fn error(&self, msg: &str, hint: Option<&str>) {
        self.clear_progress();
        eprintln!("{} {msg}", self.err_style(RED, "error:"));
        if let Some(h) = hint {
            eprintln!("{} {h}", self.err_style(BOLD, "hint:"));
        }
    }

    /// An error as `Error::render` shapes it, with colour on a terminal.
    pub fn report(&self, e: &crate::error::Error) {
        self.clear_progress();
        use crate::error::Part;
        eprint!(
            "{}",
            e.render_styled(|part, label| match part {
                Part::Error => self.err_style(RED, label),
                Part::Cause => self.err_style(DIM, label),
                Part::Hint => self.err_style(BOLD, label),
            })
        );
    }

    /// A spinner on a terminal; a plain line otherwise.
    pub fn spinner(&self, msg: &str) -> ProgressBar {
        if !self.progress {
            self.info(msg);
            return ProgressBar::hidden();
        }
        let pb = ProgressBar::new_spinner();
        pb.set_style(
            ProgressStyle::with_template("{spinner:.cyan} {msg} {elapsed:.dim}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        pb.set_message(msg.to_string());
        pb.enable_steady_tick(Duration::from_millis(100));
        pb
    }

    pub fn confirm(&self, question: &str) -> bool {
        eprint!("{question} [y/N] ");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        if std::io::stdin().read_line(&mut answer).is_err() {
            return false;
        }
        matches!(answer.trim(), "y" | "Y" | "yes" | "Yes")
    }

    pub fn can_ask(&self) -> bool {
        std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
    }
}

fn paint(on: bool, style: Style, text: &str) -> String {
    if on {
        format!("{}{text}{}", style.render(), style.render_reset())
    } else {
        text.to_string()
    }
}

/// Pretty JSON, colored when `color` (keys cyan, strings green, numbers and
/// literals yellow).
pub fn pretty_json(value: &serde_json::Value, color: bool) -> String {
    let mut out = String::new();
    write_json(&mut out, value, 0, color);
    out
}

fn write_json(out: &mut String, v: &serde_json::Value, indent: usize, color: bool) {
    use serde_json::Value;
    let pad = |n: usize| "  ".repeat(n);
    let scalar = |s: String, style: Style| paint(color, style, &s);
    match v {
        Value::Object(map) if !map.is_empty() => {
            out.push_str("{\n");
            for (i, (k, val)) in map.iter().enumerate() {
                out.push_str(&pad(indent + 1));
                out.push_str(&scalar(
                    json_string(&serde_json::Value::String(k.clone())),
                    CYAN,
                ));
                out.push_str(": ");
                write_json(out, val, indent + 1, color);
                if i + 1 < map.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            out.push_str(&pad(indent));
            out.push('}');
        }
        Value::Array(items) if !items.is_empty() => {
            out.push_str("[\n");
            for (i, val) in items.iter().enumerate() {
                out.push_str(&pad(indent + 1));
                write_json(out, val, indent + 1, color);
                if i + 1 < items.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            out.push_str(&pad(indent));
            out.push(']');
        }
        Value::String(_) => out.push_str(&scalar(json_string(v), GREEN)),
        Value::Number(_) | Value::Bool(_) | Value::Null => {
            out.push_str(&scalar(v.to_string(), YELLOW))
        }
        other => out.push_str(&other.to_string()),
    }
}

// ------------------------------------------------------------ runner events

pub use crate::session::console_url;

impl crate::events::Report for Printer {
    fn report(&self, event: Event) {
        self.event(event);
    }
}

pub use crate::units::counted;
