//! Logging with `tracing`: human-readable or JSON lines on standard error
//! (standard output is kept for command output such as `parcours openapi`).

use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, LogSettings};

pub fn init(settings: &LogSettings) {
    // The HTTP parser's refusals are logged by `server::front_door`, with
    // the request id they were answered under; actix-http's own line for
    // each says the same at ERROR, without it.
    let quiet = "actix_http::h1::dispatcher=off";
    let filter = EnvFilter::try_new(format!("{quiet},{}", settings.log))
        .unwrap_or_else(|_| EnvFilter::new(format!("{quiet},info")));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second initialisation (tests) keeps the first subscriber.
    let _ = match settings.log_format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
    // A panic's message may quote the input that caused it (a slice of a
    // name, say): log where it happened, never what it says.
    std::panic::set_hook(Box::new(|info| {
        let place = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        tracing::error!(at = %place, "panic");
    }));
}
