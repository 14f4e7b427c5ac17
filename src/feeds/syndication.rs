//! News feeds of events: RSS 2.0 (crate `rss`, with the Atom namespace for its links), Atom
//! (RFC 4287, crate `atom_syndication`, with RFC 5005 paging links) and JSON Feed 1.1 (its
//! published structure, serialized by serde). Every item has a stable id (`urn:uuid:` of the
//! event), its page on the programme site, dates, place, organizer and state.

use atom_syndication as atom;
use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;

use super::links::Links;
use super::model::Listing;
use super::wording::{self, Language};
use crate::error::{ApiError, ApiResult};
use crate::events::model::{EventOut, EventStatus};

/// Where a feed's page of events stands among all that matched.
pub struct FeedLinks {
    /// The feed itself.
    pub this: String,
    /// The next page of this feed, when there is one.
    pub next: Option<String>,
    /// The same events in the API (`GET /events`), from the next page on when there is one.
    pub api: String,
}

fn urn(event: &EventOut) -> String {
    format!("urn:uuid:{}", event.id)
}

fn fixed(at: DateTime<Utc>) -> DateTime<FixedOffset> {
    at.fixed_offset()
}

/// What the feed says of itself, in a sentence: how many events it holds of how many matched.
pub fn counted(listing: &Listing) -> String {
    let shown = listing.events.len();
    match (listing.next_cursor.is_some(), listing.total) {
        (true, total) => {
            format!(
                "{shown} des {total} événements publiés qui répondent à ce filtre ; la suite est à la page suivante."
            )
        }
        (false, 0) => "Aucun événement publié ne répond à ce filtre.".to_string(),
        (false, 1) => "1 événement publié répond à ce filtre.".to_string(),
        (false, total) => format!("{total} événements publiés répondent à ce filtre."),
    }
}

fn categories(event: &EventOut) -> Vec<(String, &'static str)> {
    let mut categories = vec![(event.format.label().to_string(), "format")];
    categories.extend(event.tags.iter().map(|tag| (tag.clone(), "tag")));
    categories
}

fn title(event: &EventOut) -> String {
    match event.status {
        EventStatus::Cancelled => format!("Annulé : {}", event.title),
        _ => event.title.clone(),
    }
}

/// An RSS `<description>` is HTML (entity-encoded in the XML): the text is escaped as HTML
/// first, so that a summary holding markup shows as text in readers, never as markup.
fn as_html(text: &str) -> String {
    let escaped = askama::filters::escape(text, askama::filters::Html).map(|safe| safe.to_string()).unwrap_or_default();
    escaped.replace('\n', "<br>\n")
}

/// RSS 2.0.
pub fn rss(listing: &Listing, links: &Links, feed: &FeedLinks) -> ApiResult<String> {
    use rss::extension::atom::{AtomExtension, Link};
    let atom_link = |rel: &str, href: &str, mime: &str| Link {
        rel: rel.into(),
        href: href.into(),
        mime_type: Some(mime.into()),
        ..Link::default()
    };
    let mut atom_links = vec![atom_link("self", &feed.this, "application/rss+xml")];
    if let Some(next) = &feed.next {
        atom_links.push(atom_link("next", next, "application/rss+xml"));
    }
    atom_links.push(atom_link("related", &feed.api, "application/json"));
    let items: Vec<rss::Item> = listing
        .events
        .iter()
        .map(|event| {
            let page = links.event_page(&event.slug);
            rss::Item {
                title: Some(title(event)),
                link: Some(page),
                description: Some(as_html(&wording::item_text(event))),
                guid: Some(rss::Guid { value: urn(event), permalink: false }),
                pub_date: event.published_at.map(|at| at.to_rfc2822()),
                categories: categories(event)
                    .into_iter()
                    .map(|(name, domain)| rss::Category { name, domain: Some(domain.into()) })
                    .collect(),
                ..rss::Item::default()
            }
        })
        .collect();
    let mut channel = rss::Channel {
        title: listing.title.clone(),
        link: links.programme_home(),
        description: counted(listing),
        language: Some("fr".into()),
        generator: Some("mip".into()),
        last_build_date: listing.last_modified.map(|at| at.to_rfc2822()),
        ttl: Some("60".into()),
        items,
        ..rss::Channel::default()
    };
    channel.set_atom_ext(AtomExtension { links: atom_links });
    let bytes = channel.write_to(Vec::new()).map_err(ApiError::internal)?;
    String::from_utf8(bytes).map_err(ApiError::internal)
}

/// Atom (RFC 4287).
pub fn atom(listing: &Listing, links: &Links, feed: &FeedLinks) -> ApiResult<String> {
    let link = |rel: &str, href: &str, mime: &str| atom::Link {
        rel: rel.into(),
        href: href.into(),
        mime_type: Some(mime.into()),
        ..atom::Link::default()
    };
    let mut feed_links = vec![link("self", &feed.this, "application/atom+xml")];
    if let Some(next) = &feed.next {
        feed_links.push(link("next", next, "application/atom+xml"));
    }
    feed_links.push(link("related", &feed.api, "application/json"));
    let entries: Vec<atom::Entry> = listing
        .events
        .iter()
        .map(|event| {
            let page = links.event_page(&event.slug);
            atom::Entry {
                id: urn(event),
                title: atom::Text::plain(title(event)),
                updated: fixed(event.updated_at),
                published: event.published_at.map(fixed),
                authors: vec![atom::Person { name: event.organizer.name.clone(), ..atom::Person::default() }],
                links: vec![
                    link("alternate", &page, "text/html"),
                    link("related", &links.absolute(&format!("/api/v1/events/{}", event.id)), "application/json"),
                    link("enclosure", &links.absolute(&format!("/api/v1/events/{}.ics", event.id)), "text/calendar"),
                ],
                summary: Some(atom::Text::plain(wording::item_text(event))),
                categories: categories(event)
                    .into_iter()
                    .map(|(term, scheme)| atom::Category {
                        term,
                        scheme: Some(format!("urn:mip:{scheme}")),
                        ..atom::Category::default()
                    })
                    .collect(),
                ..atom::Entry::default()
            }
        })
        .collect();
    let document = atom::Feed {
        id: links.feed_id(),
        title: atom::Text::plain(listing.title.clone()),
        subtitle: Some(atom::Text::plain(counted(listing))),
        // A feed with nothing in it was still current at the epoch, not now: the body stays
        // the same, and so does its ETag.
        updated: fixed(listing.last_modified.unwrap_or(DateTime::UNIX_EPOCH)),
        authors: vec![atom::Person {
            name: "Direction interministérielle de la transformation publique".into(),
            ..atom::Person::default()
        }],
        links: feed_links,
        lang: Some("fr".into()),
        generator: Some(atom::Generator { value: "mip".into(), ..atom::Generator::default() }),
        entries,
        ..atom::Feed::default()
    };
    let bytes = document.write_to(Vec::new()).map_err(ApiError::internal)?;
    String::from_utf8(bytes).map_err(ApiError::internal)
}

/// JSON Feed 1.1 (<https://www.jsonfeed.org/version/1.1/>), with the event's own facts in the
/// `_mip` extension objects the specification allows.
#[derive(Serialize)]
struct JsonFeed {
    version: &'static str,
    title: String,
    description: String,
    home_page_url: String,
    feed_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_url: Option<String>,
    language: &'static str,
    items: Vec<JsonItem>,
    #[serde(rename = "_mip")]
    extension: JsonFeedExtension,
}

#[derive(Serialize)]
struct JsonFeedExtension {
    about: String,
    /// How many events matched in all pages.
    total: i64,
    /// The same list in the API.
    api_url: String,
}

#[derive(Serialize)]
struct JsonAuthor {
    name: String,
}

#[derive(Serialize)]
struct JsonItem {
    id: String,
    url: String,
    title: String,
    content_text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date_published: Option<DateTime<Utc>>,
    date_modified: DateTime<Utc>,
    authors: Vec<JsonAuthor>,
    tags: Vec<String>,
    language: String,
    #[serde(rename = "_mip")]
    extension: JsonItemExtension,
}

#[derive(Serialize)]
struct JsonItemExtension {
    about: String,
    event_id: uuid::Uuid,
    starts_at: DateTime<FixedOffset>,
    ends_at: DateTime<FixedOffset>,
    sessions: Vec<crate::events::model::SessionOut>,
    timezone: String,
    status: EventStatus,
    place: String,
    calendar_url: String,
    api_url: String,
}

/// Where the `_mip` extension is described (JSON Feed asks extensions to say so).
const EXTENSION_DOCS: &str = "/docs/#/feeds";

pub fn json_feed(listing: &Listing, links: &Links, feed: &FeedLinks) -> ApiResult<Vec<u8>> {
    let items = listing
        .events
        .iter()
        .map(|event| JsonItem {
            id: urn(event),
            url: links.event_page(&event.slug),
            title: title(event),
            content_text: wording::item_text(event),
            summary: event.summary.clone(),
            image: event.image_url.clone(),
            date_published: event.published_at,
            date_modified: event.updated_at,
            authors: vec![JsonAuthor { name: event.organizer.name.clone() }],
            tags: categories(event).into_iter().map(|(name, _)| name).collect(),
            language: event.language.clone(),
            extension: JsonItemExtension {
                about: links.absolute(EXTENSION_DOCS),
                event_id: event.id,
                starts_at: event.starts_at,
                ends_at: event.ends_at,
                sessions: event.sessions.clone(),
                timezone: event.timezone.clone(),
                status: event.status,
                place: wording::place(event, Language::French),
                calendar_url: links.absolute(&format!("/api/v1/events/{}.ics", event.id)),
                api_url: links.absolute(&format!("/api/v1/events/{}", event.id)),
            },
        })
        .collect();
    let document = JsonFeed {
        version: "https://jsonfeed.org/version/1.1",
        title: listing.title.clone(),
        description: counted(listing),
        home_page_url: links.programme_home(),
        feed_url: feed.this.clone(),
        next_url: feed.next.clone(),
        language: "fr",
        items,
        extension: JsonFeedExtension {
            about: links.absolute(EXTENSION_DOCS),
            total: listing.total,
            api_url: feed.api.clone(),
        },
    };
    serde_json::to_vec(&document).map_err(ApiError::internal)
}
