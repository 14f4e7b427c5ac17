use actix_web::{HttpResponse, post, web};

use super::model::{LoginForm, TokenResponse};
use crate::app::AppState;
use crate::error::{ApiResult, Problem};
use crate::http::json::ValidJson;

/// Log in with email and password.
///
/// Unknown emails and wrong passwords get the same answer in comparable time.
#[utoipa::path(
    tag = "auth",
    request_body = LoginForm,
    responses(
        (status = 200, description = "Logged in", body = TokenResponse),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong email or password", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/login")]
pub async fn login(state: web::Data<AppState>, form: ValidJson<LoginForm>) -> ApiResult<HttpResponse> {
    let tokens = crate::auth::sessions::login(&state, form.0).await?;
    Ok(HttpResponse::Ok().json(tokens))
}
