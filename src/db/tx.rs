//! A connection inside an open transaction. Only a use case opens one
//! ([`crate::services::change`]), and every function of this layer that
//! changes case data takes one: a change made outside a use case, or
//! outside its transaction, does not compile. `tests/api/layers.rs` checks
//! that nothing else builds a `Tx` and that every writing query takes one.

use std::ops::{Deref, DerefMut};

use diesel_async::AsyncPgConnection;

pub struct Tx<'c> {
    conn: &'c mut AsyncPgConnection,
}

impl<'c> Tx<'c> {
    /// For the one owner of transactions, on a connection whose
    /// transaction it has just begun.
    #[doc(hidden)]
    pub fn begun(conn: &'c mut AsyncPgConnection) -> Self {
        Self { conn }
    }

    /// The connection, for the queries themselves.
    pub fn conn(&mut self) -> &mut AsyncPgConnection {
        self.conn
    }
}

/// Reads take a plain connection; inside a transaction they read what it
/// has written.
impl Deref for Tx<'_> {
    type Target = AsyncPgConnection;

    fn deref(&self) -> &AsyncPgConnection {
        self.conn
    }
}

impl DerefMut for Tx<'_> {
    fn deref_mut(&mut self) -> &mut AsyncPgConnection {
        self.conn
    }
}
