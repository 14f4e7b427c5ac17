//! The embed: an HTML list that any site may frame under a strict policy, escaped titles and
//! schema.org data that cannot break out of its element, the shared filter, its own options,
//! pages, and the widget's assets. A real browser loads it from another origin in the contract
//! stage (`tests/contract/embed.mjs`: rendering, resizing, keyboard, axe-core).

use serde_json::{Value, json};

use crate::common::{self, Reply, path_of, with};

fn html(reply: &Reply) -> String {
    assert_eq!(reply.status.as_u16(), 200, "{}", String::from_utf8_lossy(&reply.body));
    assert_eq!(reply.header("content-type").as_deref(), Some("text/html; charset=utf-8"));
    String::from_utf8(reply.body.to_vec()).unwrap()
}

/// The JSON-LD blocks of a page, parsed.
fn json_ld(page: &str) -> Vec<Value> {
    page.split("<script type=\"application/ld+json\">")
        .skip(1)
        .map(|rest| serde_json::from_str(rest.split("</script>").next().unwrap()).unwrap())
        .collect()
}

fn items(page: &str) -> usize {
    page.matches("<article ").count()
}

#[actix_web::test]
async fn the_embed_is_an_accessible_list_that_any_site_may_frame_and_that_loads_nothing_else() {
    let w = common::world().await;
    let event = w.publish(common::event_body()).await;
    w.create(common::titled("Brouillon")).await;
    let reply = w.app.get("/embed/events?region=53").await;
    let page = html(&reply);
    let policy = reply.header("content-security-policy").unwrap();
    assert!(policy.contains("frame-ancestors *"), "{policy}");
    assert!(policy.contains("default-src 'none'") && policy.contains("script-src 'self'"), "{policy}");
    assert!(!policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"), "{policy}");
    assert!(reply.header("x-frame-options").is_none());
    assert_eq!(reply.header("cache-control").as_deref(), Some("public, max-age=300, stale-while-revalidate=300"));

    assert!(page.starts_with("<!doctype html>\n<html lang=\"fr\">"));
    assert!(page.contains("<h1>Mois de l&#39;innovation publique 2030 · Bretagne</h1>"), "{page}");
    assert!(page.contains("<ol class=\"events\">"));
    assert_eq!(items(&page), 1, "published events only");
    let slug = event["slug"].as_str().unwrap();
    assert!(page.contains(&format!("/programme/{slug}\" target=\"_blank\" rel=\"noopener\">")));
    assert!(page.contains("(nouvelle fenêtre)"), "a link that opens a window says so");
    assert!(page.contains("Ti-Lab, Rennes (35)"));
    // Nothing from another host: every src and href but the events' pages is this service's.
    for attribute in ["src=\"", "href=\""] {
        for value in page.split(attribute).skip(1).map(|rest| rest.split('"').next().unwrap()) {
            assert!(value.starts_with("/embed/") || value.starts_with("https://www.modernisation.gouv.fr/"), "{value}");
        }
    }
    let data = json_ld(&page);
    assert_eq!(data.len(), 1);
    assert_eq!(data[0]["@type"], "Event");
    assert_eq!(data[0]["name"], event["title"]);
    assert_eq!(data[0]["eventStatus"], "https://schema.org/EventScheduled");
    assert_eq!(data[0]["eventAttendanceMode"], "https://schema.org/OfflineEventAttendanceMode");
    assert_eq!(data[0]["location"][0]["address"]["addressLocality"], "Rennes");
    assert_eq!(data[0]["startDate"], event["starts_at"]);
}

#[actix_web::test]
async fn titles_are_escaped_and_structured_data_cannot_close_its_element() {
    let w = common::world().await;
    let title = "</script><script>alert(1)</script> & \"guillemets\" <b>gras</b>";
    let event = w.publish(with(common::titled(title), json!({"summary": "<img src=x onerror=alert(1)>"}))).await;
    let page = html(&w.app.get("/embed/events").await);
    assert!(!page.contains("<script>alert"), "{page}");
    assert!(!page.contains("<img src=x"), "{page}");
    assert!(!page.contains("<b>gras"), "{page}");
    assert!(
        page.contains("&#60;/script&#62;&#60;script&#62;alert(1)&#60;/script&#62; &#38; &#34;guillemets&#34;"),
        "{page}"
    );
    assert_eq!(page.matches("</script>").count(), 2, "the frame script and the one JSON-LD block");
    let data = json_ld(&page);
    assert_eq!(data[0]["name"], event["title"], "the structured data keeps the title exactly");
}

#[actix_web::test]
async fn cancelled_events_say_so_and_the_options_change_language_theme_and_density() {
    let w = common::world().await;
    let event = w.publish(common::event_body()).await;
    let cancel = format!("{}/cancel", path_of(&event));
    assert_eq!(w.app.post(&cancel, Some(&w.member), json!({"reason": "Salle fermée"})).await.status, 200);

    let page = html(&w.app.get("/embed/events").await);
    assert!(page.contains("<li class=\"cancelled\">"));
    assert!(page.contains("<p class=\"status\">Annulé : Salle fermée</p>"), "{page}");
    assert!(page.contains("Un atelier pour fabriquer"), "the summary shows by default");
    assert_eq!(json_ld(&page)[0]["eventStatus"], "https://schema.org/EventCancelled");

    let compact = html(&w.app.get("/embed/events?compact=true").await);
    assert!(compact.contains("<body class=\"compact\">") && !compact.contains("class=\"summary\""));
    let dark = html(&w.app.get("/embed/events?theme=dark&lang=en").await);
    assert!(dark.starts_with("<!doctype html>\n<html lang=\"en\" data-theme=\"dark\">"));
    assert!(dark.contains("(new window)") && dark.contains("1 event<"));

    for (query, field) in [
        ("lang=de", "lang"),
        ("theme=blue", "theme"),
        ("origin=javascript:alert(1)", "origin"),
        ("origin=https://site.example/page", "origin"),
        ("origin=https://site.example?x", "origin"),
        ("origin=https://user@site.example", "origin"),
        ("limit=51", "limit"),
        ("format=nope", "format"),
    ] {
        let problem = w.app.get(&format!("/embed/events?{query}")).await.problem(400);
        assert!(problem["detail"].as_str().unwrap().contains(field), "{query}: {problem}");
    }
    assert_eq!(w.app.get("/embed/events?origin=https://www.region.example:8443").await.status, 200);
}

#[actix_web::test]
async fn the_embed_shows_the_latest_edition_unless_told_and_pages_forward() {
    let w = common::world().await;
    let admin = &w.admin;
    assert_eq!(w.app.post("/api/v1/editions", Some(admin), common::edition_body(2029)).await.status, 201);
    let old = w
        .create(with(
            common::titled("Édition 2029"),
            json!({"edition": 2029,
        "sessions": [{"starts_at": "2029-11-05T10:00", "ends_at": "2029-11-05T12:00"}]}),
        ))
        .await;
    let submit = json!({"override_referencing_window": true});
    assert_eq!(w.app.post(&format!("{}/submit", path_of(&old)), Some(admin), submit).await.status, 200);
    assert_eq!(w.app.post(&format!("{}/publish", path_of(&old)), Some(admin), json!({})).await.status, 200);
    for title in ["Premier", "Deuxième", "Troisième"] {
        w.publish(common::titled(title)).await;
    }

    let latest = html(&w.app.get("/embed/events").await);
    assert_eq!(items(&latest), 3);
    assert!(!latest.contains("Édition 2029"));
    let chosen = html(&w.app.get("/embed/events?edition=2029").await);
    assert_eq!(items(&chosen), 1);
    assert!(chosen.contains("Édition 2029"));

    let first = html(&w.app.get("/embed/events?limit=2&theme=dark").await);
    assert_eq!(items(&first), 2);
    assert!(first.contains("3 événements"));
    let next = first.split("<a href=\"").filter_map(|rest| rest.split_once("\" rel=\"next\"")).next().unwrap().0;
    let next = next.replace("&#38;", "&");
    assert!(next.starts_with("/embed/events?") && next.contains("theme=dark") && next.contains("cursor="), "{next}");
    let second = html(&w.app.get(&next).await);
    assert_eq!(items(&second), 1);
    assert!(!second.contains("rel=\"next\""));
    assert!(second.contains("Premiers événements"), "a later page links back to the first");
}

#[actix_web::test]
async fn the_widget_and_the_embed_assets_are_served_to_any_page_and_revalidate() {
    let app = common::spawn().await;
    for (path, media, needle) in [
        ("/embed/widget.js", "text/javascript; charset=utf-8", "mip:embed-height"),
        ("/embed/frame.js", "text/javascript; charset=utf-8", "postMessage"),
        ("/embed/embed.css", "text/css; charset=utf-8", "prefers-color-scheme: dark"),
    ] {
        let reply = app.get(path).await;
        assert_eq!(reply.status.as_u16(), 200);
        assert_eq!(reply.header("content-type").as_deref(), Some(media));
        assert!(String::from_utf8_lossy(&reply.body).contains(needle));
        assert_eq!(reply.header("cache-control").as_deref(), Some("public, max-age=3600, stale-while-revalidate=3600"));
        let etag = reply.header("etag").unwrap();
        assert_eq!(app.get_with(path, &[("if-none-match", &etag)]).await.status.as_u16(), 304);
    }
    // The widget checks where messages come from before it resizes anything.
    let widget = String::from_utf8(app.get("/embed/widget.js").await.body.to_vec()).unwrap();
    assert!(widget.contains("event.origin !== source.origin"));
}

#[actix_web::test]
async fn the_widget_passes_on_exactly_the_embeds_parameters() {
    use mip::embeds::routes::EmbedQuery;
    use mip::events::filter::EventFilterQuery;
    use utoipa::IntoParams;
    let app = common::spawn().await;
    let widget = String::from_utf8(app.get("/embed/widget.js").await.body.to_vec()).unwrap();
    let list = widget.split("var known = [").nth(1).unwrap().split("];").next().unwrap();
    let mut passed: Vec<String> = list.split(',').map(|name| name.trim().trim_matches('\'').to_string()).collect();
    // Not for partners' pages: states only admins see, sync, paging, and what the widget sets itself.
    let own = ["publication", "updated_since", "cursor", "origin"];
    let mut parameters: Vec<String> = EventFilterQuery::into_params(|| None)
        .into_iter()
        .chain(EmbedQuery::into_params(|| None))
        .map(|parameter| parameter.name)
        .filter(|name| !own.contains(&name.as_str()))
        .collect();
    passed.sort();
    parameters.sort();
    assert_eq!(passed, parameters);
}

#[actix_web::test]
async fn a_refused_embed_still_shows_its_reason_inside_the_partners_frame() {
    let app = common::spawn().await;
    let reply = app.get("/embed/events?theme=Dark").await;
    reply.problem(400);
    assert_eq!(reply.header("content-security-policy").as_deref(), Some("default-src 'none'; frame-ancestors *"));
    let reply = app.get("/embed/events?cfasync=false").await;
    assert_eq!(reply.problem(400)["detail"].as_str().map(|d| d.contains("cfasync")), Some(true));
}
