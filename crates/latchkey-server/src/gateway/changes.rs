//! `GET /v1/authz/changes`: the change feed of the caller's deployment, as server-sent events.
//! Each `generation` event carries a number that moves whenever something committed could
//! change a gateway answer (a revocation, a grant, client, app, user, session, scope mapping
//! or membership change) — the same generations the gateway's own caches follow. A resource
//! server that caches allowed answers (`latchkey-axum`'s `with_cache`) drops its cache when
//! the number moves, and stops caching while it is not connected.
//!
//! The first event is sent at once; later ones as changes commit (on PostgreSQL, also those
//! committed by other replicas). Comments keep the connection alive every 15 seconds. The
//! feed ends when the server shuts down.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;

use crate::api::caller::Caller;
use crate::state::AppState;

pub async fn changes(State(state): State<AppState>, caller: Caller) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let deployment = caller.deployment_id;
    let bus = state.store.bus().clone();
    let ticks = bus.subscribe();
    let stopping = state.stopping.subscribe();
    let events = futures_util::stream::unfold((ticks, stopping, None::<u64>), move |(mut ticks, mut stopping, last)| {
        let bus = bus.clone();
        async move {
            loop {
                if *stopping.borrow() {
                    return None;
                }
                let generation = bus.generation(deployment);
                if last != Some(generation) {
                    let event = Event::default().event("generation").data(generation.to_string());
                    return Some((Ok(event), (ticks, stopping, Some(generation))));
                }
                tokio::select! {
                    changed = ticks.changed() => if changed.is_err() { return None },
                    _ = stopping.changed() => {}
                }
            }
        }
    });
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
