//! French wording of the event rules, for import reports asked in French. The rules speak
//! English (the API's language) with stable codes; a report for a person who filled a
//! spreadsheet in French says the same in French, by code. A code without a French sentence
//! keeps its English one.

use crate::error::FieldError;

/// The numbers a message quotes, in order (`must be between 3 and 200 characters long`).
fn numbers(message: &str) -> Vec<String> {
    message
        .split(|c: char| !c.is_ascii_digit() && c != '.' && c != '-')
        .map(|part| part.trim_matches(['.', '-']))
        .filter(|part| !part.is_empty() && part.chars().any(|c| c.is_ascii_digit()))
        .map(str::to_string)
        .collect()
}

pub fn french(error: &FieldError) -> String {
    let n = numbers(&error.message);
    let nth = |i: usize| n.get(i).cloned().unwrap_or_default();
    match error.code.as_str() {
        "required" => "valeur obligatoire manquante".to_string(),
        "length" | "too_long" | "too_short" => match n.len() {
            2 => format!("doit compter entre {} et {} caractères", nth(0), nth(1)),
            1 if error.message.contains("at least") => format!("doit compter au moins {} caractères", nth(0)),
            1 => format!("doit compter au plus {} caractères (ou éléments)", nth(0)),
            _ => "n'a pas la bonne longueur".to_string(),
        },
        "range" | "out_of_range" => match n.len() {
            2 => format!("doit être compris entre {} et {}", nth(0), nth(1)),
            _ => "est hors des limites permises".to_string(),
        },
        "invalid_url" | "url" => "doit être une adresse web en http(s)".to_string(),
        "invalid_type" => format!("valeur d'un type inattendu ({})", error.message),
        "invalid_language" => "doit être un code de langue ISO 639-1, comme « fr »".to_string(),
        "unknown_edition" => "cette édition n'existe pas".to_string(),
        "unknown_track" => "l'édition n'a pas ce parcours".to_string(),
        "unknown_lab" => "aucun lab n'a ce slug".to_string(),
        "unknown_organizer" => "aucun organisateur n'a cet identifiant ou ce slug".to_string(),
        "forbidden" => "vous ne pouvez référencer des événements que pour votre propre organisation".to_string(),
        "unknown_timezone" => "fuseau horaire inconnu (écrivez par exemple Europe/Paris)".to_string(),
        "nonexistent_local_time" => "cette heure n'existe pas ce jour-là (passage à l'heure d'été)".to_string(),
        "before_start" => "la fin est avant le début".to_string(),
        "after_end" => "la clôture des inscriptions doit précéder la fin de la dernière séance".to_string(),
        "outside_edition" => "la séance est en dehors du mois de l'édition".to_string(),
        "far_from_edition" => "la date est trop éloignée du mois de l'édition".to_string(),
        "incomplete_coordinates" => "donnez la latitude et la longitude, ou aucune des deux".to_string(),
        "unknown_region" => "ce code de région INSEE n'existe pas".to_string(),
        "unknown_department" => "ce code de département INSEE n'existe pas".to_string(),
        "department_not_in_region" => "ce département n'est pas dans cette région".to_string(),
        "invalid_postal_code" => "un code postal compte cinq chiffres".to_string(),
        "postal_code_not_in_department" => "ce code postal n'est pas dans ce département".to_string(),
        "use_cancel" => "un événement s'annule avec POST /api/v1/events/{id}/cancel".to_string(),
        "cancelled" => "l'événement est annulé et garde ce statut".to_string(),
        "immutable" => "un événement reste à l'organisation qui l'a créé".to_string(),
        "referencing_closed" => "le référencement de cette édition est fermé".to_string(),
        "invalid_transition" => "l'événement ne peut pas être soumis dans son état actuel".to_string(),
        "taken" | "unique" | "duplicate" => "cette valeur est déjà utilisée".to_string(),
        _ => error.message.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_keep_their_numbers() {
        let error = FieldError::new("title", "length", "must be between 3 and 200 characters long");
        assert_eq!(french(&error), "doit compter entre 3 et 200 caractères");
        let unknown = FieldError::new("x", "something_new", "an English sentence");
        assert_eq!(french(&unknown), "an English sentence");
    }
}
