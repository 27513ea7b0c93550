//! Persons: validation, masked NIR, search, duplicates, scope, concurrency.

use parcours::domain::Domain::{Disability, Elderly};
use parcours::domain::Role::{Coordinator, Supervisor};
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{TestApp, assert_problem, etag_of, nir};

async fn person_body(app: &TestApp, family: &str, given: &str, birth: &str) -> Value {
    json!({
        "family_name": family,
        "given_names": given,
        "birth_date": birth,
        "commune_insee": "05061",
        "territory_id": app.territory("05-GAP").await,
    })
}

#[tokio::test]
async fn the_nir_is_checked_encrypted_and_shown_masked() {
    let app = TestApp::spawn().await;
    let staff = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    let number = nir("1850578006084");
    let mut body = person_body(&app, "Martin", "Paul", "1985-05-12").await;
    body["nir"] = json!(format!("{} {}", &number[..7], &number[7..]));
    let (person, etag) = app.post_ok("/v1/persons", &staff.token, &body, 201).await;
    assert_eq!(
        person["nir"],
        format!("1 85 05 ** *** *** {}", &number[13..])
    );
    assert_eq!(etag, "\"v1\"");

    // Nothing in the row spells the number.
    let mut conn = app.db.connect().await;
    let dump: Vec<String> = {
        use diesel_async::RunQueryDsl;
        diesel::sql_query("SELECT row_to_json(p)::text AS text FROM persons p")
            .load::<Row>(&mut conn)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.text)
            .collect()
    };
    assert_eq!(dump.len(), 1);
    assert!(!dump[0].contains(&number[..13]), "{}", dump[0]);
    assert!(!dump[0].contains("78006084"));

    // Found by the exact NIR, spaced or not.
    let found = app
        .search_persons(&staff.token, &json!({ "nir": number }))
        .await;
    assert_eq!(found["items"][0]["id"], person["id"]);
    // Never in a URL: refused, naming where to send it, without the number.
    let response = app
        .with_token(
            Method::GET,
            &format!("/v1/persons?nir={number}"),
            &staff.token,
        )
        .send()
        .await
        .unwrap();
    let problem = assert_problem(response, 400).await;
    assert_eq!(problem["errors"][0]["field"], "nir");
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("POST /v1/persons/search")
    );
    assert!(!problem.to_string().contains(&number[..13]));

    // A wrong key is refused without echoing the number.
    let mut wrong = number.clone();
    wrong.replace_range(13.., if &number[13..] == "00" { "01" } else { "00" });
    body["nir"] = json!(wrong);
    body["family_name"] = json!("Autre");
    let response = app
        .send_json(Method::POST, "/v1/persons", &staff.token, None, &body)
        .await;
    let problem = assert_problem(response, 400).await;
    assert_eq!(problem["errors"][0]["field"], "nir");
    assert!(!problem.to_string().contains(&wrong[..13]), "{problem}");

    // The same NIR twice is refused even when confirmed as new.
    body["nir"] = json!(number);
    let response = app
        .send_json(
            Method::POST,
            "/v1/persons?confirm_new=true",
            &staff.token,
            None,
            &body,
        )
        .await;
    let problem = assert_problem(response, 409).await;
    assert!(problem["detail"].as_str().unwrap().contains("NIR"));
}

#[derive(diesel::QueryableByName)]
struct Row {
    #[diesel(sql_type = diesel::sql_types::Text)]
    text: String,
}

#[tokio::test]
async fn search_tolerates_accents_case_and_typos() {
    let app = TestApp::spawn().await;
    let staff = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    let mut body = person_body(&app, "Lefèvre", "Hélène", "1950-03-02").await;
    body["caf_number"] = json!("1234567");
    let (lefevre, _) = app.post_ok("/v1/persons", &staff.token, &body, 201).await;
    let other = person_body(&app, "Bernard", "Jacques", "1960-07-14").await;
    app.post_ok("/v1/persons", &staff.token, &other, 201).await;

    for q in ["lefevre", "LEFÈVRE helene", "Lefebvre", "lefevr"] {
        let found = app.search_persons(&staff.token, &json!({ "q": q })).await;
        let ids: Vec<&Value> = found["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| &p["id"])
            .collect();
        assert_eq!(ids, vec![&lefevre["id"]], "q={q}");
    }
    let by_birth = app
        .search_persons(&staff.token, &json!({ "birth_date": "1950-03-02" }))
        .await;
    assert_eq!(by_birth["items"].as_array().unwrap().len(), 1);
    let by_caf = app
        .search_persons(&staff.token, &json!({ "caf_number": "1234567" }))
        .await;
    assert_eq!(by_caf["items"][0]["id"], lefevre["id"]);
    let both = app
        .search_persons(
            &staff.token,
            &json!({ "q": "lefevre", "birth_date": "1950-03-02", "caf_number": "1234567" }),
        )
        .await;
    assert_eq!(both["items"][0]["id"], lefevre["id"]);
    // Nothing that names a person travels in a URL: each is refused by name.
    for (query, field) in [
        ("caf_number=1234567", "caf_number"),
        ("msa_number=1234567", "msa_number"),
        ("q=lefevre", "q"),
        ("birth_date=1950-03-02", "birth_date"),
    ] {
        let response = app
            .with_token(Method::GET, &format!("/v1/persons?{query}"), &staff.token)
            .send()
            .await
            .unwrap();
        let problem = assert_problem(response, 400).await;
        assert_eq!(problem["errors"][0]["field"], field);
        assert!(!problem.to_string().contains(query), "{problem}");
    }
    let listed = app.get_json("/v1/persons", &staff.token).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
    let none = app
        .search_persons(&staff.token, &json!({ "q": "zzyzx" }))
        .await;
    assert!(none["items"].as_array().unwrap().is_empty());
}

/// The family and given names of a search's answers, in order.
async fn names_found(app: &TestApp, token: &str, criteria: Value) -> Vec<String> {
    let found = app.search_persons(token, &criteria).await;
    found["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{} {}",
                p["family_name"].as_str().unwrap(),
                p["given_names"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test]
async fn a_name_search_ranks_the_best_matches_first_and_follows_every_change() {
    let app = TestApp::spawn().await;
    let staff = app
        .staff(Supervisor, &["05-GAP", "05-BRI"], &[Disability])
        .await;
    let gap_only = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    let mut ids = std::collections::HashMap::new();
    for (family, given) in [
        ("Martin", "Jeanne"),
        ("Martin", "Jean-Pierre"),
        ("Martin", "Jean"),
        ("Dupond", "Luc"),
        ("Dupont", "Marie"),
        ("Marchand", "Paul"),
        ("de La Fontaine", "Jean"),
        ("Bernard", "Jacques"),
    ] {
        let body = person_body(&app, family, given, "1970-02-02").await;
        let (person, etag) = app
            .post_ok("/v1/persons?confirm_new=true", &staff.token, &body, 201)
            .await;
        ids.insert(
            family.to_owned() + " " + given,
            (person["id"].clone(), etag),
        );
    }
    // Every typed word must match; the same words first, then the closest
    // whole name.
    assert_eq!(
        names_found(&app, &staff.token, json!({"q": "martin jean"})).await,
        ["Martin Jean", "Martin Jean-Pierre", "Martin Jeanne"]
    );
    assert_eq!(
        names_found(&app, &staff.token, json!({"q": "JEAN Martin"})).await,
        ["Martin Jean", "Martin Jean-Pierre", "Martin Jeanne"]
    );
    // A typo: the exact name before the near one; nothing unrelated.
    assert_eq!(
        names_found(&app, &staff.token, json!({"q": "dupont"})).await,
        ["Dupont Marie", "Dupond Luc"]
    );
    let typo = names_found(&app, &staff.token, json!({"q": "dupnt"})).await;
    assert_eq!(typo.len(), 2, "{typo:?}");
    assert!(typo.contains(&"Dupont Marie".to_owned()), "{typo:?}");
    // A beginning finds the words it begins; a particle is a word too.
    let begun = names_found(&app, &staff.token, json!({"q": "mar"})).await;
    for name in [
        "Martin Jean",
        "Martin Jeanne",
        "Marchand Paul",
        "Dupont Marie",
    ] {
        assert!(begun.contains(&name.to_owned()), "{name} in {begun:?}");
    }
    assert!(!begun.contains(&"Bernard Jacques".to_owned()));
    assert_eq!(
        names_found(&app, &staff.token, json!({"q": "fontaine"})).await,
        ["de La Fontaine Jean"]
    );
    // `limit` keeps the best ones.
    let (two, _) = app
        .post_ok(
            "/v1/persons/search?limit=2",
            &staff.token,
            &json!({"q": "martin jean"}),
            200,
        )
        .await;
    let two: Vec<&str> = two["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["given_names"].as_str().unwrap())
        .collect();
    assert_eq!(two, ["Jean", "Jean-Pierre"]);

    // A new name is found under it, no longer under the old one.
    let change = async |who: &str, body: Value| {
        let (id, etag) = &ids[who];
        let path = format!("/v1/persons/{}", id.as_str().unwrap());
        let response = app
            .send_json(Method::PATCH, &path, &staff.token, Some(etag), &body)
            .await;
        assert_eq!(response.status(), 200, "{who}");
    };
    change("Dupond Luc", json!({"family_name": "Durand"})).await;
    assert_eq!(
        names_found(&app, &staff.token, json!({"q": "dupont"})).await,
        ["Dupont Marie"]
    );
    assert_eq!(
        names_found(&app, &staff.token, json!({"q": "durand"})).await,
        ["Durand Luc"]
    );
    // A person moved to another territory leaves the searches of those
    // who do not work there.
    let briancon = app.territory("05-BRI").await;
    change(
        "Dupont Marie",
        json!({"territory_id": briancon, "commune_insee": "05023"}),
    )
    .await;
    assert_eq!(
        names_found(&app, &staff.token, json!({"q": "dupont"})).await,
        ["Dupont Marie"]
    );
    assert!(
        names_found(&app, &gap_only.token, json!({"q": "dupont"}))
            .await
            .is_empty()
    );
    // The dictionary's counts are the words' rows, after all these changes:
    // « dupond » left it with the last person bearing it.
    let mut conn = app.db.connect().await;
    let drift: Vec<Row> = {
        use diesel_async::RunQueryDsl;
        diesel::sql_query(
            "SELECT coalesce(w.word, d.word) AS text FROM \
                 (SELECT word, count(*)::int AS persons FROM person_name_words GROUP BY word) w \
             FULL JOIN name_words d USING (word) \
             WHERE w.persons IS DISTINCT FROM d.persons",
        )
        .load(&mut conn)
        .await
        .unwrap()
    };
    let drift: Vec<&str> = drift.iter().map(|r| r.text.as_str()).collect();
    assert!(drift.is_empty(), "{drift:?}");
    let dupond: Vec<Row> = {
        use diesel_async::RunQueryDsl;
        diesel::sql_query("SELECT word AS text FROM name_words WHERE word IN ('dupond', 'durand')")
            .load(&mut conn)
            .await
            .unwrap()
    };
    let dupond: Vec<&str> = dupond.iter().map(|r| r.text.as_str()).collect();
    assert_eq!(dupond, ["durand"]);
}

#[tokio::test]
async fn a_likely_duplicate_needs_confirmation() {
    let app = TestApp::spawn().await;
    let staff = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    let body = person_body(&app, "Dupont", "Marie", "1990-01-20").await;
    let (first, _) = app.post_ok("/v1/persons", &staff.token, &body, 201).await;

    let typo = person_body(&app, "Dupond", "Marie", "1990-01-20").await;
    let response = app
        .send_json(Method::POST, "/v1/persons", &staff.token, None, &typo)
        .await;
    let problem = assert_problem(response, 409).await;
    assert_eq!(problem["type"], "urn:parcours:problem:possible-duplicate");
    assert_eq!(problem["candidates"][0]["person"]["id"], first["id"]);
    let score = problem["candidates"][0]["score"].as_f64().unwrap();
    assert!(score > 0.6 && score < 1.0, "{score}");

    // Same name, another birth date: not a duplicate.
    let namesake = person_body(&app, "Dupont", "Marie", "1991-06-01").await;
    app.post_ok("/v1/persons", &staff.token, &namesake, 201)
        .await;

    let (second, _) = app
        .post_ok("/v1/persons?confirm_new=true", &staff.token, &typo, 201)
        .await;
    let duplicates = app
        .get_json(
            &format!("/v1/persons/{}/duplicates", second["id"].as_str().unwrap()),
            &staff.token,
        )
        .await;
    let items = duplicates["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{duplicates}");
    assert_eq!(items[0]["person"]["id"], first["id"]);
}

#[tokio::test]
async fn persons_outside_your_territories_do_not_exist_for_you() {
    let app = TestApp::spawn().await;
    let gap = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    let briancon = app
        .staff(Supervisor, &["05-BRI"], &[Disability, Elderly])
        .await;
    let body = person_body(&app, "Girard", "Luc", "1970-02-02").await;
    let (person, etag) = app.post_ok("/v1/persons", &gap.token, &body, 201).await;
    let path = format!("/v1/persons/{}", person["id"].as_str().unwrap());

    let response = app
        .with_token(Method::GET, &path, &briancon.token)
        .send()
        .await
        .unwrap();
    assert_problem(response, 404).await;
    let response = app
        .send_json(
            Method::PATCH,
            &path,
            &briancon.token,
            Some(&etag),
            &json!({"given_names": "Pierre"}),
        )
        .await;
    assert_problem(response, 404).await;
    let response = app
        .with_token(Method::GET, &format!("{path}/duplicates"), &briancon.token)
        .send()
        .await
        .unwrap();
    assert_problem(response, 404).await;
    let listed = app.get_json("/v1/persons", &briancon.token).await;
    assert!(listed["items"].as_array().unwrap().is_empty());
    for criteria in [json!({"q": "girard"}), json!({"birth_date": "1970-02-02"})] {
        let found = app.search_persons(&briancon.token, &criteria).await;
        assert!(found["items"].as_array().unwrap().is_empty(), "{criteria}");
    }
    // Nor can a person be recorded in a territory that is not yours, or
    // moved to one: the rule a referenced id outside your scope breaks.
    let response = app
        .send_json(Method::POST, "/v1/persons", &briancon.token, None, &body)
        .await;
    let problem = assert_problem(response, 422).await;
    assert_eq!(problem["errors"][0]["field"], "territory_id");
    let elsewhere = app.territory("05-BRI").await;
    let response = app
        .send_json(
            Method::PATCH,
            &path,
            &gap.token,
            Some(&etag),
            &json!({"territory_id": elsewhere, "commune_insee": "05023"}),
        )
        .await;
    let problem = assert_problem(response, 422).await;
    assert_eq!(problem["errors"][0]["field"], "territory_id");
    assert!(!problem.to_string().contains(&elsewhere.to_string()));
}

#[tokio::test]
async fn changes_need_the_current_etag() {
    let app = TestApp::spawn().await;
    let staff = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    let body = person_body(&app, "Roux", "Anne", "1980-08-08").await;
    let (person, etag) = app.post_ok("/v1/persons", &staff.token, &body, 201).await;
    let path = format!("/v1/persons/{}", person["id"].as_str().unwrap());
    let change = json!({"legal_representative": "UDAF 05", "sharing_objection": true});

    let response = app
        .send_json(Method::PATCH, &path, &staff.token, None, &change)
        .await;
    assert_problem(response, 428).await;
    let response = app
        .send_json(Method::PATCH, &path, &staff.token, Some(&etag), &change)
        .await;
    assert_eq!(response.status(), 200);
    let new_etag = etag_of(&response);
    assert_eq!(new_etag, "\"v2\"");
    let updated: Value = response.json().await.unwrap();
    assert_eq!(updated["legal_representative"], "UDAF 05");
    assert_eq!(updated["sharing_objection"], true);

    let response = app
        .send_json(Method::PATCH, &path, &staff.token, Some(&etag), &change)
        .await;
    assert_problem(response, 412).await;
    // `null` clears an optional field.
    let response = app
        .send_json(
            Method::PATCH,
            &path,
            &staff.token,
            Some(&new_etag),
            &json!({"legal_representative": null}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let cleared: Value = response.json().await.unwrap();
    assert!(cleared["legal_representative"].is_null());
}
