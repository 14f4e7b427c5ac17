//! Territorial innovation labs: admins write, everyone reads, by slug; yearly figures.

use crate::common;

use std::collections::HashSet;

use chrono::{Datelike, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};

const LABS: &str = "/api/v1/labs";

fn slugs(page: &Value) -> Vec<String> {
    page["data"].as_array().unwrap().iter().map(|lab| lab["slug"].as_str().unwrap().to_string()).collect()
}

#[actix_web::test]
async fn admin_creates_a_lab_and_anyone_reads_it_by_slug() {
    let app = common::spawn().await;
    let token = app.admin_token().await;

    let created = app.post(LABS, Some(&token), common::lab_body("ti-lab", "53")).await;
    assert_eq!(created.status.as_u16(), 201, "{}", String::from_utf8_lossy(&created.body));
    assert_eq!(created.header("location").as_deref(), Some("/api/v1/labs/ti-lab"));
    assert_eq!(created.header("etag").as_deref(), Some("\"v1\""));
    let lab = created.json();
    assert_eq!(lab["region"], json!({"code": "53", "name": "Bretagne"}));
    assert_eq!(lab["website"], "https://ti-lab.example.fr");
    assert_eq!(lab["founded_year"], 2017);
    assert_eq!(lab["active"], true, "active unless said otherwise");
    assert_eq!(lab["figures"], json!([]));
    assert_eq!(lab["organizer_id"], Value::Null);

    let read = app.get("/api/v1/labs/ti-lab").await;
    assert_eq!(read.status.as_u16(), 200);
    assert_eq!(read.json(), lab);
    app.get("/api/v1/labs/no-such-lab").await.problem(404);
}

#[actix_web::test]
async fn a_lab_without_a_slug_gets_one_from_its_name() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    let lab = app
        .post(LABS, Some(&token), json!({"name": "Lab'Innov Pays de la Loire", "region": "52", "active": false}))
        .await
        .json();
    assert_eq!(lab["slug"], "lab-innov-pays-de-la-loire");
    assert_eq!(lab["region"]["name"], "Pays de la Loire");
    assert_eq!(lab["active"], false);
}

#[actix_web::test]
async fn rejects_an_unknown_region_naming_region() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    let reply = app.post(LABS, Some(&token), common::lab_body("ti-lab", "99")).await;
    assert_eq!(reply.problem_fields(422), vec!["region"]);
    assert_eq!(reply.json()["errors"][0]["code"], "unknown_region");
    // A department code is not a region code.
    let reply = app.post(LABS, Some(&token), common::lab_body("ti-lab", "35")).await;
    assert_eq!(reply.problem_fields(422), vec!["region"]);

    app.post(LABS, Some(&token), common::lab_body("ti-lab", "53")).await;
    let reply = app.patch("/api/v1/labs/ti-lab", Some(&token), json!({"region": "99"})).await;
    assert_eq!(reply.problem_fields(422), vec!["region"]);
    assert_eq!(app.get("/api/v1/labs/ti-lab").await.json()["region"]["code"], "53");
}

#[actix_web::test]
async fn rejects_a_founded_year_in_the_future() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    let next_year = Utc::now().year() + 1;
    let mut body = common::lab_body("ti-lab", "53");
    body["founded_year"] = json!(next_year);
    let reply = app.post(LABS, Some(&token), body.clone()).await;
    assert_eq!(reply.problem_fields(422), vec!["founded_year"]);

    body["founded_year"] = json!(Utc::now().year());
    assert_eq!(app.post(LABS, Some(&token), body).await.status.as_u16(), 201, "this year is fine");
    let reply = app.patch("/api/v1/labs/ti-lab", Some(&token), json!({"founded_year": next_year})).await;
    assert_eq!(reply.problem_fields(422), vec!["founded_year"]);
}

#[actix_web::test]
async fn rejects_a_founded_year_before_1990() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    let mut body = common::lab_body("ti-lab", "53");
    body["founded_year"] = json!(1989);
    assert_eq!(app.post(LABS, Some(&token), body).await.problem_fields(422), vec!["founded_year"]);
}

#[actix_web::test]
async fn rejects_a_non_http_website_naming_website() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    for website in ["ftp://ti-lab.example.fr", "javascript:alert(1)", "ti-lab.example.fr", "/relative"] {
        let mut body = common::lab_body("ti-lab", "53");
        body["website"] = json!(website);
        let reply = app.post(LABS, Some(&token), body).await;
        assert_eq!(reply.problem_fields(422), vec!["website"], "{website}");
    }

    app.post(LABS, Some(&token), common::lab_body("ti-lab", "53")).await;
    let reply = app.patch("/api/v1/labs/ti-lab", Some(&token), json!({"website": "file:///etc/passwd"})).await;
    assert_eq!(reply.problem_fields(422), vec!["website"]);
    let cleared = app.patch("/api/v1/labs/ti-lab", Some(&token), json!({"website": null})).await.json();
    assert_eq!(cleared["website"], Value::Null);
}

#[actix_web::test]
async fn rejects_a_duplicate_slug_with_a_409() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    assert_eq!(app.post(LABS, Some(&token), common::lab_body("ti-lab", "53")).await.status.as_u16(), 201);
    let reply = app.post(LABS, Some(&token), common::lab_body("ti-lab", "52")).await;
    assert_eq!(reply.problem_fields(409), vec!["slug"]);
    assert_eq!(app.get("/api/v1/labs/ti-lab").await.json()["region"]["code"], "53");

    app.post(LABS, Some(&token), common::lab_body("la-27e-region", "11")).await;
    let reply = app.patch("/api/v1/labs/la-27e-region", Some(&token), json!({"slug": "ti-lab"})).await;
    assert_eq!(reply.problem_fields(409), vec!["slug"]);
}

#[actix_web::test]
async fn rejects_an_unknown_organizer_id() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    let mut body = common::lab_body("ti-lab", "53");
    body["organizer_id"] = json!(uuid::Uuid::now_v7());
    let reply = app.post(LABS, Some(&token), body.clone()).await;
    assert_eq!(reply.problem_fields(422), vec!["organizer_id"]);

    let organizer = app.create_organizer("Ti Lab");
    body["organizer_id"] = json!(organizer);
    let lab = app.post(LABS, Some(&token), body).await.json();
    assert_eq!(lab["organizer_id"], json!(organizer));

    let reply = app.patch("/api/v1/labs/ti-lab", Some(&token), json!({"organizer_id": uuid::Uuid::now_v7()})).await;
    assert_eq!(reply.problem_fields(422), vec!["organizer_id"]);
    let unlinked = app.patch("/api/v1/labs/ti-lab", Some(&token), json!({"organizer_id": null})).await.json();
    assert_eq!(unlinked["organizer_id"], Value::Null);
}

#[actix_web::test]
async fn patch_changes_what_it_names_and_keeps_the_rest() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    app.post(LABS, Some(&token), common::lab_body("ti-lab", "53")).await;

    let reply = app
        .patch(
            "/api/v1/labs/ti-lab",
            Some(&token),
            json!({"slug": "ti-lab-bretagne", "region": "52", "host": null, "active": false}),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", String::from_utf8_lossy(&reply.body));
    let lab = reply.json();
    assert_eq!(lab["slug"], "ti-lab-bretagne");
    assert_eq!(lab["region"], json!({"code": "52", "name": "Pays de la Loire"}));
    assert_eq!(lab["host"], Value::Null);
    assert_eq!(lab["active"], false);
    assert_eq!(lab["website"], "https://ti-lab.example.fr");
    assert_eq!(lab["version"], 2);
    app.get("/api/v1/labs/ti-lab").await.problem(404);

    let unchanged = app.patch("/api/v1/labs/ti-lab-bretagne", Some(&token), json!({})).await.json();
    assert_eq!(unchanged, lab, "an empty patch changes nothing");
}

#[actix_web::test]
async fn patch_with_a_stale_if_match_is_412_and_with_the_current_one_succeeds() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    let first = app.post(LABS, Some(&token), common::lab_body("ti-lab", "53")).await.header("etag").unwrap();
    let path = "/api/v1/labs/ti-lab";

    let changed = app.json_with("PATCH", path, Some(&token), &[("if-match", &first)], json!({"name": "A"})).await;
    assert_eq!(changed.status.as_u16(), 200);
    let second = changed.header("etag").unwrap();
    assert_eq!(second, "\"v2\"");

    app.json_with("PATCH", path, Some(&token), &[("if-match", &first)], json!({"name": "B"})).await.problem(412);
    assert_eq!(app.get(path).await.json()["name"], "A");
    let current = app.json_with("PATCH", path, Some(&token), &[("if-match", &second)], json!({"name": "C"})).await;
    assert_eq!(current.json()["name"], "C");
}

/// If-Match is checked against the version the write replaces, not one read before another
/// writer committed: a PATCH that waits on a concurrent change must not overwrite it.
#[actix_web::test]
async fn a_patch_racing_a_concurrent_write_is_refused_as_stale() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    let etag = app.post(LABS, Some(&token), common::lab_body("ti-lab", "53")).await.header("etag").unwrap();

    let other_writer =
        common::concurrent_writer(&app.db.url, "UPDATE labs SET name = 'Changed elsewhere' WHERE slug = 'ti-lab'");
    let reply = app
        .json_with("PATCH", "/api/v1/labs/ti-lab", Some(&token), &[("if-match", &etag)], json!({"name": "Mine"}))
        .await;
    other_writer.join().unwrap();

    reply.problem(412);
    assert_eq!(app.get("/api/v1/labs/ti-lab").await.json()["name"], "Changed elsewhere");
}

#[actix_web::test]
async fn get_with_the_current_etag_is_304() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    app.post(LABS, Some(&token), common::lab_body("ti-lab", "53")).await;
    let etag = app.get("/api/v1/labs/ti-lab").await.header("etag").unwrap();
    let reply = app.get_with("/api/v1/labs/ti-lab", &[("if-none-match", &etag)]).await;
    assert_eq!(reply.status.as_u16(), 304);
    assert!(reply.body.is_empty());

    app.put("/api/v1/labs/ti-lab/figures/2024", Some(&token), json!({"projects_led": 3})).await;
    let reply = app.get_with("/api/v1/labs/ti-lab", &[("if-none-match", &etag)]).await;
    assert_eq!(reply.status.as_u16(), 200, "new figures make the cached copy stale");
}

#[actix_web::test]
async fn figures_are_set_replaced_and_removed_per_year() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    app.post(LABS, Some(&token), common::lab_body("ti-lab", "53")).await;
    let figures = |year: i32| format!("/api/v1/labs/ti-lab/figures/{year}");

    let reply = app
        .put(&figures(2024), Some(&token), json!({"projects_led": 4, "projects_supported": 12, "trainings": 7}))
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", String::from_utf8_lossy(&reply.body));
    assert_eq!(
        reply.json()["figures"],
        json!([{"year": 2024, "projects_led": 4, "projects_supported": 12, "trainings": 7}])
    );
    assert_eq!(reply.json()["version"], 2, "figures are part of the lab");

    app.put(&figures(2023), Some(&token), json!({"projects_led": 2})).await;
    // A PUT replaces the year: what it leaves out is cleared.
    let lab = app.put(&figures(2024), Some(&token), json!({"trainings": 9})).await.json();
    assert_eq!(
        lab["figures"],
        json!([
            {"year": 2023, "projects_led": 2, "projects_supported": null, "trainings": null},
            {"year": 2024, "projects_led": null, "projects_supported": null, "trainings": 9},
        ])
    );
    assert_eq!(app.get("/api/v1/labs/ti-lab").await.json()["figures"], lab["figures"]);

    let deleted = app.delete(&figures(2023), Some(&token)).await;
    assert_eq!(deleted.status.as_u16(), 204);
    app.delete(&figures(2023), Some(&token)).await.problem(404);
    let lab = app.get("/api/v1/labs/ti-lab").await.json();
    assert_eq!(lab["figures"].as_array().unwrap().len(), 1);
    assert_eq!(lab["figures"][0]["year"], 2024);

    app.put("/api/v1/labs/no-such-lab/figures/2024", Some(&token), json!({"trainings": 1})).await.problem(404);
}

#[actix_web::test]
async fn put_figures_honours_if_match() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    let first = app.post(LABS, Some(&token), common::lab_body("ti-lab", "53")).await.header("etag").unwrap();
    let path = "/api/v1/labs/ti-lab/figures/2024";

    let reply = app.json_with("PUT", path, Some(&token), &[("if-match", &first)], json!({"trainings": 1})).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", String::from_utf8_lossy(&reply.body));
    let second = reply.header("etag").unwrap();
    assert_ne!(second, first);

    app.json_with("PUT", path, Some(&token), &[("if-match", &first)], json!({"trainings": 2})).await.problem(412);
    assert_eq!(app.get("/api/v1/labs/ti-lab").await.json()["figures"][0]["trainings"], 1);

    let reply = app.json_with("PUT", path, Some(&token), &[("if-match", &second)], json!({"trainings": 3})).await;
    assert_eq!(reply.json()["figures"][0]["trainings"], 3);
}

#[actix_web::test]
async fn rejects_negative_figures_and_years_out_of_range() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    app.post(LABS, Some(&token), common::lab_body("ti-lab", "53")).await;
    let reply = app.put("/api/v1/labs/ti-lab/figures/2024", Some(&token), json!({"projects_led": -1})).await;
    assert_eq!(reply.problem_fields(422), vec!["projects_led"]);
    let reply = app.put("/api/v1/labs/ti-lab/figures/2013", Some(&token), json!({"projects_led": 1})).await;
    assert_eq!(reply.problem_fields(400), vec!["year"]);
    assert_eq!(app.get("/api/v1/labs/ti-lab").await.json()["figures"], json!([]));
}

#[actix_web::test]
async fn filters_labs_by_several_regions() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    for (slug, region) in [("ti-lab", "53"), ("lab-ouest", "53"), ("labo-loire", "52"), ("la-27e-region", "11")] {
        app.post(LABS, Some(&token), common::lab_body(slug, region)).await;
    }

    let both = app.get("/api/v1/labs?region=53,52").await.json();
    assert_eq!(slugs(&both), vec!["lab-ouest", "labo-loire", "ti-lab"]);
    assert_eq!(both["total"], 3);
    let one = app.get("/api/v1/labs?region=11").await.json();
    assert_eq!(slugs(&one), vec!["la-27e-region"]);
    assert_eq!(one["data"][0]["region"], json!({"code": "11", "name": "Île-de-France"}));
    assert_eq!(app.get("/api/v1/labs").await.json()["total"], 4);
}

#[actix_web::test]
async fn an_unknown_region_filter_is_a_400_naming_region() {
    let app = common::spawn().await;
    assert_eq!(app.get("/api/v1/labs?region=53,99").await.problem_fields(400), vec!["region"]);
}

#[actix_web::test]
async fn filters_labs_by_activity() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    for (slug, active) in [("ti-lab", true), ("lab-dormant", false), ("labo-loire", true)] {
        let mut body = common::lab_body(slug, "53");
        body["active"] = json!(active);
        app.post(LABS, Some(&token), body).await;
    }
    let active = app.get("/api/v1/labs?active=true").await.json();
    assert_eq!(slugs(&active), vec!["labo-loire", "ti-lab"]);
    assert_eq!(active["total"], 2);
    let inactive = app.get("/api/v1/labs?active=false&region=53").await.json();
    assert_eq!(slugs(&inactive), vec!["lab-dormant"]);
    assert_eq!(inactive["total"], 1);
}

#[actix_web::test]
async fn paginates_labs_with_limit_and_cursor() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    let regions = ["53", "52", "11", "53", "52", "84", "53"];
    for (index, region) in regions.iter().enumerate() {
        app.post(LABS, Some(&token), common::lab_body(&format!("lab-{index}"), region)).await;
    }

    let walk = |query: &'static str| {
        let app = &app;
        async move {
            let mut seen = Vec::new();
            let mut cursor: Option<String> = None;
            let mut pages = 0;
            loop {
                let path = match &cursor {
                    Some(cursor) => format!("/api/v1/labs?{query}&cursor={cursor}"),
                    None => format!("/api/v1/labs?{query}"),
                };
                let page = app.get(&path).await.json();
                pages += 1;
                seen.push((slugs(&page), page["total"].clone()));
                match page["next_cursor"].as_str() {
                    Some(next) => cursor = Some(next.to_string()),
                    None => break,
                }
                assert!(pages < 20, "pagination does not end");
            }
            seen
        }
    };

    let pages = walk("limit=3").await;
    assert_eq!(pages.len(), 3);
    assert!(pages.iter().all(|(page, total)| page.len() <= 3 && *total == 7));
    let all: Vec<String> = pages.into_iter().flat_map(|(page, _)| page).collect();
    assert_eq!(all.len(), 7);
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), 7, "no lab twice: {all:?}");

    let pages = walk("limit=2&region=53,52").await;
    assert_eq!(pages.len(), 3);
    assert!(pages.iter().all(|(_, total)| *total == 5));
    let all: Vec<String> = pages.into_iter().flat_map(|(page, _)| page).collect();
    assert_eq!(all, vec!["lab-0", "lab-1", "lab-3", "lab-4", "lab-6"]);
}

#[actix_web::test]
async fn a_cursor_from_another_list_is_a_400() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    for year in [2027, 2028] {
        app.post("/api/v1/editions", Some(&token), common::edition_body(year)).await;
    }
    let cursor = app.get("/api/v1/editions?limit=1").await.json()["next_cursor"].as_str().unwrap().to_string();
    assert_eq!(app.get(&format!("/api/v1/labs?cursor={cursor}")).await.problem_fields(400), vec!["cursor"]);
}

#[actix_web::test]
async fn a_lab_that_events_refer_to_is_not_deleted() {
    let w = common::world().await;
    w.app.post(LABS, Some(&w.admin), common::lab_body("ti-lab", "53")).await;
    w.app.post(LABS, Some(&w.admin), common::lab_body("siilab", "32")).await;
    let event = w.create(common::with(common::event_body(), json!({"labs": ["ti-lab"]}))).await;
    let version = event["version"].clone();

    let refused = w.app.delete("/api/v1/labs/ti-lab", Some(&w.admin)).await.problem(409);
    assert_eq!(refused["errors"][0]["field"], "labs");
    assert_eq!(refused["errors"][0]["code"], "in_use");
    assert!(refused["detail"].as_str().unwrap().contains("1 event"), "{refused}");
    let kept = w.app.get_as(&common::path_of(&event), &w.member).await.json();
    assert_eq!(kept["labs"], json!([{"slug": "ti-lab", "name": "Lab ti-lab"}]));
    assert_eq!(kept["version"], version);
    assert_eq!(w.app.get("/api/v1/labs/ti-lab").await.status.as_u16(), 200);
    // The database refuses it too (`ON DELETE RESTRICT`), and its refusal reads the same.
    let by_the_database = diesel::delete(mip::schema::labs::table.filter(mip::schema::labs::slug.eq("ti-lab")))
        .execute(&mut w.app.db.conn())
        .unwrap_err();
    match mip::error::ApiError::from(by_the_database) {
        mip::error::ApiError::Conflict { errors, .. } => {
            assert_eq!((errors[0].field.as_str(), errors[0].code.as_str()), ("labs", "in_use"))
        }
        other => panic!("{other:?}"),
    }

    // A lab no event refers to goes, at the version read (`If-Match`, as every versioned write).
    w.app.json_with("DELETE", "/api/v1/labs/siilab", Some(&w.admin), &[], json!(null)).await.problem(428);
    assert_eq!(w.app.delete("/api/v1/labs/siilab", Some(&w.admin)).await.status.as_u16(), 204);
    w.app.get("/api/v1/labs/siilab").await.problem(404);
}

#[actix_web::test]
async fn deleting_a_lab_removes_it_and_its_figures() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    app.post(LABS, Some(&token), common::lab_body("ti-lab", "53")).await;
    app.put("/api/v1/labs/ti-lab/figures/2024", Some(&token), json!({"trainings": 1})).await;

    let deleted = app.delete("/api/v1/labs/ti-lab", Some(&token)).await;
    assert_eq!(deleted.status.as_u16(), 204);
    app.get("/api/v1/labs/ti-lab").await.problem(404);
    app.delete("/api/v1/labs/ti-lab", Some(&token)).await.problem(404);
    assert_eq!(app.get(LABS).await.json()["total"], 0);
    let figures: i64 = mip::schema::lab_figures::table.count().get_result(&mut app.db.conn()).unwrap();
    assert_eq!(figures, 0);
}

/// Every lab write, with a body where it takes one.
fn writes() -> Vec<(&'static str, &'static str, Option<Value>)> {
    vec![
        ("POST", LABS, Some(common::lab_body("autre-lab", "52"))),
        ("PATCH", "/api/v1/labs/ti-lab", Some(json!({"name": "Pris"}))),
        ("DELETE", "/api/v1/labs/ti-lab", None),
        ("PUT", "/api/v1/labs/ti-lab/figures/2025", Some(json!({"trainings": 1}))),
        ("DELETE", "/api/v1/labs/ti-lab/figures/2024", None),
    ]
}

#[actix_web::test]
async fn anonymous_writes_are_401_problems() {
    let app = common::spawn().await;
    let token = app.admin_token().await;
    app.post(LABS, Some(&token), common::lab_body("ti-lab", "53")).await;
    app.put("/api/v1/labs/ti-lab/figures/2024", Some(&token), json!({"trainings": 1})).await;
    let before = app.get("/api/v1/labs/ti-lab").await.json();

    for (method, path, body) in writes() {
        let reply = match body {
            Some(body) => app.json(method, path, None, body).await,
            None => app.delete(path, None).await,
        };
        reply.problem(401);
        assert_eq!(reply.header("www-authenticate").as_deref(), Some("Bearer"), "{method} {path}");
    }
    assert_eq!(app.get("/api/v1/labs/ti-lab").await.json(), before);
    app.get("/api/v1/labs/autre-lab").await.problem(404);
}

#[actix_web::test]
async fn organizer_writes_are_403_problems() {
    let app = common::spawn().await;
    let admin = app.admin_token().await;
    app.post(LABS, Some(&admin), common::lab_body("ti-lab", "53")).await;
    app.put("/api/v1/labs/ti-lab/figures/2024", Some(&admin), json!({"trainings": 1})).await;
    let before = app.get("/api/v1/labs/ti-lab").await.json();
    let organizer = app.organizer_token().await;

    for (method, path, body) in writes() {
        let reply = match body {
            Some(body) => app.json(method, path, Some(&organizer), body).await,
            None => app.delete(path, Some(&organizer)).await,
        };
        reply.problem(403);
    }
    assert_eq!(app.get("/api/v1/labs/ti-lab").await.json(), before);
    app.get("/api/v1/labs/autre-lab").await.problem(404);
}
