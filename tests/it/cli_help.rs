//! `--help` says what the commands do.

use crate::common;

use common::Scratch;

#[test]
fn plan_help_says_risky_changes_come_first_as_the_output_prints_them() {
    let help = Scratch::new().run(&["plan", "--help"]).stdout;
    assert!(
        help.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .contains(
                "Risky changes (a policy disabled or deleted, an exclusion added, sharing widened) \
             are listed first, before the changes, in every format."
            ),
        "{help}"
    );
}

#[test]
fn drift_help_does_not_call_its_markdown_a_pull_request_comment_alone() {
    let help = Scratch::new().run(&["drift", "--help"]).stdout;
    assert!(help.contains("an issue or alert body"), "{help}");
    assert!(!help.contains("markdown: A pull-request comment"), "{help}");
}
