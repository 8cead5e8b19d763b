//! Logging set-up: `tracing` to stderr, human-readable on a terminal, JSON lines otherwise.
//!
//! Call [`init`] once, first thing in `main`. The filter is `RUST_LOG` when set (and valid),
//! else the given default (e.g. `info` or `info,platform=debug`). Spans carry the request id
//! and route (see `platform::web`), never secrets.

use std::fmt;
use std::io::IsTerminal;
use std::str::FromStr;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::util::SubscriberInitExt;

/// How log lines look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// One human-readable line per event, coloured on a terminal.
    Pretty,
    /// One JSON object per line, with the current span's fields (for log collectors).
    Json,
}

impl LogFormat {
    /// `Pretty` when stderr is a terminal, `Json` otherwise (the `auto` setting).
    pub fn detect() -> Self {
        if std::io::stderr().is_terminal() {
            Self::Pretty
        } else {
            Self::Json
        }
    }
}

/// A `log.format` value that is not `pretty`, `json` or `auto`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown log format {0:?}; use pretty, json or auto")]
pub struct UnknownLogFormat(pub String);

impl FromStr for LogFormat {
    type Err = UnknownLogFormat;

    /// `pretty`, `json`, or `auto` (resolved at once with [`LogFormat::detect`]).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "pretty" => Ok(Self::Pretty),
            "json" => Ok(Self::Json),
            "auto" => Ok(Self::detect()),
            _ => Err(UnknownLogFormat(s.to_owned())),
        }
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pretty => "pretty",
            Self::Json => "json",
        })
    }
}

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// The default filter is not a valid `tracing` filter.
    #[error("invalid log filter {filter:?}: {source}")]
    InvalidFilter {
        /// The filter as given.
        filter: String,
        /// The parser's complaint.
        #[source]
        source: tracing_subscriber::filter::ParseError,
    },
    /// Logging was already set up in this process (`init` called twice).
    #[error("logging is already initialised: {0}")]
    AlreadyInitialised(#[source] tracing_subscriber::util::TryInitError),
}

/// Builds the filter: `RUST_LOG` if set and valid, otherwise `default_filter`.
/// An invalid `RUST_LOG` is reported on stderr and ignored rather than silencing logs.
fn build_filter(default_filter: &str) -> Result<EnvFilter, TelemetryError> {
    let default =
        EnvFilter::try_new(default_filter).map_err(|source| TelemetryError::InvalidFilter {
            filter: default_filter.to_owned(),
            source,
        })?;
    match std::env::var(EnvFilter::DEFAULT_ENV) {
        Ok(value) if !value.trim().is_empty() => match EnvFilter::try_new(&value) {
            Ok(filter) => Ok(filter),
            Err(err) => {
                eprintln!(
                    "warning: ignoring invalid RUST_LOG={value:?} ({err}); using {default_filter:?}"
                );
                Ok(default)
            }
        },
        _ => Ok(default),
    }
}

/// Installs the global `tracing` subscriber writing to stderr.
///
/// Returns [`TelemetryError::AlreadyInitialised`] instead of panicking when called a second
/// time, and [`TelemetryError::InvalidFilter`] when `default_filter` does not parse.
pub fn init(format: LogFormat, default_filter: &str) -> Result<(), TelemetryError> {
    let filter = build_filter(default_filter)?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_span_events(FmtSpan::NONE);
    let result = match format {
        LogFormat::Pretty => builder
            .with_ansi(std::io::stderr().is_terminal())
            .with_target(true)
            .finish()
            .try_init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .flatten_event(true)
            .finish()
            .try_init(),
    };
    result.map_err(TelemetryError::AlreadyInitialised)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse() {
        assert_eq!("json".parse::<LogFormat>(), Ok(LogFormat::Json));
        assert_eq!(" Pretty ".parse::<LogFormat>(), Ok(LogFormat::Pretty));
        assert!("auto".parse::<LogFormat>().is_ok());
        assert!("yaml".parse::<LogFormat>().is_err());
        assert_eq!(LogFormat::Json.to_string(), "json");
    }

    #[test]
    fn invalid_default_filter_is_an_error() {
        assert!(matches!(
            build_filter("info,[[["),
            Err(TelemetryError::InvalidFilter { .. })
        ));
    }

    // The only test in this binary that installs the global subscriber.
    #[test]
    fn second_init_is_an_error_not_a_panic() {
        // The first call may already fail if another test set a subscriber; the second must.
        let _ = init(LogFormat::Json, "off");
        let second = init(LogFormat::Pretty, "off");
        assert!(matches!(second, Err(TelemetryError::AlreadyInitialised(_))));
    }
}
