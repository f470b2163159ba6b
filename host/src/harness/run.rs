//! What one run produced, with a human and a JSON rendering.

use crate::plugin::CallReport;
use crate::store::{Action, Incident};
use serde_json::{Value, json};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub level: String,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct RunResult {
    /// The HTTP status the sender would get: 202, 400, 503, ...
    pub status: u16,
    /// The JSON body the sender would get.
    pub answer: Value,
    /// What happened to which incident, as committed (empty on failure).
    pub outcomes: Vec<(Action, Incident)>,
    /// What the plugin logged, in order.
    pub logs: Vec<LogLine>,
    /// Log lines dropped over the per-call cap.
    pub logs_dropped: usize,
    /// Wall-clock time of the plugin call (instantiate + handle).
    pub time: Duration,
    /// The largest linear memory the instance grew to, in bytes.
    pub memory_bytes: usize,
}

impl RunResult {
    pub(super) fn new(
        status: u16,
        answer: Value,
        outcomes: Vec<(Action, Incident)>,
        report: Option<CallReport>,
    ) -> Self {
        let report = report.unwrap_or_else(|| CallReport {
            integration: String::new(),
            log: Default::default(),
            elapsed: Duration::ZERO,
            memory_peak_bytes: 0,
        });
        RunResult {
            status,
            answer,
            outcomes,
            logs: report
                .log
                .lines
                .into_iter()
                .map(|(level, message)| LogLine { level, message })
                .collect(),
            logs_dropped: report.log.dropped,
            time: report.elapsed,
            memory_bytes: report.memory_peak_bytes,
        }
    }

    /// The actions, in the plugin's order.
    pub fn actions(&self) -> Vec<Action> {
        self.outcomes.iter().map(|(action, _)| *action).collect()
    }

    /// The incidents the request concerned, as committed.
    pub fn incidents(&self) -> Vec<&Incident> {
        self.outcomes.iter().map(|(_, incident)| incident).collect()
    }

    /// The error code of a 4xx/5xx answer.
    pub fn error_code(&self) -> Option<&str> {
        self.answer["error"]["code"].as_str()
    }

    /// The error message of a 4xx/5xx answer.
    pub fn error_message(&self) -> Option<&str> {
        self.answer["error"]["message"].as_str()
    }

    /// True if some log line contains `text`.
    pub fn logged(&self, text: &str) -> bool {
        self.logs.iter().any(|line| line.message.contains(text))
    }

    pub fn to_json(&self) -> Value {
        json!({
            "status": self.status,
            "answer": self.answer,
            "outcomes": self.outcomes.iter().map(|(action, incident)| json!({
                "action": action,
                "incident": crate::http::incident_view(incident),
            })).collect::<Vec<_>>(),
            "logs": self.logs.iter().map(|line| json!({"level": line.level, "message": line.message})).collect::<Vec<_>>(),
            "logs_dropped": self.logs_dropped,
            "time_us": self.time.as_micros() as u64,
            "memory_bytes": self.memory_bytes,
        })
    }
}

/// The text rendering `inbound plugin run` prints and test failures show.
impl std::fmt::Display for RunResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "answer: {} {}", self.status, self.answer)?;
        if self.outcomes.is_empty() {
            writeln!(f, "actions: none")?;
        }
        for (action, incident) in &self.outcomes {
            let action = serde_json::to_value(action).unwrap_or_default();
            let status = serde_json::to_value(incident.status).unwrap_or_default();
            writeln!(
                f,
                "action: {} incident {} key {:?} ({}) {:?}",
                action.as_str().unwrap_or_default(),
                incident.id,
                incident.key,
                status.as_str().unwrap_or_default(),
                incident.summary
            )?;
            for link in &incident.links {
                writeln!(f, "  link: {} <{}>", link.label, link.url)?;
            }
            if !incident.details.trim().is_empty() {
                writeln!(f, "  details:")?;
                for line in incident.details.lines() {
                    writeln!(f, "    {line}")?;
                }
            }
        }
        for line in &self.logs {
            writeln!(f, "log {}: {}", line.level, line.message)?;
        }
        if self.logs_dropped > 0 {
            writeln!(f, "log: {} lines dropped over the per-call cap", self.logs_dropped)?;
        }
        write!(
            f,
            "time: {:.3} ms, memory: {} KiB",
            self.time.as_secs_f64() * 1000.0,
            self.memory_bytes / 1024
        )
    }
}
