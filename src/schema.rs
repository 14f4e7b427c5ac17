// @generated automatically by Diesel CLI.

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

diesel::joinable!(departments -> regions (region_code));
diesel::joinable!(lab_figures -> labs (lab_id));
diesel::joinable!(labs -> regions (region_code));
diesel::joinable!(tracks -> editions (edition_year));

diesel::allow_tables_to_appear_in_same_query!(
    accounts,
    departments,
    editions,
    lab_figures,
    labs,
    regions,
    tracks,
);
