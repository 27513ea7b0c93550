//! Optimistic concurrency, one rule for every versioned table: the row is
//! locked in the caller's scope (`SELECT … FOR UPDATE`, inside the change's
//! transaction), changed only if its version is the one the caller read,
//! and its version moves on with the change. Two instances racing on one
//! row cannot both win: the second waits on the lock, then sees the new
//! version.

use super::Error;

/// Why a versioned change did not happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionError {
    /// No such row in the caller's scope (answered 404).
    Missing,
    /// The row has moved on since the caller read it (answered 412).
    Stale,
}

/// A row that carries a version (its ETag is `"v<version>"`).
pub trait Versioned {
    fn version(&self) -> i32;
}

/// The locked row, if it is at version `expected`.
pub fn at_version<R: Versioned>(locked: Option<R>, expected: i32) -> Result<R, VersionError> {
    match locked {
        None => Err(VersionError::Missing),
        Some(row) if row.version() != expected => Err(VersionError::Stale),
        Some(row) => Ok(row),
    }
}

impl VersionError {
    /// As the refusal it is, `missing` naming what was not found.
    pub fn refused(self, missing: impl FnOnce() -> Error) -> Error {
        match self {
            VersionError::Missing => missing(),
            VersionError::Stale => Error::stale(),
        }
    }
}

/// Makes a row type of a versioned table `Versioned`: each module of such
/// a table says so of its row, next to it.
macro_rules! versioned {
    ($row:ty) => {
        impl $crate::db::versioned::Versioned for $row {
            fn version(&self) -> i32 {
                self.version
            }
        }
    };
}
pub(crate) use versioned;

#[cfg(test)]
mod tests {
    use super::*;

    struct Row(i32);
    impl Versioned for Row {
        fn version(&self) -> i32 {
            self.0
        }
    }

    #[test]
    fn a_row_changes_only_at_the_version_read() {
        assert!(at_version(Some(Row(3)), 3).is_ok());
        assert_eq!(at_version(Some(Row(4)), 3).err(), Some(VersionError::Stale));
        assert_eq!(
            at_version(None::<Row>, 3).err(),
            Some(VersionError::Missing)
        );
    }
}
