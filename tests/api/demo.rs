//! The demo data set: what `mip serve --demo` loads, through the same code the API uses.

use crate::common;

#[actix_web::test]
async fn the_demo_data_holds_the_editions_labs_and_published_sample_events() {
    let app = common::spawn().await;
    assert!(mip::demo::load(&mut app.db.conn()).unwrap(), "loads into an empty database");
    assert!(!mip::demo::load(&mut app.db.conn()).unwrap(), "and only once");

    let editions = app.get("/api/v1/editions").await.json();
    let years: Vec<i64> = editions["data"].as_array().unwrap().iter().map(|e| e["year"].as_i64().unwrap()).collect();
    assert_eq!(years, [2022, 2021, 2020]);
    let tracks_2021 = editions["data"][1]["tracks"].as_array().unwrap();
    assert_eq!(tracks_2021.len(), 4);
    assert_eq!(tracks_2021[0]["name"], "L'innovation au service de l'expérience usager");
    assert_eq!(editions["data"][2]["phase"], "closed");

    let labs = app.get("/api/v1/labs?limit=100").await.json();
    assert_eq!(labs["total"], 13);
    let ti_lab = app.get("/api/v1/labs/ti-lab").await.json();
    assert_eq!(ti_lab["region"]["name"], "Bretagne");

    // Every sample event is published, the 2020 Simplificathon with its session beyond the month.
    let seed = mip::demo::seed().unwrap();
    // Its slug ends with characters of its own id, found through the programme.
    let found = app.get("/api/v1/events?q=simplificathon").await.json();
    let slug = found["data"][0]["slug"].as_str().unwrap();
    assert!(slug.starts_with("faisons-simple-le-simplificathon-eclair-2020-"), "{slug}");
    let simplificathon = app.get(&format!("/api/v1/events/{slug}")).await.json();
    assert_eq!(simplificathon["publication"], "published");
    assert_eq!(simplificathon["sessions"][0]["starts_at"], "2020-10-17T09:30:00+02:00");
    assert_eq!(simplificathon["sessions"][0]["ends_at"], "2020-12-04T17:30:00+01:00");
    let mut published = 0;
    for organizer in ["ditp", "ti-lab", "siilab", "departement-du-nord", "lab-archipel"] {
        published += app.get(&format!("/api/v1/organizers/{organizer}/events")).await.json()["total"].as_i64().unwrap();
    }
    assert_eq!(published, 6, "DITP's two, one each for the others");
    assert_eq!(
        app.get("/api/v1/labs/ti-lab/events").await.json()["data"][0]["title"],
        "Fabriquer un capteur de qualité de l'air"
    );
    assert_eq!(seed.events.len(), 21);

    // The demo accounts log in.
    let admin = app.login(mip::demo::DEMO_ADMIN_EMAIL, mip::demo::DEMO_PASSWORD).await;
    assert_eq!(admin.status.as_u16(), 200);
    let organizer = app.login(mip::demo::DEMO_ORGANIZER_EMAIL, mip::demo::DEMO_PASSWORD).await.json();
    let me = app.get_as("/api/v1/me", organizer["access_token"].as_str().unwrap()).await.json();
    assert_eq!(me["organizer"]["slug"], "ti-lab");
}
