//! What reaches the logs: no secret (passwords, access and refresh tokens, API tokens), and the
//! request id on every line of a request, including those written on the blocking pool.

use crate::common;

use serde_json::json;

#[actix_web::test]
async fn passwords_and_tokens_never_reach_the_logs() {
    let logs = common::captured_logs();
    let app = common::spawn().await;
    let session = common::register(&app, "a@x.example").await;
    let access = session["access_token"].as_str().unwrap().to_string();
    let refresh = session["refresh_token"].as_str().unwrap().to_string();
    app.login("a@x.example", "a wrong password").await;
    let api_token =
        app.post("/api/v1/me/tokens", Some(&access), json!({"name": "s", "scopes": ["events:write"]})).await.json();
    app.get_as("/api/v1/me", api_token["token"].as_str().unwrap()).await;
    app.get_as("/api/v1/me", "forged.token.value").await;
    app.post("/api/v1/auth/refresh", None, json!({"refresh_token": refresh})).await;

    let logs = logs.text();
    assert!(logs.contains("served"), "the request log was captured");
    for secret in [
        common::PASSWORD,
        "a wrong password",
        &access,
        &refresh,
        api_token["token"].as_str().unwrap(),
        "forged.token.value",
    ] {
        assert!(!logs.contains(secret), "a secret reached the logs");
    }
}

#[actix_web::test]
async fn a_line_logged_on_the_blocking_pool_names_its_request() {
    let logs = common::captured_logs();
    let app = common::spawn().await;
    let session = common::register(&app, "reuse@x.example").await;
    let refresh = json!({"refresh_token": session["refresh_token"]});
    app.post("/api/v1/auth/refresh", None, refresh.clone()).await;
    // Presenting the used token again is logged by the session code, on the blocking pool.
    let reuse = actix_web::test::TestRequest::post()
        .uri("/api/v1/auth/refresh")
        .insert_header(("x-request-id", "reuse-check-7f3a"))
        .set_json(refresh);
    app.send(reuse).await.problem(401);
    // Other tests running at once log reuses too: the line is this request's when it names it.
    let text = logs.text();
    let reuses: Vec<&str> = text.lines().filter(|line| line.contains("refresh token reused")).collect();
    assert!(!reuses.is_empty(), "the reuse was logged");
    assert!(
        reuses.iter().any(|line| line.contains("reuse-check-7f3a")),
        "no reuse line names its request id: {reuses:#?}"
    );
}
