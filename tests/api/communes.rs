//! The communes of the official geographic code: every Hautes-Alpes commune
//! listed with its territory, a commune moved by an admin (audited), and
//! the territory a referral goes to and a person belongs to following it.

use std::collections::BTreeMap;

use parcours::domain::Domain::Insertion;
use parcours::domain::Role::{Admin, Coordinator};
use parcours::http::communes::CommuneView;
use parcours::http::pagination::Page;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{TestApp, assert_problem};

/// Every page of `GET path` (which has a query string).
async fn all(app: &TestApp, path: &str, token: &str) -> Vec<CommuneView> {
    let mut communes = Vec::new();
    let mut cursor = String::new();
    loop {
        let page: Page<CommuneView> = app
            .get_as(&format!("{path}&limit=200{cursor}"), token)
            .await;
        communes.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = format!("&cursor={next}"),
            None => return communes,
        }
    }
}

fn territory_of(commune: &CommuneView) -> &str {
    commune
        .territory
        .as_ref()
        .map_or("none", |t| t.code.as_str())
}

#[tokio::test]
async fn the_162_hautes_alpes_communes_are_listed_each_with_its_territory() {
    let app = TestApp::spawn().await;
    let coordinator = app.staff(Coordinator, &["05-GAP"], &[Insertion]).await;
    let communes = all(&app, "/v1/communes?department=05", &coordinator.token).await;
    assert_eq!(communes.len(), 162);
    assert!(communes.windows(2).all(|w| w[0].insee < w[1].insee));
    let mut per_territory = BTreeMap::new();
    for commune in &communes {
        *per_territory.entry(territory_of(commune)).or_insert(0) += 1;
    }
    // Each territory is the union of its intercommunalities (DGCL 2026):
    // Gap-Tallard-Durance 15 + Serre-Ponçon Val d'Avance 14; Briançonnais 13
    // + Pays des Écrins 8; Serre-Ponçon 16 + Guillestrois-Queyras 15;
    // Buëch-Dévoluy 20 + the 36 Hautes-Alpes communes of Sisteronais-Buëch;
    // Champsaur-Valgaudemar 25.
    let expected = BTreeMap::from([
        ("05-BRI", 21),
        ("05-BUE", 56),
        ("05-CHA", 25),
        ("05-EMB", 31),
        ("05-GAP", 29),
    ]);
    assert_eq!(per_territory, expected);
    let valdoule = communes.iter().find(|c| c.insee == "05024").unwrap();
    assert_eq!(valdoule.name, "Valdoule");
    assert_eq!(territory_of(valdoule), "05-BUE");
    let epci = valdoule.intercommunality.as_ref().unwrap();
    assert_eq!(epci.name, "CC du Sisteronais-Buëch");

    // The same intercommunality's communes of the Alpes-de-Haute-Provence
    // are not the département's.
    let sisteron = all(&app, "/v1/communes?q=sisteron", &coordinator.token).await;
    let sisteron = sisteron.iter().find(|c| c.insee == "04209").unwrap();
    assert_eq!(sisteron.intercommunality.as_ref().unwrap().name, epci.name);
    assert!(sisteron.territory.is_none());

    // Only a territory's communes.
    let bri = app.territory("05-BRI").await;
    let path = format!("/v1/communes?territory={bri}");
    let briançonnais = all(&app, &path, &coordinator.token).await;
    assert_eq!(briançonnais.len(), 21);
    assert!(briançonnais.iter().any(|c| c.name == "Briançon"));
}

#[tokio::test]
async fn communes_are_found_by_name_whatever_the_accents_and_dashes_or_by_code() {
    let app = TestApp::spawn().await;
    let coordinator = app.staff(Coordinator, &["05-GAP"], &[Insertion]).await;
    let found = all(
        &app,
        "/v1/communes?q=SAINT%20etienne%20le",
        &coordinator.token,
    )
    .await;
    let names: Vec<&str> = found.iter().map(|c| c.name.as_str()).collect();
    assert!(names.contains(&"Saint-Étienne-le-Laus"), "{names:?}");
    assert!(found.iter().all(|c| c.name.contains("tienne")));

    let by_code = all(&app, "/v1/communes?q=0506", &coordinator.token).await;
    assert_eq!(by_code.len(), 8, "05060…05069 but two merged away");
    assert!(by_code.iter().all(|c| c.insee.starts_with("0506")));
    assert!(by_code.iter().any(|c| c.name == "Gap"));

    // LIKE's wildcards are letters like any other: none of them matches.
    assert!(
        all(&app, "/v1/communes?q=%25%25", &coordinator.token)
            .await
            .is_empty()
    );

    // Paris is a commune of France that no territory covers.
    let paris: CommuneView = app.get_as("/v1/communes/75056", &coordinator.token).await;
    assert_eq!(
        (paris.name.as_str(), paris.department.as_str()),
        ("Paris", "75")
    );
    assert!(paris.territory.is_none());
    let overseas = all(&app, "/v1/communes?department=974", &coordinator.token).await;
    assert_eq!(overseas.len(), 24, "the 24 communes of La Réunion");

    for (path, field) in [
        ("/v1/communes?department=5", "department"),
        ("/v1/communes?q=a", "q"),
        ("/v1/communes?territory=gap", "territory"),
        ("/v1/communes/5061", "path"),
    ] {
        let response = app
            .with_token(Method::GET, path, &coordinator.token)
            .send()
            .await
            .unwrap();
        let problem = assert_problem(response, 400).await;
        assert_eq!(problem["errors"][0]["field"], field, "{path}: {problem}");
    }
    let response = app
        .with_token(Method::GET, "/v1/communes/05999", &coordinator.token)
        .send()
        .await
        .unwrap();
    assert_problem(response, 404).await;
}

/// A referral as the CAF sends it, from `commune`.
fn referral(commune: &str) -> Value {
    json!({
        "family_name": "Arnaud", "given_names": "Inès", "birth_date": "1991-03-02",
        "commune_insee": commune, "partner_number": "1234567", "domain": "insertion",
        "reason": "Fin de droits", "contact": "Service social CAF 05",
    })
}

async fn queue_len(app: &TestApp, token: &str) -> usize {
    let queue: Value = app.get_json("/v1/referrals", token).await;
    queue["items"].as_array().unwrap().len()
}

#[tokio::test]
async fn an_admin_moves_a_commune_and_its_referrals_and_new_persons_follow() {
    let app = TestApp::spawn().await;
    let admin = app.token_for(Admin).await;
    let caf = app.partner_token("CAF des Hautes-Alpes").await;
    let buech = app.staff(Coordinator, &["05-BUE"], &[Insertion]).await;
    let champsaur = app.staff(Coordinator, &["05-CHA"], &[Insertion]).await;
    let (bue, cha) = (app.territory("05-BUE").await, app.territory("05-CHA").await);

    // Recorded in the Buëch before the move.
    let person = json!({"family_name": "Blanc", "given_names": "Jules",
        "birth_date": "1980-05-05", "commune_insee": "05024", "territory_id": bue});
    let (before, etag) = app
        .post_ok("/v1/persons?confirm_new=true", &buech.token, &person, 201)
        .await;

    let response = app
        .send_json(
            Method::PUT,
            "/v1/communes/05024/territory",
            &admin,
            None,
            &json!({"territory_id": cha}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let moved: CommuneView = response.json().await.unwrap();
    assert_eq!(territory_of(&moved), "05-CHA");
    let listed: CommuneView = app.get_as("/v1/communes/05024", &buech.token).await;
    assert_eq!(territory_of(&listed), "05-CHA");

    // The move is in the audit trail with where the commune was and went.
    let records: Value = app
        .get_json(
            "/v1/audit?resource_type=commune",
            &app.token_for(parcours::domain::Role::Auditor).await,
        )
        .await;
    let record = &records["items"][0];
    assert_eq!(record["action"], "update", "{records}");
    assert_eq!(
        record["query"]["before"]["territory_id"],
        json!(bue),
        "{record}"
    );
    assert_eq!(
        record["query"]["after"]["territory_id"],
        json!(cha),
        "{record}"
    );
    assert_eq!(record["query"]["after"]["insee"], "05024");

    // Its referrals now go to the Champsaur's queue.
    let response = app
        .with_token(Method::POST, "/v1/referrals", &caf)
        .header("idempotency-key", "from-valdoule")
        .json(&referral("05024"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(queue_len(&app, &champsaur.token).await, 1);
    assert_eq!(queue_len(&app, &buech.token).await, 0);

    // The person already recorded stays in the Buëch and can still be
    // changed; recorded anew, a resident of Valdoule belongs to the Champsaur.
    let id = before["id"].as_str().unwrap();
    let response = app
        .send_json(
            Method::PATCH,
            &format!("/v1/persons/{id}"),
            &buech.token,
            Some(&etag),
            &json!({"given_names": "Jules Marie"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let response = app
        .with_token(Method::POST, "/v1/persons?confirm_new=true", &buech.token)
        .header("idempotency-key", "valdoule-again")
        .json(
            &json!({"family_name": "Blanc", "given_names": "Rose", "birth_date": "1982-01-01",
            "commune_insee": "05024", "territory_id": bue}),
        )
        .send()
        .await
        .unwrap();
    let problem = assert_problem(response, 422).await;
    assert_eq!(problem["errors"][0]["field"], "territory_id");

    // What cannot be moved, and to where.
    for (path, body, status) in [
        (
            "/v1/communes/05999/territory",
            json!({"territory_id": cha}),
            404,
        ),
        (
            "/v1/communes/05024/territory",
            json!({"territory_id": uuid::Uuid::now_v7()}),
            422,
        ),
    ] {
        let response = app.send_json(Method::PUT, path, &admin, None, &body).await;
        assert_problem(response, status).await;
    }
    let still: CommuneView = app.get_as("/v1/communes/05024", &admin).await;
    assert_eq!(territory_of(&still), "05-CHA");
}

#[tokio::test]
async fn a_person_lives_in_a_commune_of_their_territory() {
    let app = TestApp::spawn().await;
    let staff = app.staff(Coordinator, &["05-GAP"], &[Insertion]).await;
    let gap = app.territory("05-GAP").await;
    for (i, (commune, field, message)) in [
        ("75056", "commune_insee", "cover"),
        ("05999", "commune_insee", "geographic code"),
        ("05023", "territory_id", "territory of the commune"),
    ]
    .into_iter()
    .enumerate()
    {
        let response = app
            .with_token(Method::POST, "/v1/persons?confirm_new=true", &staff.token)
            .header("idempotency-key", format!("commune-{i}"))
            .json(
                &json!({"family_name": "Roux", "given_names": "Léo", "birth_date": "1990-01-01",
                "commune_insee": commune, "territory_id": gap}),
            )
            .send()
            .await
            .unwrap();
        let problem = assert_problem(response, 422).await;
        assert_eq!(problem["errors"][0]["field"], field, "{commune}: {problem}");
        let said = problem["errors"][0]["message"].as_str().unwrap();
        assert!(said.contains(message), "{commune}: {said}");
    }
    // Any commune of the Gapençais, not only the first ones seeded.
    let rambaud = json!({"family_name": "Roux", "given_names": "Léo", "birth_date": "1990-01-01",
        "commune_insee": "05113", "territory_id": gap});
    app.post_ok("/v1/persons?confirm_new=true", &staff.token, &rambaud, 201)
        .await;
}
