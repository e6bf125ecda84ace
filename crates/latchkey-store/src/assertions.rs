//! Client assertion `jti`s (`client_assertion_jtis`): each private_key_jwt /
//! client_secret_jwt assertion is accepted once (the primary key refuses a replay).

use latchkey_core::{Id, Timestamp};

use crate::{Result, Store};

impl Store {
    /// Forgets client assertion `jti`s that have expired (their assertions are refused for
    /// their `exp` anyway); run periodically, not on the token endpoint.
    pub async fn reap_expired_assertion_jtis(&self, now: Timestamp) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM client_assertion_jtis WHERE expires_at < $1")
            .bind(now.millis())
            .execute(self.pool())
            .await?
            .rows_affected())
    }

    /// Records a client assertion's `jti`; false if it was seen before (a replay).
    pub async fn use_assertion_jti(&self, client_record_id: Id, jti: &str, expires_at: Timestamp) -> Result<bool> {
        let r = sqlx::query("INSERT INTO client_assertion_jtis (client_id, jti, expires_at) VALUES ($1, $2, $3)")
            .bind(client_record_id.get())
            .bind(jti.to_owned())
            .bind(expires_at.millis())
            .execute(self.pool())
            .await;
        match r {
            Ok(_) => Ok(true),
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}
