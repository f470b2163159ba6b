//! `inbound:plugin/log`: plugin log lines into the host's log, bounded per call.

use super::HostResult;
use crate::plugin::CallState;
use crate::plugin::wit::latest::inbound::plugin::log;

impl log::Host for CallState {
    fn log(&mut self, level: log::Level, message: String) -> HostResult<()> {
        if self.log.bytes + message.len() > self.limits.max_log_bytes_per_call {
            self.log.dropped += 1;
            return Ok(());
        }
        self.log.bytes += message.len();
        let source = &self.log_name;
        let level = match level {
            log::Level::Error => {
                tracing::error!(target: "plugin", source = %source, "{message}");
                "error"
            }
            log::Level::Warn => {
                tracing::warn!(target: "plugin", source = %source, "{message}");
                "warn"
            }
            log::Level::Info => {
                tracing::info!(target: "plugin", source = %source, "{message}");
                "info"
            }
            log::Level::Debug => {
                tracing::debug!(target: "plugin", source = %source, "{message}");
                "debug"
            }
            log::Level::Trace => {
                tracing::trace!(target: "plugin", source = %source, "{message}");
                "trace"
            }
        };
        self.log.lines.push((level.to_string(), message));
        Ok(())
    }
}
