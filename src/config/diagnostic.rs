//! Diagnostics about policy files: what is wrong, where, and what to do.

use std::fmt;
use std::sync::Arc;

use miette::{LabeledSpan, NamedSource, SourceSpan};
use serde::Serialize;

use crate::model::Severity;

/// A policy file's name and text, shared by every diagnostic that points into it.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as the user gave it (or as found under a directory they gave).
    pub name: String,
    /// The text, or empty when it could not be read.
    pub text: String,
    named: NamedSource<String>,
}

impl SourceFile {
    /// Wraps a file's text.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Arc<SourceFile> {
        let name = name.into();
        let text = text.into();
        let named = NamedSource::new(name.clone(), text.clone());
        Arc::new(SourceFile { name, text, named })
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let mut start = offset;
        while !self.text.is_char_boundary(start) {
            start -= 1;
        }
        let before = &self.text[..start];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        (line, column)
    }
}

/// One problem (or warning) in the policy files.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// A stable code, such as `steward::unknown-node`.
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// What the label under the snippet says.
    pub label: String,
    /// What to do about it.
    pub help: Option<String>,
    /// The file, when the problem is in one.
    pub file: Option<Arc<SourceFile>>,
    /// Where in the file.
    pub span: Option<SourceSpan>,
    /// Other places that matter (the first declaration of a duplicate, …).
    pub related: Vec<Diagnostic>,
}

impl Diagnostic {
    /// An error located in a file.
    pub fn error(
        code: &'static str,
        file: &Arc<SourceFile>,
        span: SourceSpan,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            label: label.into(),
            help: None,
            file: Some(file.clone()),
            span: Some(span),
            related: Vec::new(),
        }
    }

    /// An error about something that has no location (an unreadable path, …).
    pub fn unlocated(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            label: String::new(),
            help: None,
            file: None,
            span: None,
            related: Vec::new(),
        }
    }

    /// Sets the help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Makes this a warning.
    pub fn warning(mut self) -> Diagnostic {
        self.severity = Severity::Warning;
        self
    }

    /// Adds a related location.
    pub fn with_related(mut self, related: Diagnostic) -> Diagnostic {
        self.related.push(related);
        self
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// 1-based line and column, when located.
    pub fn line_column(&self) -> Option<(usize, usize)> {
        match (&self.file, self.span) {
            (Some(file), Some(span)) => Some(file.line_column(span.offset())),
            _ => None,
        }
    }

    /// The machine-readable form (`validate --format json`).
    pub fn to_json(&self) -> JsonDiagnostic {
        let (line, column) = self.line_column().unzip();
        JsonDiagnostic {
            file: self.file.as_ref().map(|f| f.name.clone()),
            line,
            column,
            severity: self.severity,
            code: self.code.to_string(),
            message: self.message.clone(),
            help: self.help.clone(),
            related: self.related.iter().map(Diagnostic::to_json).collect(),
        }
    }
}

/// A diagnostic as JSON.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct JsonDiagnostic {
    /// The file, when located.
    pub file: Option<String>,
    /// 1-based line.
    pub line: Option<usize>,
    /// 1-based column, in characters.
    pub column: Option<usize>,
    /// `error` or `warning`.
    pub severity: Severity,
    /// A stable code.
    pub code: String,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
    /// Other places that matter.
    pub related: Vec<JsonDiagnostic>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diagnostic {}

impl miette::Diagnostic for Diagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.file
            .as_ref()
            .filter(|_| self.span.is_some())
            .map(|f| &f.named as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.span?;
        let label = (!self.label.is_empty()).then(|| self.label.clone());
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            label, span,
        ))))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(
            self.related.iter().map(|d| d as &dyn miette::Diagnostic),
        ))
    }
}

/// Did-you-mean: the closest candidate, if close enough to be a likely typo.
pub fn suggest<'a>(wrong: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| {
            (
                strsim::jaro_winkler(&wrong.to_ascii_lowercase(), &c.to_ascii_lowercase()),
                c,
            )
        })
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters_from_one() {
        let file = SourceFile::new("a.kdl", "ab\ncé d\n");
        assert_eq!(file.line_column(0), (1, 1));
        assert_eq!(file.line_column(3), (2, 1));
        // `d` is after a two-byte character: column counts characters, not bytes.
        assert_eq!(file.line_column(7), (2, 4));
    }

    #[test]
    fn suggestions_catch_typos_only() {
        let names = ["include-users", "exclude-users", "include-groups"];
        assert_eq!(suggest("include-user", names), Some("include-users"));
        assert_eq!(suggest("colour", names), None);
    }
}
