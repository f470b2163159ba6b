//! `--output text|json` of the commands that print what a host answered:
//! a table with a header row for people, the API's JSON for scripts.

use clap::{Args, ValueEnum};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table (or text) for people.
    Text,
    /// The API's JSON answer, for scripts (`jq`).
    Json,
}

#[derive(Args, Clone, Copy)]
pub struct OutputArg {
    /// How to print the answer.
    #[arg(long, short = 'o', value_enum, default_value_t = Format::Text)]
    output: Format,
    /// The same as `--output json` (kept for scripts written before --output).
    #[arg(long, hide = true)]
    json: bool,
}

impl OutputArg {
    pub fn is_json(self) -> bool {
        self.json || self.output == Format::Json
    }
}
