//! Public reads on a replica: GET and HEAD requests without credentials read from
//! `DATABASE_READ_URL`; writes and every read of a caller with a token use the primary. A
//! second database stands in for the replica, each holding a row the other lacks.

use diesel::connection::SimpleConnection;

use crate::common::{self, TestDb};

#[actix_web::test]
async fn public_reads_go_to_the_replica_and_a_caller_with_a_token_reads_the_primary() {
    let replica = TestDb::new();
    let replica_url = replica.url.clone();
    let app = common::spawn_with(move |db| mip::config::Settings {
        database_read_url: Some(replica_url),
        ..common::settings(db)
    })
    .await;
    let admin = app.admin_token().await;
    // Written on the primary only (a write always goes there, even one made right now).
    assert_eq!(app.post("/api/v1/editions", Some(&admin), common::edition_body(2031)).await.status.as_u16(), 201);
    // Only on the replica.
    replica
        .conn()
        .batch_execute(
            "INSERT INTO editions (year, number, title, starts_on, ends_on, referencing_opens_at, referencing_closes_at) \
             VALUES (2032, 19, 'Seulement sur le réplica', '2032-11-01', '2032-11-30', '2032-09-01', '2032-10-31')",
        )
        .unwrap();
    // Read-only from now on, as a hot standby is: a public request that wrote would fail.
    replica
        .conn()
        .batch_execute(&format!("ALTER DATABASE {} SET default_transaction_read_only = on", replica.name))
        .unwrap();

    // The public reads the replica: it sees 2032 and not 2031.
    app.get("/api/v1/editions/2031").await.problem(404);
    assert_eq!(app.get("/api/v1/editions/2032").await.json()["title"], "Seulement sur le réplica");
    let head = app
        .send(
            actix_web::test::TestRequest::default().method(actix_web::http::Method::HEAD).uri("/api/v1/editions/2032"),
        )
        .await;
    assert_eq!(head.status.as_u16(), 200, "HEAD is a read too");
    // A caller with a token reads the primary, so a writer reads its own writes.
    assert_eq!(app.get_as("/api/v1/editions/2031", &admin).await.status.as_u16(), 200);
    app.get_as("/api/v1/editions/2032", &admin).await.problem(404);
    // Public feeds and reports read there too, without writing.
    assert_eq!(app.get("/api/v1/feeds/events.ics").await.status.as_u16(), 200);
    assert_eq!(app.get("/api/v1/reports/editions").await.status.as_u16(), 200);
}

#[actix_web::test]
async fn a_replica_that_is_down_sends_public_reads_to_the_primary_after_a_short_wait() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let app = common::spawn_with(move |db| mip::config::Settings {
        database_read_url: Some(format!("postgres://postgres@127.0.0.1:{closed}/mip")),
        ..common::settings(db)
    })
    .await;
    let admin = app.admin_token().await;
    assert_eq!(app.post("/api/v1/editions", Some(&admin), common::edition_body(2031)).await.status.as_u16(), 201);
    let started = std::time::Instant::now();
    assert_eq!(app.get("/api/v1/editions/2031").await.status.as_u16(), 200, "read from the primary");
    assert!(started.elapsed() < std::time::Duration::from_secs(3), "{:?}", started.elapsed());
    // Then straight to the primary, without waiting on the replica again.
    let started = std::time::Instant::now();
    assert_eq!(app.get("/api/v1/editions/2031").await.status.as_u16(), 200);
    assert!(started.elapsed() < std::time::Duration::from_millis(500), "{:?}", started.elapsed());
    // Readiness is the primary's.
    assert_eq!(app.get("/health/ready").await.status.as_u16(), 200);
}
