//! Editions and their tracks: admins write, everyone reads; editions by year, tracks by slug.

use crate::common;

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use serde_json::{Value, json};

const EDITIONS: &str = "/api/v1/editions";

/// An edition whose dates sit around now: `(starts_on, ends_on)` as days from today, and the
/// referencing window as instants. Its year is the year it starts, its number derived from it.
fn edition_around(starts_in_days: i64, ends_in_days: i64, opens_at: DateTime<Utc>, closes_at: DateTime<Utc>) -> Value {
    let today = Utc::now().date_naive();
    let day = |offset: i64| -> NaiveDate {
        if offset >= 0 { today + Days::new(offset as u64) } else { today - Days::new(offset.unsigned_abs()) }
    };
    let starts_on = day(starts_in_days);
    json!({
        "year": starts_on.year(),
        "number": starts_on.year() - 2013,
        "title": "Édition de test",
        "starts_on": starts_on,
        "ends_on": day(ends_in_days),
        "referencing_opens_at": opens_at,
        "referencing_closes_at": closes_at,
    })
}

fn days(n: i64) -> chrono::Duration {
    chrono::Duration::days(n)
}

#[actix_web::test]
async fn admin_creates_an_edition_and_anyone_reads_it_by_year() {
    let app = common::spawn().await;
    let token = app.admin_token().await;

    let created = app.post(EDITIONS, Some(&token), common::edition_body(2030)).await;
    assert_eq!(created.status.as_u16(), 201, "{}", String::from_utf8_lossy(&created.body));
    assert_eq!(created.header("location").as_deref(), Some("/api/v1/editions/2030"));
    assert!(created.header("etag").is_some_and(|tag| tag.starts_with("\"v1")));
    let edition = created.json();
    assert_eq!(edition["year"], 2030);
    assert_eq!(edition["number"], 17);
    assert_eq!(edition["theme"], "La coproduction");
    assert_eq!(edition["starts_on"], "2030-11-02");
    assert_eq!(edition["ends_on"], "2030-11-30");
    assert_eq!(edition["tracks"], json!([]));
    assert_eq!(edition["version"], 1);

    let read = app.get("/api/v1/editions/2030").await;
    assert_eq!(read.status.as_u16(), 200);
    assert_eq!(read.json()["title"], "Mois de l'innovation publique 2030");
    assert_eq!(read.json()["referencing_opens_at"], edition["referencing_opens_at"]);
    assert_eq!(read.header("etag"), created.header("etag"));
    assert!(read.header("last-modified").is_some());

    let list = app.get(EDITIONS).await.json();
    assert_eq!(list["total"], 1);
    assert_eq!(list["data"][0]["year"], 2030);
    assert_eq!(list["next_cursor"], Value::Null);
}

#[actix_web::test]
async fn an_unknown_year_is_a_404_problem() {
    let app = common::spawn().await;
    app.get("/api/v1/editions/2031").await.problem(404);
    app.get("/api/v1/editions/2031/tracks").await.problem(404);
}

#[actix_web::test]
async fn lists_editions_newest_first_page_by_page() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    for year in [2027, 2029, 2028] {
        assert_eq!(app.post(EDITIONS, Some(&token), common::edition_body(year)).await.status.as_u16(), 201);
    }

    let first = app.get("/api/v1/editions?limit=2").await.json();
    assert_eq!(first["total"], 3);
    let years: Vec<_> = first["data"].as_array().unwrap().iter().map(|e| e["year"].clone()).collect();
    assert_eq!(years, vec![json!(2029), json!(2028)]);
    let cursor = first["next_cursor"].as_str().expect("a next page").to_string();

    let second = app.get(&format!("/api/v1/editions?limit=2&cursor={cursor}")).await.json();
    assert_eq!(second["total"], 3);
    let years: Vec<_> = second["data"].as_array().unwrap().iter().map(|e| e["year"].clone()).collect();
    assert_eq!(years, vec![json!(2027)]);
    assert_eq!(second["next_cursor"], Value::Null);
}

#[actix_web::test]
async fn rejects_ends_on_before_starts_on() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    let mut body = common::edition_body(2030);
    body["ends_on"] = json!("2030-11-01");
    let reply = app.post(EDITIONS, Some(&token), body).await;
    assert_eq!(reply.problem_fields(422), vec!["ends_on"]);
    assert_eq!(reply.json()["errors"][0]["code"], "before_start");
    app.get("/api/v1/editions/2030").await.problem(404);
}

#[actix_web::test]
async fn accepts_a_one_day_edition() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    let mut body = common::edition_body(2030);
    body["ends_on"] = body["starts_on"].clone();
    assert_eq!(app.post(EDITIONS, Some(&token), body).await.status.as_u16(), 201);
}

#[actix_web::test]
async fn rejects_referencing_closing_before_it_opens() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    let mut body = common::edition_body(2030);
    body["referencing_opens_at"] = json!("2030-10-01T00:00:00+02:00");
    body["referencing_closes_at"] = json!("2030-09-30T00:00:00+02:00");
    let reply = app.post(EDITIONS, Some(&token), body).await;
    assert_eq!(reply.problem_fields(422), vec!["referencing_closes_at"]);
    assert_eq!(reply.json()["errors"][0]["code"], "before_open");
}

#[actix_web::test]
async fn rejects_referencing_closing_when_it_opens() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    let mut body = common::edition_body(2030);
    body["referencing_closes_at"] = body["referencing_opens_at"].clone();
    let reply = app.post(EDITIONS, Some(&token), body).await;
    assert_eq!(reply.problem_fields(422), vec!["referencing_closes_at"]);
}

#[actix_web::test]
async fn rejects_referencing_closing_after_the_month() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    let mut body = common::edition_body(2030);
    // The month ends at midnight, Paris time, after 30 November: one second later is too late.
    body["referencing_closes_at"] = json!("2030-12-01T00:00:01+01:00");
    let reply = app.post(EDITIONS, Some(&token), body).await;
    assert_eq!(reply.problem_fields(422), vec!["referencing_closes_at"]);
    assert_eq!(reply.json()["errors"][0]["code"], "after_edition_end");
}

#[actix_web::test]
async fn referencing_may_close_on_the_last_day_of_the_month() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    let mut body = common::edition_body(2030);
    body["referencing_closes_at"] = json!("2030-11-30T23:59:59+01:00");
    let reply = app.post(EDITIONS, Some(&token), body).await;
    assert_eq!(reply.status.as_u16(), 201, "{}", String::from_utf8_lossy(&reply.body));
    assert_eq!(reply.json()["referencing_closes_at"], "2030-11-30T22:59:59Z");
}

#[actix_web::test]
async fn rejects_a_duplicate_year_with_a_409_naming_year() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    assert_eq!(app.post(EDITIONS, Some(&token), common::edition_body(2030)).await.status.as_u16(), 201);
    let mut again = common::edition_body(2030);
    again["number"] = json!(99);
    let reply = app.post(EDITIONS, Some(&token), again).await;
    assert_eq!(reply.problem_fields(409), vec!["year"]);
    assert_eq!(app.get("/api/v1/editions/2030").await.json()["number"], 17, "the first one is untouched");
}

#[actix_web::test]
async fn rejects_a_duplicate_number_with_a_409_naming_number() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    assert_eq!(app.post(EDITIONS, Some(&token), common::edition_body(2030)).await.status.as_u16(), 201);
    let mut other_year = common::edition_body(2031);
    other_year["number"] = json!(17);
    let reply = app.post(EDITIONS, Some(&token), other_year).await;
    assert_eq!(reply.problem_fields(409), vec!["number"]);
    app.get("/api/v1/editions/2031").await.problem(404);
}

#[actix_web::test]
async fn rejects_a_number_taken_by_another_edition_on_patch() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    for year in [2030, 2031] {
        assert_eq!(app.post(EDITIONS, Some(&token), common::edition_body(year)).await.status.as_u16(), 201);
    }
    let reply = app.patch("/api/v1/editions/2031", Some(&token), json!({"number": 17})).await;
    assert_eq!(reply.problem_fields(409), vec!["number"]);
}

#[actix_web::test]
async fn rejects_a_year_out_of_range() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    for year in [2013, 2101] {
        let mut body = common::edition_body(year);
        body["number"] = json!(1);
        let reply = app.post(EDITIONS, Some(&token), body).await;
        assert_eq!(reply.problem_fields(422), vec!["year"], "{year}");
    }
}

#[actix_web::test]
async fn phase_is_closed_once_the_month_is_over() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    let edition = app.post(EDITIONS, Some(&token), common::edition_body(2015)).await.json();
    assert_eq!(edition["phase"], "closed");
    assert_eq!(edition["referencing_open"], false);
}

#[actix_web::test]
async fn phase_is_running_during_the_month() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    let now = Utc::now();
    let body = edition_around(-2, 2, now - days(40), now - days(5));
    let edition = app.post(EDITIONS, Some(&token), body.clone()).await.json();
    assert_eq!(edition["phase"], "running");
    assert_eq!(edition["referencing_open"], false);
    let read = app.get(&format!("/api/v1/editions/{}", body["year"])).await.json();
    assert_eq!(read["phase"], "running");
}

#[actix_web::test]
async fn phase_is_running_while_late_referencing_is_still_open() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    let now = Utc::now();
    let edition = app.post(EDITIONS, Some(&token), edition_around(-2, 5, now - days(40), now + days(1))).await.json();
    assert_eq!(edition["phase"], "running");
    assert_eq!(edition["referencing_open"], true);
}

#[actix_web::test]
async fn phase_is_referencing_while_referencing_is_open_before_the_month() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    let now = Utc::now();
    let edition = app.post(EDITIONS, Some(&token), edition_around(10, 40, now - days(1), now + days(5))).await.json();
    assert_eq!(edition["phase"], "referencing");
    assert_eq!(edition["referencing_open"], true);
}

#[actix_web::test]
async fn phase_is_upcoming_before_referencing_opens() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    let now = Utc::now();
    let edition = app.post(EDITIONS, Some(&token), edition_around(20, 50, now + days(5), now + days(10))).await.json();
    assert_eq!(edition["phase"], "upcoming");
    assert_eq!(edition["referencing_open"], false);
}

#[actix_web::test]
async fn phase_is_upcoming_between_referencing_and_the_month() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    let now = Utc::now();
    let edition = app.post(EDITIONS, Some(&token), edition_around(5, 30, now - days(10), now - days(1))).await.json();
    assert_eq!(edition["phase"], "upcoming");
    assert_eq!(edition["referencing_open"], false);
}

#[actix_web::test]
async fn patch_with_a_stale_if_match_is_412_and_with_the_current_one_succeeds() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    let created = app.post(EDITIONS, Some(&token), common::edition_body(2030)).await;
    let first_etag = created.header("etag").unwrap();

    let changed = app
        .json_with("PATCH", "/api/v1/editions/2030", Some(&token), &[("if-match", &first_etag)], json!({"title": "A"}))
        .await;
    assert_eq!(changed.status.as_u16(), 200, "{}", String::from_utf8_lossy(&changed.body));
    assert_eq!(changed.json()["title"], "A");
    assert_eq!(changed.json()["version"], 2);
    let second_etag = changed.header("etag").unwrap();
    assert_ne!(second_etag, first_etag);

    let stale = app
        .json_with("PATCH", "/api/v1/editions/2030", Some(&token), &[("if-match", &first_etag)], json!({"title": "B"}))
        .await;
    stale.problem(412);
    assert_eq!(app.get("/api/v1/editions/2030").await.json()["title"], "A", "the stale write changed nothing");

    let current = app
        .json_with("PATCH", "/api/v1/editions/2030", Some(&token), &[("if-match", &second_etag)], json!({"title": "C"}))
        .await;
    assert_eq!(current.status.as_u16(), 200);
    assert_eq!(current.json()["title"], "C");
    assert_eq!(current.json()["version"], 3);
}

/// The version is checked against the row the write replaces: a PATCH that waits on a
/// concurrent change must not overwrite it.
#[actix_web::test]
async fn a_patch_racing_a_concurrent_write_is_refused_as_stale() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    let etag = app.post(EDITIONS, Some(&token), common::edition_body(2030)).await.header("etag").unwrap();

    let other_writer =
        common::concurrent_writer(&app.db.url, "UPDATE editions SET title = 'Changed elsewhere' WHERE year = 2030");
    let reply = app
        .json_with("PATCH", "/api/v1/editions/2030", Some(&token), &[("if-match", &etag)], json!({"title": "Mine"}))
        .await;
    other_writer.join().unwrap();

    reply.problem(412);
    assert_eq!(app.get("/api/v1/editions/2030").await.json()["title"], "Changed elsewhere");
}

#[actix_web::test]
async fn an_if_match_this_service_never_issued_is_412() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    app.post(EDITIONS, Some(&token), common::edition_body(2030)).await;
    let reply = app
        .json_with("PATCH", "/api/v1/editions/2030", Some(&token), &[("if-match", "\"abc\"")], json!({"title": "B"}))
        .await;
    reply.problem(412);
}

#[actix_web::test]
async fn get_with_the_current_etag_is_304_and_with_an_old_one_is_200() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    app.post(EDITIONS, Some(&token), common::edition_body(2030)).await;
    let read = app.get("/api/v1/editions/2030").await;
    let etag = read.header("etag").unwrap();

    let revalidated = app.get_with("/api/v1/editions/2030", &[("if-none-match", &etag)]).await;
    assert_eq!(revalidated.status.as_u16(), 304);
    assert!(revalidated.body.is_empty());
    assert_eq!(revalidated.header("etag").as_deref(), Some(etag.as_str()));

    app.patch("/api/v1/editions/2030", Some(&token), json!({"theme": "L'action publique"})).await;
    let changed = app.get_with("/api/v1/editions/2030", &[("if-none-match", &etag)]).await;
    assert_eq!(changed.status.as_u16(), 200);
    assert_eq!(changed.json()["theme"], "L'action publique");
}

/// The phase and `referencing_open` follow the clock while the row stays the same: a client's
/// cached copy must not be confirmed as current once the clock has moved them.
#[actix_web::test]
async fn conditional_gets_see_referencing_closing_during_the_month() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    let now = app.state.clock.now();
    let closes_at = now + chrono::Duration::hours(1);
    let body = edition_around(-2, 5, now - days(40), closes_at);
    let path = format!("/api/v1/editions/{}", body["year"]);
    assert_eq!(app.post(EDITIONS, Some(&token), body).await.status.as_u16(), 201);

    let before = app.get(&path).await;
    assert_eq!(before.json()["phase"], "running");
    assert_eq!(before.json()["referencing_open"], true);
    let etag = before.header("etag").unwrap();
    let last_modified = before.header("last-modified").unwrap();

    // The service's clock moves past the close (no sleep: the tests hold the clock).
    app.state.clock.advance(chrono::Duration::hours(2));

    let by_etag = app.get_with(&path, &[("if-none-match", &etag)]).await;
    assert_eq!(by_etag.status.as_u16(), 200, "the ETag must change when referencing closes");
    assert_eq!(by_etag.json()["phase"], "running");
    assert_eq!(by_etag.json()["referencing_open"], false);

    let by_date = app.get_with(&path, &[("if-modified-since", &last_modified)]).await;
    assert_eq!(by_date.status.as_u16(), 200, "Last-Modified must move when referencing closes");
    assert_eq!(by_date.json()["referencing_open"], false);
}

#[actix_web::test]
async fn patch_merged_dates_are_still_checked() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    app.post(EDITIONS, Some(&token), common::edition_body(2030)).await;
    let path = "/api/v1/editions/2030";

    let reply = app.patch(path, Some(&token), json!({"ends_on": "2030-11-01"})).await;
    assert_eq!(reply.problem_fields(422), vec!["ends_on"]);

    let reply = app.patch(path, Some(&token), json!({"referencing_opens_at": "2030-10-30T00:00:00+01:00"})).await;
    assert_eq!(reply.problem_fields(422), vec!["referencing_closes_at"]);

    // Moving the month earlier leaves referencing closing after it.
    let reply = app.patch(path, Some(&token), json!({"starts_on": "2030-10-01", "ends_on": "2030-10-15"})).await;
    assert_eq!(reply.problem_fields(422), vec!["referencing_closes_at"]);
    assert_eq!(reply.json()["errors"][0]["code"], "after_edition_end");

    let edition = app.get(path).await.json();
    assert_eq!(edition["ends_on"], "2030-11-30");
    assert_eq!(edition["starts_on"], "2030-11-02");
    assert_eq!(edition["version"], 1, "a refused patch changes nothing");

    // The same move is fine when the window moves with it.
    let reply = app
        .patch(
            path,
            Some(&token),
            json!({"starts_on": "2030-10-01", "ends_on": "2030-10-15", "referencing_closes_at": "2030-09-30T12:00:00Z"}),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", String::from_utf8_lossy(&reply.body));
    assert_eq!(reply.json()["ends_on"], "2030-10-15");
}

#[actix_web::test]
async fn patch_clears_nullable_fields_and_keeps_absent_ones() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    let mut body = common::edition_body(2030);
    body["description"] = json!("Un mois pour innover");
    app.post(EDITIONS, Some(&token), body).await;
    let edition = app.patch("/api/v1/editions/2030", Some(&token), json!({"theme": null})).await.json();
    assert_eq!(edition["theme"], Value::Null);
    assert_eq!(edition["description"], "Un mois pour innover");
    assert_eq!(edition["title"], "Mois de l'innovation publique 2030");
}

#[actix_web::test]
async fn an_empty_patch_changes_nothing() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    let created = app.post(EDITIONS, Some(&token), common::edition_body(2030)).await.json();
    let reply = app.patch("/api/v1/editions/2030", Some(&token), json!({})).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", String::from_utf8_lossy(&reply.body));
    let after = reply.json();
    assert_eq!(after["version"], 1);
    assert_eq!(after["updated_at"], created["updated_at"]);
    assert_eq!(after, app.get("/api/v1/editions/2030").await.json());
}

#[actix_web::test]
async fn patching_a_missing_edition_is_404() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    app.patch("/api/v1/editions/2030", Some(&token), json!({"title": "Nope"})).await.problem(404);
    app.delete("/api/v1/editions/2030", Some(&token)).await.problem(404);
}

#[actix_web::test]
async fn deleting_an_edition_removes_it_and_its_tracks() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    app.post(EDITIONS, Some(&token), common::edition_body(2030)).await;
    app.post("/api/v1/editions/2030/tracks", Some(&token), json!({"name": "Agir ensemble"})).await;

    let deleted = app.delete("/api/v1/editions/2030", Some(&token)).await;
    assert_eq!(deleted.status.as_u16(), 204);
    assert!(deleted.body.is_empty());
    app.get("/api/v1/editions/2030").await.problem(404);
    app.get("/api/v1/editions/2030/tracks/agir-ensemble").await.problem(404);
    assert_eq!(app.get(EDITIONS).await.json()["total"], 0);

    // The year is free again, tracks and all.
    assert_eq!(app.post(EDITIONS, Some(&token), common::edition_body(2030)).await.json()["tracks"], json!([]));
}

#[actix_web::test]
async fn admin_manages_tracks_by_slug() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    app.post(EDITIONS, Some(&token), common::edition_body(2030)).await;
    let tracks = "/api/v1/editions/2030/tracks";

    let created = app
        .post(
            tracks,
            Some(&token),
            json!({"slug": "numerique", "name": "Numérique", "description": "Outils", "position": 2}),
        )
        .await;
    assert_eq!(created.status.as_u16(), 201, "{}", String::from_utf8_lossy(&created.body));
    assert_eq!(created.json()["slug"], "numerique");
    assert_eq!(created.json()["position"], 2);
    let named = app.post(tracks, Some(&token), json!({"name": "L'expérience usager", "position": 1})).await;
    assert_eq!(named.json()["slug"], "l-experience-usager", "a slug is made from the name");

    let listed = app.get(tracks).await.json();
    let slugs: Vec<_> = listed["data"].as_array().unwrap().iter().map(|t| t["slug"].clone()).collect();
    assert_eq!(listed["total"], 2);
    assert_eq!(slugs, vec![json!("l-experience-usager"), json!("numerique")], "in programme order");
    let edition = app.get("/api/v1/editions/2030").await.json();
    assert_eq!(edition["tracks"].as_array().unwrap().len(), 2);
    assert_eq!(edition["tracks"][0]["slug"], "l-experience-usager");

    let one = app.get(&format!("{tracks}/numerique")).await;
    assert_eq!(one.json()["description"], "Outils");
    let etag = one.header("etag").unwrap();

    let renamed = app
        .json_with(
            "PATCH",
            &format!("{tracks}/numerique"),
            Some(&token),
            &[("if-match", &etag)],
            json!({"slug": "outils-numeriques", "name": "Outils numériques", "description": null, "position": 0}),
        )
        .await;
    assert_eq!(renamed.status.as_u16(), 200, "{}", String::from_utf8_lossy(&renamed.body));
    assert_eq!(renamed.json()["description"], Value::Null);
    assert_eq!(renamed.json()["version"], 2);
    app.get(&format!("{tracks}/numerique")).await.problem(404);
    assert_eq!(app.get(&format!("{tracks}/outils-numeriques")).await.json()["name"], "Outils numériques");

    let stale = app
        .json_with("PATCH", &format!("{tracks}/outils-numeriques"), Some(&token), &[("if-match", &etag)], json!({}))
        .await;
    stale.problem(412);

    assert_eq!(app.delete(&format!("{tracks}/outils-numeriques"), Some(&token)).await.status.as_u16(), 204);
    app.get(&format!("{tracks}/outils-numeriques")).await.problem(404);
    app.delete(&format!("{tracks}/outils-numeriques"), Some(&token)).await.problem(404);
    assert_eq!(app.get(tracks).await.json()["data"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn rejects_a_duplicate_track_slug_in_an_edition_with_a_409() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    for year in [2030, 2031] {
        app.post(EDITIONS, Some(&token), common::edition_body(year)).await;
    }
    let track = json!({"slug": "agir", "name": "Agir"});
    assert_eq!(app.post("/api/v1/editions/2030/tracks", Some(&token), track.clone()).await.status.as_u16(), 201);

    let reply = app.post("/api/v1/editions/2030/tracks", Some(&token), json!({"slug": "agir", "name": "Autre"})).await;
    assert_eq!(reply.problem_fields(409), vec!["slug"]);

    let elsewhere = app.post("/api/v1/editions/2031/tracks", Some(&token), track).await;
    assert_eq!(elsewhere.status.as_u16(), 201, "the same slug is fine in another edition");

    app.post("/api/v1/editions/2030/tracks", Some(&token), json!({"slug": "autre", "name": "Autre"})).await;
    let renamed = app.patch("/api/v1/editions/2030/tracks/autre", Some(&token), json!({"slug": "agir"})).await;
    assert_eq!(renamed.problem_fields(409), vec!["slug"]);
}

#[actix_web::test]
async fn rejects_a_malformed_track_slug() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    app.post(EDITIONS, Some(&token), common::edition_body(2030)).await;
    let reply =
        app.post("/api/v1/editions/2030/tracks", Some(&token), json!({"slug": "Agir Ensemble", "name": "A"})).await;
    assert_eq!(reply.problem_fields(422), vec!["slug"]);
}

#[actix_web::test]
async fn a_track_in_a_missing_edition_is_404() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    app.post("/api/v1/editions/2030/tracks", Some(&token), json!({"name": "Agir"})).await.problem(404);
    app.get("/api/v1/editions/2030/tracks/agir").await.problem(404);
}

#[actix_web::test]
async fn changing_a_track_changes_the_edition_etag() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    app.post(EDITIONS, Some(&token), common::edition_body(2030)).await;
    let etag = app.get("/api/v1/editions/2030").await.header("etag").unwrap();
    app.post("/api/v1/editions/2030/tracks", Some(&token), json!({"name": "Agir"})).await;

    let reply = app.get_with("/api/v1/editions/2030", &[("if-none-match", &etag)]).await;
    assert_eq!(reply.status.as_u16(), 200, "a cached edition without the new track is stale");
    assert_eq!(reply.json()["tracks"][0]["slug"], "agir");
    let stale = app
        .json_with("PATCH", "/api/v1/editions/2030", Some(&token), &[("if-match", &etag)], json!({"title": "T"}))
        .await;
    stale.problem(412);
}

/// Every edition and track write, with a body where it takes one.
fn writes() -> Vec<(&'static str, &'static str, Option<Value>)> {
    vec![
        ("POST", EDITIONS, Some(common::edition_body(2031))),
        ("PATCH", "/api/v1/editions/2030", Some(json!({"title": "Pris"}))),
        ("DELETE", "/api/v1/editions/2030", None),
        ("POST", "/api/v1/editions/2030/tracks", Some(json!({"name": "Nouveau"}))),
        ("PATCH", "/api/v1/editions/2030/tracks/agir", Some(json!({"name": "Pris"}))),
        ("DELETE", "/api/v1/editions/2030/tracks/agir", None),
    ]
}

#[actix_web::test]
async fn anonymous_writes_are_401_problems() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    app.post(EDITIONS, Some(&token), common::edition_body(2030)).await;
    app.post("/api/v1/editions/2030/tracks", Some(&token), json!({"name": "Agir"})).await;

    for (method, path, body) in writes() {
        let reply = match body {
            Some(body) => app.json(method, path, None, body).await,
            None => app.delete(path, None).await,
        };
        reply.problem(401);
        assert_eq!(reply.header("www-authenticate").as_deref(), Some("Bearer"), "{method} {path}");
    }
    let edition = app.get("/api/v1/editions/2030").await.json();
    assert_eq!(edition["version"], 2, "only the track creation touched it");
    assert_eq!(edition["tracks"][0]["name"], "Agir");
    app.get("/api/v1/editions/2031").await.problem(404);
}

#[actix_web::test]
async fn organizer_writes_are_403_problems() {
    let app = common::spawn().await;
    let admin = app.admin_token().await;
    app.post(EDITIONS, Some(&admin), common::edition_body(2030)).await;
    app.post("/api/v1/editions/2030/tracks", Some(&admin), json!({"name": "Agir"})).await;
    let organizer = app.organizer_token().await;

    for (method, path, body) in writes() {
        let reply = match body {
            Some(body) => app.json(method, path, Some(&organizer), body).await,
            None => app.delete(path, Some(&organizer)).await,
        };
        reply.problem(403);
    }
    assert_eq!(app.get("/api/v1/editions/2030/tracks/agir").await.json()["name"], "Agir");
    app.get("/api/v1/editions/2031").await.problem(404);
    // Reading is for everyone, organizers included.
    assert_eq!(app.get_as("/api/v1/editions/2030", &organizer).await.json()["year"], 2030);
}

#[actix_web::test]
async fn deleting_an_edition_or_a_track_needs_its_current_etag() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    app.post(EDITIONS, Some(&token), common::edition_body(2030)).await;
    let track = json!({"slug": "agents", "name": "Agents", "position": 1});
    app.post("/api/v1/editions/2030/tracks", Some(&token), track).await;
    for path in ["/api/v1/editions/2030/tracks/agents", "/api/v1/editions/2030"] {
        app.json_with("DELETE", path, Some(&token), &[], json!(null)).await.problem(428);
        app.json_with("DELETE", path, Some(&token), &[("if-match", "\"v99\"")], json!(null)).await.problem(412);
        assert_eq!(app.delete(path, Some(&token)).await.status.as_u16(), 204, "{path}");
        app.get(path).await.problem(404);
    }
}

#[actix_web::test]
async fn an_edition_dated_beyond_what_a_calendar_holds_is_refused_not_a_crash() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    let mut body = common::edition_body(2030);
    body["ends_on"] = json!("+262142-12-31");
    assert_eq!(app.post(EDITIONS, Some(&token), body).await.status.as_u16() / 100, 4);
    let mut body = common::edition_body(2030);
    body["ends_on"] = json!("9999-12-31");
    assert_eq!(app.post(EDITIONS, Some(&token), body).await.problem_fields(422), vec!["ends_on"]);
    app.post(EDITIONS, Some(&token), common::edition_body(2030)).await;
    let reply = app.patch("/api/v1/editions/2030", Some(&token), json!({"ends_on": "9999-12-31"})).await;
    assert_eq!(reply.problem_fields(422), vec!["ends_on"]);
}
