//! The PostgreSQL enum of each closed set of the domain: the domain spells
//! each value once (`as_str`, `parse`); this is how diesel binds and reads
//! it. A closed set without its line here cannot be written to a table,
//! and `tests/api/migrations.rs` fails when a spelling differs from the
//! database's own enum.

use std::io::Write;

use diesel::deserialize::{self, FromSql, Queryable};
use diesel::expression::AsExpression;
use diesel::internal::derives::as_expression::Bound;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Nullable;

use crate::db::schema::sql_types;
use crate::domain::enums;

macro_rules! pg_enums {
    ($($domain:ident => $sql:ident ($pg:literal),)+) => {
        /// Each PostgreSQL enum with the values the domain spells, in order.
        pub fn spellings() -> Vec<(&'static str, Vec<&'static str>)> {
            vec![$(($pg, enums::$domain::VALUES.iter().map(|v| v.as_str()).collect()),)+]
        }
        $(
        impl Clone for sql_types::$sql {
            fn clone(&self) -> Self {
                sql_types::$sql
            }
        }

        impl AsExpression<sql_types::$sql> for enums::$domain {
            type Expression = Bound<sql_types::$sql, Self>;
            fn as_expression(self) -> Self::Expression {
                Bound::new(self)
            }
        }

        impl AsExpression<Nullable<sql_types::$sql>> for enums::$domain {
            type Expression = Bound<Nullable<sql_types::$sql>, Self>;
            fn as_expression(self) -> Self::Expression {
                Bound::new(self)
            }
        }

        impl<'a> AsExpression<sql_types::$sql> for &'a enums::$domain {
            type Expression = Bound<sql_types::$sql, Self>;
            fn as_expression(self) -> Self::Expression {
                Bound::new(self)
            }
        }

        impl<'a> AsExpression<Nullable<sql_types::$sql>> for &'a enums::$domain {
            type Expression = Bound<Nullable<sql_types::$sql>, Self>;
            fn as_expression(self) -> Self::Expression {
                Bound::new(self)
            }
        }

        impl ToSql<sql_types::$sql, Pg> for enums::$domain {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                out.write_all(self.as_str().as_bytes())?;
                Ok(IsNull::No)
            }
        }

        impl ToSql<Nullable<sql_types::$sql>, Pg> for enums::$domain {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                ToSql::<sql_types::$sql, Pg>::to_sql(self, out)
            }
        }

        impl FromSql<sql_types::$sql, Pg> for enums::$domain {
            fn from_sql(raw: PgValue<'_>) -> deserialize::Result<Self> {
                std::str::from_utf8(raw.as_bytes())
                    .ok()
                    .and_then(enums::$domain::parse)
                    .ok_or_else(|| {
                        concat!("a value outside the closed set ", stringify!($domain)).into()
                    })
            }
        }

        impl Queryable<sql_types::$sql, Pg> for enums::$domain {
            type Row = Self;
            fn build(row: Self::Row) -> deserialize::Result<Self> {
                Ok(row)
            }
        }
    )+};
}

pg_enums! {
    Domain => Domain ("domain"),
    AlertRule => AlertRule ("alert_rule"),
    Role => Role ("role"),
    OrganizationKind => OrganizationKind ("organization_kind"),
    Sex => Sex ("sex"),
    PathwayStatus => PathwayStatus ("pathway_status"),
    ClosureReason => ClosureReason ("closure_reason"),
    ContinuationReason => ContinuationReason ("continuation_reason"),
    EscalationLevel => EscalationLevel ("escalation_level"),
    EscalationStatus => EscalationStatus ("escalation_status"),
    EscalationClosure => EscalationClosure ("escalation_closure"),
    MeetingStatus => MeetingStatus ("meeting_status"),
    DecisionAuthority => DecisionAuthority ("decision_authority"),
    Qualification => DecisionQualification ("decision_qualification"),
    DecisionKind => DecisionKind ("decision_kind"),
    PlanKind => PlanKind ("plan_kind"),
    PlanStatus => PlanStatus ("plan_status"),
    ConsentBy => ConsentBy ("consent_by"),
    PlanEndReason => PlanEndReason ("plan_end_reason"),
    CommitmentStatus => CommitmentStatus ("commitment_status"),
    CommitmentRefusalReason => CommitmentRefusalReason ("commitment_refusal_reason"),
    AnswerChannel => AnswerChannel ("answer_channel"),
    NoteVisibility => NoteVisibility ("note_visibility"),
    EventKind => EventKind ("event_kind"),
    ReferralStatus => ReferralStatus ("referral_status"),
    ReferralDeclineReason => ReferralDeclineReason ("referral_decline_reason"),
    DeliveryStatus => DeliveryStatus ("delivery_status"),
    AuditOutcome => AuditOutcome ("audit_outcome"),
}
