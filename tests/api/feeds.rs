//! Feeds: the calendar (one VEVENT per session, local times with their VTIMEZONE, escaping and
//! folding), RSS, Atom and JSON Feed read by an independent XML parser, the shared filter and
//! its 400s, what the public sees (cancelled stays, withdrawn and drafts never), bounded pages
//! that link to the rest, and revalidation. Python's `icalendar` and `feedparser` read the same
//! feeds in the contract stage (`tests/contract/feeds.py`).

use serde_json::{Value, json};

use crate::common::{self, Reply, path_of, with};

const FEEDS: [&str; 4] = ["events.ics", "events.rss", "events.atom", "events.json"];

fn text(reply: &Reply) -> String {
    assert_eq!(reply.status.as_u16(), 200, "{}", String::from_utf8_lossy(&reply.body));
    String::from_utf8(reply.body.to_vec()).unwrap()
}

/// The calendar's content lines, unfolded (RFC 5545 §3.1).
fn unfolded(calendar: &str) -> Vec<String> {
    calendar.replace("\r\n ", "").split("\r\n").filter(|l| !l.is_empty()).map(String::from).collect()
}

fn vevents(calendar: &str) -> Vec<Vec<String>> {
    let mut events = Vec::new();
    let mut current: Option<Vec<String>> = None;
    for line in unfolded(calendar) {
        match line.as_str() {
            "BEGIN:VEVENT" => current = Some(Vec::new()),
            "END:VEVENT" => events.push(current.take().unwrap()),
            _ => {
                if let Some(lines) = current.as_mut() {
                    lines.push(line);
                }
            }
        }
    }
    events
}

fn property<'a>(vevent: &'a [String], name: &str) -> Option<&'a str> {
    vevent.iter().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key == name || key.starts_with(&format!("{name};"))).then_some(value)
    })
}

fn two_sessions(day: &str, next_day: &str) -> Value {
    json!([
        {"starts_at": format!("{day}T09:30"), "ends_at": format!("{day}T11:00")},
        {"starts_at": format!("{next_day}T14:00"), "ends_at": format!("{next_day}T16:30")},
    ])
}

fn days_from_now(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days)).date_naive().to_string()
}

#[actix_web::test]
async fn the_calendar_has_one_vevent_per_session_in_local_time_with_its_timezone() {
    let w = common::world().await;
    let (day, next_day) = (days_from_now(15), days_from_now(16));
    let event = w.publish(with(common::event_body(), json!({"sessions": two_sessions(&day, &next_day)}))).await;
    let reply = w.app.get("/api/v1/feeds/events.ics?edition=2030").await;
    assert_eq!(reply.header("content-type").as_deref(), Some("text/calendar; charset=utf-8"));
    let calendar = text(&reply);
    assert!(calendar.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
    assert!(calendar.ends_with("END:VCALENDAR\r\n"));
    let lines = unfolded(&calendar);
    for expected in ["METHOD:PUBLISH", "X-WR-CALNAME:Mois de l'innovation publique 2030", "X-MIP-TOTAL:1"] {
        assert!(lines.iter().any(|l| l == expected), "{expected} missing");
    }
    assert!(lines.iter().any(|l| l.starts_with("REFRESH-INTERVAL;VALUE=DURATION:")));
    assert!(calendar.contains("BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\n"), "the zone's rules travel with it");

    let sessions = vevents(&calendar);
    assert_eq!(sessions.len(), 2, "one VEVENT per session");
    let id = event["id"].as_str().unwrap();
    assert_eq!(property(&sessions[0], "UID"), Some(format!("{id}-1@mois-innovation-publique.fr").as_str()));
    assert_eq!(property(&sessions[1], "UID"), Some(format!("{id}-2@mois-innovation-publique.fr").as_str()));
    let compact = |day: &str, time: &str| format!("{}T{time}", day.replace('-', ""));
    assert!(sessions[0].contains(&format!("DTSTART;TZID=Europe/Paris:{}", compact(&day, "093000"))));
    assert!(sessions[0].contains(&format!("DTEND;TZID=Europe/Paris:{}", compact(&day, "110000"))));
    assert!(sessions[1].contains(&format!("DTSTART;TZID=Europe/Paris:{}", compact(&next_day, "140000"))));
    assert_eq!(property(&sessions[0], "SEQUENCE"), Some(event["version"].to_string().as_str()));
    assert_eq!(property(&sessions[0], "STATUS"), Some("CONFIRMED"));
    assert!(property(&sessions[0], "SUMMARY").unwrap().ends_with("(séance 1 sur 2)"));
    let slug = event["slug"].as_str().unwrap();
    assert!(property(&sessions[0], "URL").unwrap().ends_with(&format!("/programme/{slug}")));
    assert!(property(&sessions[0], "LOCATION").unwrap().contains("Rennes"));
    assert_eq!(property(&sessions[0], "CATEGORIES"), Some("Atelier,données,air"));
    assert!(property(&sessions[0], "DTSTAMP").unwrap().ends_with('Z'));
    assert!(property(&sessions[0], "LAST-MODIFIED").is_some());
}

#[actix_web::test]
async fn text_is_escaped_and_lines_fold_at_75_octets_between_characters() {
    let w = common::world().await;
    let title = "Atelier, données; « l'État » \\ numérique — éco-conception des services publics à l'échelle régionale";
    let summary =
        "Première ligne, avec virgule;\nseconde ligne : ça déborde largement des soixante-quinze octets permis.";
    w.publish(with(common::event_body(), json!({"title": title, "summary": summary}))).await;
    let calendar = text(&w.app.get("/api/v1/feeds/events.ics").await);
    for physical in calendar.as_bytes().split(|b| *b == b'\n') {
        assert!(physical.len() <= 76, "a line of {} octets (with its CR)", physical.len());
        assert!(std::str::from_utf8(physical).is_ok(), "a fold split a character: {physical:?}");
        if !physical.is_empty() {
            assert_eq!(physical.last(), Some(&b'\r'), "lines end with CRLF");
        }
    }
    let sessions = vevents(&calendar);
    assert_eq!(
        property(&sessions[0], "SUMMARY"),
        Some(title.replace('\\', "\\\\").replace(',', "\\,").replace(';', "\\;").as_str())
    );
    let description = property(&sessions[0], "DESCRIPTION").unwrap();
    assert!(description.starts_with("Première ligne\\, avec virgule\\;\\nseconde ligne"), "{description}");
}

#[actix_web::test]
async fn cancelled_events_stay_with_their_status_and_withdrawn_ones_leave_every_feed() {
    let w = common::world().await;
    let kept = w.publish(common::titled("Gardé puis annulé")).await;
    let gone = w.publish(common::titled("Retiré du programme")).await;
    let cancel = format!("{}/cancel", path_of(&kept));
    assert_eq!(w.app.post(&cancel, Some(&w.member), json!({"reason": "Salle fermée"})).await.status.as_u16(), 200);
    assert_eq!(w.app.post(&format!("{}/withdraw", path_of(&gone)), Some(&w.member), json!({})).await.status, 200);
    w.create(common::titled("Brouillon jamais publié")).await;

    let calendar = text(&w.app.get("/api/v1/feeds/events.ics").await);
    let sessions = vevents(&calendar);
    assert_eq!(sessions.len(), 1);
    assert_eq!(property(&sessions[0], "STATUS"), Some("CANCELLED"));
    assert_eq!(property(&sessions[0], "SUMMARY"), Some("Annulé : Gardé puis annulé"));
    assert!(property(&sessions[0], "DESCRIPTION").unwrap().starts_with("ANNULÉ : Salle fermée"));
    for feed in FEEDS {
        let body = text(&w.app.get(&format!("/api/v1/feeds/{feed}")).await);
        assert!(body.contains("Gardé puis annulé"), "{feed}");
        assert!(!body.contains("Retiré du programme"), "{feed} shows a withdrawn event");
        assert!(!body.contains("Brouillon"), "{feed} shows a draft");
    }
}

#[actix_web::test]
async fn feeds_take_the_event_filter_with_its_400s_and_show_published_events_only() {
    let w = common::world().await;
    w.publish(common::titled("À Rennes")).await;
    let lille = json!({"name": "Hôtel de ville", "address": "Place Augustin Laurent", "postal_code": "59000", "city": "Lille", "department": "59"});
    w.publish(with(common::titled("À Lille"), json!({"venue": lille}))).await;
    for feed in FEEDS {
        let body = text(&w.app.get(&format!("/api/v1/feeds/{feed}?region=32")).await);
        assert!(body.contains("À Lille") && !body.contains("À Rennes"), "{feed}");
        let problem = w.app.get(&format!("/api/v1/feeds/{feed}?format=nope")).await.problem(400);
        assert!(problem["detail"].as_str().unwrap().contains("format"), "{problem}");
        assert_eq!(w.app.get(&format!("/api/v1/feeds/{feed}?limit=501")).await.problem_fields(400), ["limit"]);
        assert_eq!(w.app.get(&format!("/api/v1/feeds/{feed}?unknown=1")).await.status.as_u16(), 400);
        // Asking for drafts shows none: feeds are what the public sees, whoever asks.
        let drafts = w.app.get_as(&format!("/api/v1/feeds/{feed}?publication=draft"), &w.member).await;
        assert!(!text(&drafts).contains("À Rennes"), "{feed}");
    }
}

#[actix_web::test]
async fn a_feed_holds_a_bounded_page_and_links_to_the_rest() {
    let w = common::world().await;
    for title in ["Premier", "Deuxième", "Troisième"] {
        w.publish(common::titled(title)).await;
    }
    let first = w.app.get("/api/v1/feeds/events.json?limit=2").await;
    assert_eq!(first.header("x-total-count").as_deref(), Some("3"));
    let feed = serde_json::from_slice::<Value>(&first.body).unwrap();
    assert_eq!(feed["version"], "https://jsonfeed.org/version/1.1");
    assert_eq!(feed["items"].as_array().unwrap().len(), 2);
    assert_eq!(feed["_mip"]["total"], 3);
    assert!(feed["description"].as_str().unwrap().starts_with("2 des 3 événements"));
    let next = feed["next_url"].as_str().unwrap();
    let link = first.header("link").unwrap();
    assert!(link.contains(&format!("<{next}>; rel=\"next\"")), "{link}");
    let next_path = next.trim_start_matches("http://localhost");
    let second = serde_json::from_slice::<Value>(&w.app.get(next_path).await.body).unwrap();
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert!(second.get("next_url").is_none());
    let seen: Vec<&str> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["items"].as_array().unwrap())
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert_eq!(seen.len(), 3);
    // The API page the feed points to continues the same list.
    let api = feed["_mip"]["api_url"].as_str().unwrap().trim_start_matches("http://localhost");
    assert!(api.starts_with("/api/v1/events?") && api.contains("sort=-updated_at"), "{api}");
    let rest = w.app.get(api).await.json();
    assert_eq!(rest["data"].as_array().unwrap().len(), 1);
    assert_eq!(rest["data"][0]["title"], seen[2]);
}

#[actix_web::test]
async fn rss_and_atom_are_well_formed_with_stable_ids_and_self_links() {
    let w = common::world().await;
    let event = w.publish(common::titled("Atelier <données> & \"usagers\"")).await;
    let id = event["id"].as_str().unwrap();

    let rss = text(&w.app.get("/api/v1/feeds/events.rss?region=53").await);
    let document = roxmltree::Document::parse(&rss).unwrap();
    let channel = document.descendants().find(|n| n.has_tag_name("channel")).unwrap();
    let item = channel.children().find(|n| n.has_tag_name("item")).unwrap();
    let child = |node: roxmltree::Node, name: &str| {
        node.children().find(|n| n.has_tag_name(name)).and_then(|n| n.text()).map(str::to_string)
    };
    assert_eq!(child(item, "title").as_deref(), Some("Atelier <données> & \"usagers\""));
    assert_eq!(child(item, "guid"), Some(format!("urn:uuid:{id}")));
    let guid = item.children().find(|n| n.has_tag_name("guid")).unwrap();
    assert_eq!(guid.attribute("isPermaLink"), Some("false"));
    assert!(child(item, "pubDate").is_some());
    assert!(child(item, "description").unwrap().contains("Lieu : Ti-Lab, Rennes (35)"));
    let self_link = channel
        .children()
        .find(|n| n.tag_name().name() == "link" && n.attribute("rel") == Some("self"))
        .expect("an atom:link rel=self");
    assert_eq!(self_link.attribute("href"), Some("http://localhost/api/v1/feeds/events.rss?region=53"));

    let atom = text(&w.app.get("/api/v1/feeds/events.atom").await);
    let document = roxmltree::Document::parse(&atom).unwrap();
    let feed = document.root_element();
    assert_eq!(feed.tag_name().namespace(), Some("http://www.w3.org/2005/Atom"));
    let entry = feed.children().find(|n| n.has_tag_name("entry")).unwrap();
    assert_eq!(child(entry, "id"), Some(format!("urn:uuid:{id}")));
    assert!(child(entry, "updated").is_some() && child(entry, "published").is_some());
    let alternate = entry.children().find(|n| n.has_tag_name("link") && n.attribute("rel") == Some("alternate"));
    assert!(alternate.unwrap().attribute("href").unwrap().ends_with(event["slug"].as_str().unwrap()));
    let author = entry.children().find(|n| n.has_tag_name("author")).unwrap();
    assert_eq!(child(author, "name").as_deref(), Some("Ti-Lab"));
}

#[actix_web::test]
async fn feeds_revalidate_with_304_and_change_when_an_event_is_cancelled_or_withdrawn() {
    let w = common::world().await;
    let first = w.publish(common::titled("Premier")).await;
    let second = w.publish(common::titled("Second")).await;
    let mut tags = Vec::new();
    for feed in FEEDS {
        let reply = w.app.get(&format!("/api/v1/feeds/{feed}")).await;
        assert_eq!(reply.header("cache-control").as_deref(), Some("public, max-age=300, stale-while-revalidate=300"));
        assert!(reply.header("last-modified").is_some());
        let etag = reply.header("etag").unwrap();
        let again = w.app.get_with(&format!("/api/v1/feeds/{feed}"), &[("if-none-match", &etag)]).await;
        assert_eq!(again.status.as_u16(), 304, "{feed}");
        assert!(again.body.is_empty());
        tags.push((feed, etag, reply.header("last-modified").unwrap()));
    }
    assert_eq!(w.app.post(&format!("{}/cancel", path_of(&first)), Some(&w.member), json!({})).await.status, 200);
    for (feed, etag, _) in &tags {
        let reply = w.app.get_with(&format!("/api/v1/feeds/{feed}"), &[("if-none-match", etag)]).await;
        assert_eq!(reply.status.as_u16(), 200, "{feed}: a cancellation changes the feed");
    }
    let before = w.app.get("/api/v1/feeds/events.ics").await;
    // Last-Modified has a resolution of a second: let the withdrawal happen in a later one.
    // (With the touch trigger off, which would set `updated_at` to now.)
    diesel::connection::SimpleConnection::batch_execute(
        &mut w.app.db.conn(),
        "SET session_replication_role = replica; UPDATE events SET updated_at = updated_at - interval '5 seconds'",
    )
    .unwrap();
    let stale = w.app.get("/api/v1/feeds/events.ics").await.header("last-modified").unwrap();
    assert_eq!(w.app.post(&format!("{}/withdraw", path_of(&second)), Some(&w.member), json!({})).await.status, 200);
    let after = w.app.get("/api/v1/feeds/events.ics").await;
    assert_ne!(after.header("etag"), before.header("etag"));
    let parse = |value: &str| chrono::DateTime::parse_from_rfc2822(value).unwrap();
    assert!(
        parse(&after.header("last-modified").unwrap()) > parse(&stale),
        "a withdrawal moves Last-Modified although the event left the feed"
    );
}

#[actix_web::test]
async fn one_event_as_a_calendar_entry_keeps_the_events_visibility() {
    let w = common::world().await;
    let published = w.publish(common::titled("Publié")).await;
    let draft = w.create(common::titled("En préparation")).await;
    for key in [published["id"].as_str().unwrap(), published["slug"].as_str().unwrap()] {
        let reply = w.app.get(&format!("/api/v1/events/{key}.ics")).await;
        assert_eq!(reply.header("content-type").as_deref(), Some("text/calendar; charset=utf-8"));
        assert!(reply.header("content-disposition").unwrap().starts_with("attachment; filename="));
        assert_eq!(vevents(&text(&reply)).len(), 1);
        let etag = reply.header("etag").unwrap();
        let again = w.app.get_with(&format!("/api/v1/events/{key}.ics"), &[("if-none-match", &etag)]).await;
        assert_eq!(again.status.as_u16(), 304);
    }
    // `/events/{id}` is still the JSON event: the calendar route does not shadow it.
    assert_eq!(w.app.get(&path_of(&published)).await.json()["title"], "Publié");
    let draft_calendar = format!("{}.ics", path_of(&draft));
    w.app.get(&draft_calendar).await.problem(404);
    w.app.get_as(&draft_calendar, &w.other).await.problem(404);
    assert!(text(&w.app.get_as(&draft_calendar, &w.member).await).contains("SUMMARY:En préparation"));
    w.app.get("/api/v1/events/no-such-event.ics").await.problem(404);
}

#[actix_web::test]
async fn feeds_answer_any_origin() {
    let w = common::world().await;
    w.publish(common::event_body()).await;
    let reply = w.app.get_with("/api/v1/feeds/events.ics", &[("origin", "https://partenaire.example")]).await;
    assert_eq!(reply.header("access-control-allow-origin").as_deref(), Some("https://partenaire.example"));
    let exposed = reply.header("access-control-expose-headers").unwrap();
    assert!(exposed.contains("link") && exposed.contains("x-total-count"), "{exposed}");
}

#[actix_web::test]
async fn a_copy_stays_current_until_something_changes_even_a_change_that_commits_late() {
    let w = common::world().await;
    let rennes = w.publish(common::titled("À Rennes")).await;
    let lille = json!({"name": "Hôtel de ville", "address": "Place Augustin Laurent", "postal_code": "59000", "city": "Lille", "department": "59"});
    let elsewhere = w.publish(with(common::titled("À Lille"), json!({"venue": lille}))).await;
    let path = "/api/v1/feeds/events.rss?region=53";
    let first = w.app.get(path).await.header("etag").unwrap();
    let same = w.app.get_with(path, &[("if-none-match", &first)]).await;
    assert_eq!((same.status.as_u16(), same.header("etag")), (304, Some(first.clone())), "nothing changed");

    // A change elsewhere: the document is rebuilt, found the same, and still answered 304, with
    // the client's own tag (RFC 9110: a 304 answers for a tag the client sent; both name the
    // same bytes).
    let sql = |statement: String| {
        diesel::connection::SimpleConnection::batch_execute(&mut w.app.db.conn(), &statement).unwrap()
    };
    sql(format!("UPDATE events SET status_note = 'Complet' WHERE id = '{}'", elsewhere["id"].as_str().unwrap()));
    let rebuilt = w.app.get_with(path, &[("if-none-match", &first)]).await;
    assert_eq!(rebuilt.status.as_u16(), 304);
    let second = rebuilt.header("etag").unwrap();
    assert_eq!(second, first);

    // A transaction that took its timestamp (`updated_at`, its start) before another change
    // but commits after it: a copy fetched in between must be found stale once it commits.
    let mut late = w.app.db.conn();
    diesel::connection::SimpleConnection::batch_execute(
        &mut late,
        &format!("BEGIN; UPDATE events SET title = 'Changé en retard' WHERE id = '{}'", rennes["id"].as_str().unwrap()),
    )
    .unwrap();
    sql(format!("UPDATE events SET status_note = 'Annulé ?' WHERE id = '{}'", elsewhere["id"].as_str().unwrap()));
    let between = w.app.get_with(path, &[("if-none-match", &second)]).await;
    assert_eq!(between.status.as_u16(), 304, "the open transaction is not seen yet");
    let third = between.header("etag").unwrap();
    diesel::connection::SimpleConnection::batch_execute(&mut late, "COMMIT").unwrap();
    let newest: chrono::DateTime<chrono::Utc> = diesel::RunQueryDsl::get_result(
        diesel::dsl::sql::<diesel::sql_types::Timestamptz>("SELECT max(updated_at) FROM events"),
        &mut w.app.db.conn(),
    )
    .unwrap();
    let late_at: chrono::DateTime<chrono::Utc> = diesel::RunQueryDsl::get_result(
        diesel::dsl::sql::<diesel::sql_types::Timestamptz>(&format!(
            "SELECT updated_at FROM events WHERE id = '{}'",
            rennes["id"].as_str().unwrap()
        )),
        &mut w.app.db.conn(),
    )
    .unwrap();
    assert!(late_at < newest, "the late change carries the older timestamp");
    let after = w.app.get_with(path, &[("if-none-match", &third)]).await;
    assert_eq!(after.status.as_u16(), 200);
    assert!(String::from_utf8_lossy(&after.body).contains("Changé en retard"));
}

#[actix_web::test]
async fn control_characters_never_break_a_feed_and_urls_cannot_carry_line_breaks() {
    let w = common::world().await;
    let injected = with(
        common::event_body(),
        json!({"mode": "hybrid", "online_url": "https://v.example/x\nEND:VEVENT\nBEGIN:VEVENT"}),
    );
    assert_eq!(w.app.post("/api/v1/events", Some(&w.member), injected).await.problem_fields(422), ["online_url"]);

    let event = w
        .publish(with(
            common::event_body(),
            json!({"mode": "hybrid", "online_url": "https://v.example/salle",
        "summary": "<b>gras</b> & <img src=x onerror=alert(1)>"}),
        ))
        .await;
    // Rows written before the rules were this strict (or by hand): control characters, a bare
    // carriage return, a line break in a URL.
    let sql = format!(
        "UPDATE events SET title = E'Titre\\u000bavec\\rretour', online_url = E'https://v.example/x\\nEND:VEVENT' WHERE id = '{}'",
        event["id"].as_str().unwrap()
    );
    diesel::connection::SimpleConnection::batch_execute(&mut w.app.db.conn(), &sql).unwrap();

    let calendar = text(&w.app.get("/api/v1/feeds/events.ics").await);
    assert_eq!(calendar.split("\r\n").filter(|line| *line == "END:VEVENT").count(), 1, "{calendar}");
    let conference = unfolded(&calendar).into_iter().find(|l| l.starts_with("CONFERENCE;")).unwrap();
    assert!(conference.ends_with(":https://v.example/xEND:VEVENT"), "{conference}");
    assert!(!calendar.contains('\u{b}') && !calendar.replace("\r\n", "").contains('\r'));
    assert_eq!(property(&vevents(&calendar)[0], "SUMMARY"), Some("Titreavec\\nretour"));
    for feed in ["events.rss", "events.atom"] {
        let body = text(&w.app.get(&format!("/api/v1/feeds/{feed}")).await);
        roxmltree::Document::parse(&body).unwrap_or_else(|e| panic!("{feed} is not XML: {e}"));
    }
    let rss = text(&w.app.get("/api/v1/feeds/events.rss").await);
    let document = roxmltree::Document::parse(&rss).unwrap();
    let description = document
        .descendants()
        .find(|n| n.has_tag_name("description") && n.parent().unwrap().has_tag_name("item"))
        .unwrap();
    let html = description.text().unwrap();
    assert!(html.contains("&#60;b&#62;gras&#60;/b&#62; &#38; &#60;img"), "markup shows as text in readers: {html}");
    assert!(!html.contains("<b>") && !html.contains("<img"));
    assert!(html.contains("<br>"), "lines stay lines");
}

#[actix_web::test]
async fn a_renamed_organizer_makes_every_copy_stale() {
    let w = common::world().await;
    w.publish(common::event_body()).await;
    let path = "/api/v1/feeds/events.atom";
    let etag = w.app.get(path).await.header("etag").unwrap();
    assert_eq!(w.app.get_with(path, &[("if-none-match", &etag)]).await.status.as_u16(), 304);
    let sql = format!("UPDATE organizers SET name = 'Ti-Lab renommé' WHERE id = '{}'", w.organizer);
    diesel::connection::SimpleConnection::batch_execute(&mut w.app.db.conn(), &sql).unwrap();
    let after = w.app.get_with(path, &[("if-none-match", &etag)]).await;
    assert_eq!(after.status.as_u16(), 200);
    assert!(String::from_utf8_lossy(&after.body).contains("Ti-Lab renommé"));
}
