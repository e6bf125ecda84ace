//! Minting credentials: fresh client secrets and API keys (returned once, stored as keyed
//! hashes) and signing keys (private half sealed under the master key before it is stored).

use latchkey_core::client::AuthMethod;
use latchkey_core::secret::{SecretKind, hint};
use latchkey_core::{Id, Secret, signing_key};
use latchkey_store::deployments::NewApiKey;
use latchkey_store::{NewSecret, NewSigningKey};

use crate::state::AppState;

/// A new client secret for a client of `method`: the plaintext (to show once) and what to
/// store. `client_secret_jwt` secrets are also sealed, because verifying an HS256 assertion
/// needs the secret itself.
pub fn client_secret(state: &AppState, method: AuthMethod) -> (Secret, NewSecret) {
    let secret = SecretKind::ClientSecret.generate();
    let id = Id::generate();
    let sealed = method
        .needs_recoverable_secret()
        .then(|| state.sealer.seal(secret.expose().as_bytes(), &format!("client_secret:{id}")));
    let record = NewSecret {
        id,
        hash: state.hasher.hash(secret.expose()),
        sealed,
        hint: hint(&secret),
    };
    (secret, record)
}

/// A new backend API key, or the given one (bootstrap), with what to store.
pub fn api_key(state_hasher: &latchkey_core::crypto::SecretHasher, name: &str, given: Option<Secret>) -> (Secret, NewApiKey) {
    let secret = given.unwrap_or_else(|| SecretKind::ApiKey.generate());
    let record = NewApiKey {
        id: Id::generate(),
        name: name.to_owned(),
        key_hash: state_hasher.hash(secret.expose()),
        hint: hint(&secret),
    };
    (secret, record)
}

/// Generates an RS256 key pair off the async threads and seals its private half.
pub async fn signing_key(state: &AppState) -> anyhow::Result<NewSigningKey> {
    let generated = tokio::task::spawn_blocking(signing_key::generate_rs256).await?;
    let id = Id::generate();
    Ok(NewSigningKey {
        id,
        kid: generated.kid,
        algorithm: signing_key::ALGORITHM.to_owned(),
        public_key_pem: generated.public_key_pem,
        public_jwk: generated.public_jwk,
        sealed_private_key: state.sealer.seal(&generated.private_pkcs8, &format!("signing_key:{id}")),
    })
}
