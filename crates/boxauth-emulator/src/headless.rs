//! A user without a browser: answers the consent page over plain HTTP, as a person would with a
//! browser (GET the page, keep its cookie and CSRF token, POST the decision). For demos and tests.

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;

/// Why the consent page did not redirect.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConsentError {
    /// The request failed.
    #[error("could not reach the consent page")]
    Http(#[from] reqwest::Error),
    /// The page refused the request (an error page, or the login was refused).
    #[error("the consent page answered HTTP {status}: {message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The error the page shows.
        message: String,
    },
}

/// The user's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// "Grant access to Box".
    Approve,
    /// "Deny".
    Deny,
}

/// Opens `authorize_url`, signs in as `login`, answers `decision`, and returns the URL Box
/// redirected to (`redirect_uri?code=…&state=…` or `…?error=access_denied&state=…`).
pub async fn answer(
    authorize_url: &str,
    login: &str,
    decision: Decision,
) -> Result<String, ConsentError> {
    Agent::new()?.answer(authorize_url, login, decision).await
}

/// A user agent without a browser that keeps its connections open between pages: for answering
/// many consent pages quickly (many users connecting an app). Cheap to clone; clones share the
/// connections. Each answer keeps its own cookie, so answers may run at once.
#[derive(Debug, Clone)]
pub struct Agent {
    client: reqwest::Client,
}

impl Agent {
    /// An agent that follows no redirect (the answer is the redirect) and uses no proxy.
    pub fn new() -> Result<Self, ConsentError> {
        let client = reqwest::Client::builder()
            .redirect(Policy::none())
            .no_proxy()
            .build()?;
        Ok(Self { client })
    }

    /// [`answer`]: opens `authorize_url`, signs in as `login`, answers `decision`, and returns the
    /// URL Box redirected to.
    pub async fn answer(
        &self,
        authorize_url: &str,
        login: &str,
        decision: Decision,
    ) -> Result<String, ConsentError> {
        answer_with(&self.client, authorize_url, login, decision).await
    }

    /// Its HTTP client (no redirects followed, no proxy), for the requests around the consent
    /// page (the code exchange), on the same kept-open connections.
    pub fn http(&self) -> &reqwest::Client {
        &self.client
    }
}

async fn answer_with(
    client: &reqwest::Client,
    authorize_url: &str,
    login: &str,
    decision: Decision,
) -> Result<String, ConsentError> {
    let page = client.get(authorize_url).send().await?;
    let status = page.status().as_u16();
    let cookie = page
        .headers()
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_owned);
    let html = page.text().await?;
    let refused = |status: u16, html: &str| ConsentError::Refused {
        status,
        message: shown_error(html),
    };
    if status != 200 {
        return Err(refused(status, &html));
    }
    let csrf = attribute_after(&html, "name=\"csrf_token\"", "value").unwrap_or_default();
    let action = attribute_after(&html, "<form", "action").unwrap_or_default();
    let origin = url::Url::parse(authorize_url)
        .and_then(|u| u.join(&action))
        .map_err(|_| refused(status, "the consent form has no usable action"))?;
    let mut request = client.post(origin).header(
        reqwest::header::CONTENT_TYPE,
        "application/x-www-form-urlencoded",
    );
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("csrf_token", &csrf)
        .append_pair("login", login)
        .append_pair(
            "decision",
            if decision == Decision::Approve {
                "approve"
            } else {
                "deny"
            },
        )
        .finish();
    let answer = request.body(form).send().await?;
    let status = answer.status().as_u16();
    match answer.headers().get(LOCATION).and_then(|v| v.to_str().ok()) {
        Some(location) if status == 302 => Ok(location.to_owned()),
        _ => {
            let html = answer.text().await?;
            Err(refused(status, &html))
        }
    }
}

/// The value of `attribute` in the first tag after `marker`, HTML entities for `&` decoded.
fn attribute_after(html: &str, marker: &str, attribute: &str) -> Option<String> {
    let start = html.find(marker)?;
    let tag_end = html[start..].find('>')? + start;
    let tag_start = html[..start].rfind('<').unwrap_or(start);
    let tag = &html[tag_start..tag_end];
    let key = format!("{attribute}=\"");
    let value_start = tag.find(&key)? + key.len();
    let value_end = tag[value_start..].find('"')? + value_start;
    Some(unescape(&tag[value_start..value_end]))
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let Some(end) = rest.find(';').filter(|&end| end <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The error text a page shows, for messages.
fn shown_error(html: &str) -> String {
    for marker in ["id=\"error-description\">", "id=\"error\">"] {
        if let Some(start) = html.find(marker) {
            let rest = &html[start + marker.len()..];
            return unescape(rest.split('<').next().unwrap_or_default().trim());
        }
    }
    html.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_attributes_are_found_and_unescaped() {
        let html = r#"<form method="post" action="/api/oauth2/authorize?a=1&amp;b=2&#38;c=&#x33;&unknown;">
            <input type="hidden" name="csrf_token" value="abc-123">"#;
        assert_eq!(
            attribute_after(html, "<form", "action").as_deref(),
            Some("/api/oauth2/authorize?a=1&b=2&c=3&unknown;")
        );
        assert_eq!(
            attribute_after(html, "name=\"csrf_token\"", "value").as_deref(),
            Some("abc-123")
        );
    }
}
