//! Box's clock, as its `Date` header tells it: for `boxauth doctor`, which compares it with this
//! machine's (JWT auth corrects a skew by itself, so a token working says nothing of the clock).

use std::time::SystemTime;

use reqwest::Method;
use reqwest::header::DATE;

use crate::error::{Error, Result};
use crate::network::{NetworkSession, Outgoing};

/// The time in the `Date` header of an unauthenticated `GET {base_url}/2.0/users/me` (Box
/// answers 401, with its `Date`); `None` when the answer has no `Date` or one that is not an
/// HTTP date. Errors only when no answer came (network, TLS).
pub async fn box_date(session: &NetworkSession) -> Result<Option<SystemTime>> {
    let answer = session
        .send(Outgoing {
            method: Method::GET,
            url: session.urls().api_url("/users/me"),
            form: None,
            content_type: None,
            extra_headers: &[],
            bearer: None,
        })
        .await;
    let date = match &answer {
        Ok(incoming) => incoming
            .headers
            .get(DATE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        Err(Error::Api(api)) => api.date.clone(),
        Err(Error::InvalidResponse(_)) => None,
        Err(_) => return answer.map(|_| None),
    };
    Ok(date.and_then(|date| httpdate::parse_http_date(&date).ok()))
}
