//! Output rendering for operator commands.
