//! Closed sets, spelled the same in SQL (PostgreSQL enums), JSON and Rust.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A domain of social action, opened one a year.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    ToSchema,
    diesel_derive_enum::DbEnum,
)]
#[serde(rename_all = "snake_case")]
#[ExistingTypePath = "crate::db::schema::sql_types::Domain"]
#[DbValueStyle = "snake_case"]
pub enum Domain {
    /// Handicap.
    Disability,
    /// Personnes âgées.
    Elderly,
    /// Enfance / ASE.
    Childhood,
    /// Insertion / RSA.
    Insertion,
}

/// What an account may do (DESIGN.md §2).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
    diesel_derive_enum::DbEnum,
)]
#[serde(rename_all = "snake_case")]
#[ExistingTypePath = "crate::db::schema::sql_types::Role"]
#[DbValueStyle = "snake_case"]
pub enum Role {
    /// Manages accounts and reference data; never reads case files.
    Admin,
    /// Supervises the pathways of their territories and domains.
    Supervisor,
    /// Social worker: follows pathways of their territories and domains.
    Coordinator,
    /// Machine client of a partner organization (CAF, MSA).
    Partner,
    /// Reads pseudonymised exports, indicators and the audit log.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Supervisor,
        Role::Coordinator,
        Role::Partner,
        Role::Auditor,
    ];

    /// Roles a staff account (a person with a password) may have.
    pub fn is_staff(self) -> bool {
        self != Role::Partner
    }
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
    diesel_derive_enum::DbEnum,
)]
#[serde(rename_all = "snake_case")]
#[ExistingTypePath = "crate::db::schema::sql_types::OrganizationKind"]
#[DbValueStyle = "snake_case"]
pub enum OrganizationKind {
    Department,
    Caf,
    Msa,
    Mdph,
    Ars,
    Education,
    EmploymentService,
    Facility,
    Association,
    Other,
}
