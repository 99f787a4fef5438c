//! An HTTP verb's URL: checked and parsed once, when the project is read.
//! Every call and every replay of a dead letter use the parsed form; it is
//! shown, compared and written out as the project wrote it.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone)]
pub struct HttpUrl {
    written: String,
    /// What a call is sent to (a clone shares its bytes).
    uri: http::Uri,
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
        let uri = parsed
            .as_str()
            .parse::<http::Uri>()
            .map_err(|e| e.to_string())?;
        Ok(HttpUrl {
            written: written.to_string(),
            uri,
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
