//! The partners' minimal view of the pathways they follow: what they
//! referred or hold a commitment in, in coarse terms, with only their own
//! commitments — and nothing of a person who objected to sharing.

use parcours::domain::Domain::Insertion;
use parcours::domain::Role::Supervisor;
use reqwest::Method;
use serde_json::{Value, json};

use crate::feed::{move_to, object_to_sharing, refer};
use crate::support::fixtures::{open, person};
use crate::support::{Staff, TestApp, assert_problem};

async fn organization_id(app: &TestApp, staff: &Staff, name: &str) -> Value {
    let organizations = app
        .get_json("/v1/organizations?limit=200", &staff.token)
        .await;
    organizations["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == name)
        .unwrap()["id"]
        .clone()
}

/// Adds a plan to `pathway` with one commitment per organization named.
async fn commit(app: &TestApp, staff: &Staff, pathway: &str, organizations: &[&str]) {
    let (plan, _) = app
        .post_ok(
            &format!("/v1/pathways/{pathway}/plans"),
            &staff.token,
            &json!({"kind": "engagement_contract"}),
            201,
        )
        .await;
    for name in organizations {
        let organization = organization_id(app, staff, name).await;
        app.post_ok(
            &format!("/v1/plans/{}/commitments", plan["id"].as_str().unwrap()),
            &staff.token,
            &json!({"organization_id": organization, "description": format!("Engagement de {name}")}),
            201,
        )
        .await;
    }
}

#[tokio::test]
async fn a_partner_reads_the_pathways_it_follows_in_minimal_terms() {
    let app = TestApp::spawn().await;
    let caf = app.partner_token("CAF des Hautes-Alpes").await;
    let msa = app.partner_token("MSA Alpes-Vaucluse").await;
    let staff = app.staff(Supervisor, &["05-GAP"], &[Insertion]).await;
    let referred = refer(&app, &caf, &staff, "Minimal").await;
    move_to(&app, &staff, &referred, "assessment").await;
    move_to(&app, &staff, &referred, "orientation").await;
    move_to(&app, &staff, &referred, "without_solution").await;
    commit(
        &app,
        &staff,
        &referred,
        &["CAF des Hautes-Alpes", "MSA Alpes-Vaucluse"],
    )
    .await;
    app.post_ok(
        &format!("/v1/pathways/{referred}/notes"),
        &staff.token,
        &json!({"visibility": "team", "body": "Note interne"}),
        201,
    )
    .await;
    // A pathway the CAF neither referred nor holds a commitment in.
    let someone = person(&app, &staff, "Autrui").await;
    let (unrelated, _) = open(&app, &staff, &someone, Insertion).await;

    let view = app
        .get_json(&format!("/v1/partner/pathways/{referred}"), &caf)
        .await;
    let mut keys: Vec<&str> = view
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "closed_on",
            "commitments",
            "domain",
            "followed_since",
            "id",
            "opened_on",
            "service",
            "status",
            "status_since"
        ]
    );
    assert_eq!(view["domain"], "insertion");
    assert_eq!(view["status"], "without_solution");
    assert_eq!(view["service"], "Gapençais");
    // Opened by the accepted referral: while the CAF follows it.
    assert!(view["opened_on"].is_string(), "{view}");
    let commitments = view["commitments"].as_array().unwrap();
    assert_eq!(commitments.len(), 1, "its own commitment only: {view}");
    assert_eq!(
        commitments[0]["description"],
        "Engagement de CAF des Hautes-Alpes"
    );
    let text = view.to_string();
    assert!(
        !text.contains("Minimal") && !text.contains("Note interne"),
        "{text}"
    );

    // The list holds the same, and not the unrelated pathway.
    let list = app.get_json("/v1/partner/pathways", &caf).await;
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [referred.as_str()]);
    let response = app
        .with_token(
            Method::GET,
            &format!("/v1/partner/pathways/{unrelated}"),
            &caf,
        )
        .send()
        .await
        .unwrap();
    assert_problem(response, 404).await;
    // The staff view stays closed to partners.
    let response = app
        .with_token(Method::GET, &format!("/v1/pathways/{referred}"), &caf)
        .send()
        .await
        .unwrap();
    assert_problem(response, 403).await;

    // The MSA follows it through its commitment, and sees only its own.
    let msa_view = app
        .get_json(&format!("/v1/partner/pathways/{referred}"), &msa)
        .await;
    // The MSA began to follow it by a commitment, after it was opened
    // (the same day): the opening is not shared with it.
    assert!(msa_view["opened_on"].is_null(), "{msa_view}");
    let msa_commitments = msa_view["commitments"].as_array().unwrap();
    assert_eq!(msa_commitments.len(), 1);
    assert_eq!(
        msa_commitments[0]["description"],
        "Engagement de MSA Alpes-Vaucluse"
    );

    // Once the person objects, nothing is left but the referral's receipt.
    object_to_sharing(&app, &staff, &referred).await;
    for token in [&caf, &msa] {
        let response = app
            .with_token(
                Method::GET,
                &format!("/v1/partner/pathways/{referred}"),
                token,
            )
            .send()
            .await
            .unwrap();
        assert_problem(response, 404).await;
        let list = app.get_json("/v1/partner/pathways", token).await;
        assert!(list["items"].as_array().unwrap().is_empty(), "{list}");
    }
}
