//! The hosted interaction behind a consent transaction: `/oauth/consent/init` decides what the
//! user must do (sign in, consent, or nothing) and `/oauth/consent/decide` records the
//! decision (`consent`), `/oauth/consent/login` signs in (`login`), and
//! `/oauth/consent/complete` finishes a transaction decided through the backend API
//! (`complete`). An approval issues its code in `approval`.
//!
//! Every step checks that the transaction exists, is pending (single use), has not expired,
//! and belongs to this browser (`transaction`); forms carry a CSRF token derived from the
//! transaction and the browser binding.

pub mod approval;
pub mod complete;
pub mod consent;
pub mod login;
pub mod transaction;
