// @generated automatically by Diesel CLI.

pub mod sql_types {
    #[derive(diesel::query_builder::QueryId, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "domain"))]
    pub struct Domain;

    #[derive(diesel::query_builder::QueryId, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "organization_kind"))]
    pub struct OrganizationKind;

    #[derive(diesel::query_builder::QueryId, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "role"))]
    pub struct Role;
}

diesel::table! {
    clients (id) {
        id -> Uuid,
        client_id -> Text,
        name -> Text,
        organization_id -> Uuid,
        secret_digest -> Bytea,
        secret_rotated_at -> Timestamptz,
        active -> Bool,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Domain;

    domain_calendar (domain) {
        domain -> Domain,
        opens_on -> Date,
        version -> Int4,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::OrganizationKind;

    organizations (id) {
        id -> Uuid,
        kind -> OrganizationKind,
        name -> Text,
        siret -> Nullable<Text>,
        finess -> Nullable<Text>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Uuid,
        family_id -> Uuid,
        user_id -> Uuid,
        token_digest -> Bytea,
        issued_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    territories (id) {
        id -> Uuid,
        code -> Text,
        name -> Text,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    user_territories (user_id, territory_id) {
        user_id -> Uuid,
        territory_id -> Uuid,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Role;
    use super::sql_types::Domain;

    users (id) {
        id -> Uuid,
        email -> Text,
        display_name -> Text,
        role -> Role,
        domains -> Array<Nullable<Domain>>,
        active -> Bool,
        password_hash -> Text,
        failed_logins -> Int4,
        locked_until -> Nullable<Timestamptz>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(clients -> organizations (organization_id));
diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(user_territories -> territories (territory_id));
diesel::joinable!(user_territories -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    clients,
    domain_calendar,
    organizations,
    refresh_tokens,
    territories,
    user_territories,
    users,
);
