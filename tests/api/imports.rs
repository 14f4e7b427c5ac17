//! Imports for scripts and spreadsheets: every format, upsert, dry runs, atomic and partial
//! imports, idempotency keys, French spreadsheets, limits, and whose events a row may touch.

use actix_web::test;
use diesel::prelude::*;
use mip::config::Settings;
use serde_json::{Value, json};

use crate::common::{self, Reply, TestApp};

const IMPORT: &str = "/api/v1/imports/events";

/// A day inside the open edition 2030 of the test world, as a spreadsheet in France writes it.
fn day() -> chrono::NaiveDate {
    (chrono::Utc::now() + chrono::Duration::days(15)).date_naive()
}

fn french_day() -> String {
    day().format("%d/%m/%Y").to_string()
}

async fn send(
    app: &TestApp,
    path: &str,
    token: &str,
    content_type: &str,
    body: Vec<u8>,
    headers: &[(&str, &str)],
) -> Reply {
    let mut request = test::TestRequest::post()
        .uri(path)
        .insert_header(("authorization", format!("Bearer {token}")))
        .insert_header(("content-type", content_type))
        .set_payload(body);
    for (name, value) in headers {
        request = request.insert_header((*name, *value));
    }
    app.send(request).await
}

async fn import_json(app: &TestApp, token: &str, query: &str, rows: Value) -> Reply {
    send(app, &format!("{IMPORT}{query}"), token, "application/json", serde_json::to_vec(&rows).unwrap(), &[]).await
}

fn ok(reply: &Reply) -> Value {
    assert_eq!(reply.status.as_u16(), 200, "{}", String::from_utf8_lossy(&reply.body));
    reply.json()
}

fn outcomes(report: &Value) -> Vec<String> {
    report["rows"].as_array().unwrap().iter().map(|row| row["outcome"].as_str().unwrap().to_string()).collect()
}

fn row(external_id: &str, title: &str) -> Value {
    common::with(common::titled(title), json!({"external_id": external_id}))
}

fn count_events(app: &TestApp) -> i64 {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query("SELECT count(*) AS n FROM events").get_result::<Count>(&mut app.db.conn()).unwrap().n
}

#[actix_web::test]
async fn a_json_array_creates_drafts_and_the_same_rows_again_change_nothing() {
    let world = common::world().await;
    let rows = json!([row("ev-1", "Atelier un"), row("ev-2", "Atelier deux")]);
    let first = ok(&import_json(&world.app, &world.member, "", rows.clone()).await);
    assert_eq!(first["summary"], json!({"received": 2, "created": 2, "updated": 0, "unchanged": 0, "failed": 0}));
    assert_eq!(first["saved"], true);
    let id = first["rows"][0]["event_id"].as_str().unwrap().to_string();
    let event = world.app.get_as(&format!("/api/v1/events/{id}"), &world.member).await.json();
    assert_eq!(event["publication"], "draft");
    assert_eq!(event["external_id"], "ev-1");

    let again = ok(&import_json(&world.app, &world.member, "", rows).await);
    assert_eq!(outcomes(&again), ["unchanged", "unchanged"]);
    assert_eq!(again["rows"][0]["event_id"], id.as_str(), "matched by external_id");
    let after = world.app.get_as(&format!("/api/v1/events/{id}"), &world.member).await.json();
    assert_eq!(after["version"], event["version"], "an unchanged row is not touched");
}

#[actix_web::test]
async fn an_ndjson_row_that_changes_an_event_makes_a_new_version_with_its_history() {
    let world = common::world().await;
    let created = ok(&import_json(&world.app, &world.member, "", json!([row("ev-1", "Atelier un")])).await);
    let id = created["rows"][0]["event_id"].as_str().unwrap().to_string();
    let lines = format!(
        "{}\n\n{}\n",
        json!({"external_id": "ev-1", "title": "Atelier un, nouvelle formule"}),
        json!(row("ev-2", "Atelier deux"))
    );
    let report = ok(&send(&world.app, IMPORT, &world.member, "application/x-ndjson", lines.into_bytes(), &[]).await);
    assert_eq!(outcomes(&report), ["updated", "created"]);
    assert_eq!(report["format"], "ndjson");
    assert_eq!(report["rows"][1]["line"], 3, "NDJSON rows keep their physical line");
    let event = world.app.get_as(&format!("/api/v1/events/{id}"), &world.member).await.json();
    assert_eq!(event["title"], "Atelier un, nouvelle formule");
    assert_eq!(event["version"], 2);
    let history = world.app.get_as(&format!("/api/v1/events/{id}/history"), &world.member).await.json();
    let last = history["data"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "updated");
    assert_eq!(last["changes"]["title"]["to"], "Atelier un, nouvelle formule");
}

/// What Excel set to French saves: a byte order mark, `;`, CRLF, French column names, dates
/// `dd/mm/yyyy hh:mm`, decimal commas, `oui`, a quoted cell with a line break.
fn french_csv() -> String {
    let day = french_day();
    format!(
        "\u{feff}Identifiant externe;Titre;Description;Format;Modalité;Date de début;Date de fin;Lieu;Code postal;Ville;Département;Latitude;Longitude;Inscription obligatoire;Mots-clés\r\n\
         atelier-1;Atelier à Rennes;\"Première ligne\r\nseconde ligne\";atelier;présentiel;{day} 14:00;{day} 16h30;Ti-Lab;35000;Rennes;35;48,1173;-1,6778;oui;usagers, design\r\n\
         ;;;;;;;;;;;;;;\r\n"
    )
}

#[actix_web::test]
async fn a_french_excel_csv_with_bom_and_semicolons_is_read_as_written() {
    let world = common::world().await;
    let report = ok(&send(&world.app, IMPORT, &world.member, "text/csv", french_csv().into_bytes(), &[]).await);
    assert_eq!(report["summary"]["created"], 1, "{report}");
    assert_eq!(report["summary"]["received"], 1, "the empty row Excel leaves is skipped");
    assert_eq!(report["encoding"], "utf-8");
    let id = report["rows"][0]["event_id"].as_str().unwrap();
    let event = world.app.get_as(&format!("/api/v1/events/{id}"), &world.member).await.json();
    assert_eq!(event["title"], "Atelier à Rennes");
    assert_eq!(event["description"], "Première ligne\r\nseconde ligne");
    assert_eq!(event["format"], "workshop");
    assert_eq!(event["mode"], "onsite");
    assert_eq!(event["venue"]["latitude"], 48.1173);
    assert_eq!(event["venue"]["longitude"], -1.6778);
    assert_eq!(event["registration"]["required"], true);
    assert_eq!(event["tags"], json!(["usagers", "design"]));
    let starts = event["sessions"][0]["starts_at"].as_str().unwrap();
    assert!(starts.starts_with(&format!("{}T14:00:00+01:00", day())), "read in Paris time: {starts}");
    assert!(event["sessions"][0]["ends_at"].as_str().unwrap().contains("T16:30:00"));
}

#[actix_web::test]
async fn a_windows_1252_csv_is_detected_converted_and_said_so() {
    let world = common::world().await;
    let day = french_day();
    let text = format!(
        "titre;format;modalite;date_debut;date_fin;lien_en_ligne\r\nD\u{e9}couvrir l'\u{e9}coconception;webinaire;en ligne;{day} 10:00;{day} 11:00;https://visio.example.fr/a\r\n"
    );
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&text);
    assert!(std::str::from_utf8(&bytes).is_err(), "the body really is Windows-1252");
    let report = ok(&send(&world.app, IMPORT, &world.member, "text/csv", bytes.into_owned(), &[]).await);
    assert_eq!(report["encoding"], "windows-1252");
    assert!(report["notes"][0].as_str().unwrap().contains("Windows-1252"), "{}", report["notes"]);
    let id = report["rows"][0]["event_id"].as_str().unwrap();
    let event = world.app.get_as(&format!("/api/v1/events/{id}"), &world.member).await.json();
    assert_eq!(event["title"], "Découvrir l'écoconception");
    assert_eq!(event["format"], "webinar");
}

#[actix_web::test]
async fn a_multipart_upload_as_curl_sends_it_is_imported() {
    let world = common::world().await;
    let boundary = "------------------------mipboundary";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nignored\r\n").as_bytes(),
    );
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"events.csv\"\r\nContent-Type: application/octet-stream\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(french_csv().as_bytes());
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let report = ok(&send(&world.app, IMPORT, &world.member, &content_type, body, &[]).await);
    assert_eq!(report["format"], "csv", "known by the file name");
    assert_eq!(report["summary"]["created"], 1, "{report}");
}

#[actix_web::test]
async fn a_dry_run_reports_what_would_happen_and_saves_nothing() {
    let world = common::world().await;
    let report = ok(&import_json(&world.app, &world.member, "?dry_run=true", json!([row("ev-1", "Atelier un")])).await);
    assert_eq!(report["summary"]["created"], 1);
    assert_eq!(report["saved"], false);
    assert_eq!(report["dry_run"], true);
    assert_eq!(count_events(&world.app), 0);
    // The dry run is recorded like any import.
    let listed = world.app.get_as("/api/v1/imports", &world.member).await.json();
    assert_eq!(listed["data"][0]["dry_run"], true);
}

#[actix_web::test]
async fn an_atomic_import_with_a_bad_row_saves_nothing_and_says_why_in_french() {
    let world = common::world().await;
    let day = french_day();
    let csv = format!(
        "titre;format;modalite;date_debut;date_fin;lien_en_ligne\n\
         Bon atelier;webinaire;en ligne;{day} 10:00;{day} 11:00;https://visio.example.fr/a\n\
         Mauvaise date;webinaire;en ligne;31/11/2021 10:00;{day} 11:00;https://visio.example.fr/b\n\
         Sans titre;colloque;en ligne;{day} 10:00;{day} 11:00;https://visio.example.fr/c\n"
    );
    let reply =
        send(&world.app, IMPORT, &world.member, "text/csv", csv.into_bytes(), &[("accept-language", "fr-FR,fr;q=0.9")])
            .await;
    let problem = reply.problem(422);
    assert_eq!(problem["type"], "urn:mip:problem:import-failed");
    assert_eq!(problem["saved"], false);
    assert_eq!(problem["summary"]["failed"], 2);
    assert_eq!(problem["rows"][0]["outcome"], "created", "a valid row says what would have happened");
    let date_error = &problem["rows"][1]["errors"][0];
    assert_eq!(date_error["column"], "date_debut");
    assert_eq!(date_error["code"], "not_a_date");
    assert!(
        date_error["message"]
            .as_str()
            .unwrap()
            .starts_with("ligne 3, colonne date_debut : « 31/11/2021 10:00 » n'est pas une date"),
        "{date_error}"
    );
    assert_eq!(problem["rows"][2]["errors"][0]["column"], "format");
    assert!(problem["errors"].as_array().unwrap().iter().any(|e| e["field"] == "rows[1].sessions[0].starts_at"));
    assert_eq!(count_events(&world.app), 0, "nothing was saved");
}

#[actix_web::test]
async fn a_rule_broken_by_a_row_names_its_column_and_speaks_english_by_default() {
    let world = common::world().await;
    let day = french_day();
    // Onsite without a city: the rules of POST /events refuse it (once submitted), here the
    // edition check: a session outside the edition's month.
    let csv = format!(
        "title,format,mode,starts_at,ends_at,online_url\nEarly,webinar,online,01/01/2030 10:00,01/01/2030 11:00,https://v.example.fr\nLate,webinar,online,{day} 10:00,{day} 09:00,https://v.example.fr\n"
    );
    let problem = send(&world.app, IMPORT, &world.member, "text/csv", csv.into_bytes(), &[]).await.problem(422);
    let early = &problem["rows"][0]["errors"][0];
    assert_eq!(early["column"], "starts_at", "{early}");
    assert!(early["message"].as_str().unwrap().starts_with("line 2, column starts_at: "), "{early}");
    let late = &problem["rows"][1]["errors"][0];
    assert_eq!(late["code"], "before_start");
    assert_eq!(late["column"], "ends_at");
}

#[actix_web::test]
async fn a_partial_import_saves_the_valid_rows_and_reports_the_others() {
    let world = common::world().await;
    let rows = json!([
        row("ev-1", "Atelier un"),
        common::with(row("ev-2", "Atelier deux"), json!({"format": "colloquium"})),
        row("ev-3", "Atelier trois")
    ]);
    let report = ok(&import_json(&world.app, &world.member, "?atomic=false", rows).await);
    assert_eq!(outcomes(&report), ["created", "failed", "created"]);
    assert_eq!(report["saved"], true);
    assert_eq!(report["rows"][1]["errors"][0]["field"], "format");
    assert!(report["rows"][1]["errors"][0]["message"].as_str().unwrap().starts_with("line 2, field format: "));
    assert_eq!(count_events(&world.app), 2);
}

#[actix_web::test]
async fn the_same_external_id_twice_in_a_file_is_refused_naming_the_first_line() {
    let world = common::world().await;
    let rows = json!([row("ev-1", "Atelier un"), row("ev-1", "Atelier un bis")]);
    let problem = import_json(&world.app, &world.member, "", rows).await.problem(422);
    assert_eq!(problem["rows"][1]["errors"][0]["code"], "repeated_external_id");
    assert!(problem["rows"][1]["errors"][0]["message"].as_str().unwrap().contains("line 1"));
}

#[actix_web::test]
async fn submit_sends_new_events_to_moderation_and_admins_import_for_an_organizer() {
    let world = common::world().await;
    let report = ok(&import_json(&world.app, &world.member, "?submit=true", json!([row("ev-1", "Atelier un")])).await);
    let id = report["rows"][0]["event_id"].as_str().unwrap();
    assert_eq!(
        world.app.get_as(&format!("/api/v1/events/{id}"), &world.member).await.json()["publication"],
        "submitted"
    );

    let for_b = format!("?organizer={}", world.other_organizer);
    let report = ok(&import_json(&world.app, &world.admin, &for_b, json!([row("ev-1", "Atelier de Lille")])).await);
    assert_eq!(outcomes(&report), ["created"], "B's ev-1 is not A's ev-1");
    let id = report["rows"][0]["event_id"].as_str().unwrap();
    let event = world.app.get_as(&format!("/api/v1/events/{id}"), &world.other).await.json();
    assert_eq!(event["organizer"]["id"], world.other_organizer.to_string());
    // An admin who names no organizer is told to, per row.
    let problem =
        import_json(&world.app, &world.admin, "", json!([row("ev-9", "Sans organisateur")])).await.problem(422);
    assert_eq!(problem["rows"][0]["errors"][0]["field"], "organizer");
}

#[actix_web::test]
async fn an_organizer_cannot_import_into_another_organizers_events() {
    let world = common::world().await;
    let draft = world.create(row("ev-1", "Brouillon de A")).await;
    let a_id = common::id(&draft);

    // By id: as if the event did not exist.
    let by_id = json!([common::with(row("x", "Volé"), json!({"id": a_id}))]);
    let problem = import_json(&world.app, &world.other, "", by_id).await.problem(422);
    assert_eq!(problem["rows"][0]["errors"][0]["code"], "unknown_event");
    // Naming A as the organizer: refused.
    let named = json!([common::with(row("ev-2", "Chez A"), json!({"organizer": world.organizer.to_string()}))]);
    let problem = import_json(&world.app, &world.other, "", named).await.problem(422);
    assert_eq!(problem["rows"][0]["errors"][0]["field"], "organizer");
    // The same external_id is B's own: a new event of B's.
    let same_key = ok(&import_json(&world.app, &world.other, "", json!([row("ev-1", "Chez B")])).await);
    assert_eq!(outcomes(&same_key), ["created"]);
    let untouched = world.app.get_as(&common::path_of(&draft), &world.member).await.json();
    assert_eq!(untouched["title"], "Brouillon de A");
    assert_eq!(untouched["version"], draft["version"]);
}

#[actix_web::test]
async fn an_api_token_needs_the_imports_scope() {
    let world = common::world().await;
    let events_only = world.api_token(&world.member, json!(["events:write"])).await;
    let token = events_only["token"].as_str().unwrap();
    import_json(&world.app, token, "", json!([row("ev-1", "Atelier")])).await.problem(403);
    let importer = world.api_token(&world.member, json!(["imports:write"])).await;
    let report =
        ok(&import_json(&world.app, importer["token"].as_str().unwrap(), "", json!([row("ev-1", "Atelier")])).await);
    assert_eq!(report["summary"]["created"], 1);
}

#[actix_web::test]
async fn an_idempotency_key_replays_the_first_answer_on_any_instance() {
    let world = common::world().await;
    let body = serde_json::to_vec(&json!([row("ev-1", "Atelier un")])).unwrap();
    let key = [("idempotency-key", "7b0c3f4e-import-1")];
    let first = send(&world.app, IMPORT, &world.member, "application/json", body.clone(), &key).await;
    let first_report = ok(&first);
    let other_instance = world.app.another_instance().await;
    let retry = send(&other_instance, IMPORT, &world.member, "application/json", body.clone(), &key).await;
    assert_eq!(retry.status.as_u16(), 200);
    assert_eq!(retry.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(retry.header("location"), first.header("location"), "the replay names the report too");
    assert_eq!(retry.json(), first_report, "the first answer, byte for byte");
    let listed = world.app.get_as("/api/v1/imports", &world.member).await.json();
    assert_eq!(listed["total"], 1, "imported once");
    assert_eq!(count_events(&world.app), 1);

    // The same key for another body: refused.
    let other_body = serde_json::to_vec(&json!([row("ev-2", "Autre")])).unwrap();
    let mismatch = send(&world.app, IMPORT, &world.member, "application/json", other_body, &key).await.problem(422);
    assert_eq!(mismatch["errors"][0]["code"], "reused_key");
    // Another caller's key of the same name is its own.
    let theirs = send(&world.app, IMPORT, &world.other, "application/json", body, &key).await;
    assert_eq!(ok(&theirs)["summary"]["created"], 1);
}

#[actix_web::test]
async fn a_second_request_while_the_first_runs_gets_409() {
    let world = common::world().await;
    let body = serde_json::to_vec(&json!([row("ev-1", "Atelier un")])).unwrap();
    // A first request with the key is running (on some instance): its claim is there.
    let account: uuid::Uuid = {
        let me = world.app.get_as("/api/v1/me", &world.member).await.json();
        me["id"].as_str().unwrap().parse().unwrap()
    };
    diesel::sql_query(
        "INSERT INTO idempotency_keys (account_id, key, request_digest, claim_token) VALUES ($1, 'running-key', '\\x00', gen_random_uuid())",
    )
    .bind::<diesel::sql_types::Uuid, _>(account)
    .execute(&mut world.app.db.conn())
    .unwrap();
    let reply =
        send(&world.app, IMPORT, &world.member, "application/json", body, &[("idempotency-key", "running-key")]).await;
    // The digest differs from the stand-in's, so the key reads as reused: a running claim of
    // the same request is the next case.
    assert_eq!(reply.status.as_u16(), 422);
    diesel::sql_query("UPDATE idempotency_keys SET request_digest = $1 WHERE key = 'running-key'")
        .bind::<diesel::sql_types::Bytea, _>(digest_of(
            "POST",
            IMPORT,
            &serde_json::to_vec(&json!([row("ev-1", "Atelier un")])).unwrap(),
        ))
        .execute(&mut world.app.db.conn())
        .unwrap();
    let body = serde_json::to_vec(&json!([row("ev-1", "Atelier un")])).unwrap();
    let running =
        send(&world.app, IMPORT, &world.member, "application/json", body, &[("idempotency-key", "running-key")]).await;
    assert_eq!(running.problem(409)["errors"][0]["code"], "in_progress");
    assert_eq!(count_events(&world.app), 0, "not imported a second time");
}

fn digest_of(method: &str, path: &str, body: &[u8]) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(method);
    hasher.update([0]);
    hasher.update(path);
    hasher.update([0]);
    hasher.update("application/json");
    hasher.update([0]);
    hasher.update(body);
    hasher.finalize().to_vec()
}

#[actix_web::test]
async fn a_csv_with_a_quote_never_closed_is_refused_naming_its_line() {
    let world = common::world().await;
    let csv = "title;description\nAtelier;\"une description\nAutre;texte\n";
    let problem = send(&world.app, IMPORT, &world.member, "text/csv", csv.into(), &[]).await.problem(400);
    assert_eq!(problem["errors"][0]["code"], "unclosed_quote");
    assert!(problem["detail"].as_str().unwrap().starts_with("line 2:"), "{problem}");
    let unknown =
        send(&world.app, IMPORT, &world.member, "text/csv", "title;colour\nA;red\n".into(), &[]).await.problem(422);
    assert_eq!(unknown["errors"][0]["field"], "colour");
    assert_eq!(unknown["errors"][0]["code"], "unknown_column");
}

#[actix_web::test]
async fn bodies_and_row_counts_past_the_limits_get_413_naming_the_limit() {
    let app =
        common::spawn_with(|db| Settings { import_max_bytes: 2_000, import_max_rows: 3, ..common::settings(db) }).await;
    let admin = app.admin_token().await;
    let big = format!("title\n{}\n", "x".repeat(3_000));
    let problem = send(&app, IMPORT, &admin, "text/csv", big.into_bytes(), &[]).await.problem(413);
    assert!(problem["detail"].as_str().unwrap().contains("2000 bytes"), "{problem}");
    assert_eq!(problem["errors"][0]["field"], "body");
    let many = "title\nA\nB\nC\nD\n";
    let problem = send(&app, IMPORT, &admin, "text/csv", many.into(), &[]).await.problem(413);
    assert!(problem["detail"].as_str().unwrap().contains("more than 3 rows"), "{problem}");
    assert_eq!(problem["errors"][0]["code"], "too_many_rows");
}

#[actix_web::test]
async fn imports_are_listed_for_their_caller_and_their_report_read_again() {
    let world = common::world().await;
    let reply = import_json(&world.app, &world.member, "", json!([row("ev-1", "Atelier un")])).await;
    let report = ok(&reply);
    let location = reply.header("location").unwrap();
    assert_eq!(location, format!("/api/v1/imports/{}", report["id"].as_str().unwrap()));
    let again = world.app.get_as(&location, &world.member).await;
    assert_eq!(again.json(), report);
    let listed = world.app.get_as("/api/v1/imports", &world.member).await.json();
    assert_eq!(listed["data"][0]["summary"]["created"], 1);
    // Another organizer's member neither lists nor reads it.
    assert_eq!(world.app.get_as("/api/v1/imports", &world.other).await.json()["total"], 0);
    world.app.get_as(&location, &world.other).await.problem(404);
    assert_eq!(world.app.get_as(&location, &world.admin).await.status.as_u16(), 200, "admins read any report");
}

#[actix_web::test]
async fn the_template_has_every_column_a_bom_and_an_example_that_reads() {
    let world = common::world().await;
    let reply = world.app.get("/api/v1/imports/events/template.csv").await;
    assert_eq!(reply.status.as_u16(), 200);
    assert!(reply.header("content-type").unwrap().starts_with("text/csv"));
    assert!(reply.body.starts_with(b"\xEF\xBB\xBF"), "a byte order mark, for Excel");
    let text = String::from_utf8(reply.body.to_vec()).unwrap();
    let header = text.lines().next().unwrap().trim_start_matches('\u{feff}');
    for column in ["external_id", "title", "starts_at", "ends_at", "more_sessions", "postal_code", "tags"] {
        assert!(header.split(';').any(|c| c == column), "{column} in {header}");
    }
    // Imported as is, the example fails only on rules (its year is an example), never on reading.
    let report =
        send(&world.app, &format!("{IMPORT}?dry_run=true"), &world.member, "text/csv", reply.body.to_vec(), &[])
            .await
            .json();
    let codes: Vec<&str> = report["rows"][0]["errors"]
        .as_array()
        .map_or(vec![], |errors| errors.iter().map(|e| e["code"].as_str().unwrap()).collect());
    assert!(codes.iter().all(|code| !code.starts_with("not_a") && *code != "unknown_column"), "{report}");
}

/// An import whose database connection is cut halfway (the database restarted, a network
/// fault) leaves nothing half-saved: every row is in the one transaction that never commits.
#[actix_web::test]
async fn an_import_cut_off_halfway_leaves_nothing_saved() {
    let world = common::world().await;
    let rows: Vec<Value> = (0..600).map(|n| row(&format!("ev-{n}"), &format!("Atelier {n}"))).collect();
    let url = world.app.db.url.clone();
    let db_name = world.app.db.name.clone();
    // Ends the import's connection once its transaction has been writing for a moment.
    let killer = std::thread::spawn(move || {
        #[derive(QueryableByName)]
        struct Killed {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = PgConnection::establish(&url).unwrap();
        for _ in 0..800 {
            std::thread::sleep(std::time::Duration::from_millis(10));
            let killed = diesel::sql_query(format!(
                "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
                 WHERE datname = '{db_name}' AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL \
                 AND xact_start < now() - interval '150 milliseconds'"
            ))
            .get_result::<Killed>(&mut conn)
            .unwrap();
            if killed.n > 0 {
                return true;
            }
        }
        false
    });
    let reply = import_json(&world.app, &world.member, "", Value::Array(rows)).await;
    assert!(killer.join().unwrap(), "the import was cut off while it wrote");
    assert_eq!(reply.problem(503)["status"], 503, "the client is told to retry");
    assert_eq!(count_events(&world.app), 0, "nothing half-saved");
}

/// The round trip partners and DITP rely on: what an organizer exports, in any format, imports
/// back as is, every row `unchanged`, no version moved.
#[actix_web::test]
async fn an_export_imported_back_by_its_organizer_changes_nothing_in_every_format() {
    let world = common::world().await;
    let day = day();
    let published = world.publish(row("ev-pub", "Atelier publié")).await;
    let cancelled = world.publish(row("ev-cancel", "Atelier annulé")).await;
    let cancel = world
        .app
        .post(
            &format!("{}/cancel", common::path_of(&cancelled)),
            Some(&world.member),
            json!({"reason": "Salle indisponible"}),
        )
        .await;
    assert_eq!(cancel.status.as_u16(), 200, "{}", String::from_utf8_lossy(&cancel.body));
    world
        .create(common::with(
            row("ev-series", "=SUM(1;2) une série"),
            json!({
                "mode": "hybrid",
                "online_url": "https://visio.example.fr/serie",
                "sessions": [
                    {"starts_at": format!("{day}T09:30"), "ends_at": format!("{day}T11:00")},
                    {"starts_at": format!("{}T09:30:15", day + chrono::Duration::days(7)), "ends_at": format!("{}T11:00", day + chrono::Duration::days(7))}
                ],
                "co_organizers": ["Ville de Rennes, direction du numérique", "Région Bretagne"],
                "registration": {"required": true, "url": "https://ti-lab.example/inscription", "capacity": 12, "closes_at": format!("{day}T08:00")},
                "description": "Ligne une\nligne deux ; avec « guillemets » et \"quotes\"",
                "accessibility": "-- accessible",
            }),
        ))
        .await;
    world
        .create(common::with(
            common::titled("Sans identifiant externe"),
            json!({"venue": {"city": "Rennes", "department": "35", "latitude": 48.1173, "longitude": -1.6778}}),
        ))
        .await;
    let versions = || async {
        let list = world
            .app
            .get_as(&format!("/api/v1/events?limit=100&organizer={}", world.organizer), &world.member)
            .await
            .json();
        let mut versions: Vec<(String, i64)> = list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["id"].as_str().unwrap().to_string(), e["version"].as_i64().unwrap()))
            .collect();
        versions.sort();
        versions
    };
    let before = versions().await;
    assert_eq!(before.len(), 4, "{before:?}");

    let xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    for (export, content_type) in [
        ("events.csv", "text/csv"),
        ("events.csv?delimiter=semicolon&bom=true", "text/csv"),
        ("events.ndjson", "application/x-ndjson"),
        ("events.xlsx", xlsx),
    ] {
        let file = world.app.get_as(&format!("/api/v1/exports/{export}"), &world.member).await;
        assert_eq!(file.status.as_u16(), 200, "{export}");
        let report = ok(&send(&world.app, IMPORT, &world.member, content_type, file.body.to_vec(), &[]).await);
        assert_eq!(report["summary"]["received"], 4, "{export}: {report}");
        assert_eq!(report["summary"]["unchanged"], 4, "{export}: {report}");
    }
    assert_eq!(versions().await, before, "no event was touched");
    assert_eq!(world.app.get_as(&common::path_of(&published), &world.member).await.json()["publication"], "published");
}

#[actix_web::test]
async fn the_same_external_id_is_the_same_event_however_the_organizer_is_named() {
    let world = common::world().await;
    let rows = json!([
        row("ev-1", "Sans organisateur"),
        common::with(row("ev-1", "Avec son id"), json!({"organizer": world.organizer.to_string()}))
    ]);
    let problem = import_json(&world.app, &world.member, "", rows).await.problem(422);
    assert_eq!(problem["rows"][1]["errors"][0]["code"], "repeated_external_id");
    // By id, a row cannot move an event to another organizer (as PATCH refuses it).
    let draft = world.create(row("ev-2", "Brouillon de A")).await;
    let moved = json!([common::with(
        row("ev-2", "Brouillon de A"),
        json!({"id": common::id(&draft), "organizer": world.other_organizer.to_string()})
    )]);
    let problem = import_json(&world.app, &world.admin, "", moved).await.problem(422);
    assert_eq!(problem["rows"][0]["errors"][0]["code"], "immutable");
}

#[actix_web::test]
async fn import_reports_need_the_imports_scope_too() {
    let world = common::world().await;
    let events_only = world.api_token(&world.member, json!(["events:write"])).await;
    world.app.get_as("/api/v1/imports", events_only["token"].as_str().unwrap()).await.problem(403);
}
