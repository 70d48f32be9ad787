//! Where Box lives: the API host and the browser-facing OAuth 2.0 host.

use url::Url;

use crate::error::{ConfigError, ConfigErrorKind, Error, Result};

/// Box's API host. Token and revoke requests go to `{base_url}/oauth2/token` and `/oauth2/revoke`.
pub const DEFAULT_BASE_URL: &str = "https://api.box.com";
/// Box's browser-facing OAuth 2.0 host. The consent page is `{oauth2_url}/authorize`.
pub const DEFAULT_OAUTH2_URL: &str = "https://account.box.com/api/oauth2";

/// The two base URLs every request is built from. Point them at another host (the boxauth
/// emulator, a proxy, Box Verified Enterprise's `ent.box.com`) to send everything there.
///
/// ```
/// # use boxauth::BoxUrls;
/// let urls = BoxUrls::new("http://127.0.0.1:8080", "http://127.0.0.1:8080/api/oauth2")?;
/// assert_eq!(urls.token_url(), "http://127.0.0.1:8080/oauth2/token");
/// # Ok::<(), boxauth::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoxUrls {
    base_url: String,
    oauth2_url: String,
}

impl Default for BoxUrls {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            oauth2_url: DEFAULT_OAUTH2_URL.to_owned(),
        }
    }
}

impl BoxUrls {
    /// Both URLs, checked: each must be an absolute `http` or `https` URL with no query or fragment.
    /// A trailing slash is dropped.
    pub fn new(base_url: &str, oauth2_url: &str) -> Result<Self> {
        Ok(Self {
            base_url: checked("base URL", base_url)?,
            oauth2_url: checked("OAuth 2.0 URL", oauth2_url)?,
        })
    }

    /// `BOX_BASE_URL` and `BOX_OAUTH2_URL` from the process environment, each Box's own when
    /// unset or empty.
    pub fn from_env() -> Result<Self> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) with the variables looked up by `var`.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let var = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let mut urls = Self::default();
        if let Some(base) = var("BOX_BASE_URL") {
            urls = urls.with_base_url(&base)?;
        }
        if let Some(oauth2) = var("BOX_OAUTH2_URL") {
            urls = urls.with_oauth2_url(&oauth2)?;
        }
        Ok(urls)
    }

    /// The same OAuth 2.0 URL with another API host.
    pub fn with_base_url(mut self, base_url: &str) -> Result<Self> {
        self.base_url = checked("base URL", base_url)?;
        Ok(self)
    }

    /// The same API host with another OAuth 2.0 URL.
    pub fn with_oauth2_url(mut self, oauth2_url: &str) -> Result<Self> {
        self.oauth2_url = checked("OAuth 2.0 URL", oauth2_url)?;
        Ok(self)
    }

    /// The API host, e.g. `https://api.box.com`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The OAuth 2.0 host, e.g. `https://account.box.com/api/oauth2`.
    pub fn oauth2_url(&self) -> &str {
        &self.oauth2_url
    }

    /// `{base_url}/oauth2/token`.
    pub fn token_url(&self) -> String {
        format!("{}/oauth2/token", self.base_url)
    }

    /// `{base_url}/oauth2/revoke`.
    pub fn revoke_url(&self) -> String {
        format!("{}/oauth2/revoke", self.base_url)
    }

    /// `{oauth2_url}/authorize`.
    pub fn authorize_url(&self) -> String {
        format!("{}/authorize", self.oauth2_url)
    }

    /// `{base_url}/2.0{path}`, for API calls such as `/users/me`.
    pub fn api_url(&self, path: &str) -> String {
        format!("{}/2.0{}", self.base_url, path)
    }
}

fn checked(what: &str, value: &str) -> Result<String> {
    let trimmed = value.trim().trim_end_matches('/');
    // A password in the URL's userinfo is never repeated in a message.
    let shown = crate::internal::mask::url_password(value);
    let parsed = Url::parse(trimmed).map_err(|e| {
        let example = if what == "base URL" {
            DEFAULT_BASE_URL
        } else {
            DEFAULT_OAUTH2_URL
        };
        ConfigError::new(
            ConfigErrorKind::Invalid,
            format!(
                "the {what} {shown:?} is not a valid URL; give an absolute URL such as {example}"
            ),
        )
        .with_source(e)
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(Error::config(format!(
            "the {what} {shown:?} must be an http:// or https:// URL with a host"
        )));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(Error::config(format!(
            "the {what} {shown:?} must not carry a query or fragment; give only scheme, host and path"
        )));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    #[test]
    fn urls_from_the_environment_default_to_boxs_own() {
        let unset = super::BoxUrls::from_vars(|_| None).unwrap();
        assert_eq!(unset, super::BoxUrls::default());
        let emulator = super::BoxUrls::from_vars(|name| match name {
            "BOX_BASE_URL" => Some("http://127.0.0.1:8080/".into()),
            "BOX_OAUTH2_URL" => Some("".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(emulator.token_url(), "http://127.0.0.1:8080/oauth2/token");
        assert_eq!(emulator.oauth2_url(), super::DEFAULT_OAUTH2_URL);
        assert!(super::BoxUrls::from_vars(|_| Some("not a url".into())).is_err());
    }

    use super::*;

    #[test]
    fn defaults_are_box() {
        let urls = BoxUrls::default();
        assert_eq!(urls.token_url(), "https://api.box.com/oauth2/token");
        assert_eq!(urls.revoke_url(), "https://api.box.com/oauth2/revoke");
        assert_eq!(
            urls.authorize_url(),
            "https://account.box.com/api/oauth2/authorize"
        );
        assert_eq!(
            urls.api_url("/users/me"),
            "https://api.box.com/2.0/users/me"
        );
    }

    #[test]
    fn trailing_slash_is_dropped_and_bad_urls_refused() {
        let urls = BoxUrls::new("http://127.0.0.1:9/", "http://127.0.0.1:9/api/oauth2/").unwrap();
        assert_eq!(urls.token_url(), "http://127.0.0.1:9/oauth2/token");
        assert_eq!(
            urls.authorize_url(),
            "http://127.0.0.1:9/api/oauth2/authorize"
        );
        for bad in [
            "api.box.com",
            "ftp://api.box.com",
            "https://api.box.com?x=1",
            "",
        ] {
            let err = BoxUrls::new(bad, DEFAULT_OAUTH2_URL).unwrap_err();
            assert!(err.to_string().contains("base URL"), "{err}");
        }
    }
}
