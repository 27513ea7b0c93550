//! The rollout calendar: when each domain opens.

use crate::db::Error;
use crate::db::Tx;
use crate::db::versioned::at_version;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::schema::domain_calendar;
use crate::domain::Domain;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = domain_calendar, check_for_backend(diesel::pg::Pg))]
pub struct Opening {
    pub domain: Domain,
    pub opens_on: NaiveDate,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

crate::db::versioned::versioned!(Opening);

pub async fn all(conn: &mut AsyncPgConnection) -> QueryResult<Vec<Opening>> {
    domain_calendar::table
        .select(Opening::as_select())
        .order(domain_calendar::opens_on)
        .then_order_by(domain_calendar::domain)
        .load(conn)
        .await
}

pub async fn find(conn: &mut AsyncPgConnection, domain: Domain) -> QueryResult<Option<Opening>> {
    domain_calendar::table
        .find(domain)
        .select(Opening::as_select())
        .first(conn)
        .await
        .optional()
}

/// Moves the domain's opening date if `version` is current.
pub async fn reschedule(
    tx: &mut Tx<'_>,
    domain: Domain,
    version: i32,
    opens_on: NaiveDate,
) -> Result<Opening, Error> {
    let locked = domain_calendar::table
        .find(domain)
        .select(Opening::as_select())
        .for_update()
        .first(tx.conn())
        .await
        .optional()?;
    at_version(locked, version).map_err(|e| e.refused(|| Error::not_found("No such domain.")))?;
    Ok(diesel::update(domain_calendar::table.find(domain))
        .set((
            domain_calendar::opens_on.eq(opens_on),
            domain_calendar::version.eq(version + 1),
        ))
        .returning(Opening::as_returning())
        .get_result(tx.conn())
        .await?)
}
