//! The layer: the key ring and claim policy, shared by every service it wraps.

use std::sync::Arc;

use tessera_core::{ConfigError, Validation, DEFAULT_MAX_LEN, MAX_LEEWAY};
use tower_layer::Layer;

use super::{service::BearerAuth, Ring};

/// What a token must satisfy. Strings are owned here and lent to a
/// [`Validation`] per request, which costs nothing.
#[derive(Clone, Debug)]
pub(crate) struct Policy {
    pub(crate) ring: Ring,
    issuer: Option<String>,
    audience: Option<String>,
    leeway: u64,
    max_len: usize,
}

impl Policy {
    pub(crate) fn max_len(&self) -> usize {
        self.max_len
    }

    pub(crate) fn validation(&self) -> Validation<'_> {
        let mut v = Validation::new().max_len(self.max_len);
        if let Some(iss) = &self.issuer {
            v = v.issuer(iss);
        }
        if let Some(aud) = &self.audience {
            v = v.audience(aud);
        }
        // `leeway` was bounded when it was set.
        v.leeway(self.leeway).unwrap_or(v)
    }
}

/// Verifies bearer tokens before the inner service runs; see the
/// [module docs](super).
#[derive(Clone, Debug)]
pub struct BearerAuthLayer {
    policy: Arc<Policy>,
}

impl BearerAuthLayer {
    /// A layer with the strict default policy: `exp` required, no leeway, no
    /// issuer or audience accepted, tokens up to 8192 bytes.
    pub fn new(ring: Ring) -> Self {
        let policy = Policy {
            ring,
            issuer: None,
            audience: None,
            leeway: 0,
            max_len: DEFAULT_MAX_LEN,
        };
        BearerAuthLayer {
            policy: Arc::new(policy),
        }
    }

    /// Requires `iss` to equal `issuer`.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.policy).issuer = Some(issuer.into());
        self
    }

    /// Requires `aud` to be or contain `audience`.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.policy).audience = Some(audience.into());
        self
    }

    /// Accepts `exp` and `nbf` this many seconds off; at most [`MAX_LEEWAY`].
    pub fn leeway(mut self, seconds: u64) -> Result<Self, ConfigError> {
        if seconds > MAX_LEEWAY {
            return Err(ConfigError::LeewayTooLarge);
        }
        Arc::make_mut(&mut self.policy).leeway = seconds;
        Ok(self)
    }

    /// Refuses longer tokens before any work.
    pub fn max_len(mut self, bytes: usize) -> Self {
        Arc::make_mut(&mut self.policy).max_len = bytes;
        self
    }
}

impl<S> Layer<S> for BearerAuthLayer {
    type Service = BearerAuth<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BearerAuth::new(inner, Arc::clone(&self.policy))
    }
}
