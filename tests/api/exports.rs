//! Exports: every event the caller may see under the filters of `GET /events`, as CSV (read back
//! with the `csv` crate), NDJSON (each line an event form) and XLSX (read back with `calamine`);
//! the shared filter and its 400s; the visibility of the events list; keyset chunks that neither
//! skip nor repeat; formula-looking text defused; failures before and after the first byte.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::common::{self, Reply, World, with};

const CSV: &str = "/api/v1/exports/events.csv";
const NDJSON: &str = "/api/v1/exports/events.ndjson";
const XLSX: &str = "/api/v1/exports/events.xlsx";

fn ok(reply: &Reply) {
    assert_eq!(reply.status.as_u16(), 200, "{}", String::from_utf8_lossy(&reply.body));
}

/// The CSV's header and rows, read with the `csv` crate.
fn csv_rows(reply: &Reply, delimiter: u8) -> (Vec<String>, Vec<Vec<String>>) {
    ok(reply);
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).from_reader(reply.body.as_ref());
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader.records().map(|r| r.unwrap().iter().map(String::from).collect()).collect();
    (header, rows)
}

/// One CSV row as column → cell.
fn cells<'a>(header: &'a [String], row: &'a [String]) -> impl Fn(&str) -> &'a str {
    move |name| {
        let index = header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"));
        row[index].as_str()
    }
}

fn ndjson_lines(reply: &Reply) -> Vec<Value> {
    ok(reply);
    let text = std::str::from_utf8(&reply.body).unwrap();
    assert!(text.is_empty() || text.ends_with('\n'), "every line ends with a newline");
    text.lines().map(|line| serde_json::from_str(line).unwrap()).collect()
}

fn ndjson_ids(reply: &Reply) -> Vec<String> {
    ndjson_lines(reply).iter().map(|line| line["id"].as_str().unwrap().to_string()).collect()
}

fn days_from_now(days: i64) -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::days(days)).date_naive()
}

/// [`common::event_body`] on another day (14:00 to 17:00, Paris).
fn on_day(title: &str, day: NaiveDate) -> Value {
    with(
        common::event_body(),
        json!({"title": title, "sessions": [{"starts_at": format!("{day}T14:00"), "ends_at": format!("{day}T17:00")}]}),
    )
}

/// A published event with a track, two labs, two sessions and coordinates.
async fn rich_event(w: &World) -> Value {
    let track = w.app.post("/api/v1/editions/2030/tracks", Some(&w.admin), json!({"name": "Agir ensemble"})).await;
    assert_eq!(track.status.as_u16(), 201, "{}", String::from_utf8_lossy(&track.body));
    for (slug, region) in [("ti-lab", "53"), ("la-27e-region", "11")] {
        let lab = w.app.post("/api/v1/labs", Some(&w.admin), common::lab_body(slug, region)).await;
        assert_eq!(lab.status.as_u16(), 201, "{}", String::from_utf8_lossy(&lab.body));
    }
    let (day, next) = (days_from_now(15), days_from_now(22));
    w.publish(with(
        common::event_body(),
        json!({
            "track": track.json()["slug"],
            "labs": ["ti-lab", "la-27e-region"],
            "sessions": [
                {"starts_at": format!("{day}T14:00"), "ends_at": format!("{day}T17:00")},
                {"starts_at": format!("{next}T09:30"), "ends_at": format!("{next}T12:00")}
            ],
            "venue": {"name": "Ti-Lab", "address": "1 rue de la Préfecture", "postal_code": "35000", "city": "Rennes",
                      "department": "35", "latitude": 48.1173, "longitude": -1.6778},
        }),
    ))
    .await
}

#[actix_web::test]
async fn the_csv_export_has_the_sheet_header_and_one_row_of_cells_per_event() {
    let w = common::world().await;
    let event = rich_event(&w).await;
    let reply = w.app.get(CSV).await;
    assert_eq!(reply.header("content-type").as_deref(), Some("text/csv; charset=utf-8"));
    assert_eq!(reply.header("content-disposition").as_deref(), Some("attachment; filename=\"events.csv\""));
    let (header, rows) = csv_rows(&reply, b',');
    assert_eq!(header, mip::events::sheet::header());
    assert_eq!(rows.len(), 1);
    let cell = cells(&header, &rows[0]);
    let day = days_from_now(15).format("%d/%m/%Y");
    let next = days_from_now(22).format("%d/%m/%Y");
    assert_eq!(cell("id"), event["id"].as_str().unwrap());
    assert_eq!(cell("slug"), event["slug"].as_str().unwrap());
    assert_eq!(cell("publication"), "published");
    assert_eq!(cell("title"), "Fabriquer un capteur de qualité de l'air");
    assert_eq!(cell("edition"), "2030");
    assert_eq!(cell("track"), "agir-ensemble");
    assert_eq!(cell("labs"), "la-27e-region | ti-lab");
    assert_eq!(cell("starts_at"), format!("{day} 14:00"));
    assert_eq!(cell("ends_at"), format!("{day} 17:00"));
    assert_eq!(cell("more_sessions"), format!("{next} 09:30 - {next} 12:00"));
    assert_eq!(cell("latitude"), "48.1173");
    assert_eq!(cell("registration_required"), "true");
    assert_eq!(cell("capacity"), "20");
    assert_eq!(cell("tags"), "données | air");
    assert_eq!(cell("region"), "53");
    assert_eq!(cell("organizer"), w.organizer.to_string());
}

#[actix_web::test]
async fn a_semicolon_csv_writes_decimal_commas_after_a_byte_order_mark() {
    let w = common::world().await;
    rich_event(&w).await;
    let reply = w.app.get(&format!("{CSV}?delimiter=semicolon&bom=true")).await;
    ok(&reply);
    assert!(reply.body.starts_with("\u{feff}id;external_id;".as_bytes()));
    let body = &reply.body["\u{feff}".len()..];
    let mut reader = csv::ReaderBuilder::new().delimiter(b';').from_reader(body);
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let row: Vec<String> = reader.records().next().unwrap().unwrap().iter().map(String::from).collect();
    let cell = cells(&header, &row);
    assert_eq!(cell("latitude"), "48,1173");
    assert_eq!(cell("longitude"), "-1,6778");
    assert_eq!(cell("edition"), "2030");
}

#[actix_web::test]
async fn each_ndjson_line_is_the_event_form_with_its_id_slug_and_publication() {
    let w = common::world().await;
    let event = rich_event(&w).await;
    let reply = w.app.get(NDJSON).await;
    assert_eq!(reply.header("content-type").as_deref(), Some("application/x-ndjson"));
    assert_eq!(reply.header("content-disposition").as_deref(), Some("attachment; filename=\"events.ndjson\""));
    let lines = ndjson_lines(&reply);
    assert_eq!(lines.len(), 1);
    let mut line = lines[0].as_object().unwrap().clone();
    assert_eq!(line["id"], event["id"]);
    assert_eq!(line["slug"], event["slug"]);
    assert_eq!(line["publication"], "published");
    assert_eq!(line["title"], event["title"]);
    assert_eq!(line["labs"], json!(["la-27e-region", "ti-lab"]));
    assert_eq!(line["sessions"].as_array().unwrap().len(), 2);
    assert_eq!(line["venue"]["latitude"], json!(48.1173));
    // Without its read-only keys, the line is an event form, as the import reads it.
    for key in ["id", "slug", "publication"] {
        line.remove(key);
    }
    let form: mip::events::model::EventForm = serde_json::from_value(Value::Object(line)).unwrap();
    assert_eq!(form.track.as_deref(), Some("agir-ensemble"));
}

/// The days since 1899-12-30: how a spreadsheet holds a date-time.
fn excel_serial(at: NaiveDateTime) -> f64 {
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30).unwrap().and_hms_opt(0, 0, 0).unwrap();
    (at - epoch).num_seconds() as f64 / 86_400.0
}

#[actix_web::test]
async fn the_xlsx_export_is_one_sheet_named_events_with_typed_cells() {
    let w = common::world().await;
    let event = rich_event(&w).await;
    w.publish(common::titled("=1+1")).await;
    let reply = w.app.get(XLSX).await;
    ok(&reply);
    assert_eq!(
        reply.header("content-type").as_deref(),
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    );
    assert_eq!(reply.header("content-disposition").as_deref(), Some("attachment; filename=\"events.xlsx\""));
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(reply.body.to_vec())).unwrap();
    assert_eq!(workbook.sheet_names(), vec!["events".to_string()]);
    let sheet = workbook.worksheet_range("events").unwrap();
    let header: Vec<String> = sheet.rows().next().unwrap().iter().map(|c| c.to_string()).collect();
    assert_eq!(header, mip::events::sheet::header());
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<&[Data]> = sheet.rows().skip(1).collect();
    assert_eq!(rows.len(), 2);
    let rich = rows.iter().find(|row| row[column("id")] == Data::String(event["id"].as_str().unwrap().into())).unwrap();
    assert_eq!(rich[column("title")], Data::String("Fabriquer un capteur de qualité de l'air".into()));
    assert_eq!(rich[column("edition")], Data::Float(2030.0));
    assert_eq!(rich[column("latitude")], Data::Float(48.1173));
    assert_eq!(rich[column("capacity")], Data::Float(20.0));
    assert_eq!(rich[column("registration_required")], Data::Bool(true));
    assert_eq!(rich[column("summary")], Data::String("Un atelier pour fabriquer et programmer son capteur.".into()));
    assert_eq!(rich[column("online_url")], Data::Empty);
    let Data::DateTime(starts_at) = &rich[column("starts_at")] else {
        panic!("starts_at is not a date-time: {:?}", rich[column("starts_at")]);
    };
    assert!(starts_at.is_datetime());
    let expected = days_from_now(15).and_hms_opt(14, 0, 0).unwrap();
    assert!((starts_at.as_f64() - excel_serial(expected)).abs() < 1e-6, "{} ≠ {expected}", starts_at.as_f64());
    // A string cell is never a formula: the text is kept as typed, without an apostrophe.
    assert!(rows.iter().any(|row| row[column("title")] == Data::String("=1+1".into())));
}

#[actix_web::test]
async fn exports_take_the_filters_of_the_events_list() {
    let w = common::world().await;
    let rennes = w.publish(common::titled("Atelier à Rennes")).await;
    let lille_venue = json!({"name": "Mairie", "address": "Place Augustin Laurent", "postal_code": "59000",
                             "city": "Lille", "department": "59"});
    let lille = w.publish(with(common::titled("Atelier à Lille"), json!({"venue": lille_venue}))).await;
    let rennes_id = rennes["id"].as_str().unwrap().to_string();
    assert_eq!(ndjson_ids(&w.app.get(&format!("{NDJSON}?region=53")).await), vec![rennes_id.clone()]);
    let (header, rows) = csv_rows(&w.app.get(&format!("{CSV}?region=53&delimiter=semicolon")).await, b';');
    assert_eq!(rows.len(), 1);
    assert_eq!(cells(&header, &rows[0])("id"), rennes_id);
    let lille_only = ndjson_ids(&w.app.get(&format!("{NDJSON}?department=59&q=atelier")).await);
    assert_eq!(lille_only, vec![lille["id"].as_str().unwrap().to_string()]);
    assert!(ndjson_ids(&w.app.get(&format!("{NDJSON}?edition=2031")).await).is_empty());
    // No event: the CSV is its header alone.
    let (header, rows) = csv_rows(&w.app.get(&format!("{CSV}?edition=2031")).await, b',');
    assert_eq!(header.len(), mip::events::sheet::COLUMNS.len());
    assert!(rows.is_empty());
}

#[actix_web::test]
async fn exports_show_each_caller_what_the_events_list_shows() {
    let w = common::world().await;
    let published = w.publish(common::titled("Publié")).await;
    let own_draft = w.create(common::titled("Brouillon de A")).await;
    let reply = w.app.post("/api/v1/events", Some(&w.other), common::titled("Brouillon de B")).await;
    assert_eq!(reply.status.as_u16(), 201);
    let other_draft = reply.json();
    let id = |event: &Value| event["id"].as_str().unwrap().to_string();
    let sorted = |mut ids: Vec<String>| {
        ids.sort();
        ids
    };

    assert_eq!(ndjson_ids(&w.app.get(NDJSON).await), vec![id(&published)]);
    let member = sorted(ndjson_ids(&w.app.get_as(NDJSON, &w.member).await));
    assert_eq!(member, sorted(vec![id(&published), id(&own_draft)]), "the member's drafts, not another's");
    let admin = sorted(ndjson_ids(&w.app.get_as(NDJSON, &w.admin).await));
    assert_eq!(admin, sorted(vec![id(&published), id(&own_draft), id(&other_draft)]));
    // The same rule in every format, and the same as `GET /events`.
    let (header, rows) = csv_rows(&w.app.get_as(CSV, &w.other).await, b',');
    let in_csv = sorted(rows.iter().map(|row| cells(&header, row)("id").to_string()).collect());
    assert_eq!(in_csv, sorted(vec![id(&published), id(&other_draft)]));
    let listed = w.app.get_as("/api/v1/events?limit=100", &w.other).await.json();
    let listed = sorted(listed["data"].as_array().unwrap().iter().map(id).collect());
    assert_eq!(in_csv, listed);
    let (_, drafts) = csv_rows(&w.app.get_as(&format!("{CSV}?publication=draft"), &w.admin).await, b',');
    assert_eq!(drafts.len(), 2);
}

#[actix_web::test]
async fn chunks_of_two_walk_five_events_once_each_in_order() {
    let w = common::world_with(|db| mip::config::Settings { export_chunk_rows: 2, ..common::settings(db) }).await;
    let mut created = Vec::new();
    for day in [13, 11, 15, 12, 14] {
        let event = w.create(on_day(&format!("Atelier du jour {day}"), days_from_now(day))).await;
        created.push((day, event["id"].as_str().unwrap().to_string()));
    }
    created.sort();
    let expected: Vec<String> = created.into_iter().map(|(_, id)| id).collect();

    assert_eq!(ndjson_ids(&w.app.get_as(NDJSON, &w.admin).await), expected);
    let (header, rows) = csv_rows(&w.app.get_as(CSV, &w.admin).await, b',');
    let in_csv: Vec<String> = rows.iter().map(|row| cells(&header, row)("id").to_string()).collect();
    assert_eq!(in_csv, expected);
    let reply = w.app.get_as(XLSX, &w.admin).await;
    ok(&reply);
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(reply.body.to_vec())).unwrap();
    let sheet = workbook.worksheet_range("events").unwrap();
    let in_xlsx: Vec<String> = sheet.rows().skip(1).map(|row| row[0].to_string()).collect();
    assert_eq!(in_xlsx, expected);
    // A chunk boundary on the last row: four events, two full chunks.
    let four = ndjson_ids(&w.app.get_as(&format!("{NDJSON}?to={}", days_from_now(14)), &w.admin).await);
    assert_eq!(four, expected[..4]);
}

#[actix_web::test]
async fn a_bad_parameter_is_a_400_problem_naming_it() {
    let w = common::world().await;
    for (query, field) in [
        ("region=99", "region"),
        ("format=Webinar", "format"),
        ("from=2021-11-15&to=2021-11-01", "to"),
        ("delimiter=tab", "delimiter"),
        ("regoin=53", "regoin"),
        ("limit=10", "limit"),
    ] {
        for path in [CSV, NDJSON, XLSX] {
            let fields = w.app.get(&format!("{path}?{query}")).await.problem_fields(400);
            assert_eq!(fields, vec![field.to_string()], "{path}?{query}");
        }
    }
}

#[actix_web::test]
async fn formula_looking_text_is_defused_in_the_csv() {
    let w = common::world().await;
    let event = w.publish(with(common::titled("=1+1"), json!({"summary": "@SUM(A1:A2)", "tags": ["-x"]}))).await;
    let (header, rows) = csv_rows(&w.app.get(CSV).await, b',');
    let cell = cells(&header, &rows[0]);
    assert_eq!(cell("id"), event["id"].as_str().unwrap());
    assert_eq!(cell("title"), "'=1+1");
    assert_eq!(cell("summary"), "'@SUM(A1:A2)");
    assert_eq!(cell("tags"), "'-x");
    // NDJSON is data, not a spreadsheet: kept as written.
    assert_eq!(ndjson_lines(&w.app.get(NDJSON).await)[0]["title"], "=1+1");
}

#[actix_web::test]
async fn forms_of_reads_the_same_forms_as_form_of_one_event_at_a_time() {
    use mip::events::model::EventRow;
    use mip::schema::events;
    let w = common::world().await;
    rich_event(&w).await;
    w.create(common::titled("Sans parcours ni lab")).await;
    w.create(with(
        common::titled("En ligne"),
        json!({"mode": "online", "venue": null, "online_url": "https://visio.example.fr/a"}),
    ))
    .await;
    let mut conn = w.app.db.conn();
    let rows: Vec<EventRow> = events::table.order(events::title).select(EventRow::as_select()).load(&mut conn).unwrap();
    assert_eq!(rows.len(), 3);
    let batched = mip::events::form::forms_of(&mut conn, &rows).unwrap();
    assert_eq!(batched.len(), rows.len());
    for (row, form) in rows.iter().zip(&batched) {
        let alone = mip::events::form::form_of(&mut conn, row).unwrap();
        assert_eq!(serde_json::to_value(form).unwrap(), serde_json::to_value(&alone).unwrap(), "{}", row.title);
    }
    assert!(batched.iter().any(|form| form.labs.len() == 2 && form.track.is_some() && form.sessions.len() == 2));
    assert!(mip::events::form::forms_of(&mut conn, &[]).unwrap().is_empty());
}

#[actix_web::test]
async fn a_failure_before_the_first_byte_is_a_problem_document() {
    let w = common::world_with(|db| mip::config::Settings { db_lock_timeout_ms: 200, ..common::settings(db) }).await;
    w.publish(common::titled("Atelier")).await;
    let mut holder = w.app.db.conn();
    diesel::sql_query("BEGIN").execute(&mut holder).unwrap();
    diesel::sql_query("LOCK TABLE events IN ACCESS EXCLUSIVE MODE").execute(&mut holder).unwrap();
    for path in [CSV, NDJSON, XLSX] {
        w.app.get(path).await.problem(503);
    }
    diesel::sql_query("ROLLBACK").execute(&mut holder).unwrap();
}

#[actix_web::test]
async fn a_failure_after_the_first_bytes_cuts_the_transfer_and_is_logged_with_the_request_id() {
    let logs = common::captured_logs();
    let w = common::world_with(|db| mip::config::Settings {
        export_chunk_rows: 2,
        db_lock_timeout_ms: 200,
        ..common::settings(db)
    })
    .await;
    for day in 11..=15 {
        w.create(on_day(&format!("Atelier du jour {day}"), days_from_now(day))).await;
    }
    let request = actix_web::test::TestRequest::get()
        .uri(CSV)
        .insert_header(("authorization", format!("Bearer {}", w.admin)))
        .insert_header(("x-request-id", "export-cut-5e1d"));
    let response = actix_web::test::call_service(&w.app.service, request.to_request()).await;
    assert_eq!(response.status().as_u16(), 200, "the first chunk was read before answering");
    // The next chunks need the sessions, which another transaction now holds.
    let mut holder = w.app.db.conn();
    diesel::sql_query("BEGIN").execute(&mut holder).unwrap();
    diesel::sql_query("LOCK TABLE event_sessions IN ACCESS EXCLUSIVE MODE").execute(&mut holder).unwrap();
    let body = actix_web::test::try_read_body(response).await;
    diesel::sql_query("ROLLBACK").execute(&mut holder).unwrap();
    assert!(body.is_err(), "the body ends with an error, not as a file that looks whole");
    let line = logs.text().lines().find(|line| line.contains("export cut short")).map(String::from);
    let line = line.expect("the cut was logged");
    assert!(line.contains("export-cut-5e1d"), "the line lacks its request id: {line}");
}
