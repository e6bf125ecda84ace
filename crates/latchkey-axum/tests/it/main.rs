//! The middleware's integration tests, in one binary, against a real server started
//! in-process by `latchkey-testkit`.

mod middleware;
