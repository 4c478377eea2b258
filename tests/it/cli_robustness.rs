//! No input makes `steward validate` panic or hang: empty files, binary garbage, invalid
//! UTF-8, huge files, deep nesting, and arbitrary or mutated KDL.

use crate::common;

use common::Scratch;
use proptest::prelude::*;

#[test]
fn an_empty_file_is_valid_and_declares_nothing() {
    let scratch = Scratch::new();
    scratch.write("empty.kdl", "");
    let run = scratch.run(&["validate", "empty.kdl"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "Valid: 0 resources in 1 file.\n");
}

#[test]
fn binary_garbage_is_a_located_error() {
    let scratch = Scratch::new();
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    scratch.write("garbage.kdl", garbage);
    let run = scratch.run(&["validate", "garbage.kdl"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("garbage.kdl"), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn invalid_utf8_points_at_the_first_bad_byte() {
    let scratch = Scratch::new();
    scratch.write(
        "latin1.kdl",
        b"security-defaults {\n    is-enabled #true // caf\xe9\n}\n",
    );
    let run = scratch.run(&["validate", "latin1.kdl"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("latin1.kdl is not UTF-8 text"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("latin1.kdl:2:28"), "{}", run.stderr);
}

#[test]
fn a_50_megabyte_file_is_refused_quickly() {
    let scratch = Scratch::new();
    let line = "// padding padding padding padding padding padding padding padding\n";
    let text = line.repeat(50 * 1024 * 1024 / line.len() + 1);
    scratch.write("huge.kdl", text);
    let run = scratch.run(&["validate", "huge.kdl"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("huge.kdl is 50.0 MiB; a policy file may hold at most 4 MiB"),
        "{}",
        run.stderr
    );
}

#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    let scratch = Scratch::new();
    let text = format!("{}{}", "a {".repeat(100_000), "}".repeat(100_000));
    scratch.write("deep.kdl", text);
    let run = scratch.run(&["validate", "deep.kdl"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("blocks are nested more than 64 deep"),
        "{}",
        run.stderr
    );
}

const SEED: &str = r#"
emergency-access {
    user "breakglass1@contoso.com"
}
named-location "HQ" {
    ip-ranges "203.0.113.0/24"
    is-trusted #true
}
conditional-access-policy "CA1" {
    state enabled
    conditions {
        users {
            include-users All
            exclude-users "breakglass1@contoso.com"
        }
        applications { include-applications All }
        locations { include-locations All; exclude-locations HQ }
    }
    grant-controls operator=OR { built-in-controls mfa }
    session-controls { sign-in-frequency is-enabled=#true value=4 type=hours }
}
sharepoint-settings { sharing-capability disabled; deleted-user-personal-site-retention-period-in-days 365 }
"#;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        let loaded = steward::config::load_str("arbitrary.kdl", &text);
        for d in &loaded.diagnostics {
            // Every located diagnostic points inside the file.
            if let Some(span) = d.span {
                prop_assert!(span.offset() <= text.len());
            }
        }
    }

    #[test]
    fn mutated_policies_never_panic(
        cuts in proptest::collection::vec((0usize..SEED.len(), 0usize..12, "[{}\"=#a-z0-9 \n/;-]{0,6}"), 1..6)
    ) {
        let mut text = SEED.to_string();
        for (at, len, insert) in cuts {
            let mut start = at.min(text.len());
            while !text.is_char_boundary(start) { start -= 1; }
            let mut end = (start + len).min(text.len());
            while !text.is_char_boundary(end) { end -= 1; }
            text.replace_range(start..end, &insert);
        }
        let loaded = steward::config::load_str("mutated.kdl", &text);
        if !loaded.has_errors() {
            // A mutation that still validates must still format idempotently.
            let once = steward::config::format::canonical(&text);
            prop_assert_eq!(steward::config::format::canonical(&once), once);
        }
    }
}

#[test]
fn the_unmutated_seed_is_valid() {
    let loaded = steward::config::load_str("seed.kdl", SEED);
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
}
