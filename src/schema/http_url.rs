//! An HTTP verb's URL: checked and parsed once, when the project is read.
//! Every call and every replay of a dead letter use the parsed form; it is
//! shown, compared and written out as the project wrote it.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone)]
pub struct HttpUrl {
    written: String,
    /// What a call is sent to (a clone shares its bytes), without the
    /// user and password the URL may hold.
    uri: http::Uri,
    /// `Authorization: Basic …` from the URL's user and password, if it
    /// has them (as reqwest, which called verbs before, did).
    authorization: Option<http::HeaderValue>,
}

impl HttpUrl {
    /// `written` as an HTTP verb's URL, or why it cannot be one (the
    /// message completes "must be an http:// URL, not `…`: ").
    pub fn parse(written: &str) -> Result<HttpUrl, String> {
        let parsed = url::Url::parse(written).map_err(|e| e.to_string())?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!("the scheme is `{}`", parsed.scheme()));
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err("it names no host".into());
        }
        let mut parsed = parsed;
        let authorization = basic_auth(&parsed);
        // Cannot fail: the URL has a host and an http(s) scheme.
        let _ = parsed.set_username("");
        let _ = parsed.set_password(None);
        let uri = parsed
            .as_str()
            .parse::<http::Uri>()
            .map_err(|e| e.to_string())?;
        Ok(HttpUrl {
            written: written.to_string(),
            uri,
            authorization,
        })
    }

    /// As the project wrote it.
    pub fn as_str(&self) -> &str {
        &self.written
    }

    /// Normalized (`http://127.0.0.1:8081` is `http://127.0.0.1:8081/`).
    pub fn uri(&self) -> &http::Uri {
        &self.uri
    }

    /// The `Authorization` header its user and password make, if any.
    pub fn authorization(&self) -> Option<&http::HeaderValue> {
        self.authorization.as_ref()
    }
}

/// `Basic base64(user:password)`, the user and password percent-decoded.
fn basic_auth(url: &url::Url) -> Option<http::HeaderValue> {
    use base64::Engine;
    if url.username().is_empty() && url.password().is_none() {
        return None;
    }
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let mut credentials = decode(url.username());
    credentials.push(':');
    credentials.push_str(&url.password().map(decode).unwrap_or_default());
    let encoded = base64::engine::general_purpose::STANDARD.encode(credentials);
    let mut value = http::HeaderValue::try_from(format!("Basic {encoded}")).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// Two URLs are the same verb address when written the same (a change of
/// spelling restarts the subscription, as any change of the verb does).
impl PartialEq for HttpUrl {
    fn eq(&self, other: &HttpUrl) -> bool {
        self.written == other.written
    }
}

impl fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.written)
    }
}

impl Serialize for HttpUrl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.written)
    }
}

impl<'de> Deserialize<'de> for HttpUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<HttpUrl, D::Error> {
        let written = String::deserialize(d)?;
        HttpUrl::parse(&written).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verb_url_is_kept_as_written_and_parsed_once() {
        let u = HttpUrl::parse("http://127.0.0.1:8081").unwrap();
        assert_eq!(u.as_str(), "http://127.0.0.1:8081");
        assert_eq!(u.uri().to_string(), "http://127.0.0.1:8081/");
        assert_eq!(
            serde_json::to_string(&u).unwrap(),
            "\"http://127.0.0.1:8081\""
        );
        let back: HttpUrl = serde_json::from_str("\"http://127.0.0.1:8081\"").unwrap();
        assert_eq!(back, u);
    }

    #[test]
    fn a_user_and_password_in_the_url_are_sent_as_basic_auth() {
        let u = HttpUrl::parse("http://al%20i:se%3Asame@127.0.0.1:8081/v").unwrap();
        assert_eq!(u.uri().to_string(), "http://127.0.0.1:8081/v");
        // base64("al i:se:same")
        assert_eq!(u.authorization().unwrap(), "Basic YWwgaTpzZTpzYW1l");
        assert_eq!(u.as_str(), "http://al%20i:se%3Asame@127.0.0.1:8081/v");
        assert!(HttpUrl::parse("http://127.0.0.1:8081/v")
            .unwrap()
            .authorization()
            .is_none());
    }

    #[test]
    fn what_cannot_be_a_verb_url_says_why() {
        assert_eq!(
            HttpUrl::parse("ftp://h/x").unwrap_err(),
            "the scheme is `ftp`"
        );
        assert_eq!(
            HttpUrl::parse("localhost:8081/x").unwrap_err(),
            "the scheme is `localhost`"
        );
        assert!(HttpUrl::parse("127.0.0.1:8081/x").is_err());
        assert!(HttpUrl::parse("http//x").is_err());
        assert!(serde_json::from_str::<HttpUrl>("\"mailto:a@b\"").is_err());
    }
}
