//! Event-based retention and disposition review, applied to the sandbox and read back.

use crate::common;

use std::path::Path;

use serde_json::Value;
use steward::sandbox::SandboxConfig;

use common::{Scratch, steward_async};

const EVENT_TYPE: &str = "6f7a1b2c-3d4e-4f50-8a61-7b8c9d0e1f20";

const FILES: &str = r#"retention-label "Employee records" {
    behavior-during-retention-period retain
    action-after-retention-period delete
    retention-trigger dateOfEvent
    retention-event-type "6f7a1b2c-3d4e-4f50-8a61-7b8c9d0e1f20"
    retention-duration days=2555
}
retention-label "Board minutes" {
    behavior-during-retention-period retainAsRecord
    action-after-retention-period startDispositionReview
    retention-trigger dateCreated
    retention-duration days=3650
    disposition-review-stages stage-number=1 name="Records team" {
        reviewers-email-addresses "records@contoso.example"
    }
    disposition-review-stages stage-number=2 name="Legal" {
        reviewers-email-addresses "legal@contoso.example" "counsel@contoso.example"
    }
}
"#;

async fn run(dir: &Path, args: &[&str], url: &str) -> common::Run {
    steward_async(
        dir,
        args,
        &[
            ("STEWARD_GRAPH_URL", url),
            ("STEWARD_GRAPH_TOKEN", common::TOKEN),
        ],
    )
    .await
}

async fn labels(url: &str) -> Vec<Value> {
    let body: Value = reqwest::Client::new()
        .get(format!("{url}/v1.0/security/labels/retentionLabels"))
        .bearer_auth(common::TOKEN)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON");
    body["value"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_based_and_disposition_review_labels_apply_and_then_plan_clean() {
    let sandbox = common::demo(SandboxConfig::default()).await;
    let url = sandbox.url();
    let scratch = Scratch::new();
    scratch.write("labels/labels.kdl", FILES);

    let applied = run(scratch.path(), &["apply", "labels", "--auto-approve"], &url).await;
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    assert!(
        applied
            .stdout
            .contains("Apply complete! Resources: 2 added, 0 changed, 0 destroyed."),
        "{}",
        applied.stdout
    );

    let live = labels(&url).await;
    let named = |name: &str| {
        live.iter()
            .find(|l| l["displayName"] == name)
            .cloned()
            .unwrap_or(Value::Null)
    };
    let event = named("Employee records");
    assert_eq!(event["retentionTrigger"], "dateOfEvent");
    assert_eq!(event["retentionEventType"]["id"], EVENT_TYPE);
    let review = named("Board minutes");
    assert_eq!(
        review["dispositionReviewStages"],
        serde_json::json!([
            {"stageNumber": "1", "name": "Records team",
             "reviewersEmailAddresses": ["records@contoso.example"]},
            {"stageNumber": "2", "name": "Legal",
             "reviewersEmailAddresses": ["legal@contoso.example", "counsel@contoso.example"]},
        ])
    );

    let plan = run(
        scratch.path(),
        &["plan", "labels", "--detailed-exitcode"],
        &url,
    )
    .await;
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout
            .ends_with("No changes. The tenant matches the configuration.\n"),
        "{}",
        plan.stdout
    );
}
