//! An SQL expression whose text is fixed when the program is built.
//!
//! `diesel::dsl::sql` marks its statement unsafe to cache, because its text
//! could differ from one call to the next: the statement is then parsed and
//! planned on every request. A [`Fixed`] expression's text is a constant, so
//! the statement holding it is prepared once per connection, as one built
//! from the schema alone would be. Its values still go in as binds, never
//! in the text.

use std::marker::PhantomData;

use diesel::QueryResult;
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::expression::{TypedExpressionType, is_aggregate};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::SqlType;

/// SQL text of type `ST`, fixed at build time.
#[derive(Debug, Clone, Copy)]
pub struct Fixed<ST> {
    sql: &'static str,
    sql_type: PhantomData<ST>,
}

/// `sql` as an expression of type `ST` (a column in a select, say).
pub const fn fixed<ST>(sql: &'static str) -> Fixed<ST> {
    Fixed {
        sql,
        sql_type: PhantomData,
    }
}

impl<ST: SqlType + TypedExpressionType> Expression for Fixed<ST> {
    type SqlType = ST;
}

impl<ST> QueryFragment<Pg> for Fixed<ST> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(self.sql);
        Ok(())
    }
}

impl<ST> QueryId for Fixed<ST> {
    type QueryId = ();
    // The statement is cached by its text, which this fragment never varies.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<ST, QS> SelectableExpression<QS> for Fixed<ST> where Self: AppearsOnTable<QS> {}

impl<ST, QS> AppearsOnTable<QS> for Fixed<ST> where Self: Expression {}

impl<ST, GroupBy> ValidGrouping<GroupBy> for Fixed<ST> {
    type IsAggregate = is_aggregate::Never;
}
