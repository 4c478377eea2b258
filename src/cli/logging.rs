//! `-v` and `STEWARD_LOG`: a log of each Graph request on stderr.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;

/// The environment variable that sets the log filter (a level such as `debug`, or tracing
/// filter directives).
pub const LOG_VAR: &str = "STEWARD_LOG";

/// The filter for `-v` given `count` times and the value of `STEWARD_LOG`, or `None` for no log.
///
/// A bare level applies to steward's own events only: the HTTP and TLS libraries log at debug
/// too, and nothing they print is needed to follow a run. Directives (`steward=debug,hyper=info`)
/// are taken as written.
pub fn filter(count: u8, var: Option<&str>) -> Result<Option<EnvFilter>, String> {
    let directives = match var.map(str::trim).filter(|v| !v.is_empty()) {
        Some(value) => match value.parse::<LevelFilter>() {
            Ok(level) => format!("steward={level}"),
            Err(_) => value.to_string(),
        },
        None => match count {
            0 => return Ok(None),
            1 => "steward=debug".to_string(),
            _ => "steward=trace".to_string(),
        },
    };
    EnvFilter::builder()
        .parse(&directives)
        .map(Some)
        .map_err(|e| {
            format!(
                "{LOG_VAR}={directives:?} is not a log filter ({e}); use a level (error, warn, \
                 info, debug, trace) or directives such as steward=debug"
            )
        })
}

/// Installs the stderr logger when `-v` or `STEWARD_LOG` asks for one.
pub fn init(count: u8) -> Result<(), String> {
    let var = std::env::var(LOG_VAR).ok();
    let Some(filter) = filter(count, var.as_deref())? else {
        return Ok(());
    };
    // A second install (tests calling main twice) keeps the first logger; nothing to report.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(super::output::colour_stderr())
        .with_target(false)
        .try_init();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_flag_and_no_variable_means_no_log() {
        assert!(filter(0, None).unwrap().is_none());
        assert!(filter(0, Some("  ")).unwrap().is_none());
    }

    #[test]
    fn verbose_counts_map_to_steward_levels() {
        assert_eq!(
            filter(1, None).unwrap().unwrap().to_string(),
            "steward=debug"
        );
        assert_eq!(
            filter(3, None).unwrap().unwrap().to_string(),
            "steward=trace"
        );
    }

    #[test]
    fn a_bare_level_applies_to_steward_only() {
        assert_eq!(
            filter(0, Some("debug")).unwrap().unwrap().to_string(),
            "steward=debug"
        );
    }

    #[test]
    fn directives_are_taken_as_written_and_override_the_flag() {
        assert_eq!(
            filter(2, Some("steward=info,hyper=warn"))
                .unwrap()
                .unwrap()
                .to_string(),
            "steward=info,hyper=warn"
        );
    }

    #[test]
    fn a_bad_filter_is_named_with_what_to_write() {
        let err = filter(0, Some("steward=loud")).unwrap_err();
        assert!(
            err.starts_with("STEWARD_LOG=\"steward=loud\" is not a log filter"),
            "{err}"
        );
        assert!(err.contains("steward=debug"), "{err}");
    }
}
