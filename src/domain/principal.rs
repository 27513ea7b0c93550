//! The caller as the rules see it: who (a staff account or a partner
//! client) and what its account may reach now (role, territories, domains,
//! organization). The access predicates of `db::scope` and the policy of
//! `auth::policy` read nothing else.

use uuid::Uuid;

use crate::domain::refusal::Refusal;
use crate::domain::{Domain, Role};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    User(Uuid),
    Client(Uuid),
}

impl Subject {
    pub fn id(self) -> Uuid {
        match self {
            Subject::User(id) | Subject::Client(id) => id,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Principal {
    pub subject: Subject,
    pub role: Role,
    pub territories: Vec<Uuid>,
    pub domains: Vec<Domain>,
    pub organization: Option<Uuid>,
    /// The login the token belongs to (staff).
    pub session: Option<Uuid>,
}

impl Principal {
    /// The one rule for a territory named in a body (a person's, a
    /// pathway's): it must be one of the caller's, or the request breaks a
    /// rule (422 naming `field`), as any other reference outside the
    /// caller's scope does.
    pub fn own_territory(&self, field: &str, territory: Uuid) -> Result<Uuid, Refusal> {
        if self.territories.contains(&territory) {
            Ok(territory)
        } else {
            Err(Refusal::unprocessable(
                field,
                "must be one of your territories",
            ))
        }
    }
}

closed_set! {
    /// Who holds a token: a staff account or a partner client.
    pub enum SubjectKind {
        /// A staff account.
        User => "user",
        /// A partner client.
        Client => "client",
    }
}
