//! Reports: every figure checked against counts made by hand over a month built here, the
//! shared filter, the previous-edition change, first-time organizers, CSV, SVG, who sees what,
//! and revalidation.
//!
//! The month (editions 2028 and 2029; A is a lab, B a city, C of another kind):
//! - 2028: A publishes two onsite workshops in Ille-et-Vilaine (35); C leaves a webinar as a draft.
//! - 2029: E1 (A) an onsite workshop in 35, two sessions (5 and 12 Nov), labs ti-lab, tags
//!   données + air, track parcours-a; E2 (A) an online webinar on 5 Nov, tag données,
//!   then cancelled; E3 (B) a hybrid conference in Nord (59) from 15 Nov 20:00 to 16 Nov
//!   12:00, labs ti-lab + lab-nord, track parcours-a; E4 (B) published then withdrawn; E5 (C)
//!   a training in Loire-Atlantique (44) on 20 Nov, tag `=1+1`; E6 (C) a draft; E7 (C) submitted.

use diesel::prelude::*;
use mip::auth::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{self, Reply, TestApp, path_of, with};

struct Month {
    app: TestApp,
    admin: String,
    a: String,
    b: String,
    c: String,
}

fn kind(app: &TestApp, organizer: Uuid, kind: &str) {
    use mip::schema::organizers;
    diesel::update(organizers::table.find(organizer))
        .set(organizers::kind.eq(kind))
        .execute(&mut app.db.conn())
        .unwrap();
}

fn event(year: i32, title: &str, changes: Value) -> Value {
    let base = json!({
        "edition": year,
        "title": format!("Événement {title}"),
        "format": "workshop",
        "mode": "onsite",
        "audience": "everyone",
        "sessions": [{"starts_at": format!("{year}-11-05T10:00"), "ends_at": format!("{year}-11-05T12:00")}],
        "venue": {"name": "Salle", "address": "1 rue de la Préfecture", "postal_code": "35000", "city": "Rennes", "department": "35"},
    });
    with(base, changes)
}

fn online() -> Value {
    json!({"mode": "online", "venue": null, "online_url": "https://visio.example/salle"})
}

fn in_lille() -> Value {
    json!({"name": "Hôtel de ville", "address": "Place Augustin Laurent", "postal_code": "59000", "city": "Lille", "department": "59"})
}

fn in_nantes() -> Value {
    json!({"name": "CHU", "address": "1 place Alexis-Ricordeau", "postal_code": "44000", "city": "Nantes", "department": "44"})
}

impl Month {
    async fn create(&self, token: &str, body: Value) -> Value {
        let reply = self.app.post("/api/v1/events", Some(token), body).await;
        assert_eq!(reply.status.as_u16(), 201, "{}", String::from_utf8_lossy(&reply.body));
        reply.json()
    }

    /// Submitted by the admin (the editions' referencing windows are closed), not decided.
    async fn submit(&self, token: &str, body: Value) -> String {
        let path = path_of(&self.create(token, body).await);
        let submit = json!({"override_referencing_window": true});
        let reply = self.app.post(&format!("{path}/submit"), Some(&self.admin), submit).await;
        assert_eq!(reply.status.as_u16(), 200, "{}", String::from_utf8_lossy(&reply.body));
        path
    }

    async fn publish(&self, token: &str, body: Value) -> String {
        let path = self.submit(token, body).await;
        let reply = self.app.post(&format!("{path}/publish"), Some(&self.admin), json!({})).await;
        assert_eq!(reply.status.as_u16(), 200, "{}", String::from_utf8_lossy(&reply.body));
        path
    }

    async fn get(&self, path: &str) -> Value {
        let reply = self.app.get(path).await;
        assert_eq!(reply.status.as_u16(), 200, "{path}: {}", String::from_utf8_lossy(&reply.body));
        reply.json()
    }
}

async fn month() -> Month {
    let app = common::spawn().await;
    let admin = app.admin_token().await;
    for year in [2028, 2029] {
        assert_eq!(app.post("/api/v1/editions", Some(&admin), common::edition_body(year)).await.status.as_u16(), 201);
    }
    let track = json!({"slug": "parcours-a", "name": "L'innovation au service de l'expérience usager"});
    assert_eq!(app.post("/api/v1/editions/2029/tracks", Some(&admin), track).await.status.as_u16(), 201);
    assert_eq!(app.post("/api/v1/labs", Some(&admin), common::lab_body("ti-lab", "53")).await.status.as_u16(), 201);
    let nord = with(common::lab_body("lab-nord", "32"), json!({"name": "Lab \"Nord\", Hauts-de-France"}));
    assert_eq!(app.post("/api/v1/labs", Some(&admin), nord).await.status.as_u16(), 201);
    let (a_id, b_id, c_id) =
        (app.create_organizer("Lab A"), app.create_organizer("Ville B"), app.create_organizer("Autre C"));
    kind(&app, a_id, "innovation_lab");
    kind(&app, b_id, "local_authority");
    let a = app.account_token("a@reports.example", Role::Organizer, Some(a_id)).await;
    let b = app.account_token("b@reports.example", Role::Organizer, Some(b_id)).await;
    let c = app.account_token("c@reports.example", Role::Organizer, Some(c_id)).await;
    let m = Month { app, admin, a, b, c };

    m.publish(&m.a, event(2028, "P1", json!({}))).await;
    m.publish(&m.a, event(2028, "P2", json!({}))).await;
    m.create(&m.c, event(2028, "P3", with(online(), json!({"format": "webinar"})))).await;

    let two_sessions = json!([
        {"starts_at": "2029-11-05T10:00", "ends_at": "2029-11-05T12:00"},
        {"starts_at": "2029-11-12T10:00", "ends_at": "2029-11-12T12:00"},
    ]);
    m.publish(
        &m.a,
        event(
            2029,
            "E1",
            json!({"sessions": two_sessions, "labs": ["ti-lab"], "tags": ["Données", "air"], "track": "parcours-a"}),
        ),
    )
    .await;
    let e2 = m
        .publish(
            &m.a,
            event(
                2029,
                "E2",
                with(
                    online(),
                    json!({"format": "webinar", "tags": ["données"],
                           "sessions": [{"starts_at": "2029-11-05T14:00", "ends_at": "2029-11-05T15:00"}]}),
                ),
            ),
        )
        .await;
    assert_eq!(m.app.post(&format!("{e2}/cancel"), Some(&m.a), json!({})).await.status.as_u16(), 200);
    m.publish(
        &m.b,
        event(
            2029,
            "E3",
            json!({"format": "conference", "mode": "hybrid", "venue": in_lille(), "online_url": "https://visio.example/e3",
                   "sessions": [{"starts_at": "2029-11-15T20:00", "ends_at": "2029-11-16T12:00"}],
                   "labs": ["ti-lab", "lab-nord"], "track": "parcours-a"}),
        ),
    )
    .await;
    let e4 = m.publish(&m.b, event(2029, "E4", json!({"format": "round_table", "venue": in_lille()}))).await;
    assert_eq!(m.app.post(&format!("{e4}/withdraw"), Some(&m.b), json!({})).await.status.as_u16(), 200);
    let e5 = json!({"format": "training", "venue": in_nantes(), "tags": ["=1+1"],
                    "sessions": [{"starts_at": "2029-11-20T09:00", "ends_at": "2029-11-20T17:00"}]});
    m.publish(&m.c, event(2029, "E5", e5)).await;
    m.create(&m.c, event(2029, "E6", json!({"format": "hackathon", "venue": in_nantes()}))).await;
    m.submit(&m.c, event(2029, "E7", json!({"format": "exhibition", "venue": in_nantes()}))).await;
    m
}

/// `(code, events)` of a breakdown, in the order given.
fn counts(rows: &Value) -> Vec<(Option<String>, i64)> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|row| (row["code"].as_str().map(String::from), row["events"].as_i64().unwrap()))
        .collect()
}

fn row<'a>(rows: &'a Value, code: Option<&str>) -> &'a Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|row| row["code"].as_str() == code)
        .unwrap_or_else(|| panic!("no row {code:?} in {rows}"))
}

fn c(code: &str, events: i64) -> (Option<String>, i64) {
    (Some(code.to_string()), events)
}

#[actix_web::test]
async fn an_edition_report_counts_published_events_along_every_dimension() {
    let m = month().await;
    let report = m.get("/api/v1/reports/editions/2029").await;
    assert_eq!(report["include"], "published");
    assert_eq!(report["edition"]["year"], 2029);
    let totals = &report["totals"];
    // E1, E2, E3, E5: the withdrawn E4, the draft E6 and the submitted E7 are not public.
    assert_eq!(totals["events"], 4);
    assert_eq!(totals["sessions"], 5, "E1 has two sessions");
    assert_eq!(totals["organizers"], 3);
    assert_eq!(totals["first_time_organizers"], 2, "B and C (whose 2028 event was never published), not A");
    assert_eq!(
        (totals["regions"].as_i64(), totals["departments"].as_i64(), totals["labs"].as_i64()),
        (Some(3), Some(3), Some(2))
    );
    assert_eq!(
        (totals["online"].as_i64(), totals["hybrid"].as_i64(), totals["onsite"].as_i64()),
        (Some(1), Some(1), Some(2))
    );
    assert_eq!(totals["share_online"], 0.25);
    assert_eq!(totals["share_hybrid"], 0.25);
    assert_eq!(totals["cancelled"], 1);

    let b = &report["breakdowns"];
    let mut formats = counts(&b["format"]);
    formats.sort();
    assert_eq!(formats, vec![c("conference", 1), c("training", 1), c("webinar", 1), c("workshop", 1)]);
    assert_eq!(row(&b["format"], Some("workshop"))["label"], "Atelier");
    // Ties are ordered by label: "En ligne" before "Hybride".
    assert_eq!(counts(&b["mode"]), vec![c("onsite", 2), c("online", 1), c("hybrid", 1)]);
    assert_eq!(counts(&b["audience"]), vec![c("everyone", 4)]);
    let region = row(&b["region"], Some("53"));
    assert_eq!((region["label"].as_str(), region["events"].as_i64()), (Some("Bretagne"), Some(1)));
    assert_eq!(row(&b["region"], None)["events"], 1, "the online webinar has no region");
    assert_eq!(row(&b["region"], Some("32"))["events"], 1);
    assert_eq!(row(&b["region"], Some("52"))["events"], 1);
    assert_eq!(row(&b["department"], Some("59"))["label"], "Nord");
    assert_eq!(counts(&b["organizer_kind"]), vec![c("innovation_lab", 2), c("other", 1), c("local_authority", 1)]);
    assert_eq!(row(&b["organizer_kind"], Some("innovation_lab"))["label"], "Laboratoire d'innovation territoriale");
    // E3 has two labs: it counts once in each.
    assert_eq!(counts(&b["lab"]), vec![c("ti-lab", 2), c("lab-nord", 1)]);
    assert_eq!(row(&b["lab"], Some("lab-nord"))["label"], "Lab \"Nord\", Hauts-de-France");
    assert_eq!(counts(&b["tag"]), vec![c("données", 2), c("=1+1", 1), c("air", 1)]);
    assert_eq!(counts(&b["track"]), vec![c("parcours-a", 2), (None, 2)]);
    assert_eq!(row(&b["track"], None)["label"], "Hors parcours");
    assert_eq!(counts(&b["status"]), vec![c("scheduled", 3), c("cancelled", 1)]);
    // Days in order; E3 runs over two days and counts on both; E1's two sessions on two days.
    assert_eq!(
        counts(&b["day"]),
        vec![c("2029-11-05", 2), c("2029-11-12", 1), c("2029-11-15", 1), c("2029-11-16", 1), c("2029-11-20", 1)]
    );
    let fifth = row(&b["day"], Some("2029-11-05"));
    assert_eq!((fifth["sessions"].as_i64(), fifth["label"].as_str()), (Some(2), Some("lundi 5 novembre")));
    assert!(b.get("publication").is_none(), "the public does not see publication states");
    assert!(report.get("moderation").is_none());
    assert_eq!(row(&b["format"], Some("workshop"))["share"], 0.25);
}

#[actix_web::test]
async fn breakdowns_agree_with_the_facets_of_the_events_list() {
    let m = month().await;
    let report = m.get("/api/v1/reports/editions/2029").await;
    let listed =
        m.get("/api/v1/events?edition=2029&facets=region,department,format,mode,audience,organizer_kind,status").await;
    assert_eq!(report["totals"]["events"], listed["total"]);
    for facet in ["region", "department", "format", "mode", "audience", "organizer_kind", "status"] {
        let mut from_facets: Vec<(Option<String>, i64)> = listed["facets"][facet]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| (v["value"].as_str().map(String::from), v["count"].as_i64().unwrap()))
            .collect();
        let mut from_report: Vec<_> =
            counts(&report["breakdowns"][facet]).into_iter().filter(|(_, n)| *n > 0).collect();
        from_facets.sort();
        from_report.sort();
        assert_eq!(from_report, from_facets, "{facet}");
    }
}

#[actix_web::test]
async fn the_previous_edition_is_compared_row_by_row_and_in_total() {
    let m = month().await;
    let report = m.get("/api/v1/reports/editions/2029").await;
    let previous = &report["previous"];
    assert_eq!(previous["year"], 2028);
    assert_eq!(previous["totals"]["events"], 2);
    assert_eq!(previous["events"], json!({"previous": 2, "current": 4, "difference": 2, "ratio": 1.0}));
    assert_eq!(previous["organizers"], json!({"previous": 1, "current": 3, "difference": 2, "ratio": 2.0}));
    let workshop = row(&report["breakdowns"]["format"], Some("workshop"));
    assert_eq!((workshop["previous_events"].as_i64(), workshop["change"].as_i64()), (Some(2), Some(-1)));
    let webinar = row(&report["breakdowns"]["format"], Some("webinar"));
    assert_eq!(webinar["previous_events"], 0, "2028's webinar was a draft");
    let brittany = row(&report["breakdowns"]["region"], Some("53"));
    assert_eq!((brittany["previous_events"].as_i64(), brittany["change"].as_i64()), (Some(2), Some(-1)));
    // Days are compared with the same day of the month: both 2028 workshops were on 5 Nov.
    assert_eq!(row(&report["breakdowns"]["day"], Some("2029-11-05"))["previous_events"], 2);
    // A track belongs to its edition: 2028 had none, so there is nothing to compare with.
    assert!(row(&report["breakdowns"]["track"], Some("parcours-a")).get("previous_events").is_none());

    let first = m.get("/api/v1/reports/editions/2028").await;
    assert_eq!(first["previous"], Value::Null, "no edition before 2028 here");
    assert_eq!(first["totals"]["first_time_organizers"], 1);
    assert!(row(&first["breakdowns"]["format"], Some("workshop")).get("previous_events").is_none());
}

#[actix_web::test]
async fn reports_take_the_filters_of_the_events_list() {
    let m = month().await;
    let brittany = m.get("/api/v1/reports/editions/2029?region=53").await;
    assert_eq!(brittany["totals"]["events"], 1);
    assert_eq!(brittany["previous"]["totals"]["events"], 2, "the filter holds for the previous edition too");
    let lab = m.get("/api/v1/reports/editions/2029?lab=ti-lab").await;
    assert_eq!(lab["totals"]["events"], 2);
    assert_eq!(counts(&lab["breakdowns"]["lab"]), vec![c("ti-lab", 2), c("lab-nord", 1)]);
    let several = m.get("/api/v1/reports/editions/2029?format=webinar,training&organizer_kind=other").await;
    assert_eq!(several["totals"]["events"], 1);
    let window = m.get("/api/v1/reports/editions/2029?from=2029-11-15&to=2029-11-16").await;
    assert_eq!(window["totals"]["events"], 1, "only E3 runs on 15 and 16 November");
    assert_eq!(window["previous"], Value::Null, "dates are absolute: the edition before has none of these days");
    // E1 runs on the 5th and the 12th: within a window of the 12th, only its 12th counts.
    let twelfth = m.get("/api/v1/reports/editions/2029/by/day?from=2029-11-12&to=2029-11-12").await;
    assert_eq!(counts(&twelfth["rows"]), vec![c("2029-11-12", 1)]);
    let publication = m.app.get("/api/v1/reports/editions/2029/by/publication").await;
    assert_eq!(publication.problem_fields(400), vec!["dimension"], "publication states are for admins");

    for (query, field) in [
        ("region=99", "region"),
        ("format=Webinar", "format"),
        ("regoin=53", "regoin"),
        ("edition=2028", "edition"),
        ("include=everything", "include"),
        ("delimiter=tab", "delimiter"),
        ("limit=5", "limit"),
    ] {
        let reply = m.app.get(&format!("/api/v1/reports/editions/2029?{query}")).await;
        assert_eq!(reply.problem_fields(400), vec![field], "{query}");
    }
    assert_eq!(m.app.get("/api/v1/reports/editions/2031").await.problem(404)["status"], 404);
    assert_eq!(m.app.get("/api/v1/reports/editions/2029/by/colour").await.problem_fields(400), vec!["dimension"]);
    assert_eq!(m.app.get("/api/v1/reports/regions/99").await.problem(404)["status"], 404);
    assert_eq!(m.app.get("/api/v1/reports/regions/53?region=52").await.problem_fields(400), vec!["region"]);
}

#[actix_web::test]
async fn admins_count_every_state_with_moderation_figures_and_nobody_else_does() {
    let m = month().await;
    let all_states = "/api/v1/reports/editions/2029?include=all_states";
    assert_eq!(m.app.get(all_states).await.problem(401)["status"], 401);
    assert_eq!(m.app.get_as(all_states, &m.a).await.problem(403)["status"], 403);

    // Known waits: the five decisions of 2029 took 1, 2, 3, 4 and 10 hours.
    let mut conn = m.app.db.conn();
    diesel::sql_query(
        "UPDATE event_history h SET at = s.at + make_interval(hours => w.hours) \
         FROM event_history s, events e, \
              (SELECT * FROM (VALUES ('E1', 1), ('E2', 2), ('E3', 3), ('E4', 4), ('E5', 10)) AS v(title, hours)) w \
         WHERE h.event_id = e.id AND s.event_id = e.id AND e.title = 'Événement ' || w.title \
           AND h.action = 'published' AND s.action = 'submitted'",
    )
    .execute(&mut conn)
    .unwrap();

    let report = m.app.get_as(all_states, &m.admin).await;
    assert_eq!(report.status.as_u16(), 200, "{}", String::from_utf8_lossy(&report.body));
    let report = report.json();
    assert_eq!(report["include"], "all_states");
    assert_eq!(report["totals"]["events"], 7);
    assert_eq!(report["totals"]["first_time_organizers"], 1, "C's 2028 draft counts once drafts do");
    assert_eq!(
        counts(&report["breakdowns"]["publication"]),
        vec![c("published", 4), c("draft", 1), c("submitted", 1), c("withdrawn", 1)]
    );
    let moderation = &report["moderation"];
    assert_eq!(moderation["queue"], 1);
    assert!(moderation["oldest_submitted_at"].is_string());
    assert_eq!(moderation["decisions"], 5);
    assert_eq!(moderation["median_hours"], 3.0);
    assert_eq!(moderation["p90_hours"], 7.6);

    let reader = api_token(&m, json!(["reports:read"])).await;
    assert_eq!(m.app.get_as(all_states, &reader).await.status.as_u16(), 200);
    let writer = api_token(&m, json!(["events:write"])).await;
    assert!(m.app.get_as(all_states, &writer).await.problem(403)["detail"].as_str().unwrap().contains("reports:read"));
}

async fn api_token(m: &Month, scopes: Value) -> String {
    let reply = m.app.post("/api/v1/me/tokens", Some(&m.admin), json!({"name": "figures", "scopes": scopes})).await;
    assert_eq!(reply.status.as_u16(), 201, "{}", String::from_utf8_lossy(&reply.body));
    reply.json()["token"].as_str().unwrap().to_string()
}

fn text(reply: &Reply) -> String {
    String::from_utf8(reply.body.to_vec()).unwrap()
}

fn csv_rows(body: &str) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(body.as_bytes());
    reader.records().map(|r| r.unwrap().iter().map(String::from).collect()).collect()
}

#[actix_web::test]
async fn breakdowns_answer_csv_with_stable_columns_quoting_and_an_optional_bom() {
    let m = month().await;
    let reply = m.app.get("/api/v1/reports/editions/2029/by/lab.csv").await;
    assert_eq!(reply.status.as_u16(), 200);
    assert!(reply.header("content-type").unwrap().starts_with("text/csv"));
    assert!(reply.header("content-disposition").unwrap().contains("mip-2029-lab.csv"));
    let body = text(&reply);
    assert!(!body.starts_with('\u{feff}'));
    assert!(body.contains("\"Lab \"\"Nord\"\", Hauts-de-France\""), "quoted as RFC 4180 says: {body}");
    let rows = csv_rows(&body);
    assert_eq!(rows[0], ["code", "label", "events", "sessions", "share", "previous_events", "change"]);
    assert_eq!(rows[1], ["ti-lab", "Lab ti-lab", "2", "3", "0.5", "0", "2"]);

    let with_bom = text(&m.app.get("/api/v1/reports/editions/2029/by/region.csv?bom=true").await);
    assert!(with_bom.starts_with("\u{feff}code,label"));
    let french = text(&m.app.get("/api/v1/reports/editions/2029/by/mode.csv?delimiter=semicolon").await);
    assert!(french.contains("onsite;Sur place;2;3;0,5;2;0"), "{french}");

    // A tag that a spreadsheet would run as a formula is written as text.
    let tags = csv_rows(&text(&m.app.get("/api/v1/reports/editions/2029/by/tag.csv").await));
    assert!(tags.iter().any(|row| row[0] == "'=1+1"), "{tags:?}");

    // The same through content negotiation, which caches must key on.
    let negotiated = m.app.get_with("/api/v1/reports/editions/2029/by/lab", &[("accept", "text/csv")]).await;
    assert_eq!(text(&negotiated), body);
    assert!(negotiated.header("vary").unwrap().contains("Accept"));
}

#[actix_web::test]
async fn the_whole_edition_is_one_long_csv_table_after_a_total_row() {
    let m = month().await;
    let rows = csv_rows(&text(&m.app.get("/api/v1/reports/editions/2029.csv").await));
    assert_eq!(rows[0][0], "dimension");
    assert_eq!(rows[1], ["total", "", "Tous les événements", "4", "5", "1", "2", "2"]);
    let brittany = rows.iter().find(|r| r[0] == "region" && r[1] == "53").unwrap();
    assert_eq!(brittany[2..5], ["Bretagne", "1", "2"], "E1's two sessions");
    let dimensions: std::collections::BTreeSet<&str> = rows.iter().skip(1).map(|r| r[0].as_str()).collect();
    for dimension in [
        "total",
        "track",
        "format",
        "mode",
        "audience",
        "region",
        "department",
        "organizer_kind",
        "lab",
        "tag",
        "day",
        "status",
    ] {
        assert!(dimensions.contains(dimension), "{dimension}");
    }
    let series = csv_rows(&text(&m.app.get("/api/v1/reports/editions.csv").await));
    assert_eq!(series[0][..6], ["year", "title", "theme", "events", "sessions", "organizers"]);
    assert_eq!((series[1][0].as_str(), series[1][3].as_str()), ("2028", "2"));
    assert_eq!((series[2][0].as_str(), series[2][3].as_str()), ("2029", "4"));
}

#[actix_web::test]
async fn charts_are_svg_that_parses_and_names_its_figures() {
    let m = month().await;
    let reply = m.app.get("/api/v1/reports/editions/2029/by/region.svg").await;
    assert_eq!(reply.status.as_u16(), 200);
    assert!(reply.header("content-type").unwrap().starts_with("image/svg+xml"));
    assert!(reply.header("content-security-policy").unwrap().contains("frame-ancestors *"));
    let body = text(&reply);
    let svg = roxmltree::Document::parse(&body).expect("the chart is well-formed XML");
    let root = svg.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(root.attribute("role"), Some("img"));
    assert_eq!(root.attribute("width"), Some("600"));
    let title = root.children().find(|n| n.has_tag_name("title")).unwrap().text().unwrap();
    assert_eq!(title, "Événements par région");
    let description = root.children().find(|n| n.has_tag_name("desc")).unwrap().text().unwrap();
    assert!(description.contains("Bretagne : 1"), "{description}");
    assert!(description.contains("Sans lieu (en ligne) : 1"), "{description}");
    assert!(!body.contains("<script") && !body.contains("href"), "nothing to load or run");
    let drawn: Vec<&str> =
        svg.descendants().filter(|n| n.has_tag_name("text")).filter_map(|n| n.text()).map(str::trim).collect();
    assert!(drawn.contains(&"Bretagne"), "{drawn:?}");

    let series = text(&m.app.get("/api/v1/reports/editions.svg").await);
    let series = roxmltree::Document::parse(&series).unwrap();
    let description =
        series.root_element().children().find(|n| n.has_tag_name("desc")).unwrap().text().unwrap().to_string();
    assert!(description.contains("2028 : 2 ; 2029 : 4"), "{description}");
    let labs = text(&m.app.get("/api/v1/reports/labs.svg?edition=2029").await);
    assert!(roxmltree::Document::parse(&labs).is_ok());
}

#[actix_web::test]
async fn the_series_labs_and_regions_reports() {
    let m = m_with_lab_figures().await;
    let series = m.get("/api/v1/reports/editions").await;
    let years: Vec<(i64, i64)> = series["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["year"].as_i64().unwrap(), e["events"].as_i64().unwrap()))
        .collect();
    assert_eq!(years, vec![(2028, 2), (2029, 4)]);
    let brittany: Vec<i64> = m.get("/api/v1/reports/editions?region=53").await["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["events"].as_i64().unwrap())
        .collect();
    assert_eq!(brittany, vec![2, 1]);

    let labs = m.get("/api/v1/reports/labs?edition=2029").await;
    assert_eq!(labs["editions"], json!([2029]));
    let ti_lab = &labs["data"][0];
    assert_eq!(
        (ti_lab["slug"].as_str(), ti_lab["events"].as_i64(), ti_lab["organizers"].as_i64()),
        (Some("ti-lab"), Some(2), Some(2))
    );
    assert_eq!(ti_lab["region"], json!({"code": "53", "name": "Bretagne"}));
    assert_eq!(ti_lab["projects_led"], 5, "the lab's own figures of the edition");
    assert_eq!(labs["data"][1]["slug"], "lab-nord");
    let every_year = m.get("/api/v1/reports/labs").await;
    assert!(every_year["data"][0].get("projects_led").is_none(), "yearly figures need one edition");
    let csv = csv_rows(&text(&m.app.get("/api/v1/reports/labs.csv?edition=2029").await));
    assert_eq!(csv[0][..6], ["slug", "name", "region", "region_name", "active", "events"]);

    let region = m.get("/api/v1/reports/regions/53?edition=2029").await;
    assert_eq!(region["region"], json!({"code": "53", "name": "Bretagne"}));
    assert_eq!(region["totals"]["events"], 1);
    assert_eq!(counts(&region["breakdowns"]["department"]), vec![c("35", 1)]);
    assert_eq!(region["labs"][0]["slug"], "ti-lab");
    assert_eq!(region["labs"][0]["events"], 1, "E3 runs with ti-lab but in Nord");
    assert_eq!(region["organizers"].as_array().unwrap().len(), 1);
    assert_eq!(region["organizers"][0]["name"], "Lab A");
    assert_eq!(m.get("/api/v1/reports/regions/53").await["totals"]["events"], 3, "every edition");
    let csv = csv_rows(&text(&m.app.get("/api/v1/reports/regions/53.csv?edition=2029").await));
    assert!(csv.iter().any(|r| r[0] == "organizer" && r[2] == "Lab A" && r[3] == "1"), "{csv:?}");
}

async fn m_with_lab_figures() -> Month {
    let m = month().await;
    let reply = m.app.put("/api/v1/labs/ti-lab/figures/2029", Some(&m.admin), json!({"projects_led": 5})).await;
    assert!(reply.status.is_success(), "{}", String::from_utf8_lossy(&reply.body));
    m
}

#[actix_web::test]
async fn reports_revalidate_with_304_and_shared_caches_may_keep_them() {
    let m = month().await;
    let path = "/api/v1/reports/editions/2029";
    let first = m.app.get(path).await;
    let etag = first.header("etag").unwrap();
    assert!(first.header("last-modified").is_some());
    assert!(first.header("cache-control").unwrap().contains("public, max-age=300"));
    let again = m.app.get_with(path, &[("if-none-match", &etag)]).await;
    assert_eq!(again.status.as_u16(), 304);
    let csv = m.app.get_with(&format!("{path}.csv"), &[("if-none-match", &etag)]).await;
    assert_eq!(csv.status.as_u16(), 200, "the CSV is another representation, with its own ETag");

    // A new published event changes the figures, hence the ETag.
    m.publish(&m.b, event(2029, "E8", json!({"format": "visit", "venue": in_lille()}))).await;
    let changed = m.app.get_with(path, &[("if-none-match", &etag)]).await;
    assert_eq!(changed.status.as_u16(), 200);
    assert_eq!(changed.json()["totals"]["events"], 5);
    // A withdrawal too, though no public event changed after it.
    let withdrawn = m.app.get(path).await.header("etag").unwrap();
    let e1 = m.get("/api/v1/events?edition=2029&lab=ti-lab&organizer_kind=innovation_lab").await["data"][0].clone();
    assert_eq!(e1["title"], "Événement E1");
    assert_eq!(m.app.post(&format!("{}/withdraw", path_of(&e1)), Some(&m.a), json!({})).await.status.as_u16(), 200);
    assert_eq!(m.app.get_with(path, &[("if-none-match", &withdrawn)]).await.status.as_u16(), 200);

    let private = m.app.get_as(&format!("{path}?include=all_states"), &m.admin).await;
    assert_eq!(private.header("cache-control").as_deref(), Some("private, no-cache"));
    assert_eq!(
        m.app
            .send(actix_web::test::TestRequest::default().method(actix_web::http::Method::HEAD).uri(path))
            .await
            .status
            .as_u16(),
        200
    );
}

#[actix_web::test]
async fn sessions_are_counted_as_the_events_have_them_after_a_change() {
    let m = month().await;
    let e5 = m.get("/api/v1/events?edition=2029&format=training").await["data"][0].clone();
    let three = json!({"sessions": [
        {"starts_at": "2029-11-20T09:00", "ends_at": "2029-11-20T12:00"},
        {"starts_at": "2029-11-21T09:00", "ends_at": "2029-11-21T12:00"},
        {"starts_at": "2029-11-22T09:00", "ends_at": "2029-11-22T12:00"},
    ]});
    let reply = m.app.patch(&path_of(&e5), Some(&m.c), three).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", String::from_utf8_lossy(&reply.body));
    assert_eq!(reply.json()["version"].as_i64(), e5["version"].as_i64().map(|v| v + 1), "one change, one version");
    // The change went back to moderation (the editions' default); published again, it counts.
    if reply.json()["publication"] != "published" {
        let published = m.app.post(&format!("{}/publish", path_of(&e5)), Some(&m.admin), json!({})).await;
        assert_eq!(published.status.as_u16(), 200, "{}", String::from_utf8_lossy(&published.body));
    }
    let report = m.get("/api/v1/reports/editions/2029").await;
    assert_eq!(report["totals"]["sessions"], 7, "E5 now has three sessions");
    assert_eq!(row(&report["breakdowns"]["format"], Some("training"))["sessions"], 3);
    assert_eq!(row(&report["breakdowns"]["day"], Some("2029-11-22"))["events"], 1);
}
