//! The policy language: KDL files → the validated desired model, with diagnostics.
//!
//! Loading happens in two phases, like cargo-deny's config: every file is parsed and converted
//! (collecting every problem, each located), then the configuration as a whole is checked
//! (duplicates across files, references, the lockout guard). Nothing downstream sees KDL.
//! [`discover`] finds the files, [`parse`] reads KDL, [`load`] builds the model and `check`
//! runs the whole-configuration checks.

mod check;
pub mod convert;
pub mod diagnostic;
mod discover;
pub mod format;
mod load;
mod parse;
pub mod write;

use std::collections::BTreeMap;
use std::sync::Arc;

use miette::SourceSpan;
use serde_json::{Map, Value};

pub use check::BUILT_IN_STRENGTHS;
pub use diagnostic::{Diagnostic, SourceFile};
pub(crate) use discover::walk_kdl;
pub use discover::{discover, read_file};
pub use load::{load, load_nodes, load_str};
pub use parse::parse;

use crate::model::{Address, Desired};
use convert::SpanMap;

/// Policy files larger than this are refused rather than parsed: parsing KDL takes up to ~100
/// bytes of memory per byte of text, and real policy files are kilobytes.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;
/// All policy files of one run together may hold at most this much.
pub const MAX_TOTAL_BYTES: u64 = 8 * 1024 * 1024;

const MIB: f64 = 1024.0 * 1024.0;
/// Blocks nested deeper than this are refused before parsing (no real policy nests past 8).
pub const MAX_NESTING: usize = 64;

/// Where a declared resource came from.
#[derive(Debug, Clone)]
pub struct Origin {
    /// The file.
    pub file: Arc<SourceFile>,
    /// The resource's node.
    pub span: SourceSpan,
    /// Spans of its properties, by JSON pointer.
    pub spans: SpanMap,
}

impl Origin {
    /// The span of the property at `pointer`, or of the closest enclosing one.
    pub fn span_of(&self, pointer: &str) -> SourceSpan {
        let mut p = pointer;
        loop {
            if let Some(span) = self.spans.get(p) {
                return *span;
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return self.span,
            }
        }
    }

    /// A model check's finding as a diagnostic pointing at the setting it is about.
    pub(crate) fn diagnostic(&self, finding: &crate::model::Finding) -> Diagnostic {
        let mut d = Diagnostic::error(
            finding.code,
            &self.file,
            self.span_of(&finding.pointer),
            finding.message.clone(),
            "here",
        )
        .with_help(finding.help.clone());
        d.severity = finding.severity;
        d
    }

    /// `file:line:column` of the resource.
    pub fn location(&self) -> String {
        self.file.location(self.span.offset())
    }
}

/// The result of loading policy files.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The desired configuration (complete only when there are no errors).
    pub desired: Desired,
    /// Where each resource was declared.
    pub origins: BTreeMap<Address, Origin>,
    /// Every problem found, in file order.
    pub diagnostics: Vec<Diagnostic>,
    /// The files read, in the order read, with their text.
    pub files: Vec<Arc<SourceFile>>,
    /// Every policy file found, in the order read, including those refused (too large, not
    /// UTF-8, unreadable): what a summary counts.
    pub file_names: Vec<String>,
    /// Differences accepted on purpose (a fleet tenant's recorded deviations still in force).
    pub deviations: Vec<crate::model::Deviation>,
}

impl Loaded {
    /// True when any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Canonical JSON of a converted value, for tests and `schema` examples.
pub fn to_map(value: &impl serde::Serialize) -> Map<String, Value> {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}
