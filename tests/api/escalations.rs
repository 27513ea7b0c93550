//! Critical situations escalated, as a social worker, the ARS's software
//! and a supervisor would live them: the referent flags a situation
//! critical and sends it to the ARS with a short summary and a day for the
//! answer; the ARS reads what was sent to it (and nothing more), follows
//! the pathway in its feed, acknowledges and answers; an answer still
//! awaited after its day is an alert; the département closes it.

use parcours::domain::Domain::{Childhood, Disability};
use parcours::domain::Role::{Admin, Auditor, Coordinator, Supervisor};
use reqwest::Method;
use serde_json::{Value, json};

use crate::audit::records;
use crate::feed::feed_until;
use crate::support::fixtures::{open, organization, person};
use crate::support::{Staff, TestApp, assert_problem, etag_of};

const ARS: &str = "ARS Provence-Alpes-Côte d'Azur";

fn in_days(days: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(days)).to_string()
}

async fn flag_critical(app: &TestApp, staff: &Staff, pathway: &str) {
    let path = format!("/v1/pathways/{pathway}");
    let etag = app.etag(&path, &staff.token).await;
    let flagged = app
        .send_json(
            Method::PUT,
            &format!("{path}/critical"),
            &staff.token,
            Some(&etag),
            &json!({"level": "regional", "reason": "Aucune place adaptée depuis 8 mois"}),
        )
        .await;
    assert_eq!(flagged.status(), 200, "{}", flagged.text().await.unwrap());
}

async fn escalate(app: &TestApp, token: &str, pathway: &str, body: &Value) -> reqwest::Response {
    app.send_json(
        Method::POST,
        &format!("/v1/pathways/{pathway}/escalations"),
        token,
        None,
        body,
    )
    .await
}

/// `POST /v1/escalations/{id}/transitions`, with `If-Match` and a key.
async fn move_escalation(
    app: &TestApp,
    token: &str,
    id: &str,
    etag: &str,
    body: &Value,
) -> reqwest::Response {
    app.with_token(
        Method::POST,
        &format!("/v1/escalations/{id}/transitions"),
        token,
    )
    .header("if-match", etag)
    .header("idempotency-key", uuid::Uuid::now_v7().to_string())
    .json(body)
    .send()
    .await
    .unwrap()
}

async fn moved(app: &TestApp, token: &str, id: &str, etag: &str, body: &Value) -> (Value, String) {
    let response = move_escalation(app, token, id, etag, body).await;
    let status = response.status();
    let etag = etag_of(&response);
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    (body, etag)
}

#[tokio::test]
async fn a_critical_situation_is_sent_to_the_ars_which_acknowledges_and_answers_then_closed() {
    let app = TestApp::spawn().await;
    let staff = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    let ars = organization(&app, &staff.token, ARS).await;
    let someone = person(&app, &staff, "Escaladée").await;
    let (pathway, _) = open(&app, &staff, &someone, Disability).await;
    let ars_token = app.partner_token(ARS).await;
    let caf_token = app.partner_token("CAF des Hautes-Alpes").await;
    let summary = "Jeune adulte de 19 ans, autisme sévère, sans solution depuis 8 mois ; \
                   IME arrivé au terme de l'amendement Creton. Besoin : FAM ou MAS.";
    let body = json!({"organization_id": ars, "summary": summary, "due_on": in_days(15)});

    // Not before the situation is flagged critical.
    let early = escalate(&app, &staff.token, &pathway, &body).await;
    let problem = assert_problem(early, 409).await;
    assert!(problem["detail"].as_str().unwrap().contains("critical"));
    flag_critical(&app, &staff, &pathway).await;

    // Each field says what to fix.
    for (field, bad) in [
        (
            "due_on",
            json!({"organization_id": ars, "summary": summary, "due_on": in_days(0)}),
        ),
        (
            "due_on",
            json!({"organization_id": ars, "summary": summary, "due_on": in_days(91)}),
        ),
        (
            "summary",
            json!({"organization_id": ars, "summary": "  ", "due_on": in_days(3)}),
        ),
        (
            "organization_id",
            json!({"organization_id": uuid::Uuid::now_v7(), "summary": summary, "due_on": in_days(3)}),
        ),
    ] {
        let refused = escalate(&app, &staff.token, &pathway, &bad).await;
        let problem =
            assert_problem(refused, if field == "organization_id" { 422 } else { 400 }).await;
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }

    let sent = escalate(&app, &staff.token, &pathway, &body).await;
    assert_eq!(sent.status(), 201);
    assert_eq!(etag_of(&sent), "\"v1\"");
    let sent: Value = sent.json().await.unwrap();
    let id = sent["id"].as_str().unwrap().to_owned();
    assert_eq!(sent["status"], "sent");
    assert_eq!(sent["level"], "regional");
    assert_eq!(sent["recipient"]["name"], ARS);
    assert_eq!(sent["service"]["name"], "Gapençais");
    assert_eq!(sent["contact"]["email"], staff.user.email.as_str());
    assert_eq!(sent["due_on"], in_days(15));
    assert_eq!(sent["overdue"], false);
    // Once per recipient while it is open.
    let twice = escalate(&app, &staff.token, &pathway, &body).await;
    assert_problem(twice, 409).await;

    // The ARS reads what was sent to it: the summary, the service, who to
    // call — not the person's name.
    let listed = app.get_json("/v1/escalations", &ars_token).await;
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["summary"], summary);
    assert!(!listed.to_string().contains("Escaladée"), "{listed}");
    assert!(!listed.to_string().contains(&someone), "{listed}");
    // It follows the pathway from then on, in its minimal view and feed.
    let followed = app
        .get_json(&format!("/v1/partner/pathways/{pathway}"), &ars_token)
        .await;
    assert_eq!(followed["id"], pathway.as_str());
    let (events, _) = feed_until(&app, &ars_token, None, 1).await;
    assert_eq!(events[0]["kind"], "escalation_sent");
    assert_eq!(events[0]["escalation_id"], id.as_str());
    assert_eq!(events[0]["escalation_status"], "sent");
    // Another partner learns nothing of it.
    let elsewhere = app
        .with_token(Method::GET, &format!("/v1/escalations/{id}"), &caf_token)
        .send()
        .await
        .unwrap();
    assert_problem(elsewhere, 404).await;
    let caf_list = app.get_json("/v1/escalations", &caf_token).await;
    assert_eq!(caf_list["items"], json!([]));

    // The recipient acknowledges and answers; it cannot close.
    let etag = app.etag(&format!("/v1/escalations/{id}"), &ars_token).await;
    let closing = move_escalation(
        &app,
        &ars_token,
        &id,
        &etag,
        &json!({"to": "closed", "closure": "solution_found"}),
    )
    .await;
    assert_problem(closing, 403).await;
    let no_answer = move_escalation(&app, &ars_token, &id, &etag, &json!({"to": "answered"})).await;
    let problem = assert_problem(no_answer, 400).await;
    assert_eq!(problem["errors"][0]["field"], "answer");
    let (acknowledged, etag) =
        moved(&app, &ars_token, &id, &etag, &json!({"to": "acknowledged"})).await;
    assert_eq!(acknowledged["status"], "acknowledged");
    assert!(acknowledged["acknowledged_at"].is_string());
    let answer = "Place en MAS à Embrun au 1er février ; visite de préadmission proposée.";
    let (answered, etag) = moved(
        &app,
        &ars_token,
        &id,
        &etag,
        &json!({"to": "answered", "answer": answer}),
    )
    .await;
    assert_eq!(answered["status"], "answered");
    assert_eq!(answered["answer"], answer);
    let (events, _) = feed_until(&app, &ars_token, None, 3).await;
    let statuses: Vec<&str> = events
        .iter()
        .filter(|e| e["kind"] == "escalation_status_changed")
        .map(|e| e["escalation_status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["acknowledged", "answered"]);

    // The referent reads the answer and closes it; nothing moves after.
    let staff_view = app
        .get_json(&format!("/v1/pathways/{pathway}/escalations"), &staff.token)
        .await;
    assert_eq!(staff_view["items"][0]["answer"], answer);
    let stale = move_escalation(
        &app,
        &staff.token,
        &id,
        "\"v1\"",
        &json!({"to": "closed", "closure": "solution_found"}),
    )
    .await;
    assert_problem(stale, 412).await;
    let (closed, etag) = moved(
        &app,
        &staff.token,
        &id,
        &etag,
        &json!({"to": "closed", "closure": "solution_found"}),
    )
    .await;
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["closure"], "solution_found");
    let again = move_escalation(&app, &ars_token, &id, &etag, &json!({"to": "acknowledged"})).await;
    assert_problem(again, 409).await;

    // The timeline tells it, without the summary or the answer.
    let timeline = app
        .get_json(&format!("/v1/pathways/{pathway}/timeline"), &staff.token)
        .await;
    let told: Vec<String> = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"].as_str().unwrap().starts_with("escalation"))
        .map(|e| format!("{}:{}", e["kind"], e["data"]["to"]))
        .collect();
    assert_eq!(
        told,
        [
            "\"escalation_sent\":null",
            "\"escalation_status_changed\":\"acknowledged\"",
            "\"escalation_status_changed\":\"answered\"",
            "\"escalation_status_changed\":\"closed\"",
        ]
    );
    assert!(!timeline.to_string().contains("Embrun"));
    assert!(!timeline.to_string().contains("autisme"));

    // Every look and move is in the audit trail, the ARS's read included.
    let auditor = app.token_for(Auditor).await;
    let trail = records(
        &app,
        &auditor,
        &format!("resource_type=escalation&resource_id={id}"),
    )
    .await;
    let actions: Vec<String> = trail
        .iter()
        .map(|r| format!("{}:{}:{}", r["actor_role"], r["action"], r["outcome"]))
        .collect();
    for expected in [
        "\"coordinator\":\"create\":\"success\"",
        "\"partner\":\"read\":\"success\"",
        "\"partner\":\"transition\":\"denied\"",
        "\"partner\":\"read\":\"not_found\"",
        "\"partner\":\"transition\":\"success\"",
        "\"coordinator\":\"transition\":\"success\"",
    ] {
        assert!(
            actions.contains(&expected.to_owned()),
            "{expected} in {actions:?}"
        );
    }
}

#[tokio::test]
async fn an_answer_still_awaited_after_its_day_is_an_alert_of_the_referent() {
    let app = TestApp::spawn().await;
    let referent = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    let colleague = app.staff(Coordinator, &["05-GAP"], &[Disability]).await;
    let supervisor = app.staff(Supervisor, &["05-GAP"], &[Disability]).await;
    let ars = organization(&app, &referent.token, ARS).await;
    let someone = person(&app, &referent, "Attendue").await;
    let (pathway, _) = open(&app, &referent, &someone, Disability).await;
    flag_critical(&app, &referent, &pathway).await;
    let body = json!({"organization_id": ars, "summary": "Sans solution", "due_on": in_days(1)});
    let sent = escalate(&app, &referent.token, &pathway, &body).await;
    assert_eq!(sent.status(), 201);
    let id = sent.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // A colleague who is not the referent may not escalate it, nor close it.
    let other = escalate(
        &app,
        &colleague.token,
        &pathway,
        &json!({"organization_id": organization(&app, &referent.token, "MDPH des Hautes-Alpes").await,
                "summary": "Sans solution", "due_on": in_days(1)}),
    )
    .await;
    assert_problem(other, 403).await;

    let overdue_alerts = |alerts: &Value| -> Vec<(String, i64)> {
        alerts["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["kind"] == "escalation_overdue")
            .map(|a| {
                (
                    a["subject_id"].as_str().unwrap().to_owned(),
                    a["days_left"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    let set_due = async |days: i64| {
        let mut conn = app.db.connect().await;
        crate::support::db::execute(
            &mut conn,
            &format!("UPDATE escalations SET due_on = current_date + {days} WHERE id = '{id}'"),
        )
        .await;
    };
    // Due today: not yet overdue.
    set_due(0).await;
    let alerts = app.get_json("/v1/alerts", &referent.token).await;
    assert_eq!(overdue_alerts(&alerts), []);
    // Due yesterday: the referent and the supervisor see it, the colleague not.
    set_due(-1).await;
    let alerts = app.get_json("/v1/alerts", &referent.token).await;
    assert_eq!(overdue_alerts(&alerts), [(id.clone(), -1)]);
    let alerts = app.get_json("/v1/alerts", &supervisor.token).await;
    assert_eq!(overdue_alerts(&alerts), [(id.clone(), -1)]);
    let alerts = app.get_json("/v1/alerts", &colleague.token).await;
    assert_eq!(overdue_alerts(&alerts), []);
    let read = app
        .get_json(&format!("/v1/escalations/{id}"), &referent.token)
        .await;
    assert_eq!(read["overdue"], true);
    let listed = app
        .get_json("/v1/escalations?overdue=true", &supervisor.token)
        .await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);

    // Staff record what the ARS answered by phone: the alert goes.
    let etag = app
        .etag(&format!("/v1/escalations/{id}"), &referent.token)
        .await;
    let closing = move_escalation(
        &app,
        &colleague.token,
        &id,
        &etag,
        &json!({"to": "closed", "closure": "withdrawn"}),
    )
    .await;
    assert_problem(closing, 403).await;
    moved(
        &app,
        &referent.token,
        &id,
        &etag,
        &json!({"to": "answered", "answer": "Pas de place avant l'été (appel du 3)."}),
    )
    .await;
    let alerts = app.get_json("/v1/alerts", &referent.token).await;
    assert_eq!(overdue_alerts(&alerts), []);
    let listed = app
        .get_json("/v1/escalations?overdue=true", &supervisor.token)
        .await;
    assert_eq!(listed["items"], json!([]));
}

#[tokio::test]
async fn nothing_is_escalated_of_a_person_who_objected_to_sharing_and_outside_scope_it_is_404() {
    let app = TestApp::spawn().await;
    let staff = app.staff(Supervisor, &["05-GAP"], &[Disability]).await;
    let ars = organization(&app, &staff.token, ARS).await;
    let someone = person(&app, &staff, "Opposée").await;
    let (pathway, _) = open(&app, &staff, &someone, Disability).await;
    flag_critical(&app, &staff, &pathway).await;
    let body = json!({"organization_id": ars, "summary": "Sans solution", "due_on": in_days(10)});
    let sent = escalate(&app, &staff.token, &pathway, &body).await;
    assert_eq!(sent.status(), 201);
    let id = sent.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ars_token = app.partner_token(ARS).await;
    assert_eq!(
        app.get_json("/v1/escalations", &ars_token).await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // The person objects: the ARS no longer reads it, and nothing more is sent.
    let path = format!("/v1/persons/{someone}");
    let etag = app.etag(&path, &staff.token).await;
    let objected = app
        .send_json(
            Method::PATCH,
            &path,
            &staff.token,
            Some(&etag),
            &json!({"sharing_objection": true}),
        )
        .await;
    assert_eq!(objected.status(), 200);
    let hidden = app
        .with_token(Method::GET, &format!("/v1/escalations/{id}"), &ars_token)
        .send()
        .await
        .unwrap();
    assert_problem(hidden, 404).await;
    assert_eq!(
        app.get_json("/v1/escalations", &ars_token).await["items"],
        json!([])
    );
    let mdph = organization(&app, &staff.token, "MDPH des Hautes-Alpes").await;
    let refused = escalate(
        &app,
        &staff.token,
        &pathway,
        &json!({"organization_id": mdph, "summary": "Sans solution", "due_on": in_days(10)}),
    )
    .await;
    let problem = assert_problem(refused, 409).await;
    assert!(problem["detail"].as_str().unwrap().contains("objected"));

    // Staff of another territory or domain, admins: 404 or 403.
    let elsewhere = app.staff(Supervisor, &["05-BRI"], &[Disability]).await;
    let childhood = app.staff(Supervisor, &["05-GAP"], &[Childhood]).await;
    for token in [&elsewhere.token, &childhood.token] {
        let read = app
            .with_token(Method::GET, &format!("/v1/escalations/{id}"), token)
            .send()
            .await
            .unwrap();
        assert_problem(read, 404).await;
        let send = escalate(&app, token, &pathway, &body).await;
        assert_problem(send, 404).await;
        assert_eq!(
            app.get_json("/v1/escalations", token).await["items"],
            json!([])
        );
    }
    let admin = app.token_for(Admin).await;
    let read = app
        .with_token(Method::GET, &format!("/v1/escalations/{id}"), &admin)
        .send()
        .await
        .unwrap();
    assert_problem(read, 403).await;
}
