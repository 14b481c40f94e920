//! The layer: the key ring and claim policy, shared by every service it wraps.

use std::sync::Arc;

use tessera_core::{paseto::Options, ConfigError, Validation, DEFAULT_MAX_LEN, MAX_LEEWAY};
use tower_layer::Layer;

use super::{service::BearerAuth, Ring, TokenKeys};

/// What a token must satisfy. Strings are owned here and lent to a
/// [`Validation`] per request, which costs nothing.
#[derive(Clone, Debug)]
pub(crate) struct Policy {
    pub(crate) keys: TokenKeys,
    footer: Option<Vec<u8>>,
    implicit: Vec<u8>,
    issuer: Option<String>,
    audience: Option<String>,
    leeway: u64,
    max_len: usize,
}

impl Policy {
    pub(crate) fn max_len(&self) -> usize {
        self.max_len
    }

    /// The PASETO footer and implicit assertion.
    pub(crate) fn options(&self) -> Options<'_> {
        let options = Options::new().implicit(&self.implicit);
        match &self.footer {
            Some(footer) => options.footer(footer),
            None => options,
        }
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
        Self::with_keys(TokenKeys::Jws(Box::new(ring)))
    }

    /// A layer with the strict default policy over any [`TokenKeys`], PASETO
    /// v4 keys included.
    pub fn with_keys(keys: TokenKeys) -> Self {
        let policy = Policy {
            keys,
            footer: None,
            implicit: Vec::new(),
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

    /// PASETO: requires the token's footer to equal `footer`.
    pub fn footer(mut self, footer: impl Into<Vec<u8>>) -> Self {
        Arc::make_mut(&mut self.policy).footer = Some(footer.into());
        self
    }

    /// PASETO: the implicit assertion tokens are bound to.
    pub fn implicit(mut self, implicit: impl Into<Vec<u8>>) -> Self {
        Arc::make_mut(&mut self.policy).implicit = implicit.into();
        self
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
