//! The claim policy flags shared by `verify` and `gateway`.

use clap::Args;
use tessera_core::Validation;

use super::Failure;
use crate::layer::auth::BearerAuthLayer;

/// `--iss`, `--aud`, `--leeway`.
#[derive(Args, Debug)]
pub(crate) struct PolicyArgs {
    /// Required issuer.
    #[arg(long, value_name = "I", env = "TESSERA_ISS")]
    iss: Option<String>,
    /// Required audience.
    #[arg(long, value_name = "A", env = "TESSERA_AUD")]
    aud: Option<String>,
    /// Accepted clock skew for `exp` and `nbf`, in seconds (at most 600).
    #[arg(long, value_name = "SECS", default_value_t = 0, env = "TESSERA_LEEWAY")]
    leeway: u64,
}

impl PolicyArgs {
    fn leeway_failure(&self, e: tessera_core::ConfigError) -> Failure {
        Failure(format!("--leeway {}: {e}", self.leeway))
    }

    /// The core validation these flags ask for.
    pub(crate) fn validation(&self) -> Result<Validation<'_>, Failure> {
        let mut validation = Validation::new()
            .leeway(self.leeway)
            .map_err(|e| self.leeway_failure(e))?;
        if let Some(iss) = &self.iss {
            validation = validation.issuer(iss);
        }
        if let Some(aud) = &self.aud {
            validation = validation.audience(aud);
        }
        Ok(validation)
    }

    /// The same policy on the gateway's authentication layer.
    pub(crate) fn apply(&self, mut layer: BearerAuthLayer) -> Result<BearerAuthLayer, Failure> {
        layer = layer
            .leeway(self.leeway)
            .map_err(|e| self.leeway_failure(e))?;
        if let Some(iss) = &self.iss {
            layer = layer.issuer(iss);
        }
        if let Some(aud) = &self.aud {
            layer = layer.audience(aud);
        }
        Ok(layer)
    }
}
