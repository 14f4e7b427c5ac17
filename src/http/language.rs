//! The language of messages meant for a person (import reports): English unless the client
//! prefers French (`Accept-Language: fr`).

use actix_web::HttpRequest;
use actix_web::http::header::ACCEPT_LANGUAGE;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Fr,
}

impl Lang {
    /// The language `Accept-Language` prefers among those we write (RFC 9110 §12.5.4): the
    /// highest `q`, the first listed on a tie; English when neither is asked for.
    pub fn of(request: &HttpRequest) -> Lang {
        let Some(header) = request.headers().get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()) else {
            return Lang::En;
        };
        let mut best: Option<(f32, Lang)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let quality = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let lang = match tag.split('-').next() {
                Some("fr") => Lang::Fr,
                Some("en") => Lang::En,
                _ => continue,
            };
            if quality > 0.0 && best.is_none_or(|(q, _)| quality > q) {
                best = Some((quality, lang));
            }
        }
        best.map_or(Lang::En, |(_, lang)| lang)
    }

    /// The message in this language.
    pub fn pick(self, english: String, french: String) -> String {
        match self {
            Lang::En => english,
            Lang::Fr => french,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn french_when_preferred() {
        let lang =
            |value: &str| Lang::of(&TestRequest::default().insert_header((ACCEPT_LANGUAGE, value)).to_http_request());
        assert_eq!(lang("fr"), Lang::Fr);
        assert_eq!(lang("fr-FR,fr;q=0.9,en;q=0.8"), Lang::Fr);
        assert_eq!(lang("en-GB,fr;q=0.5"), Lang::En);
        assert_eq!(lang("de, fr;q=0.3"), Lang::Fr);
        assert_eq!(lang("fr;q=0"), Lang::En);
        assert_eq!(Lang::of(&TestRequest::default().to_http_request()), Lang::En);
    }
}
