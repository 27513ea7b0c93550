//! The principal from a verified token: the token says who its holder is;
//! what the holder may do (role, territories, domains, organization) is
//! the account's standing now ([`crate::auth::standing`]), so an account
//! change applies to live tokens within a second.

use crate::auth::policy::{self, Action};
use crate::auth::standing::Standing;
use crate::auth::tokens::{Claims, SubjectKind};
use crate::domain::principal::{Principal, Subject};
use crate::domain::refusal::Refusal;

impl Principal {
    /// 403 unless the role may take `action` (the policy table).
    pub fn require(&self, action: Action) -> Result<(), Refusal> {
        if policy::allows(self.role, action) {
            Ok(())
        } else {
            Err(Refusal::forbidden(format!(
                "The role `{}` may not do this.",
                serde_json::to_value(self.role)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            )))
        }
    }

    /// The holder as the token describes it, for records made before the
    /// account's standing is read (a login's own record).
    pub fn from_claims(claims: Claims) -> Self {
        Self {
            subject: subject_of(&claims),
            role: claims.role,
            territories: claims.territories,
            domains: claims.domains,
            organization: claims.organization,
            session: claims.sid,
        }
    }

    /// The holder with what its account may do now.
    pub fn with_standing(claims: &Claims, standing: Standing) -> Self {
        Self {
            subject: subject_of(claims),
            role: standing.role,
            territories: standing.territories,
            domains: standing.domains,
            organization: standing.organization,
            session: claims.sid,
        }
    }
}

pub fn subject_of(claims: &Claims) -> Subject {
    match claims.kind {
        SubjectKind::User => Subject::User(claims.sub),
        SubjectKind::Client => Subject::Client(claims.sub),
    }
}
