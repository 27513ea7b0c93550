//! Pure types and rules of the domain: no I/O.

pub mod enums;
pub mod passwords;
pub mod rollout;
pub mod validation;

pub use enums::{Domain, OrganizationKind, Role};
