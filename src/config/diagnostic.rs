//! Diagnostics about policy files: what is wrong, where, and what to do.

use std::fmt;
use std::sync::Arc;

use miette::{LabeledSpan, MietteError, MietteSpanContents, NamedSource, SourceSpan, SpanContents};
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
    /// For text put together from several files (a fleet tenant's layers): where each file's
    /// text lies, so every location names the file it came from. Empty for one file.
    segments: Vec<Segment>,
}

/// One file's part of a [`SourceFile`] put together from several.
#[derive(Debug)]
struct Segment {
    start: usize,
    end: usize,
    name: String,
}

impl SourceFile {
    /// Wraps a file's text.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Arc<SourceFile> {
        let name = name.into();
        let text = text.into();
        let named = NamedSource::new(name.clone(), text.clone());
        Arc::new(SourceFile {
            name,
            text,
            named,
            segments: Vec::new(),
        })
    }

    /// One text made of `parts`, each on its own lines, that still locates everything in the
    /// part it came from: a node's span in it names that part's file, line and column.
    pub fn combined(name: impl Into<String>, parts: &[Arc<SourceFile>]) -> Arc<SourceFile> {
        let mut text = String::new();
        let mut segments = Vec::new();
        for part in parts {
            let start = text.len();
            text.push_str(&part.text);
            segments.push(Segment {
                start,
                end: text.len(),
                name: part.name.clone(),
            });
            // A newline between parts: each file's last node ends before the next file's first.
            text.push('\n');
        }
        let name = name.into();
        let named = NamedSource::new(name.clone(), text.clone());
        Arc::new(SourceFile {
            name,
            text,
            named,
            segments,
        })
    }

    fn segment(&self, offset: usize) -> Option<&Segment> {
        self.segments
            .iter()
            .find(|s| s.start <= offset && offset <= s.end)
    }

    /// The file a byte offset is in (this one, or the part of a combined text).
    pub fn name_at(&self, offset: usize) -> &str {
        self.segment(offset).map_or(&self.name, |s| &s.name)
    }

    /// 1-based line and column (in characters) of a byte offset, in the file it is in.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let (base, text) = match self.segment(offset) {
            Some(s) => (s.start, &self.text[s.start..s.end]),
            None => (0, self.text.as_str()),
        };
        let offset = offset.saturating_sub(base).min(text.len());
        let mut start = offset;
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let before = &text[..start];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        (line, column)
    }

    /// `file:line:column` of a byte offset.
    pub fn location(&self, offset: usize) -> String {
        let (line, column) = self.line_column(offset);
        format!("{}:{line}:{column}", self.name_at(offset))
    }
}

impl miette::SourceCode for SourceFile {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let Some(segment) = self.segment(span.offset()) else {
            return self
                .named
                .read_span(span, context_lines_before, context_lines_after);
        };
        // Read within the part alone, so the snippet, its name and its line numbers are that
        // file's, then give the span back in the combined text's offsets.
        let part = &self.text[segment.start..segment.end];
        let local_offset = span.offset() - segment.start;
        let local = SourceSpan::from((local_offset, span.len().min(part.len() - local_offset)));
        let contents = part.read_span(&local, context_lines_before, context_lines_after)?;
        let shifted = SourceSpan::from((
            contents.span().offset() + segment.start,
            contents.span().len(),
        ));
        Ok(Box::new(MietteSpanContents::new_named(
            segment.name.clone(),
            contents.data(),
            shifted,
            contents.line(),
            contents.column(),
            contents.line_count(),
        )))
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
            file: self.file.as_ref().map(|f| match self.span {
                Some(span) => f.name_at(span.offset()).to_string(),
                None => f.name.clone(),
            }),
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
            .map(|f| f.as_ref() as &dyn miette::SourceCode)
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
    fn a_combined_text_locates_each_offset_in_the_file_it_came_from() {
        let a = SourceFile::new("baseline/a.kdl", "one\ntwo\n");
        let b = SourceFile::new("tenants/x/b.kdl", "three\nfour");
        let both = SourceFile::combined("x", &[a.clone(), b.clone()]);
        let four = both.text.find("four").unwrap_or_default();
        assert_eq!(both.location(four), "tenants/x/b.kdl:2:1");
        assert_eq!(both.location(4), "baseline/a.kdl:2:1");
        let d = Diagnostic::error("t", &both, SourceSpan::from((four, 4)), "m", "l");
        let mut rendered = String::new();
        let handler =
            miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor());
        assert!(handler.render_report(&mut rendered, &d).is_ok());
        assert!(rendered.contains("tenants/x/b.kdl:2:1"), "{rendered}");
        assert!(!rendered.contains("two"), "{rendered}");
    }

    #[test]
    fn suggestions_catch_typos_only() {
        let names = ["include-users", "exclude-users", "include-groups"];
        assert_eq!(suggest("include-user", names), Some("include-users"));
        assert_eq!(suggest("colour", names), None);
    }
}
