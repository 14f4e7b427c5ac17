//! Absolute links in feeds and embeds: to this service (the feed itself, the next page, the
//! API page) and to each event's page on the programme site.

use actix_web::HttpRequest;
use actix_web::http::header;

use crate::config::Settings;

/// Query parameters a feed reads for its own paging: dropped when linking elsewhere.
const PAGING: [&str; 3] = ["cursor", "limit", "sort"];

pub struct Links {
    /// `https://api.example.fr`: no trailing slash.
    base: String,
    event_page: String,
    path: String,
    /// The request's query pairs, in order, without the cache-buster.
    pairs: Vec<(String, String)>,
}

/// A `Host` header as clients send it: a name or address and a port, nothing a link could
/// be bent with.
fn plausible_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

impl Links {
    pub fn of(request: &HttpRequest, settings: &Settings) -> Links {
        let header_value =
            |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok()).map(|v| v.trim().to_string());
        let base = match &settings.public_url {
            Some(url) => url.clone(),
            None => {
                // Forwarded values only when the proxy in front is trusted to set them.
                let forwarded = |name: &str| if settings.trust_forwarded { header_value(name) } else { None };
                let scheme = forwarded("x-forwarded-proto")
                    .filter(|s| s == "https" || s == "http")
                    .unwrap_or_else(|| "http".into());
                let host = forwarded("x-forwarded-host")
                    .or_else(|| header_value(header::HOST.as_str()))
                    .filter(|h| plausible_host(h))
                    .unwrap_or_else(|| "localhost".into());
                format!("{scheme}://{host}")
            }
        };
        let pairs = form_urlencoded::parse(request.query_string().as_bytes())
            .filter(|(name, _)| name != crate::http::query::CACHE_BUSTER)
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect();
        Links { base, event_page: settings.event_page_url.clone(), path: request.path().to_string(), pairs }
    }

    /// This service's address for `path` (which starts with `/`).
    pub fn absolute(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The event's page on the programme site.
    pub fn event_page(&self, slug: &str) -> String {
        self.event_page.replace("{slug}", slug)
    }

    /// The programme site's home: the event page address up to the slug, without its query.
    pub fn programme_home(&self) -> String {
        let before = self.event_page.split("{slug}").next().unwrap_or_default();
        match url::Url::parse(before) {
            Ok(mut home) => {
                home.set_query(None);
                home.set_fragment(None);
                home.to_string()
            }
            Err(_) => before.to_string(),
        }
    }

    /// A permanent id for the feed at this address whatever host, page or order it is read
    /// with: a `tag:` URI (RFC 4151) of its path and filters, in a fixed order.
    pub fn feed_id(&self) -> String {
        let mut filters: Vec<&(String, String)> =
            self.pairs.iter().filter(|(name, _)| !PAGING.contains(&name.as_str())).collect();
        filters.sort();
        let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(filters).finish();
        format!("tag:mois-innovation-publique.fr,2026:{}?{query}", self.path)
    }

    /// The address of this very request.
    pub fn this(&self) -> String {
        self.with(&self.path, &self.pairs)
    }

    /// This request's address with its query changed: `changes` replace (or, with `None`,
    /// remove) the parameters of the same name.
    pub fn this_with(&self, changes: &[(&str, Option<&str>)]) -> String {
        let mut pairs: Vec<(String, String)> =
            self.pairs.iter().filter(|(name, _)| !changes.iter().any(|(n, _)| n == name)).cloned().collect();
        for (name, value) in changes {
            if let Some(value) = value {
                pairs.push((name.to_string(), value.to_string()));
            }
        }
        self.with(&self.path, &pairs)
    }

    /// `path` (another list of events) with this request's filters and the given extra pairs.
    pub fn filtered(&self, path: &str, extra: &[(&str, &str)]) -> String {
        let mut pairs: Vec<(String, String)> =
            self.pairs.iter().filter(|(name, _)| !PAGING.contains(&name.as_str())).cloned().collect();
        pairs.extend(extra.iter().map(|(n, v)| (n.to_string(), v.to_string())));
        self.with(path, &pairs)
    }

    /// The filter's parameters only (for an embed's own links).
    pub fn filter_pairs(&self, dropped: &[&str]) -> Vec<(String, String)> {
        self.pairs.iter().filter(|(name, _)| !dropped.contains(&name.as_str())).cloned().collect()
    }

    fn with(&self, path: &str, pairs: &[(String, String)]) -> String {
        if pairs.is_empty() {
            return self.absolute(path);
        }
        let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        format!("{}{path}?{query}", self.base)
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn settings() -> Settings {
        Settings::for_tests("postgres://localhost/unused")
    }

    #[test]
    fn links_keep_the_filter_and_change_the_paging() {
        let request = TestRequest::get()
            .uri("/api/v1/feeds/events.rss?region=53&limit=10&_=123")
            .insert_header(("host", "api.example.fr:8080"))
            .to_http_request();
        let links = Links::of(&request, &settings());
        assert_eq!(links.this(), "http://api.example.fr:8080/api/v1/feeds/events.rss?region=53&limit=10");
        assert_eq!(
            links.this_with(&[("cursor", Some("abc"))]),
            "http://api.example.fr:8080/api/v1/feeds/events.rss?region=53&limit=10&cursor=abc"
        );
        assert_eq!(
            links.filtered("/api/v1/events", &[("cursor", "abc")]),
            "http://api.example.fr:8080/api/v1/events?region=53&cursor=abc"
        );
    }

    #[test]
    fn forwarded_headers_count_only_when_trusted_and_hosts_are_checked() {
        let request = TestRequest::get()
            .uri("/x")
            .insert_header(("host", "evil.example/\"><script>"))
            .insert_header(("x-forwarded-host", "cdn.example"))
            .insert_header(("x-forwarded-proto", "https"))
            .to_http_request();
        assert_eq!(Links::of(&request, &settings()).absolute("/x"), "http://localhost/x");
        let mut trusted = settings();
        trusted.trust_forwarded = true;
        assert_eq!(Links::of(&request, &trusted).absolute("/x"), "https://cdn.example/x");
        let mut configured = settings();
        configured.public_url = Some("https://api.mip.gouv.fr".into());
        assert_eq!(Links::of(&request, &configured).absolute("/x"), "https://api.mip.gouv.fr/x");
    }
}
