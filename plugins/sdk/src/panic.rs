//! A panic hook that writes one clean line to stderr. The host captures a
//! failed call's stderr into the error the operator sees (and the failed
//! delivery), so the line is worded for them: where and what, without the
//! default hook's thread name and backtrace hint, which mean nothing in a
//! sandbox without threads or environment.

use std::sync::Once;

/// Installs the hook once per instance. [`register_plugin!`](crate::register_plugin)
/// calls it before every `handle`.
pub fn install_hook() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| std::panic::set_hook(Box::new(|info| eprintln!("{}", describe(info)))));
}

fn describe(info: &std::panic::PanicHookInfo<'_>) -> String {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .map(|text| text.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_string());
    let message = message.replace('\n', " ");
    match info.location() {
        Some(at) => format!("plugin panicked at {}:{}: {message}", at.file(), at.line()),
        None => format!("plugin panicked: {message}"),
    }
}
