//! Events: referencing, moderation, editing rules, visibility and history.

use crate::common::{self, event_body, id, path_of, titled, with, world};

use actix_web::test::TestRequest;
use chrono::{Duration, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

/// Whether `slug` is `<base>-` and six characters drawn from the event's id: lowercase letters
/// (no `i`, `l`, `o`, `u`) and digits.
fn is_event_slug(slug: &str, base: &str) -> bool {
    slug.strip_prefix(base).and_then(|rest| rest.strip_prefix('-')).is_some_and(|suffix| {
        suffix.len() == 6 && suffix.bytes().all(|b| b"0123456789abcdefghjkmnpqrstvwxyz".contains(&b))
    })
}

#[actix_web::test]
async fn an_organizer_references_a_draft_with_local_times_and_insee_labels() {
    let w = world().await;
    let reply = w.app.post("/api/v1/events", Some(&w.member), event_body()).await;
    assert_eq!(reply.status.as_u16(), 201);
    let event = reply.json();
    assert_eq!(reply.header("location"), Some(format!("/api/v1/events/{}", id(&event))));
    assert!(reply.header("etag").unwrap().starts_with("\"v1-"));
    assert_eq!(event["publication"], "draft");
    assert_eq!(event["status"], "scheduled");
    let slug = event["slug"].as_str().unwrap();
    assert!(is_event_slug(slug, "fabriquer-un-capteur-de-qualite-de-l-air-2030"), "{slug}");
    assert_eq!(event["organizer"]["id"], w.organizer.to_string());
    assert_eq!(event["venue"]["region"], json!({"code": "53", "name": "Bretagne"}), "deduced from the department");
    assert_eq!(event["venue"]["department"]["name"], "Ille-et-Vilaine");
    assert_eq!(event["tags"], json!(["données", "air"]));
    // Local times are read in Europe/Paris and written back with their offset.
    let starts = event["sessions"][0]["starts_at"].as_str().unwrap();
    assert!(starts.ends_with("T14:00:00+01:00") || starts.ends_with("T14:00:00+02:00"), "{starts}");
    // The slug answers too.
    let by_slug = w.app.get_as(&format!("/api/v1/events/{slug}"), &w.member).await;
    assert_eq!(by_slug.json()["id"], event["id"]);
}

#[actix_web::test]
async fn from_draft_to_published_then_cancelled() {
    let w = world().await;
    let event = w.create(event_body()).await;
    let path = format!("/api/v1/events/{}", id(&event));
    let submitted = w.app.post(&format!("{path}/submit"), Some(&w.member), json!({})).await.json();
    assert_eq!(submitted["publication"], "submitted");
    assert!(submitted["submitted_at"].is_string());
    w.app.get(&path).await.problem(404);

    let published = w.app.post(&format!("{path}/publish"), Some(&w.admin), json!({})).await.json();
    assert_eq!(published["publication"], "published");
    assert_eq!(w.app.get(&path).await.json()["title"], "Fabriquer un capteur de qualité de l'air");

    let cancelled =
        w.app.post(&format!("{path}/cancel"), Some(&w.member), json!({"reason": "Salle indisponible"})).await.json();
    assert_eq!(cancelled["publication"], "published", "a cancelled event stays in the programme");
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["status_note"], "Salle indisponible");
    assert_eq!(w.app.get(&path).await.json()["status"], "cancelled");

    let history = w.app.get_as(&format!("{path}/history"), &w.member).await.json();
    let actions: Vec<&str> =
        history["data"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["created", "submitted", "published", "cancelled"]);
    assert_eq!(history["data"][2]["by"]["role"], "admin");
    assert_eq!(history["data"][3]["note"], "Salle indisponible");
    assert_eq!(history["data"][3]["changes"]["status"], json!({"from": "scheduled", "to": "cancelled"}));
}

#[actix_web::test]
async fn each_transition_is_refused_from_the_wrong_state_naming_the_current_one() {
    let w = world().await;
    let event = w.create(event_body()).await;
    let path = format!("/api/v1/events/{}", id(&event));
    let refused = |reply: common::Reply| {
        let problem = reply.problem(409);
        assert_eq!(problem["errors"][0]["field"], "publication");
        problem["detail"].as_str().unwrap().to_string()
    };
    assert!(refused(w.app.post(&format!("{path}/publish"), Some(&w.admin), json!({})).await).contains("`draft`"));
    assert!(refused(w.app.post(&format!("{path}/withdraw"), Some(&w.member), json!({})).await).contains("`draft`"));
    assert!(refused(w.app.post(&format!("{path}/cancel"), Some(&w.member), json!({})).await).contains("`draft`"));
    let reject = w.app.post(&format!("{path}/reject"), Some(&w.admin), json!({"reason": "Hors sujet"})).await;
    assert!(refused(reject).contains("`draft`"));

    w.app.post(&format!("{path}/submit"), Some(&w.member), json!({})).await;
    let again = w.app.post(&format!("{path}/submit"), Some(&w.member), json!({})).await;
    assert!(refused(again).contains("`submitted`"));
    w.app.post(&format!("{path}/publish"), Some(&w.admin), json!({})).await;
    assert!(refused(w.app.post(&format!("{path}/publish"), Some(&w.admin), json!({})).await).contains("`published`"));

    w.app.post(&format!("{path}/cancel"), Some(&w.member), json!({})).await;
    let twice = w.app.post(&format!("{path}/cancel"), Some(&w.member), json!({})).await.problem(409);
    assert_eq!(twice["errors"][0]["field"], "status");
}

#[actix_web::test]
async fn moderation_belongs_to_admins() {
    let w = world().await;
    let event = w.create(event_body()).await;
    let path = format!("/api/v1/events/{}", id(&event));
    w.app.post(&format!("{path}/submit"), Some(&w.member), json!({})).await;
    w.app.post(&format!("{path}/publish"), Some(&w.member), json!({})).await.problem(403);
    w.app.post(&format!("{path}/reject"), Some(&w.member), json!({"reason": "non"})).await.problem(403);
    w.app.post(&format!("{path}/publish"), None, json!({})).await.problem(401);
    // Another organizer does not even see a submitted event.
    w.app.post(&format!("{path}/withdraw"), Some(&w.other), json!({})).await.problem(404);
}

#[actix_web::test]
async fn a_rejection_needs_a_reason_and_the_event_can_be_resubmitted() {
    let w = world().await;
    let event = w.create(event_body()).await;
    let path = format!("/api/v1/events/{}", id(&event));
    w.app.post(&format!("{path}/submit"), Some(&w.member), json!({})).await;
    let no_reason = w.app.post(&format!("{path}/reject"), Some(&w.admin), json!({})).await;
    assert_eq!(no_reason.problem_fields(422), vec!["reason"]);
    let rejected = w
        .app
        .post(&format!("{path}/reject"), Some(&w.admin), json!({"reason": "Précisez le public visé"}))
        .await
        .json();
    assert_eq!(rejected["publication"], "rejected");
    assert_eq!(rejected["rejection_reason"], "Précisez le public visé");
    let resubmitted = w.app.post(&format!("{path}/submit"), Some(&w.member), json!({})).await.json();
    assert_eq!(resubmitted["publication"], "submitted");
    assert!(resubmitted["rejection_reason"].is_null());
}

#[actix_web::test]
async fn a_withdrawn_event_leaves_the_programme_and_can_come_back() {
    let w = world().await;
    let event = w.create(event_body()).await;
    let path = format!("/api/v1/events/{}", id(&event));
    w.app.post(&format!("{path}/submit"), Some(&w.member), json!({})).await;
    w.app.post(&format!("{path}/publish"), Some(&w.admin), json!({})).await;
    let withdrawn = w.app.post(&format!("{path}/withdraw"), Some(&w.member), json!({"reason": "doublon"})).await;
    assert_eq!(withdrawn.json()["publication"], "withdrawn");
    w.app.get(&path).await.problem(404);
    assert_eq!(w.app.get_as(&path, &w.member).await.json()["publication"], "withdrawn", "kept, not lost");
    let back = w.app.post(&format!("{path}/submit"), Some(&w.member), json!({})).await.json();
    assert_eq!(back["publication"], "submitted");
}

/// A draft of the 2031 edition, whose referencing window is not open now (it opens in 2031).
async fn draft_in_a_closed_edition(w: &common::World) -> Value {
    let mut closed = common::edition_body(2031);
    closed["referencing_opens_at"] = json!("2031-09-01T00:00:00+02:00");
    closed["referencing_closes_at"] = json!("2031-10-29T23:59:59+01:00");
    w.app.post("/api/v1/editions", Some(&w.admin), closed).await;
    let sessions = json!([{"starts_at": "2031-11-05T10:00", "ends_at": "2031-11-05T12:00"}]);
    w.create(with(event_body(), json!({"edition": 2031, "sessions": sessions}))).await
}

#[actix_web::test]
async fn submission_waits_for_an_open_referencing_window_unless_an_admin_overrides_it() {
    let w = world().await;
    let event = draft_in_a_closed_edition(&w).await;
    let path = format!("/api/v1/events/{}", id(&event));
    let refused = w.app.post(&format!("{path}/submit"), Some(&w.member), json!({})).await.problem(409);
    assert_eq!(refused["errors"][0]["code"], "referencing_closed");
    // An organizer cannot override, and is told so; an admin can, and it is recorded.
    let member_override =
        w.app.post(&format!("{path}/submit"), Some(&w.member), json!({"override_referencing_window": true})).await;
    assert!(member_override.problem(403)["detail"].as_str().unwrap().contains("only admins"));
    let admin_override =
        w.app.post(&format!("{path}/submit"), Some(&w.admin), json!({"override_referencing_window": true})).await;
    assert_eq!(admin_override.json()["publication"], "submitted");
    let history = w.app.get_as(&format!("{path}/history"), &w.admin).await.json();
    assert!(history["data"][1]["note"].as_str().unwrap().contains("referencing was closed"));
}

#[actix_web::test]
async fn each_rule_is_checked_on_write_with_the_field_named() {
    let w = world().await;
    let day = (Utc::now() + Duration::days(15)).date_naive();
    let cases: Vec<(Value, u16, &str)> = vec![
        (
            json!({"sessions": [{"starts_at": format!("{day}T14:00"), "ends_at": format!("{day}T13:00")}]}),
            422,
            "sessions[0].ends_at",
        ),
        (json!({"sessions": [{"starts_at": "2020-01-01T10:00", "ends_at": "2020-01-01T12:00"}]}), 422, "sessions[0]"),
        (json!({"sessions": []}), 422, "sessions"),
        (
            json!({"sessions": [{"starts_at": "tomorrow", "ends_at": format!("{day}T13:00")}]}),
            400,
            "sessions[0].starts_at",
        ),
        (json!({"edition": 1999}), 422, "edition"),
        (json!({"track": "no-such-track"}), 422, "track"),
        (json!({"labs": ["no-such-lab"]}), 422, "labs[0]"),
        (json!({"venue": {"city": "Rennes", "department": "35", "region": "32"}}), 422, "venue.department"),
        (json!({"venue": {"city": "Rennes", "department": "35", "postal_code": "59000"}}), 422, "venue.postal_code"),
        (json!({"venue": {"city": "Rennes", "region": "99"}}), 422, "venue.region"),
        (json!({"venue": {"city": "Rennes", "region": "53", "latitude": 48.1}}), 422, "venue.longitude"),
        (
            json!({"venue": {"city": "Rennes", "region": "53", "latitude": 91.0, "longitude": 1.0}}),
            422,
            "venue.latitude",
        ),
        (json!({"online_url": "ftp://files.example/event"}), 422, "online_url"),
        (json!({"image_url": "javascript:alert(1)"}), 422, "image_url"),
        (json!({"registration": {"url": "/relative"}}), 422, "registration.url"),
        (json!({"registration": {"capacity": 0}}), 422, "registration.capacity"),
        (json!({"title": "x".repeat(201)}), 422, "title"),
        (json!({"summary": "x".repeat(301)}), 422, "summary"),
        (json!({"tags": (0..21).map(|i| format!("tag{i}")).collect::<Vec<_>>()}), 422, "tags"),
        (json!({"timezone": "Mars/Olympus"}), 422, "timezone"),
        (json!({"language": "French"}), 422, "language"),
        (json!({"format": "party"}), 400, "format"),
        (json!({"status": "cancelled"}), 422, "status"),
        (json!({"colour": "blue"}), 400, "colour"),
    ];
    for (change, status, field) in cases {
        let body = with(event_body(), change.clone());
        let reply = w.app.post("/api/v1/events", Some(&w.member), body).await;
        assert_eq!(reply.problem_fields(status), vec![field.to_string()], "{change}");
    }
    // None of the refused writes left anything behind.
    let listed = w.app.get_as(&format!("/api/v1/organizers/{}/events", w.organizer), &w.member).await.json();
    assert_eq!(listed["total"], 0);
}

#[actix_web::test]
async fn a_draft_may_be_incomplete_but_submission_checks_everything() {
    let w = world().await;
    let onsite = w.create(with(event_body(), json!({"venue": null}))).await;
    let reply = w.app.post(&format!("/api/v1/events/{}/submit", id(&onsite)), Some(&w.member), json!({})).await;
    assert_eq!(reply.problem_fields(422), vec!["venue"]);
    let online = w.create(with(event_body(), json!({"mode": "online", "venue": null, "title": "Webinaire"}))).await;
    let reply = w.app.post(&format!("/api/v1/events/{}/submit", id(&online)), Some(&w.member), json!({})).await;
    assert_eq!(reply.problem_fields(422), vec!["online_url"]);
    let hybrid = w.create(with(event_body(), json!({"mode": "hybrid", "title": "Hybride"}))).await;
    let reply = w.app.post(&format!("/api/v1/events/{}/submit", id(&hybrid)), Some(&w.member), json!({})).await;
    assert_eq!(reply.problem_fields(422), vec!["online_url"]);
    // Once complete, it goes through.
    let path = format!("/api/v1/events/{}", id(&online));
    w.app.patch(&path, Some(&w.member), json!({"online_url": "https://visio.example/webinaire"})).await;
    assert_eq!(w.app.post(&format!("{path}/submit"), Some(&w.member), json!({})).await.status.as_u16(), 200);
    // And a submitted event cannot lose what made it complete.
    let reply = w.app.patch(&path, Some(&w.member), json!({"online_url": null})).await;
    assert_eq!(reply.problem_fields(422), vec!["online_url"]);
}

#[actix_web::test]
async fn an_external_id_is_unique_per_organizer() {
    let w = world().await;
    w.create(with(event_body(), json!({"external_id": "agenda-42"}))).await;
    let reply =
        w.app.post("/api/v1/events", Some(&w.member), with(event_body(), json!({"external_id": "agenda-42"}))).await;
    assert_eq!(reply.problem_fields(409), vec!["external_id"]);
    let theirs =
        w.app.post("/api/v1/events", Some(&w.other), with(event_body(), json!({"external_id": "agenda-42"}))).await;
    assert_eq!(theirs.status.as_u16(), 201, "another organizer may use the same id");
}

#[actix_web::test]
async fn a_stale_if_match_is_refused_and_nothing_is_lost() {
    let w = world().await;
    let event = w.create(event_body()).await;
    let path = format!("/api/v1/events/{}", id(&event));
    let etag = w.app.get_as(&path, &w.member).await.header("etag").unwrap();
    let first = w
        .app
        .json_with("PATCH", &path, Some(&w.member), &[("if-match", &etag)], json!({"title": "Premier titre"}))
        .await;
    assert_eq!(first.status.as_u16(), 200);
    let second = w
        .app
        .json_with("PATCH", &path, Some(&w.member), &[("if-match", &etag)], json!({"title": "Second titre"}))
        .await;
    second.problem(412);
    assert_eq!(w.app.get_as(&path, &w.member).await.json()["title"], "Premier titre");
}

#[actix_web::test]
async fn two_concurrent_edits_with_the_same_etag_one_wins_one_gets_412() {
    let w = world().await;
    let event = w.create(event_body()).await;
    let path = format!("/api/v1/events/{}", id(&event));
    let etag = w.app.get_as(&path, &w.member).await.header("etag").unwrap();
    let headers = [("if-match", etag.as_str())];
    let (a, b) = futures_util::join!(
        w.app.json_with("PATCH", &path, Some(&w.member), &headers, json!({"title": "Version A"})),
        w.app.json_with("PATCH", &path, Some(&w.admin), &headers, json!({"title": "Version B"})),
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 412]);
    let winner = if a.status.as_u16() == 200 { "Version A" } else { "Version B" };
    let stored = w.app.get_as(&path, &w.member).await.json();
    assert_eq!(stored["title"], winner);
    assert_eq!(stored["version"], 2);
}

#[actix_web::test]
async fn a_patch_merges_clears_and_leaves_the_rest() {
    let w = world().await;
    let event = w.create(event_body()).await;
    let path = format!("/api/v1/events/{}", id(&event));
    let patched = w
        .app
        .patch(&path, Some(&w.member), json!({"summary": null, "status": "postponed", "venue": {"name": "Salle B"}}))
        .await;
    assert_eq!(patched.status.as_u16(), 200, "{}", String::from_utf8_lossy(&patched.body));
    let patched = patched.json();
    assert!(patched["summary"].is_null());
    assert_eq!(patched["status"], "postponed");
    assert_eq!(patched["venue"]["name"], "Salle B");
    assert_eq!(patched["venue"]["city"], "Rennes", "nested objects merge");
    assert_eq!(patched["title"], event["title"]);
    assert_eq!(patched["version"], 2);
    // A patch that changes nothing makes no new version.
    let same = w.app.patch(&path, Some(&w.member), json!({"title": event["title"]})).await.json();
    assert_eq!(same["version"], 2);
    // The organizer of an event does not change.
    let moved = w.app.patch(&path, Some(&w.member), json!({"organizer": Uuid::now_v7().to_string()})).await;
    assert_eq!(moved.problem_fields(422), vec!["organizer"]);
}

#[actix_web::test]
async fn a_change_to_a_published_event_is_recorded_and_stays_published_by_default() {
    let w = world().await;
    let event = w.create(event_body()).await;
    let path = format!("/api/v1/events/{}", id(&event));
    w.app.post(&format!("{path}/submit"), Some(&w.member), json!({})).await;
    w.app.post(&format!("{path}/publish"), Some(&w.admin), json!({})).await;
    let changed = w.app.patch(&path, Some(&w.member), json!({"title": "Capteurs de qualité de l'air"})).await.json();
    assert_eq!(changed["publication"], "published");
    let history = w.app.get_as(&format!("{path}/history"), &w.member).await.json();
    let last = history["data"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "updated");
    assert_eq!(last["by"]["email"], "member@ti-lab.example");
    assert_eq!(
        last["changes"],
        json!({"title": {"from": "Fabriquer un capteur de qualité de l'air", "to": "Capteurs de qualité de l'air"}})
    );
    assert_eq!(last["publication_before"], "published");
    assert_eq!(last["publication_after"], "published");
}

#[actix_web::test]
async fn when_the_edition_asks_a_changed_published_event_goes_back_to_moderation() {
    let w = world().await;
    w.app.patch("/api/v1/editions/2030", Some(&w.admin), json!({"changes_require_review": true})).await;
    let event = w.create(event_body()).await;
    let path = format!("/api/v1/events/{}", id(&event));
    w.app.post(&format!("{path}/submit"), Some(&w.member), json!({})).await;
    w.app.post(&format!("{path}/publish"), Some(&w.admin), json!({})).await;
    let changed = w.app.patch(&path, Some(&w.member), json!({"title": "Nouveau titre"})).await.json();
    assert_eq!(changed["publication"], "submitted");
    w.app.get(&path).await.problem(404);
    let history = w.app.get_as(&format!("{path}/history"), &w.admin).await.json();
    let last = history["data"].as_array().unwrap().last().unwrap().clone();
    assert!(last["note"].as_str().unwrap().contains("back to moderation"));
    // An admin's own correction does not send it back.
    w.app.post(&format!("{path}/publish"), Some(&w.admin), json!({})).await;
    let fixed = w.app.patch(&path, Some(&w.admin), json!({"title": "Titre corrigé"})).await.json();
    assert_eq!(fixed["publication"], "published");
}

#[actix_web::test]
async fn a_cancelled_event_keeps_its_status() {
    let w = world().await;
    let event = w.create(event_body()).await;
    let path = format!("/api/v1/events/{}", id(&event));
    w.app.post(&format!("{path}/submit"), Some(&w.member), json!({})).await;
    w.app.post(&format!("{path}/cancel"), Some(&w.member), json!({})).await;
    let reply = w.app.patch(&path, Some(&w.member), json!({"status": "scheduled"})).await;
    assert_eq!(reply.problem_fields(409), vec!["status"]);
}

#[actix_web::test]
async fn only_drafts_are_deleted() {
    let w = world().await;
    let draft = w.create(event_body()).await;
    let path = format!("/api/v1/events/{}", id(&draft));
    w.app.delete(&path, Some(&w.other)).await.problem(404);
    assert_eq!(w.app.delete(&path, Some(&w.member)).await.status.as_u16(), 204);
    w.app.get_as(&path, &w.member).await.problem(404);

    let submitted = w.create(event_body()).await;
    let path = format!("/api/v1/events/{}", id(&submitted));
    w.app.post(&format!("{path}/submit"), Some(&w.member), json!({})).await;
    let problem = w.app.delete(&path, Some(&w.member)).await.problem(409);
    assert!(problem["detail"].as_str().unwrap().contains("`submitted`"));
}

#[actix_web::test]
async fn visibility_across_two_organizers_and_anonymous_callers() {
    let w = world().await;
    let draft = w.create(with(event_body(), json!({"title": "Brouillon"}))).await;
    let published = w.create(with(event_body(), json!({"title": "Publié"}))).await;
    let published_path = format!("/api/v1/events/{}", id(&published));
    w.app.post(&format!("{published_path}/submit"), Some(&w.member), json!({})).await;
    w.app.post(&format!("{published_path}/publish"), Some(&w.admin), json!({})).await;
    let draft_path = format!("/api/v1/events/{}", id(&draft));

    // Another organizer's draft is a 404 (it does not exist for them), not a 403.
    w.app.get_as(&draft_path, &w.other).await.problem(404);
    w.app.get(&draft_path).await.problem(404);
    w.app.patch(&draft_path, Some(&w.other), json!({"title": "Piraté"})).await.problem(404);
    w.app.get_as(&format!("{draft_path}/history"), &w.other).await.problem(404);
    assert_eq!(w.app.get_as(&draft_path, &w.admin).await.status.as_u16(), 200);
    assert_eq!(w.app.get_as(&draft_path, &w.member).await.status.as_u16(), 200);
    // A published event is public, but still not theirs to change.
    assert_eq!(w.app.get(&published_path).await.status.as_u16(), 200);
    w.app.patch(&published_path, Some(&w.other), json!({"title": "Piraté"})).await.problem(403);
    w.app.get_as(&format!("{published_path}/history"), &w.other).await.problem(403);

    // The organizer's list: its members see the draft, admins too; the organizer is not
    // verified, so it does not exist for anyone else.
    let own = format!("/api/v1/organizers/{}/events", w.organizer);
    assert_eq!(w.app.get_as(&own, &w.member).await.json()["total"], 2);
    w.app.get(&own).await.problem(404);
    let verify = format!("/api/v1/organizers/{}/verify", w.organizer);
    w.app.post(&verify, Some(&w.admin), json!({})).await;
    let public = w.app.get(&own).await.json();
    assert_eq!(public["total"], 1);
    assert_eq!(public["data"][0]["title"], "Publié");
    assert_eq!(w.app.get_as(&own, &w.other).await.json()["total"], 1);
}

#[actix_web::test]
async fn api_tokens_need_the_events_write_scope() {
    let w = world().await;
    let create = |scopes: Value| json!({"name": "script", "scopes": scopes});
    let reader = w.app.post("/api/v1/me/tokens", Some(&w.member), create(json!(["reports:read"]))).await.json();
    let writer = w.app.post("/api/v1/me/tokens", Some(&w.member), create(json!(["events:write"]))).await.json();
    let refused =
        w.app.post("/api/v1/events", Some(reader["token"].as_str().unwrap()), event_body()).await.problem(403);
    assert!(refused["detail"].as_str().unwrap().contains("events:write"));
    let reply = w.app.post("/api/v1/events", Some(writer["token"].as_str().unwrap()), event_body()).await;
    assert_eq!(reply.status.as_u16(), 201);
}

#[actix_web::test]
async fn an_admins_api_token_neither_moderates_nor_overrides_and_is_told_why() {
    let w = world().await;
    let token = w.api_token(&w.admin, json!(["events:write", "reports:read", "imports:write"])).await;
    let token = token["token"].as_str().unwrap();
    let told_why = |reply: common::Reply| {
        let problem = reply.problem(403);
        let detail = problem["detail"].as_str().unwrap().to_string();
        assert!(detail.contains("API token") && detail.contains("log in"), "{detail}");
    };

    let path = path_of(&w.create(event_body()).await);
    w.app.post(&format!("{path}/submit"), Some(&w.member), json!({})).await;
    told_why(w.app.post(&format!("{path}/publish"), Some(token), json!({})).await);
    told_why(w.app.post(&format!("{path}/reject"), Some(token), json!({"reason": "Hors sujet"})).await);
    assert_eq!(w.app.get_as(&path, &w.admin).await.json()["publication"], "submitted");

    // Overriding a closed referencing window.
    let late = draft_in_a_closed_edition(&w).await;
    let submit = format!("{}/submit", path_of(&late));
    told_why(w.app.post(&submit, Some(token), json!({"override_referencing_window": true})).await);
    assert_eq!(w.app.get_as(&path_of(&late), &w.admin).await.json()["publication"], "draft");

    // Listing the organizers waiting for verification, and verifying them.
    told_why(w.app.get_as("/api/v1/organizers?verified=false", token).await);
    told_why(w.app.post(&format!("/api/v1/organizers/{}/verify", w.organizer), Some(token), json!({})).await);

    // Its changes to a published event go back to moderation, as a member's do.
    w.app.patch("/api/v1/editions/2030", Some(&w.admin), json!({"changes_require_review": true})).await;
    w.app.post(&format!("{path}/publish"), Some(&w.admin), json!({})).await;
    let changed = w.app.patch(&path, Some(token), json!({"title": "Nouveau titre"})).await;
    assert_eq!(changed.json()["publication"], "submitted", "{}", String::from_utf8_lossy(&changed.body));

    // The admin's login session does all of it.
    assert_eq!(w.app.post(&format!("{path}/publish"), Some(&w.admin), json!({})).await.status.as_u16(), 200);
    let overridden = w.app.post(&submit, Some(&w.admin), json!({"override_referencing_window": true})).await;
    assert_eq!(overridden.json()["publication"], "submitted");
    assert_eq!(w.app.get_as("/api/v1/organizers?verified=false", &w.admin).await.status.as_u16(), 200);
}

#[actix_web::test]
async fn admins_reference_events_for_a_named_organizer() {
    let w = world().await;
    let missing = w.app.post("/api/v1/events", Some(&w.admin), event_body()).await;
    assert_eq!(missing.problem_fields(422), vec!["organizer"]);
    let body = with(event_body(), json!({"organizer": w.organizer.to_string()}));
    let reply = w.app.post("/api/v1/events", Some(&w.admin), body).await;
    assert_eq!(reply.json()["organizer"]["id"], w.organizer.to_string());
    // A member cannot write for another organizer.
    let foreign = with(event_body(), json!({"organizer": w.organizer.to_string()}));
    w.app.post("/api/v1/events", Some(&w.other), foreign).await.problem(403);
}

#[actix_web::test]
async fn a_weekly_series_is_one_event_and_a_lab_lists_its_published_events() {
    let w = world().await;
    w.app.post("/api/v1/labs", Some(&w.admin), common::lab_body("ti-lab", "53")).await;
    let tuesday = (Utc::now() + Duration::days(11)).date_naive();
    let sessions: Vec<Value> = (0..4)
        .map(|week| {
            let day = tuesday + Duration::days(7 * week);
            json!({"starts_at": format!("{day}T09:30"), "ends_at": format!("{day}T11:30")})
        })
        .collect();
    let series = w
        .create(with(
            event_body(),
            json!({"title": "Les Mardis de l'innovation", "sessions": sessions, "labs": ["ti-lab"]}),
        ))
        .await;
    assert_eq!(series["sessions"].as_array().unwrap().len(), 4);
    assert_eq!(series["labs"], json!([{"slug": "ti-lab", "name": "Lab ti-lab"}]));
    assert_eq!(series["starts_at"], series["sessions"][0]["starts_at"]);
    assert_eq!(series["ends_at"], series["sessions"][3]["ends_at"]);
    assert_eq!(w.app.get("/api/v1/labs/ti-lab/events").await.json()["total"], 0, "drafts are not listed");
    let path = format!("/api/v1/events/{}", id(&series));
    w.app.post(&format!("{path}/submit"), Some(&w.member), json!({})).await;
    w.app.post(&format!("{path}/publish"), Some(&w.admin), json!({})).await;
    let listed = w.app.get("/api/v1/labs/ti-lab/events").await.json();
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["data"][0]["title"], "Les Mardis de l'innovation");
    w.app.get("/api/v1/labs/no-such-lab/events").await.problem(404);
}

#[actix_web::test]
async fn a_conditional_get_of_an_event_answers_304_until_it_changes() {
    let w = world().await;
    let event = w.create(event_body()).await;
    let path = format!("/api/v1/events/{}", id(&event));
    let etag = w.app.get_as(&path, &w.member).await.header("etag").unwrap();
    let headers = [("if-none-match", etag.as_str()), ("authorization", &format!("Bearer {}", w.member))];
    assert_eq!(w.app.get_with(&path, &headers).await.status.as_u16(), 304);
    w.app.patch(&path, Some(&w.member), json!({"title": "Autre titre"})).await;
    assert_eq!(w.app.get_with(&path, &headers).await.status.as_u16(), 200);
}

#[actix_web::test]
async fn a_rejected_event_can_be_withdrawn_for_good() {
    let w = world().await;
    let event = w.create(event_body()).await;
    let path = format!("/api/v1/events/{}", id(&event));
    w.app.post(&format!("{path}/submit"), Some(&w.member), json!({})).await;
    w.app.post(&format!("{path}/reject"), Some(&w.admin), json!({"reason": "Hors sujet"})).await;
    let withdrawn = w.app.post(&format!("{path}/withdraw"), Some(&w.member), json!({})).await.json();
    assert_eq!(withdrawn["publication"], "withdrawn");
    // Cancelling is for what was announced: a rejected event was never in the programme.
    let other = w.create(event_body()).await;
    let other_path = format!("/api/v1/events/{}", id(&other));
    w.app.post(&format!("{other_path}/submit"), Some(&w.member), json!({})).await;
    w.app.post(&format!("{other_path}/reject"), Some(&w.admin), json!({"reason": "Hors sujet"})).await;
    let refused = w.app.post(&format!("{other_path}/cancel"), Some(&w.member), json!({})).await.problem(409);
    assert!(refused["detail"].as_str().unwrap().contains("`rejected`"));
}

#[actix_web::test]
async fn saying_it_is_full_keeps_a_published_event_published_even_when_changes_are_reviewed() {
    let w = world().await;
    w.app.patch("/api/v1/editions/2030", Some(&w.admin), json!({"changes_require_review": true})).await;
    let event = w.create(event_body()).await;
    let path = format!("/api/v1/events/{}", id(&event));
    w.app.post(&format!("{path}/submit"), Some(&w.member), json!({})).await;
    w.app.post(&format!("{path}/publish"), Some(&w.admin), json!({})).await;
    let full = w.app.patch(&path, Some(&w.member), json!({"status": "full", "status_note": "Liste d'attente"})).await;
    assert_eq!(full.json()["publication"], "published");
    assert_eq!(w.app.get(&path).await.json()["status"], "full");
}

#[actix_web::test]
async fn organizers_see_dittp_staff_in_the_history_by_role_not_by_email() {
    let w = world().await;
    let event = w.create(event_body()).await;
    let path = format!("/api/v1/events/{}", id(&event));
    w.app.post(&format!("{path}/submit"), Some(&w.member), json!({})).await;
    w.app.post(&format!("{path}/publish"), Some(&w.admin), json!({})).await;
    let seen_by_member = w.app.get_as(&format!("{path}/history"), &w.member).await.json();
    let published = &seen_by_member["data"][2];
    assert_eq!(published["by"]["role"], "admin");
    assert!(published["by"]["email"].is_null());
    assert_eq!(seen_by_member["data"][0]["by"]["email"], "member@ti-lab.example", "colleagues are named");
    let seen_by_admin = w.app.get_as(&format!("{path}/history"), &w.admin).await.json();
    assert!(seen_by_admin["data"][2]["by"]["email"].as_str().unwrap().starts_with("admin-"));
}

#[actix_web::test]
async fn events_with_the_same_title_created_at_once_all_get_a_slug() {
    let w = world().await;
    let create = || w.app.post("/api/v1/events", Some(&w.member), event_body());
    let (a, b, c, d) = futures_util::join!(create(), create(), create(), create());
    let mut slugs: Vec<String> = [a, b, c, d]
        .iter()
        .map(|reply| {
            assert_eq!(reply.status.as_u16(), 201, "{}", String::from_utf8_lossy(&reply.body));
            reply.json()["slug"].as_str().unwrap().to_string()
        })
        .collect();
    slugs.sort();
    slugs.dedup();
    assert_eq!(slugs.len(), 4, "{slugs:?}");
}

#[actix_web::test]
async fn a_new_events_slug_does_not_tell_that_another_organizer_has_a_hidden_draft_of_that_title() {
    let w = world().await;
    let hidden = w.app.post("/api/v1/events", Some(&w.other), event_body()).await;
    assert_eq!(hidden.status.as_u16(), 201, "{}", String::from_utf8_lossy(&hidden.body));
    let hidden = hidden.json()["slug"].as_str().unwrap().to_string();
    let mine = w.create(event_body()).await["slug"].as_str().unwrap().to_string();
    // Both have the same shape, whoever came first: nothing in the second says the title was taken.
    let base = "fabriquer-un-capteur-de-qualite-de-l-air-2030";
    assert!(is_event_slug(&hidden, base), "{hidden}");
    assert!(is_event_slug(&mine, base), "{mine}");
    assert_ne!(mine, hidden);
    assert!(!mine.ends_with("-2"), "{mine}");
    // And the draft stays out of sight.
    w.app.get_as(&format!("/api/v1/events/{hidden}"), &w.member).await.problem(404);
}

#[actix_web::test]
async fn a_transition_with_a_json_content_type_and_no_body_is_accepted() {
    let w = world().await;
    let path = path_of(&w.create(titled("Sans corps")).await);
    let request = TestRequest::post()
        .uri(&format!("{path}/submit"))
        .insert_header(("authorization", format!("Bearer {}", w.member)))
        .insert_header(("content-type", "application/json"));
    let reply = w.app.send(request).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", String::from_utf8_lossy(&reply.body));
    assert_eq!(reply.json()["publication"], "submitted");
    // A body of another type is still refused.
    let request = TestRequest::post()
        .uri(&format!("{path}/withdraw"))
        .insert_header(("authorization", format!("Bearer {}", w.member)))
        .insert_header(("content-type", "text/plain"))
        .set_payload("reason=doublon");
    w.app.send(request).await.problem(415);
}

#[actix_web::test]
async fn a_list_does_not_answer_304_to_if_modified_since_after_an_event_left_it() {
    let w = world().await;
    w.verify(w.organizer).await;
    path_of(&w.publish(titled("Premier atelier")).await);
    let second = path_of(&w.publish(titled("Second atelier")).await);
    let list = format!("/api/v1/organizers/{}/events", w.organizer);
    let before = w.app.get(&list).await;
    assert_eq!(before.json()["total"], 2);
    let last_modified = before.header("last-modified").unwrap();
    // Withdrawing the newest event leaves the older one as the newest row shown.
    let withdrawn = w.app.post(&format!("{second}/withdraw"), Some(&w.member), json!({})).await;
    assert_eq!(withdrawn.status.as_u16(), 200);
    let after = w.app.get_with(&list, &[("if-modified-since", &last_modified)]).await;
    assert_eq!(after.status.as_u16(), 200, "a stale copy listing a withdrawn event was declared current");
    assert_eq!(after.json()["total"], 1);
    // The content ETag still revalidates an unchanged list.
    let etag = after.header("etag").unwrap();
    assert_eq!(w.app.get_with(&list, &[("if-none-match", &etag)]).await.status.as_u16(), 304);
}

#[actix_web::test]
async fn moving_the_venue_to_another_department_brings_that_departments_region() {
    let w = world().await;
    let path = path_of(&w.create(titled("Atelier itinérant")).await);
    let moved = w
        .app
        .patch(&path, Some(&w.member), json!({"venue": {"city": "Lille", "postal_code": "59000", "department": "59"}}))
        .await;
    assert_eq!(moved.status.as_u16(), 200, "{}", String::from_utf8_lossy(&moved.body));
    let moved = moved.json();
    assert_eq!(moved["venue"]["region"], json!({"code": "32", "name": "Hauts-de-France"}));
    assert_eq!(moved["venue"]["department"]["code"], "59");
    // A region the client does write is still checked against the department.
    let wrong = w
        .app
        .patch(&path, Some(&w.member), json!({"venue": {"department": "35", "region": "32", "postal_code": "35000"}}))
        .await;
    assert_eq!(wrong.problem_fields(422), vec!["venue.department"]);
}

#[actix_web::test]
async fn naming_an_organizer_that_is_not_yours_is_403_whether_or_not_it_exists() {
    let w = world().await;
    let mut body = titled("Chez les autres");
    body["organizer"] = json!(w.other_organizer.to_string());
    let theirs = w.app.post("/api/v1/events", Some(&w.member), body.clone()).await.problem(403);
    body["organizer"] = json!(Uuid::now_v7().to_string());
    let nobodys = w.app.post("/api/v1/events", Some(&w.member), body.clone()).await.problem(403);
    assert_eq!(theirs["detail"], nobodys["detail"], "the answer tells unverified organizers apart");
    body["organizer"] = json!("mairie-de-lille-ou-pas");
    w.app.post("/api/v1/events", Some(&w.member), body.clone()).await.problem(403);
    // Admins are still told that the organizer does not exist.
    let reply = w.app.post("/api/v1/events", Some(&w.admin), body).await;
    assert_eq!(reply.problem_fields(422), vec!["organizer"]);
}

#[actix_web::test]
async fn rejecting_without_a_reason_is_refused_for_who_asks_before_what_is_missing() {
    let w = world().await;
    let draft = path_of(&w.create(titled("Brouillon")).await);
    let reject = format!("{draft}/reject");
    w.app.post(&reject, None, json!({})).await.problem(401);
    w.app.post(&reject, Some(&w.member), json!({})).await.problem(403);
    w.app.post(&reject, Some(&w.other), json!({})).await.problem(404);
    w.app.post("/api/v1/events/no-such-event/reject", Some(&w.admin), json!({})).await.problem(404);
    // For an admin, on a submitted event, the missing reason is what is wrong.
    w.app.post(&format!("{draft}/submit"), Some(&w.member), json!({})).await;
    assert_eq!(w.app.post(&reject, Some(&w.admin), json!({})).await.problem_fields(422), vec!["reason"]);
}

#[actix_web::test]
async fn another_organizers_member_is_not_told_that_only_admins_may_withdraw() {
    let w = world().await;
    let path = path_of(&w.publish(titled("Publié")).await);
    let refused = w.app.post(&format!("{path}/withdraw"), Some(&w.other), json!({})).await.problem(403);
    let detail = refused["detail"].as_str().unwrap();
    assert!(!detail.contains("only admins"), "{detail}");
    assert_eq!(w.app.get(&path).await.json()["publication"], "published");
}

#[actix_web::test]
async fn a_published_event_sent_back_to_moderation_queues_from_the_change() {
    let w = world().await;
    w.app.patch("/api/v1/editions/2030", Some(&w.admin), json!({"changes_require_review": true})).await;
    let path = path_of(&w.publish(titled("Atelier")).await);
    let published = w.app.get(&path).await.json();
    let changed = w.app.patch(&path, Some(&w.member), json!({"title": "Atelier modifié"})).await.json();
    assert_eq!(changed["publication"], "submitted");
    let submitted_at = changed["submitted_at"].as_str().unwrap().parse::<chrono::DateTime<Utc>>().unwrap();
    let published_at = published["published_at"].as_str().unwrap().parse::<chrono::DateTime<Utc>>().unwrap();
    assert!(submitted_at >= published_at, "submitted {submitted_at} before its publication {published_at}");
}

#[actix_web::test]
async fn a_title_of_spaces_is_no_title() {
    let w = world().await;
    let mut body = titled("Atelier");
    body["title"] = json!("     ");
    let reply = w.app.post("/api/v1/events", Some(&w.member), body).await;
    assert_eq!(reply.problem_fields(422), vec!["title"]);
    let path = path_of(&w.create(titled("Atelier")).await);
    let reply = w.app.patch(&path, Some(&w.member), json!({"title": " \t  "})).await;
    assert_eq!(reply.problem_fields(422), vec!["title"]);
}

#[actix_web::test]
async fn a_change_without_if_match_is_428_and_says_how_to_get_the_etag() {
    let w = world().await;
    let path = path_of(&w.create(event_body()).await);
    let refused = w.app.json_with("PATCH", &path, Some(&w.member), &[], json!({"title": "Sans version"})).await;
    let problem = refused.problem(428);
    assert_eq!(problem["errors"][0]["field"], "If-Match");
    assert!(problem["detail"].as_str().unwrap().contains("ETag"), "{problem}");
    w.app.json_with("DELETE", &path, Some(&w.member), &[], json!(null)).await.problem(428);
    assert_eq!(w.app.get_as(&path, &w.member).await.json()["title"], event_body()["title"], "nothing was written");
}

#[actix_web::test]
async fn if_match_compares_strongly_and_takes_a_list_of_tags() {
    let w = world().await;
    let event = w.create(event_body()).await;
    let path = path_of(&event);
    let etag = w.app.get_as(&path, &w.member).await.header("etag").unwrap();
    let weak = format!("W/{etag}");
    let headers = [("if-match", weak.as_str())];
    w.app.json_with("PATCH", &path, Some(&w.member), &headers, json!({"title": "Faible"})).await.problem(412);
    let list = format!("\"v99\", {etag}");
    let accepted =
        w.app.json_with("PATCH", &path, Some(&w.member), &[("if-match", &list)], json!({"title": "Par liste"})).await;
    assert_eq!(accepted.status.as_u16(), 200, "{}", String::from_utf8_lossy(&accepted.body));
    let star = w.app.json_with("PATCH", &path, Some(&w.member), &[("if-match", "*")], json!({"title": "Étoile"})).await;
    assert_eq!(star.json()["title"], "Étoile");
    let malformed =
        w.app.json_with("PATCH", &path, Some(&w.member), &[("if-match", "v3")], json!({"title": "X"})).await;
    assert_eq!(malformed.problem_fields(400), vec!["If-Match"]);
}

#[actix_web::test]
async fn transitions_take_an_optional_if_match() {
    let w = world().await;
    let path = path_of(&w.create(event_body()).await);
    let submit = format!("{path}/submit");
    let headers = [("if-match", "\"v99\"")];
    w.app.json_with("POST", &submit, Some(&w.member), &headers, json!({})).await.problem(412);
    let submitted = w.app.post(&format!("{path}/submit"), Some(&w.member), json!({})).await;
    assert_eq!(submitted.json()["publication"], "submitted");
}

#[actix_web::test]
async fn a_title_of_punctuation_or_invisible_characters_is_no_title() {
    let w = world().await;
    for title in ["...", "- - -", "\u{200B}\u{200B}\u{200B}\u{200B}", "\u{FEFF}\u{2060}\u{200D}", "!?!?"] {
        let reply = w.app.post("/api/v1/events", Some(&w.member), titled(title)).await;
        assert_eq!(reply.problem_fields(422), vec!["title"], "{title:?}");
    }
    assert_eq!(w.app.post("/api/v1/events", Some(&w.member), titled("C++ ?")).await.status.as_u16(), 201);
}

#[actix_web::test]
async fn a_session_cannot_run_for_years_or_far_from_its_edition() {
    let w = world().await;
    let start = (Utc::now() + Duration::days(15)).date_naive();
    let sessions = |starts: String, ends: String| json!({"sessions": [{"starts_at": starts, "ends_at": ends}]});
    let years = sessions(format!("{start}T10:00"), format!("{}T10:00", start + Duration::days(3 * 365)));
    let reply = w.app.post("/api/v1/events", Some(&w.member), with(event_body(), years)).await;
    assert_eq!(reply.problem_fields(422), vec!["sessions[0].ends_at"]);
    let early = start - Duration::days(150);
    let far = sessions(format!("{early}T10:00"), format!("{}T10:00", start + Duration::days(1)));
    let reply = w.app.post("/api/v1/events", Some(&w.member), with(event_body(), far)).await;
    assert_eq!(reply.problem_fields(422), vec!["sessions[0].ends_at"], "also longer than a month");
    let before = sessions(format!("{early}T10:00"), format!("{early}T12:00"));
    let reply = w.app.post("/api/v1/events", Some(&w.member), with(event_body(), before)).await;
    assert_eq!(reply.problem_fields(422), vec!["sessions[0]"]);
    let ancient = sessions("-4800-11-05T10:00".into(), "2030-11-05T12:00".into());
    let reply = w.app.post("/api/v1/events", Some(&w.member), with(event_body(), ancient)).await;
    assert_eq!(reply.problem_fields(400), vec!["sessions[0].starts_at"]);
}

#[actix_web::test]
async fn a_body_with_text_after_the_json_or_a_nul_character_is_a_400_and_saves_nothing() {
    let w = world().await;
    let send = |payload: String| {
        TestRequest::post()
            .uri("/api/v1/events")
            .insert_header(("authorization", format!("Bearer {}", w.member)))
            .insert_header(("content-type", "application/json"))
            .set_payload(payload)
    };
    let trailing = format!("{} {{\"title\": \"second\"}}", event_body());
    assert_eq!(w.app.send(send(trailing)).await.problem_fields(400), vec!["body"]);
    let nul = titled("Atelier\u{0}caché").to_string();
    assert!(nul.contains("\\u0000"));
    assert_eq!(w.app.send(send(nul)).await.problem_fields(400), vec!["title"]);
    let listed = w.app.get_as(&format!("/api/v1/organizers/{}/events", w.organizer), &w.member).await;
    assert_eq!(listed.json()["total"], 0);
}

#[actix_web::test]
async fn a_transition_body_may_be_json_null_as_the_document_allows() {
    let w = world().await;
    let path = path_of(&w.create(event_body()).await);
    let request = TestRequest::post()
        .uri(&format!("{path}/submit"))
        .insert_header(("authorization", format!("Bearer {}", w.member)))
        .insert_header(("content-type", "application/json"))
        .set_payload("null");
    let reply = w.app.send(request).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", String::from_utf8_lossy(&reply.body));
    assert_eq!(reply.json()["publication"], "submitted");
}
