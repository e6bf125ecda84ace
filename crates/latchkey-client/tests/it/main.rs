//! The SDK's integration tests, in one binary, against a real server started in-process by
//! `latchkey-testkit`: the gateway check and the management API.

mod gateway;
mod oauth;
