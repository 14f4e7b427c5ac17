//! The cross-field rules of an event, in one pure function: times, the edition's period, the
//! place, and what each mode needs. Lengths, URLs and ranges are on the form (validator).

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::model::EventForm;
use crate::editions::model::EditionRow;
use crate::error::FieldError;
use crate::geo::repo::Geography;

/// How much of the rules applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completeness {
    /// A draft may still lack its venue or link.
    Draft,
    /// Submitted and published events are complete: a venue for onsite and hybrid events,
    /// a link for online and hybrid ones.
    Complete,
}

/// What the rules resolved on the way: instants, and the place with its region deduced.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedEvent {
    pub zone: Tz,
    /// Sorted by start.
    pub sessions: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    pub region: Option<String>,
    pub department: Option<String>,
    pub registration_closes_at: Option<DateTime<Utc>>,
}

pub fn check_event(
    form: &EventForm,
    edition: &EditionRow,
    geo: &Geography,
    completeness: Completeness,
) -> Result<CheckedEvent, Vec<FieldError>> {
    let mut errors = Vec::new();
    let zone = match form.timezone.parse::<Tz>() {
        Ok(zone) => zone,
        Err(_) => {
            errors.push(FieldError::new(
                "timezone",
                "unknown_timezone",
                format!("`{}` is not an IANA time zone such as Europe/Paris", form.timezone),
            ));
            chrono_tz::Europe::Paris
        }
    };
    // The form bounds the raw length; what is stored is trimmed, and three spaces, three dots
    // or three zero-width spaces are no title.
    if !readable(&form.title) {
        errors.push(FieldError::new(
            "title",
            "too_short",
            "must have at least 3 visible characters, one of them a letter or a digit",
        ));
    }
    let sessions = check_sessions(form, edition, zone, &mut errors);
    let (region, department) = check_place(form, geo, completeness, &mut errors);
    if completeness == Completeness::Complete && form.mode.needs_link() && form.online_url.is_none() {
        errors.push(FieldError::new(
            "online_url",
            "required",
            format!("a {} event needs the link to join it", form.mode.as_str()),
        ));
    }
    let registration_closes_at = check_registration(form, zone, &sessions, &mut errors);
    if errors.is_empty() {
        Ok(CheckedEvent { zone, sessions, region, department, registration_closes_at })
    } else {
        Err(errors)
    }
}

/// Characters a reader sees: not spaces, control or format characters (zero-width spaces,
/// joiners, the byte-order mark, soft hyphens).
fn visible(c: char) -> bool {
    let format = matches!(c, '\u{00AD}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}');
    !c.is_whitespace() && !c.is_control() && !format
}

/// Text a person can read as a title: three visible characters, one a letter or a digit.
pub fn readable(text: &str) -> bool {
    text.chars().filter(|c| visible(*c)).count() >= 3 && text.chars().any(char::is_alphanumeric)
}

/// The longest a session may last: a season (the 2020 Simplificathon ran seven weeks, from
/// mid-October to early December, as one session).
pub const MAX_SESSION_DAYS: i64 = 92;
/// How far from its edition's month a session may start or end.
pub const MAX_DAYS_AROUND_EDITION: i64 = 92;

fn check_sessions(
    form: &EventForm,
    edition: &EditionRow,
    zone: Tz,
    errors: &mut Vec<FieldError>,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let (period_start, period_end) = edition.period();
    let mut sessions = Vec::new();
    for (index, session) in form.sessions.iter().enumerate() {
        let resolve = |name: &str, time: super::model::EventTime| {
            time.resolve(zone).ok_or_else(|| {
                FieldError::new(
                    format!("sessions[{index}].{name}"),
                    "nonexistent_local_time",
                    format!("this local time does not exist in {zone} (the clocks skip it)"),
                )
            })
        };
        let (starts_at, ends_at) = match (resolve("starts_at", session.starts_at), resolve("ends_at", session.ends_at))
        {
            (Ok(starts_at), Ok(ends_at)) => (starts_at, ends_at),
            (starts, ends) => {
                errors.extend(starts.err().into_iter().chain(ends.err()));
                continue;
            }
        };
        if ends_at <= starts_at {
            errors.push(FieldError::new(
                format!("sessions[{index}].ends_at"),
                "before_start",
                "must be after the session's starts_at",
            ));
            continue;
        }
        // An event belongs to an edition when its sessions overlap the month (a hackathon may
        // start before it and end after it, as the 2020 Simplificathon did).
        if ends_at <= period_start || starts_at >= period_end {
            errors.push(FieldError::new(
                format!("sessions[{index}]"),
                "outside_edition",
                format!("must overlap the {} edition, from {} to {}", edition.year, edition.starts_on, edition.ends_on),
            ));
        } else if ends_at - starts_at > Duration::days(MAX_SESSION_DAYS) {
            errors.push(FieldError::new(
                format!("sessions[{index}].ends_at"),
                "too_long",
                format!("a session lasts at most {MAX_SESSION_DAYS} days; a series is one session per date"),
            ));
        } else if starts_at < period_start - Duration::days(MAX_DAYS_AROUND_EDITION)
            || ends_at > period_end + Duration::days(MAX_DAYS_AROUND_EDITION)
        {
            errors.push(FieldError::new(
                format!("sessions[{index}]"),
                "far_from_edition",
                format!("must start and end within {MAX_DAYS_AROUND_EDITION} days of the {} edition", edition.year),
            ));
        }
        sessions.push((starts_at, ends_at));
    }
    sessions.sort();
    sessions
}

fn check_place(
    form: &EventForm,
    geo: &Geography,
    completeness: Completeness,
    errors: &mut Vec<FieldError>,
) -> (Option<String>, Option<String>) {
    let needs_venue = completeness == Completeness::Complete && form.mode.needs_venue();
    let Some(venue) = &form.venue else {
        if needs_venue {
            errors.push(FieldError::new(
                "venue",
                "required",
                format!("a {} event needs a venue with its city and region", form.mode.as_str()),
            ));
        }
        return (None, None);
    };
    let place_errors =
        geo.check("venue.", venue.region.as_deref(), venue.department.as_deref(), venue.postal_code.as_deref());
    let place_is_valid = place_errors.is_empty();
    errors.extend(place_errors);
    let department = venue.department.clone();
    let region =
        venue.region.clone().or_else(|| department.as_deref().and_then(|d| geo.region_of(d)).map(String::from));
    if venue.latitude.is_some() != venue.longitude.is_some() {
        let missing = if venue.latitude.is_none() { "venue.latitude" } else { "venue.longitude" };
        errors.push(FieldError::new(missing, "incomplete_coordinates", "give both latitude and longitude, or neither"));
    }
    if needs_venue {
        if venue.city.as_deref().is_none_or(|city| city.trim().is_empty()) {
            errors.push(FieldError::new("venue.city", "required", "an onsite or hybrid event needs its city"));
        }
        if region.is_none() && place_is_valid {
            errors.push(FieldError::new(
                "venue.region",
                "required",
                "an onsite or hybrid event needs its region (or its department)",
            ));
        }
    }
    (region, department)
}

fn check_registration(
    form: &EventForm,
    zone: Tz,
    sessions: &[(DateTime<Utc>, DateTime<Utc>)],
    errors: &mut Vec<FieldError>,
) -> Option<DateTime<Utc>> {
    let closes_at = form.registration.as_ref()?.closes_at?;
    let Some(closes_at) = closes_at.resolve(zone) else {
        errors.push(FieldError::new(
            "registration.closes_at",
            "nonexistent_local_time",
            format!("this local time does not exist in {zone}"),
        ));
        return None;
    };
    if let Some(last_end) = sessions.iter().map(|(_, end)| *end).max()
        && closes_at > last_end
    {
        errors.push(FieldError::new(
            "registration.closes_at",
            "after_end",
            "registration must close before the last session ends",
        ));
    }
    Some(closes_at)
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use serde_json::json;

    use super::*;

    fn edition_2020() -> EditionRow {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        EditionRow {
            year: 2020,
            number: 7,
            title: "Mois de l'innovation publique 2020".into(),
            theme: None,
            description: None,
            starts_on: NaiveDate::from_ymd_opt(2020, 11, 2).unwrap(),
            ends_on: NaiveDate::from_ymd_opt(2020, 11, 30).unwrap(),
            referencing_opens_at: at("2020-09-01T00:00:00Z"),
            referencing_closes_at: at("2020-11-30T00:00:00Z"),
            changes_require_review: false,
            version: 1,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn geo() -> Geography {
        Geography::from_rows(
            vec![("53".into(), "Bretagne".into()), ("32".into(), "Hauts-de-France".into())],
            vec![
                ("35".into(), "Ille-et-Vilaine".into(), "53".into(), vec!["35".into()]),
                ("59".into(), "Nord".into(), "32".into(), vec!["59".into()]),
            ],
        )
    }

    fn form(changes: serde_json::Value) -> EventForm {
        let mut base = json!({
            "edition": 2020,
            "title": "Faisons simple, le Simplificathon éclair",
            "format": "hackathon",
            "mode": "onsite",
            "sessions": [{"starts_at": "2020-10-17T09:30", "ends_at": "2020-12-04T17:30"}],
            "venue": {"city": "Lille", "department": "59", "postal_code": "59000"},
        });
        for (key, value) in changes.as_object().unwrap() {
            base[key] = value.clone();
        }
        serde_json::from_value(base).unwrap()
    }

    fn fields(result: Result<CheckedEvent, Vec<FieldError>>) -> Vec<String> {
        result.err().unwrap_or_default().into_iter().map(|e| format!("{}:{}", e.field, e.code)).collect()
    }

    #[test]
    fn a_hackathon_spanning_the_month_belongs_to_its_edition() {
        let checked = check_event(&form(json!({})), &edition_2020(), &geo(), Completeness::Complete).unwrap();
        assert_eq!(checked.region.as_deref(), Some("32"), "deduced from the department");
        assert_eq!(checked.sessions[0].0, "2020-10-17T07:30:00Z".parse::<DateTime<Utc>>().unwrap());
    }

    #[test]
    fn rejects_a_session_ending_before_it_starts() {
        let f = form(json!({"sessions": [{"starts_at": "2020-11-10T14:00", "ends_at": "2020-11-10T13:00"}]}));
        assert_eq!(
            fields(check_event(&f, &edition_2020(), &geo(), Completeness::Draft)),
            ["sessions[0].ends_at:before_start"]
        );
    }

    #[test]
    fn rejects_a_session_outside_the_edition() {
        let f = form(json!({"sessions": [
            {"starts_at": "2020-11-03T09:30", "ends_at": "2020-11-03T11:30"},
            {"starts_at": "2020-12-08T09:30", "ends_at": "2020-12-08T11:30"},
        ]}));
        assert_eq!(
            fields(check_event(&f, &edition_2020(), &geo(), Completeness::Draft)),
            ["sessions[1]:outside_edition"]
        );
    }

    #[test]
    fn reads_local_times_in_the_events_zone_and_refuses_unknown_zones() {
        let f = form(json!({"timezone": "America/Cayenne"}));
        let checked = check_event(&f, &edition_2020(), &geo(), Completeness::Draft).unwrap();
        assert_eq!(checked.sessions[0].0, "2020-10-17T12:30:00Z".parse::<DateTime<Utc>>().unwrap());
        let f = form(json!({"timezone": "Mars/Olympus"}));
        assert_eq!(
            fields(check_event(&f, &edition_2020(), &geo(), Completeness::Draft)),
            ["timezone:unknown_timezone"]
        );
    }

    #[test]
    fn a_complete_onsite_event_needs_a_venue_with_city_and_region() {
        let f = form(json!({"venue": null}));
        assert!(check_event(&f, &edition_2020(), &geo(), Completeness::Draft).is_ok(), "drafts may lack it");
        assert_eq!(fields(check_event(&f, &edition_2020(), &geo(), Completeness::Complete)), ["venue:required"]);
        let f = form(json!({"venue": {"name": "Hôtel du département"}}));
        assert_eq!(
            fields(check_event(&f, &edition_2020(), &geo(), Completeness::Complete)),
            ["venue.city:required", "venue.region:required"]
        );
    }

    #[test]
    fn a_complete_online_or_hybrid_event_needs_a_link() {
        let f = form(json!({"mode": "online", "venue": null}));
        assert_eq!(fields(check_event(&f, &edition_2020(), &geo(), Completeness::Complete)), ["online_url:required"]);
        let f = form(json!({"mode": "hybrid"}));
        assert_eq!(fields(check_event(&f, &edition_2020(), &geo(), Completeness::Complete)), ["online_url:required"]);
        let f = form(json!({"mode": "hybrid", "online_url": "https://visio.example/simplificathon"}));
        assert!(check_event(&f, &edition_2020(), &geo(), Completeness::Complete).is_ok());
    }

    #[test]
    fn the_place_must_agree_with_the_insee_tables() {
        let cases = [
            (json!({"city": "Lille", "region": "99"}), "venue.region:unknown_region"),
            (json!({"city": "Lille", "department": "59", "region": "53"}), "venue.department:department_not_in_region"),
            (
                json!({"city": "Lille", "department": "59", "postal_code": "35000"}),
                "venue.postal_code:postal_code_not_in_department",
            ),
            (json!({"city": "Lille", "department": "59", "latitude": 50.6}), "venue.longitude:incomplete_coordinates"),
        ];
        for (venue, expected) in cases {
            let f = form(json!({ "venue": venue }));
            assert_eq!(fields(check_event(&f, &edition_2020(), &geo(), Completeness::Draft)), [expected]);
        }
    }

    #[test]
    fn registration_closes_before_the_last_session_ends() {
        let f = form(json!({"registration": {"required": true, "closes_at": "2020-12-05T00:00"}}));
        assert_eq!(
            fields(check_event(&f, &edition_2020(), &geo(), Completeness::Draft)),
            ["registration.closes_at:after_end"]
        );
    }
}
