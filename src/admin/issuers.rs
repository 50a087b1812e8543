//! The issuer side of `oidc` accounts: checking and fetching an issuer's
//! discovery document and JWKS on registration, and the per-issuer bindings
//! (`oidc/bindings/...`) the authorizer matches tokens against.

use super::{Admin, AdminError, Fetch, Fields, field};
use crate::account::OidcSettings;
use crate::oidc::{self, Binding, Bindings, IssuerRecord};
use crate::store::keys;

impl Admin<'_> {
    /// Checks an `oidc` account's issuer, audience and rule, then fetches the
    /// issuer's discovery document and JWKS: nothing is saved unless the
    /// issuer answers with at least one usable key.
    pub(super) fn oidc_material(
        &self,
        f: &Fields,
        fetch: &Fetch<'_>,
    ) -> Result<(OidcSettings, IssuerRecord), AdminError> {
        let issuer = f
            .string("issuer")?
            .ok_or_else(|| field("issuer", "required for oidc: the issuer URL"))?;
        oidc::check_issuer(&issuer).map_err(|e| field("issuer", e.to_string()))?;
        let audience = f
            .string("audience")?
            .filter(|a| {
                !a.is_empty() && a.chars().count() <= 512 && !a.chars().any(char::is_control)
            })
            .ok_or_else(|| field("audience", "required for oidc: the `aud` tokens must name"))?;
        let rule = f
            .0
            .get("claims_match")
            .ok_or_else(|| field("claims_match", "required for oidc"))
            .and_then(|v| oidc::parse_rule(v).map_err(|e| field("claims_match", e.to_string())))?;
        let fetched = |url: &str| {
            fetch(url).map_err(|e| field("issuer", format!("fetching {url} failed: {e}")))
        };
        let discovery = fetched(&oidc::discovery_url(&issuer))?;
        let jwks_uri =
            oidc::jwks_uri(&discovery, &issuer).map_err(|e| field("issuer", e.to_string()))?;
        let now = self.clock.now();
        let keys = oidc::parse_jwks(&fetched(&jwks_uri)?, now)
            .map_err(|e| field("issuer", e.to_string()))?;
        let settings = OidcSettings {
            issuer: issuer.clone(),
            audience,
            claims_match: rule,
        };
        let record = IssuerRecord {
            issuer,
            jwks_uri,
            keys,
            fetched_at: now,
            // Registration is not a refetch: a key rotated right after it is
            // still picked up on first use.
            refetched_at: 0,
        };
        Ok((settings, record))
    }

    /// Adds the account's binding to its issuer and refreshes the JWKS cache.
    pub(super) fn bind_issuer(
        &self,
        id: &str,
        settings: &OidcSettings,
        jwks: &IssuerRecord,
    ) -> Result<(), AdminError> {
        let key = keys::bindings_key(&settings.issuer);
        let mut bindings: Bindings = match self.store.get(&key)? {
            Some(bytes) => {
                serde_json::from_slice(&bytes).map_err(|_| AdminError::Corrupt(key.clone()))?
            }
            None => Bindings::default(),
        };
        bindings.bindings.retain(|b| b.account_id != id);
        bindings.bindings.push(Binding {
            account_id: id.to_owned(),
            audience: settings.audience.clone(),
            claims_match: settings.claims_match.clone(),
        });
        let bytes = serde_json::to_vec(&bindings).map_err(|_| AdminError::Corrupt(key.clone()))?;
        // The cache first: it is only a cache, and the bindings write (a
        // compare-and-swap that may ask for a re-run) is then the last.
        let cache = serde_json::to_vec(jwks).map_err(|_| AdminError::Corrupt(key.clone()))?;
        self.store.set(&keys::jwks_key(&settings.issuer), &cache)?;
        self.store.set(&key, &bytes)?;
        Ok(())
    }

    /// Removes the account's binding from its issuer.
    pub(super) fn unbind_issuer(
        &self,
        id: &str,
        settings: &OidcSettings,
    ) -> Result<(), AdminError> {
        let key = keys::bindings_key(&settings.issuer);
        let Some(bytes) = self.store.get(&key)? else {
            return Ok(());
        };
        let mut bindings: Bindings =
            serde_json::from_slice(&bytes).map_err(|_| AdminError::Corrupt(key.clone()))?;
        bindings.bindings.retain(|b| b.account_id != id);
        let bytes = serde_json::to_vec(&bindings).map_err(|_| AdminError::Corrupt(key.clone()))?;
        self.store.set(&key, &bytes)?;
        Ok(())
    }
}
