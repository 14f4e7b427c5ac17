// @generated automatically by Diesel CLI.

pub mod sql_types {
    #[derive(diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "tsvector", schema = "pg_catalog"))]
    pub struct Tsvector;
}

diesel::table! {
    accounts (id) {
        id -> Uuid,
        email -> Text,
        password_hash -> Text,
        role -> Text,
        disabled -> Bool,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        organizer_id -> Nullable<Uuid>,
        last_login_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Uuid,
        account_id -> Uuid,
        name -> Text,
        scopes -> Array<Nullable<Text>>,
        expires_at -> Timestamptz,
        last_used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    auth_attempts (id) {
        id -> Int8,
        subject -> Text,
        attempted_at -> Timestamptz,
        action -> Text,
    }
}

diesel::table! {
    content_version (id) {
        id -> Bool,
        version -> Int8,
        changed_at -> Timestamptz,
    }
}

diesel::table! {
    departments (code) {
        code -> Text,
        name -> Text,
        region_code -> Text,
        postal_prefixes -> Array<Nullable<Text>>,
    }
}

diesel::table! {
    editions (year) {
        year -> Int4,
        number -> Int4,
        title -> Text,
        theme -> Nullable<Text>,
        description -> Nullable<Text>,
        starts_on -> Date,
        ends_on -> Date,
        referencing_opens_at -> Timestamptz,
        referencing_closes_at -> Timestamptz,
        changes_require_review -> Bool,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    event_history (id) {
        id -> Int8,
        event_id -> Uuid,
        version -> Int4,
        action -> Text,
        account_id -> Nullable<Uuid>,
        actor_role -> Text,
        publication_before -> Nullable<Text>,
        publication_after -> Text,
        changes -> Jsonb,
        note -> Nullable<Text>,
        at -> Timestamptz,
    }
}

diesel::table! {
    event_labs (event_id, lab_id) {
        event_id -> Uuid,
        lab_id -> Uuid,
    }
}

diesel::table! {
    event_sessions (event_id, position) {
        event_id -> Uuid,
        position -> Int4,
        starts_at -> Timestamptz,
        ends_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Tsvector;

    events (id) {
        id -> Uuid,
        slug -> Text,
        edition_year -> Int4,
        track_id -> Nullable<Uuid>,
        organizer_id -> Uuid,
        title -> Text,
        summary -> Nullable<Text>,
        description -> Nullable<Text>,
        format -> Text,
        mode -> Text,
        audience -> Text,
        timezone -> Text,
        starts_at -> Timestamptz,
        ends_at -> Timestamptz,
        venue_name -> Nullable<Text>,
        venue_address -> Nullable<Text>,
        venue_postal_code -> Nullable<Text>,
        venue_city -> Nullable<Text>,
        region_code -> Nullable<Text>,
        department_code -> Nullable<Text>,
        latitude -> Nullable<Float8>,
        longitude -> Nullable<Float8>,
        online_url -> Nullable<Text>,
        registration_required -> Bool,
        registration_url -> Nullable<Text>,
        registration_capacity -> Nullable<Int4>,
        registration_closes_at -> Nullable<Timestamptz>,
        language -> Text,
        accessibility -> Nullable<Text>,
        tags -> Array<Nullable<Text>>,
        co_organizers -> Array<Nullable<Text>>,
        image_url -> Nullable<Text>,
        external_id -> Nullable<Text>,
        publication -> Text,
        status -> Text,
        rejection_reason -> Nullable<Text>,
        status_note -> Nullable<Text>,
        submitted_at -> Nullable<Timestamptz>,
        published_at -> Nullable<Timestamptz>,
        created_by -> Nullable<Uuid>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        search_vector -> Tsvector,
        session_count -> Int4,
    }
}

diesel::table! {
    idempotency_keys (account_id, key) {
        account_id -> Uuid,
        key -> Text,
        request_digest -> Bytea,
        claim_token -> Uuid,
        created_at -> Timestamptz,
        completed_at -> Nullable<Timestamptz>,
        status -> Nullable<Int2>,
        content_type -> Nullable<Text>,
        body -> Nullable<Bytea>,
    }
}

diesel::table! {
    imports (id) {
        id -> Uuid,
        account_id -> Uuid,
        created_at -> Timestamptz,
        format -> Text,
        encoding -> Text,
        dry_run -> Bool,
        atomic -> Bool,
        saved -> Bool,
        received -> Int4,
        created -> Int4,
        updated -> Int4,
        unchanged -> Int4,
        failed -> Int4,
        report -> Jsonb,
    }
}

diesel::table! {
    invitations (id) {
        id -> Uuid,
        organizer_id -> Uuid,
        email -> Text,
        token_hash -> Text,
        invited_by -> Nullable<Uuid>,
        expires_at -> Timestamptz,
        accepted_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    lab_figures (lab_id, year) {
        lab_id -> Uuid,
        year -> Int4,
        projects_led -> Nullable<Int4>,
        projects_supported -> Nullable<Int4>,
        trainings -> Nullable<Int4>,
    }
}

diesel::table! {
    labs (id) {
        id -> Uuid,
        slug -> Text,
        name -> Text,
        region_code -> Text,
        host -> Nullable<Text>,
        website -> Nullable<Text>,
        founded_year -> Nullable<Int4>,
        active -> Bool,
        description -> Nullable<Text>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        organizer_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    organizers (id) {
        id -> Uuid,
        slug -> Text,
        name -> Text,
        acronym -> Nullable<Text>,
        kind -> Text,
        region_code -> Nullable<Text>,
        department_code -> Nullable<Text>,
        website -> Nullable<Text>,
        description -> Nullable<Text>,
        contact_email -> Text,
        verified -> Bool,
        verified_at -> Nullable<Timestamptz>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Uuid,
        account_id -> Uuid,
        family_id -> Uuid,
        token_hash -> Text,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    regions (code) {
        code -> Text,
        name -> Text,
    }
}

diesel::table! {
    tracks (id) {
        id -> Uuid,
        edition_year -> Int4,
        slug -> Text,
        name -> Text,
        description -> Nullable<Text>,
        position -> Int4,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(accounts -> organizers (organizer_id));
diesel::joinable!(api_tokens -> accounts (account_id));
diesel::joinable!(departments -> regions (region_code));
diesel::joinable!(event_history -> accounts (account_id));
diesel::joinable!(event_history -> events (event_id));
diesel::joinable!(event_labs -> events (event_id));
diesel::joinable!(event_labs -> labs (lab_id));
diesel::joinable!(event_sessions -> events (event_id));
diesel::joinable!(events -> accounts (created_by));
diesel::joinable!(events -> editions (edition_year));
diesel::joinable!(events -> organizers (organizer_id));
diesel::joinable!(events -> regions (region_code));
diesel::joinable!(events -> tracks (track_id));
diesel::joinable!(idempotency_keys -> accounts (account_id));
diesel::joinable!(imports -> accounts (account_id));
diesel::joinable!(invitations -> accounts (invited_by));
diesel::joinable!(invitations -> organizers (organizer_id));
diesel::joinable!(lab_figures -> labs (lab_id));
diesel::joinable!(labs -> organizers (organizer_id));
diesel::joinable!(labs -> regions (region_code));
diesel::joinable!(organizers -> regions (region_code));
diesel::joinable!(refresh_tokens -> accounts (account_id));
diesel::joinable!(tracks -> editions (edition_year));

diesel::allow_tables_to_appear_in_same_query!(
    accounts,
    api_tokens,
    auth_attempts,
    content_version,
    departments,
    editions,
    event_history,
    event_labs,
    event_sessions,
    events,
    idempotency_keys,
    imports,
    invitations,
    lab_figures,
    labs,
    organizers,
    refresh_tokens,
    regions,
    tracks,
);
