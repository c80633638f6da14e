//! The host's log output: one `tracing` subscriber writing to stderr, filtered by `-log.level`.
//! Plugin events arrive through the ABI's log sink (each plugin has its own copy of `tracing`) and
//! are replayed here with their own level, target, file and line; their span context and fields are
//! part of the line.

use mimir_abi::LogRecord;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;

/// Installs the host's subscriber. Called once, before plugins load, so they inherit `filter`.
pub fn init(filter: &str) -> Result<(), String> {
    let env_filter = EnvFilter::try_new(filter)
        .map_err(|error| format!("-log.level: invalid filter `{filter}`: {error}"))?;
    let subscriber = tracing_subscriber::registry().with(env_filter).with(
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(false),
    );
    // Installing directly (not `init()`) keeps `log` records of host dependencies out: only plugin
    // records are replayed through the `log` bridge below.
    tracing::subscriber::set_global_default(subscriber)
        .map_err(|error| format!("cannot install the log subscriber: {error}"))
}

/// Replays one plugin record in the host's subscriber. The host's filter sees the record's own
/// target, so `-log.level=info,mimir_example_greeter=debug` works for plugins too.
pub fn emit_plugin_record(record: &LogRecord) {
    let level = match record.level {
        1 => log::Level::Error,
        2 => log::Level::Warn,
        3 => log::Level::Info,
        4 => log::Level::Debug,
        _ => log::Level::Trace,
    };
    let mut text = String::new();
    if !record.spans.is_empty() {
        text.push_str(record.spans.as_str());
        text.push_str(": ");
    }
    text.push_str(record.message.as_str());
    if !record.fields.is_empty() {
        if !record.message.is_empty() {
            text.push(' ');
        }
        text.push_str(record.fields.as_str());
    }
    let module_path = (!record.module_path.is_empty()).then_some(record.module_path.as_str());
    let file = (!record.file.is_empty()).then_some(record.file.as_str());
    let line = (record.line != 0).then_some(record.line);
    let _ = tracing_log::format_trace(
        &log::Record::builder()
            .level(level)
            .target(record.target.as_str())
            .module_path(module_path)
            .file(file)
            .line(line)
            .args(format_args!("{text}"))
            .build(),
    );
}
