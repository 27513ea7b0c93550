//! Communes: every commune of France from the official geographic code
//! (derived by `reference/communes.mjs`), and the territory that covers
//! each commune of the département. A referral's commune decides its
//! territory; a person's commune must be one of their territory's.

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::Error;
use crate::db::Tx;
use crate::db::schema::{communes, territories};

/// A commune, with the territory that covers it (none outside the
/// département).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = communes, check_for_backend(diesel::pg::Pg))]
pub struct Commune {
    pub insee: String,
    pub name: String,
    pub department: String,
    pub epci: Option<String>,
    pub epci_name: Option<String>,
    pub territory_id: Option<Uuid>,
}

/// A commune and its territory's code.
pub type Covered = (Commune, Option<String>);

/// Which communes a list returns; every given filter must match.
#[derive(Debug, Default)]
pub struct Filter {
    pub department: Option<String>,
    pub territory: Option<Uuid>,
    /// Part of the name (case, accents and dashes do not matter) or the
    /// start of the INSEE code.
    pub text: Option<String>,
}

/// Up to `limit + 1` communes after `after`, in INSEE code order.
pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: &Filter,
    limit: i64,
    after: Option<&str>,
) -> QueryResult<Vec<Covered>> {
    let mut query = communes::table
        .left_join(territories::table)
        .select((Commune::as_select(), territories::code.nullable()))
        .order(communes::insee)
        .limit(limit + 1)
        .into_boxed();
    if let Some(department) = &filter.department {
        query = query.filter(communes::department.eq(department));
    }
    if let Some(territory) = filter.territory {
        query = query.filter(communes::territory_id.eq(territory));
    }
    if let Some(text) = &filter.text {
        // LIKE's own characters in the text are matched literally.
        let escaped = text
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        query = query.filter(
            sql::<Bool>("(communes.search_name LIKE '%' || parcours_fold_place(")
                .bind::<Text, _>(escaped.clone())
                .sql(") || '%' OR communes.insee LIKE ")
                .bind::<Text, _>(format!("{escaped}%"))
                .sql(")"),
        );
    }
    if let Some(after) = after {
        query = query.filter(communes::insee.gt(after.to_owned()));
    }
    query.load(conn).await
}

pub async fn find(conn: &mut AsyncPgConnection, insee: &str) -> QueryResult<Option<Covered>> {
    communes::table
        .left_join(territories::table)
        .filter(communes::insee.eq(insee))
        .select((Commune::as_select(), territories::code.nullable()))
        .first(conn)
        .await
        .optional()
}

/// The territory covering `insee`, or a 422 naming `field`: for a code
/// the geographic code lacks, and for a commune no territory covers.
pub async fn covering_territory(
    conn: &mut AsyncPgConnection,
    insee: &str,
    field: &str,
) -> Result<Uuid, Error> {
    let found: Option<Option<Uuid>> = communes::table
        .find(insee)
        .select(communes::territory_id)
        .first(conn)
        .await
        .optional()?;
    match found {
        Some(Some(territory)) => Ok(territory),
        Some(None) => Err(Error::unprocessable(
            field,
            "is not a commune the département's territories cover",
        )),
        None => Err(Error::unprocessable(
            field,
            "is not a commune of the official geographic code",
        )),
    }
}

/// Moves a commune to a territory; the commune as it was and as it is.
pub async fn move_to(
    tx: &mut Tx<'_>,
    insee: &str,
    territory: Uuid,
) -> Result<(Commune, Covered), Error> {
    let before: Commune = communes::table
        .find(insee)
        .select(Commune::as_select())
        .for_update()
        .first(tx.conn())
        .await
        .optional()?
        .ok_or_else(|| Error::not_found("No such commune."))?;
    let code: String = territories::table
        .find(territory)
        .select(territories::code)
        .first(tx.conn())
        .await
        .optional()?
        .ok_or_else(|| Error::unprocessable("territory_id", "is not a territory"))?;
    let after = diesel::update(communes::table.find(insee))
        .set(communes::territory_id.eq(territory))
        .returning(Commune::as_returning())
        .get_result(tx.conn())
        .await?;
    Ok((before, (after, Some(code))))
}
