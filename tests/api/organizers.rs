//! Organizers: registration, the public list, profiles, verification and members.

use crate::common;

use actix_web::test::TestRequest;
use serde_json::{Value, json};

fn registration(email: &str, name: &str) -> Value {
    json!({
        "email": email,
        "password": common::PASSWORD,
        "organizer": {
            "name": name,
            "kind": "deconcentrated_service",
            "region": "53",
            "department": "35",
            "website": "https://www.ille-et-vilaine.gouv.fr",
        }
    })
}

/// Registers an organizer and returns (its id, the member's access token, the whole answer).
async fn register(app: &common::TestApp, email: &str, name: &str) -> (String, String, Value) {
    let reply = app.post("/api/v1/auth/register", None, registration(email, name)).await;
    assert_eq!(reply.status.as_u16(), 201, "{}", String::from_utf8_lossy(&reply.body));
    let body = reply.json();
    let id = body["account"]["organizer"]["id"].as_str().unwrap().to_string();
    let token = body["access_token"].as_str().unwrap().to_string();
    (id, token, body)
}

#[actix_web::test]
async fn registering_opens_an_account_and_an_unverified_organizer_logged_in() {
    let app = common::spawn().await;
    let (id, token, body) = register(&app, "Innovation@Prefecture-35.example", "Préfecture d'Ille-et-Vilaine").await;
    let organizer = &body["account"]["organizer"];
    assert_eq!(organizer["slug"], "prefecture-d-ille-et-vilaine");
    assert_eq!(organizer["verified"], false);
    assert_eq!(organizer["region"], json!({"code": "53", "name": "Bretagne"}));
    assert_eq!(organizer["department"], json!({"code": "35", "name": "Ille-et-Vilaine"}));
    // The contact defaults to the account's email, and is shown to the member.
    assert_eq!(organizer["contact_email"], "Innovation@Prefecture-35.example");
    assert!(body["refresh_token"].is_string());

    let me = app.get_as("/api/v1/me", &token).await.json();
    assert_eq!(me["role"], "organizer");
    assert_eq!(me["auth_method"], "session");
    assert_eq!(me["organizer"]["id"], id.as_str());

    // Not public until verified: hidden from anonymous callers, listed nowhere.
    app.get(&format!("/api/v1/organizers/{id}")).await.problem(404);
    assert_eq!(app.get("/api/v1/organizers").await.json()["total"], 0);
    assert_eq!(app.get_as(&format!("/api/v1/organizers/{id}"), &token).await.status.as_u16(), 200);
}

#[actix_web::test]
async fn an_admin_verifies_an_organizer_which_then_is_public_without_private_fields() {
    let app = common::spawn().await;
    let (id, _, _) = register(&app, "a@prefecture.example", "Préfecture d'Ille-et-Vilaine").await;
    let admin = app.admin_token().await;
    let verified = app.post(&format!("/api/v1/organizers/{id}/verify"), Some(&admin), json!({})).await.json();
    assert_eq!(verified["verified"], true);
    assert!(verified["verified_at"].is_string());

    let public = app.get("/api/v1/organizers/prefecture-d-ille-et-vilaine").await.json();
    assert_eq!(public["id"], id.as_str());
    assert!(public.get("contact_email").is_none(), "private field leaked: {public}");
    let list = app.get("/api/v1/organizers").await.json();
    assert_eq!(list["total"], 1);
    assert!(list["data"][0].get("contact_email").is_none());
}

#[actix_web::test]
async fn only_admins_verify_organizers() {
    let app = common::spawn().await;
    let (id, token, _) = register(&app, "a@prefecture.example", "Préfecture").await;
    app.post(&format!("/api/v1/organizers/{id}/verify"), Some(&token), json!({})).await.problem(403);
    app.post(&format!("/api/v1/organizers/{id}/verify"), None, json!({})).await.problem(401);
}

#[actix_web::test]
async fn registration_rules_are_checked_with_the_field_named() {
    let app = common::spawn().await;
    let cases: Vec<(Value, u16, &str)> = vec![
        (json!({"password": "short"}), 422, "password"),
        (json!({"password": "same@prefecture.example"}), 422, "password"),
        (json!({"email": "not an email"}), 422, "email"),
        (json!({"organizer": {"name": "X", "kind": "local_authority"}}), 422, "organizer.name"),
        (json!({"organizer": {"name": "Ville", "kind": "kingdom"}}), 400, "organizer.kind"),
        (json!({"organizer": {"name": "Ville", "kind": "local_authority", "region": "99"}}), 422, "organizer.region"),
        (
            json!({"organizer": {"name": "Ville", "kind": "local_authority", "region": "53", "department": "59"}}),
            422,
            "organizer.department",
        ),
        (
            json!({"organizer": {"name": "Ville", "kind": "local_authority", "website": "javascript:alert(1)"}}),
            422,
            "organizer.website",
        ),
    ];
    for (change, status, field) in cases {
        let mut body = registration("same@prefecture.example", "Préfecture");
        for (key, value) in change.as_object().unwrap() {
            body[key] = value.clone();
        }
        let reply = app.post("/api/v1/auth/register", None, body.clone()).await;
        assert_eq!(reply.problem_fields(status), vec![field.to_string()], "{body}");
    }
    // Nothing was saved by the refused attempts.
    let admin = app.admin_token().await;
    assert_eq!(app.get_as("/api/v1/organizers?verified=false", &admin).await.json()["total"], 0);
}

#[actix_web::test]
async fn the_region_is_deduced_from_the_department() {
    let app = common::spawn().await;
    let mut body = registration("a@ville.example", "Ville de Lille");
    body["organizer"] = json!({"name": "Ville de Lille", "kind": "local_authority", "department": "59"});
    let reply = app.post("/api/v1/auth/register", None, body).await;
    assert_eq!(reply.json()["account"]["organizer"]["region"]["code"], "32");
}

#[actix_web::test]
async fn an_email_registers_once_whatever_its_case() {
    let app = common::spawn().await;
    register(&app, "a@prefecture.example", "Préfecture A").await;
    let reply = app.post("/api/v1/auth/register", None, registration("A@Prefecture.example", "Préfecture B")).await;
    assert_eq!(reply.problem_fields(409), vec!["email"]);
}

#[actix_web::test]
async fn two_organizers_with_the_same_name_get_distinct_slugs() {
    let app = common::spawn().await;
    let (_, _, first) = register(&app, "a@ville.example", "Mairie").await;
    let (_, _, second) = register(&app, "b@ville.example", "Mairie").await;
    assert_eq!(first["account"]["organizer"]["slug"], "mairie");
    assert_eq!(second["account"]["organizer"]["slug"], "mairie-2");
}

#[actix_web::test]
async fn the_public_list_filters_by_kind_region_and_accent_insensitive_words() {
    let app = common::spawn().await;
    let admin = app.admin_token().await;
    let bodies = [
        ("a@x.example", "Préfecture d'Ille-et-Vilaine", "deconcentrated_service", "35"),
        ("b@x.example", "Ville de Lille", "local_authority", "59"),
        ("c@x.example", "Région Bretagne", "local_authority", "29"),
        ("d@x.example", "Hôpital de Nantes", "health_social_establishment", "44"),
    ];
    for (email, name, kind, department) in bodies {
        let mut body = registration(email, name);
        body["organizer"] = json!({"name": name, "kind": kind, "department": department});
        let id = app.post("/api/v1/auth/register", None, body).await.json()["account"]["organizer"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        app.post(&format!("/api/v1/organizers/{id}/verify"), Some(&admin), json!({})).await;
    }
    let names = |reply: Value| -> Vec<String> {
        reply["data"].as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(
        names(app.get("/api/v1/organizers?kind=local_authority").await.json()),
        vec!["Région Bretagne", "Ville de Lille"]
    );
    assert_eq!(
        names(app.get("/api/v1/organizers?region=53,52").await.json()),
        vec!["Hôpital de Nantes", "Préfecture d'Ille-et-Vilaine", "Région Bretagne"]
    );
    assert_eq!(
        names(app.get("/api/v1/organizers?q=PREFECTURE%20ille").await.json()),
        vec!["Préfecture d'Ille-et-Vilaine"]
    );
    assert_eq!(names(app.get("/api/v1/organizers?q=hopital&region=52").await.json()), vec!["Hôpital de Nantes"]);

    // Pages never repeat or skip, and `total` counts all pages.
    let first = app.get("/api/v1/organizers?limit=3").await.json();
    assert_eq!(first["total"], 4);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = app.get(&format!("/api/v1/organizers?limit=3&cursor={cursor}")).await.json();
    let mut all = names(first);
    all.extend(names(second.clone()));
    assert_eq!(all.len(), 4);
    all.dedup();
    assert_eq!(all.len(), 4);
    assert!(second["next_cursor"].is_null());
}

#[actix_web::test]
async fn bad_list_parameters_are_named() {
    let app = common::spawn().await;
    for (query, field) in
        [("kind=kingdom", "kind"), ("region=99", "region"), ("limit=500", "limit"), ("colour=red", "colour")]
    {
        assert_eq!(app.get(&format!("/api/v1/organizers?{query}")).await.problem_fields(400), vec![field], "{query}");
    }
}

#[actix_web::test]
async fn only_admins_list_unverified_organizers() {
    let app = common::spawn().await;
    let (_, token, _) = register(&app, "a@x.example", "Mairie").await;
    app.get_as("/api/v1/organizers?verified=false", &token).await.problem(403);
    let admin = app.admin_token().await;
    let pending = app.get_as("/api/v1/organizers?verified=false", &admin).await.json();
    assert_eq!(pending["total"], 1);
    assert!(pending["data"][0]["contact_email"].is_string(), "admins see private fields");
}

#[actix_web::test]
async fn members_change_their_organizer_with_if_match() {
    let app = common::spawn().await;
    let (id, token, body) = register(&app, "a@x.example", "Mairie de Rennes").await;
    let version = body["account"]["organizer"]["version"].as_i64().unwrap();
    let path = format!("/api/v1/organizers/{id}");
    let patch = |etag: String, change: Value| {
        TestRequest::patch()
            .uri(&path)
            .insert_header(("authorization", format!("Bearer {token}")))
            .insert_header(("if-match", etag))
            .set_json(change)
    };
    let reply = app.send(patch(format!("\"v{version}\""), json!({"acronym": "MdR", "description": "Ville"}))).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", String::from_utf8_lossy(&reply.body));
    assert_eq!(reply.json()["acronym"], "MdR");
    assert_eq!(reply.header("etag"), Some(format!("\"v{}\"", version + 1)));
    // The same, stale, version again: refused, nothing lost.
    app.send(patch(format!("\"v{version}\""), json!({"acronym": "Other"}))).await.problem(412);
    // Null clears; a department elsewhere moves the region with it.
    let moved = app.send(patch("*".into(), json!({"acronym": null, "department": "59"}))).await.json();
    assert!(moved["acronym"].is_null());
    assert_eq!(moved["region"]["code"], "32");
    let bad = app.send(patch("*".into(), json!({"region": "53", "department": "59"}))).await;
    assert_eq!(bad.problem_fields(422), vec!["department"]);
}

#[actix_web::test]
async fn an_organizer_never_reads_or_changes_another_organizers_private_data() {
    let app = common::spawn().await;
    let admin = app.admin_token().await;
    let (mine, my_token, _) = register(&app, "a@x.example", "Mairie A").await;
    let (theirs, _, _) = register(&app, "b@x.example", "Mairie B").await;
    // Unverified: they do not even exist for me.
    app.get_as(&format!("/api/v1/organizers/{theirs}"), &my_token).await.problem(404);
    app.patch(&format!("/api/v1/organizers/{theirs}"), Some(&my_token), json!({"name": "Hacked"})).await.problem(404);
    // Verified: public fields only, and no changes, no members.
    app.post(&format!("/api/v1/organizers/{theirs}/verify"), Some(&admin), json!({})).await;
    let seen = app.get_as(&format!("/api/v1/organizers/{theirs}"), &my_token).await.json();
    assert!(seen.get("contact_email").is_none());
    app.patch(&format!("/api/v1/organizers/{theirs}"), Some(&my_token), json!({"name": "Hacked"})).await.problem(403);
    app.get_as(&format!("/api/v1/organizers/{theirs}/members"), &my_token).await.problem(403);
    app.post(&format!("/api/v1/organizers/{theirs}/members"), Some(&my_token), json!({"email": "spy@x.example"}))
        .await
        .problem(403);
    assert_eq!(app.get_as(&format!("/api/v1/organizers/{theirs}"), &admin).await.json()["name"], "Mairie B");
    // My own organizer is still mine to read.
    assert!(app.get_as(&format!("/api/v1/organizers/{mine}"), &my_token).await.json()["contact_email"].is_string());
}

#[actix_web::test]
async fn a_member_invites_a_colleague_who_joins_with_a_password() {
    let app = common::spawn().await;
    let (id, token, _) = register(&app, "a@x.example", "Mairie").await;
    let members = format!("/api/v1/organizers/{id}/members");
    let invitation = app.post(&members, Some(&token), json!({"email": "b@x.example"})).await;
    assert_eq!(invitation.status.as_u16(), 201);
    let invitation = invitation.json();
    let secret = invitation["token"].as_str().unwrap().to_string();

    let page = app.get_as(&members, &token).await.json();
    assert_eq!(page["total"], 2);
    let listed = &page["data"];
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert_eq!(listed[1]["status"], "invited");
    assert!(listed[1].get("token").is_none(), "the invitation secret is shown once");

    // A weak password is refused and the invitation survives it.
    let weak =
        app.post("/api/v1/auth/invitations/accept", None, json!({"token": secret, "password": "b@x.example"})).await;
    assert_eq!(weak.problem_fields(422), vec!["password"]);
    let joined = app
        .post("/api/v1/auth/invitations/accept", None, json!({"token": secret, "password": "another long password"}))
        .await;
    assert_eq!(joined.status.as_u16(), 201);
    let colleague = joined.json()["access_token"].as_str().unwrap().to_string();
    assert_eq!(app.get_as("/api/v1/me", &colleague).await.json()["organizer"]["id"], id.as_str());
    // Used once only.
    app.post("/api/v1/auth/invitations/accept", None, json!({"token": secret, "password": "another long password"}))
        .await
        .problem(401);
    let statuses: Vec<Value> = app.get_as(&members, &token).await.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["status"].clone())
        .collect();
    assert_eq!(statuses, vec![json!("active"), json!("active")]);
}

/// A problem without what differs from one request to the next (its id).
fn without_request_id(mut problem: Value) -> Value {
    problem.as_object_mut().unwrap().remove("request_id");
    problem
}

fn field_names(body: &Value) -> Vec<String> {
    let mut names: Vec<String> = body.as_object().unwrap().keys().cloned().collect();
    names.sort();
    names
}

#[actix_web::test]
async fn inviting_an_email_with_or_without_an_account_answers_alike() {
    let app = common::spawn().await;
    let (id, token, _) = register(&app, "a@x.example", "Mairie").await;
    register(&app, "b@x.example", "Autre").await;
    let members = format!("/api/v1/organizers/{id}/members");
    let registered = app.post(&members, Some(&token), json!({"email": "B@x.example"})).await;
    let unknown = app.post(&members, Some(&token), json!({"email": "c@x.example"})).await;
    assert_eq!(registered.status.as_u16(), 201, "{}", String::from_utf8_lossy(&registered.body));
    assert_eq!(unknown.status.as_u16(), 201, "{}", String::from_utf8_lossy(&unknown.body));
    assert_eq!(field_names(&registered.json()), field_names(&unknown.json()));
    assert_eq!(field_names(&registered.json()), ["email", "expires_at", "id", "token"]);
    assert_eq!(registered.header("cache-control"), unknown.header("cache-control"));

    // The account that exists is refused when the invitation is accepted, exactly as an
    // invalid invitation is; the account stays as it was.
    let accept = |token: Value| {
        app.post("/api/v1/auth/invitations/accept", None, json!({"token": token, "password": "another long password"}))
    };
    let refused = accept(registered.json()["token"].clone()).await.problem(401);
    let invalid = accept(json!("no-such-invitation")).await.problem(401);
    assert_eq!(without_request_id(refused), without_request_id(invalid));
    assert_eq!(app.login("b@x.example", common::PASSWORD).await.status.as_u16(), 200);
    assert_eq!(accept(unknown.json()["token"].clone()).await.status.as_u16(), 201);

    let reply = app.post(&members, Some(&token), json!({"email": "nope"})).await;
    assert_eq!(reply.problem_fields(422), vec!["email"]);
}

#[actix_web::test]
async fn an_organizer_sends_at_most_its_hourly_quota_of_invitations() {
    let app = common::spawn().await;
    let (id, token, _) = register(&app, "a@x.example", "Mairie").await;
    let members = format!("/api/v1/organizers/{id}/members");
    let quota = mip::config::Settings::for_tests("").invitations_per_hour;
    let mut last = Value::Null;
    for n in 0..quota {
        let reply = app.post(&members, Some(&token), json!({"email": format!("colleague-{n}@x.example")})).await;
        assert_eq!(reply.status.as_u16(), 201, "{}", String::from_utf8_lossy(&reply.body));
        last = reply.json();
    }
    // Withdrawing invitations does not give the quota back.
    let withdrawn = app.delete(&format!("{members}/{}", last["id"].as_str().unwrap()), Some(&token)).await;
    assert_eq!(withdrawn.status.as_u16(), 204);
    let refused = app.post(&members, Some(&token), json!({"email": "one-more@x.example"})).await;
    refused.problem(429);
    let retry_after: u64 = refused.header("retry-after").expect("Retry-After").parse().unwrap();
    assert!((1..=3600).contains(&retry_after), "{retry_after}");
    // Another organizer has its own quota.
    let (other, other_token, _) = register(&app, "b@x.example", "Autre").await;
    let invited = app
        .post(&format!("/api/v1/organizers/{other}/members"), Some(&other_token), json!({"email": "c@x.example"}))
        .await;
    assert_eq!(invited.status.as_u16(), 201);
}

#[actix_web::test]
async fn concurrent_invitations_cannot_outrun_the_limit_of_pending_invitations() {
    use diesel::prelude::*;
    use mip::organizers::members::MAX_PENDING_INVITATIONS;
    use mip::schema::invitations;
    let app = common::spawn_with(|db| mip::config::Settings { db_pool_size: 12, ..common::settings(db) }).await;
    let (id, token, _) = register(&app, "a@x.example", "Mairie").await;
    let organizer: uuid::Uuid = id.parse().unwrap();
    // One short of the limit.
    let pending: Vec<_> = (1..MAX_PENDING_INVITATIONS)
        .map(|n| {
            (
                invitations::id.eq(uuid::Uuid::now_v7()),
                invitations::organizer_id.eq(organizer),
                invitations::email.eq(format!("pending-{n}@x.example")),
                invitations::token_hash.eq(format!("hash-{n}")),
                invitations::expires_at.eq(chrono::Utc::now() + chrono::Duration::days(7)),
            )
        })
        .collect();
    diesel::insert_into(invitations::table).values(&pending).execute(&mut app.db.conn()).unwrap();

    let members = format!("/api/v1/organizers/{id}/members");
    let invitations =
        (0..30).map(|n| app.post(&members, Some(&token), json!({"email": format!("burst-{n}@x.example")})));
    let replies = common::lined_up(&app.db, "invitations", futures_util::future::join_all(invitations)).await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 29, "{statuses:?}");
    let listed = app.get_as(&members, &token).await.json();
    assert_eq!(listed["total"], MAX_PENDING_INVITATIONS + 1, "the member and the pending invitations");
}

#[actix_web::test]
async fn a_removed_member_loses_access_at_once_and_the_last_member_stays() {
    let app = common::spawn().await;
    let (id, token, body) = register(&app, "a@x.example", "Mairie").await;
    let first_member = body["account"]["id"].as_str().unwrap().to_string();
    let members = format!("/api/v1/organizers/{id}/members");
    let secret = app.post(&members, Some(&token), json!({"email": "b@x.example"})).await.json()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let joined = app
        .post("/api/v1/auth/invitations/accept", None, json!({"token": secret, "password": "another long password"}))
        .await
        .json();
    let colleague = joined["access_token"].as_str().unwrap().to_string();
    let colleague_refresh = joined["refresh_token"].as_str().unwrap().to_string();
    let colleague_id = app.get_as("/api/v1/me", &colleague).await.json()["id"].as_str().unwrap().to_string();

    assert_eq!(app.delete(&format!("{members}/{colleague_id}"), Some(&token)).await.status.as_u16(), 204);
    // Its still-unexpired access token and its refresh token stop working at once.
    app.get_as("/api/v1/me", &colleague).await.problem(401);
    app.post("/api/v1/auth/refresh", None, json!({"refresh_token": colleague_refresh})).await.problem(401);
    app.login("b@x.example", common::PASSWORD).await.problem(401);

    // The last member cannot leave, nor be removed by an admin.
    app.delete(&format!("{members}/{first_member}"), Some(&token)).await.problem(409);
    let admin = app.admin_token().await;
    app.delete(&format!("{members}/{first_member}"), Some(&admin)).await.problem(409);
    assert_eq!(app.get_as("/api/v1/me", &token).await.status.as_u16(), 200);
}

#[actix_web::test]
async fn a_pending_invitation_can_be_withdrawn() {
    let app = common::spawn().await;
    let (id, token, _) = register(&app, "a@x.example", "Mairie").await;
    let members = format!("/api/v1/organizers/{id}/members");
    let invitation = app.post(&members, Some(&token), json!({"email": "b@x.example"})).await.json();
    let invitation_id = invitation["id"].as_str().unwrap();
    assert_eq!(app.delete(&format!("{members}/{invitation_id}"), Some(&token)).await.status.as_u16(), 204);
    app.post(
        "/api/v1/auth/invitations/accept",
        None,
        json!({"token": invitation["token"], "password": "another long password"}),
    )
    .await
    .problem(401);
}

#[actix_web::test]
async fn an_invitation_never_brings_back_a_disabled_admin() {
    use diesel::prelude::*;
    use mip::schema::accounts;
    let app = common::spawn().await;
    let hash = mip::auth::password::hash(common::PASSWORD).unwrap();
    let admin =
        mip::auth::repo::create(&mut app.db.conn(), "old-admin@mip.example", &hash, mip::auth::Role::Admin, None)
            .unwrap();
    diesel::update(accounts::table.find(admin.id))
        .set(accounts::disabled.eq(true))
        .execute(&mut app.db.conn())
        .unwrap();
    let (id, token, _) = register(&app, "a@x.example", "Mairie").await;
    let reply = app
        .post(&format!("/api/v1/organizers/{id}/members"), Some(&token), json!({"email": "old-admin@mip.example"}))
        .await;
    assert_eq!(reply.status.as_u16(), 201, "inviting does not tell which emails have an account");
    app.post(
        "/api/v1/auth/invitations/accept",
        None,
        json!({"token": reply.json()["token"], "password": "another long password"}),
    )
    .await
    .problem(401);
    let disabled: bool = accounts::table.find(admin.id).select(accounts::disabled).first(&mut app.db.conn()).unwrap();
    assert!(disabled);
}

#[actix_web::test]
async fn an_organizer_name_of_spaces_is_refused() {
    let app = common::spawn().await;
    let mut body = registration("a@x.example", "Mairie");
    body["organizer"]["name"] = json!("     ");
    let reply = app.post("/api/v1/auth/register", None, body).await;
    assert_eq!(reply.problem_fields(422), vec!["organizer.name"]);
}

#[actix_web::test]
async fn the_public_organizer_list_does_not_answer_304_after_an_organizer_left_a_filter() {
    let w = common::world().await;
    w.verify(w.organizer).await;
    let admin = &w.admin;
    w.app.post(&format!("/api/v1/organizers/{}/verify", w.other_organizer), Some(admin), json!({})).await;
    // Both in Brittany; the one verified last moves to the Nord.
    for id in [w.organizer, w.other_organizer] {
        let reply = w.app.patch(&format!("/api/v1/organizers/{id}"), Some(admin), json!({"department": "35"})).await;
        assert_eq!(reply.status.as_u16(), 200, "{}", String::from_utf8_lossy(&reply.body));
    }
    let list = "/api/v1/organizers?region=53";
    let before = w.app.get(list).await;
    assert_eq!(before.json()["total"], 2);
    let last_modified = before.header("last-modified").unwrap();
    let path = format!("/api/v1/organizers/{}", w.other_organizer);
    assert_eq!(w.app.patch(&path, Some(admin), json!({"department": "59"})).await.status.as_u16(), 200);
    let after = w.app.get_with(list, &[("if-modified-since", &last_modified)]).await;
    assert_eq!(after.status.as_u16(), 200);
    assert_eq!(after.json()["total"], 1);
}

#[actix_web::test]
async fn clearing_an_organizers_department_keeps_its_region() {
    let w = common::world().await;
    let path = format!("/api/v1/organizers/{}", w.organizer);
    let placed = w.app.patch(&path, Some(&w.member), json!({"department": "35"})).await.json();
    assert_eq!(placed["region"]["code"], "53");
    let cleared = w.app.patch(&path, Some(&w.member), json!({"department": null})).await;
    assert_eq!(cleared.status.as_u16(), 200, "{}", String::from_utf8_lossy(&cleared.body));
    let cleared = cleared.json();
    assert!(cleared["department"].is_null());
    assert_eq!(cleared["region"], json!({"code": "53", "name": "Bretagne"}), "the region was not asked to change");
}
