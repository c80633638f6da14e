//! Forwards the plugin's `tracing` events to the host's log output.
//!
//! Each plugin `.so` has its own copy of `tracing`, so the host's subscriber never sees events made
//! here. This module installs, once per plugin, a subscriber with the host's filter directives and a
//! layer that hands each event (level, target, fields, span context) to the host's log sink. It also
//! installs a panic hook that logs panics through the same path.

use std::fmt::Write as _;
use std::sync::{Arc, OnceLock};

use abi_stable::std_types::RString;
use mimir_abi::{LogRecord, LogSinkBox};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{EnvFilter, Layer};

static INSTALLED: OnceLock<()> = OnceLock::new();

/// Installs the bridge the first time a component of this plugin is built; later calls keep the first
/// sink (every sink leads to the same host).
pub(crate) fn install(sink: LogSinkBox, filter: &str) {
    INSTALLED.get_or_init(|| {
        let sink = Arc::new(sink);
        let env_filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
        let subscriber = tracing_subscriber::registry()
            .with(env_filter)
            .with(HostLayer { sink });
        // Fails only if this plugin installed a subscriber already, which `INSTALLED` prevents.
        let _ = tracing::subscriber::set_global_default(subscriber);
        std::panic::set_hook(Box::new(|info| {
            let location = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()))
                .unwrap_or_default();
            let message = crate::error::panic_message(info.payload());
            tracing::error!(target: "panic", %location, "panicked: {message}");
        }));
    });
}

struct HostLayer {
    sink: Arc<LogSinkBox>,
}

/// The formatted fields of a span, kept in its extensions.
struct SpanFields(String);

impl<S> Layer<S> for HostLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        let Some(span) = ctx.span(id) else { return };
        let mut visitor = FieldWriter::default();
        attrs.record(&mut visitor);
        span.extensions_mut().insert(SpanFields(visitor.fields));
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        ctx: Context<'_, S>,
    ) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        let mut visitor = FieldWriter::default();
        values.record(&mut visitor);
        match extensions.get_mut::<SpanFields>() {
            Some(existing) => {
                if !existing.0.is_empty() && !visitor.fields.is_empty() {
                    existing.0.push(' ');
                }
                existing.0.push_str(&visitor.fields);
            }
            None => extensions.insert(SpanFields(visitor.fields)),
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut visitor = FieldWriter::default();
        event.record(&mut visitor);
        let mut spans = String::new();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if !spans.is_empty() {
                    spans.push(':');
                }
                spans.push_str(span.name());
                let extensions = span.extensions();
                if let Some(fields) = extensions.get::<SpanFields>().filter(|f| !f.0.is_empty()) {
                    let _ = write!(spans, "{{{}}}", fields.0);
                }
            }
        }
        let metadata = event.metadata();
        let record = LogRecord {
            level: level_number(*metadata.level()),
            target: RString::from(metadata.target()),
            module_path: RString::from(metadata.module_path().unwrap_or_default()),
            file: RString::from(metadata.file().unwrap_or_default()),
            line: metadata.line().unwrap_or(0),
            message: RString::from(visitor.message),
            fields: RString::from(visitor.fields),
            spans: RString::from(spans),
        };
        // The host's sink catches its own panics; a failing log line must not fail the caller.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.sink.log(record)));
    }
}

fn level_number(level: Level) -> u8 {
    match level {
        Level::ERROR => 1,
        Level::WARN => 2,
        Level::INFO => 3,
        Level::DEBUG => 4,
        Level::TRACE => 5,
    }
}

/// Formats fields as `key=value`, keeping `message` apart.
#[derive(Default)]
struct FieldWriter {
    message: String,
    fields: String,
}

impl FieldWriter {
    fn push(&mut self, field: &Field, value: std::fmt::Arguments<'_>) {
        if field.name() == "message" {
            let _ = self.message.write_fmt(value);
            return;
        }
        if !self.fields.is_empty() {
            self.fields.push(' ');
        }
        let _ = write!(self.fields, "{}={}", field.name(), value);
    }
}

impl Visit for FieldWriter {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
            return;
        }
        self.push(field, format_args!("{value:?}"));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.push(field, format_args!("{value:?}"));
    }
}
