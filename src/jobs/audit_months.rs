//! The audit trail's monthly partitions: each instance makes sure, at start
//! and every hour, that this month's and the next two exist, so a record
//! always has its month's partition (the default partition only catches
//! records of a month no instance prepared: they stay readable, unpruned).

use std::time::Duration;

use crate::db::DbPool;
use crate::db::audit;
use crate::jobs::periodic::Periodic;

const EVERY: Duration = Duration::from_secs(3600);

/// One round (a failure is logged; a lock held elsewhere makes the
/// database function give up until next time).
pub async fn prepare(pool: &DbPool) {
    let added = async {
        let mut conn = pool.get().await?;
        anyhow::Ok(audit::prepare_months(&mut conn).await?)
    };
    match added.await {
        Ok(0) => {}
        Ok(added) => tracing::info!(added, "audit trail: monthly partitions added"),
        Err(error) => {
            tracing::warn!(error = %error, "audit trail: the monthly partitions could not be prepared");
        }
    }
}

pub fn spawn(pool: DbPool) -> Periodic {
    Periodic::spawn(EVERY, move || {
        let pool = pool.clone();
        async move { prepare(&pool).await }
    })
}
