//! Reading typed values out of `AnyRow`s: ids, timestamps, 0/1 flags and JSON text.

use latchkey_core::{Id, Timestamp};
use serde::de::DeserializeOwned;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Result, StoreError};

pub(crate) trait RowExt {
    fn id(&self, col: &str) -> Result<Id>;
    fn opt_id(&self, col: &str) -> Result<Option<Id>>;
    fn ts(&self, col: &str) -> Result<Timestamp>;
    fn opt_ts(&self, col: &str) -> Result<Option<Timestamp>>;
    fn flag(&self, col: &str) -> Result<bool>;
    fn text(&self, col: &str) -> Result<String>;
    fn opt_text(&self, col: &str) -> Result<Option<String>>;
    fn json<T: DeserializeOwned>(&self, col: &str) -> Result<T>;
}

impl RowExt for AnyRow {
    fn id(&self, col: &str) -> Result<Id> {
        Ok(Id::from_i64(self.try_get::<i64, _>(col)?))
    }

    fn opt_id(&self, col: &str) -> Result<Option<Id>> {
        Ok(self.try_get::<Option<i64>, _>(col)?.map(Id::from_i64))
    }

    fn ts(&self, col: &str) -> Result<Timestamp> {
        Ok(Timestamp::from_millis(self.try_get::<i64, _>(col)?))
    }

    fn opt_ts(&self, col: &str) -> Result<Option<Timestamp>> {
        Ok(self.try_get::<Option<i64>, _>(col)?.map(Timestamp::from_millis))
    }

    fn flag(&self, col: &str) -> Result<bool> {
        Ok(self.try_get::<i64, _>(col)? != 0)
    }

    fn text(&self, col: &str) -> Result<String> {
        Ok(self.try_get::<String, _>(col)?)
    }

    fn opt_text(&self, col: &str) -> Result<Option<String>> {
        Ok(self.try_get::<Option<String>, _>(col)?)
    }

    fn json<T: DeserializeOwned>(&self, col: &str) -> Result<T> {
        let raw: String = self.try_get(col)?;
        serde_json::from_str(&raw).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
    }
}

/// Binds a flag as SMALLINT-compatible integer.
pub(crate) fn flag(v: bool) -> i16 {
    i16::from(v)
}

pub(crate) fn opt_ts(v: Option<Timestamp>) -> Option<i64> {
    v.map(Timestamp::millis)
}

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> String {
    // Serializing plain data structures to a string cannot fail.
    serde_json::to_string(v).unwrap_or_else(|_| "null".to_owned())
}
