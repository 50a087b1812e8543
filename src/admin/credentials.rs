//! Rotation of the material of `mtls` and `private_key_jwt` accounts: a new
//! certificate or public key is added beside the old one and the old one is
//! removed later, so that a client switches over without downtime. Material
//! is checked exactly as on creation (the helpers here serve both), and a
//! refused request writes nothing.
//!
//! Write order (docs/management.md, "Rotating certificates and keys"): the
//! edge accepts a certificate only if the `cert/` index names the account
//! *and* the account record holds the thumbprint, so an added certificate
//! is indexed first and recorded second, and a removed one leaves the record
//! first and the index second. An interruption therefore never leaves a
//! usable half-made credential, and repeating the call completes it.

use super::{AccountView, Admin, AdminError, Fields, field, not_found};
use crate::account::{CredentialType, Record, StoredCertificate, StoredPublicKey};
use crate::store::keys::certificate_key;

/// Most certificates an `mtls` account holds: the old and the new during a
/// rotation, with room for a few overlapping ones. The record is read on
/// every request, so it stays small.
pub const MAX_CERTIFICATES: usize = 5;
/// Most public keys a `private_key_jwt` account holds, for the same reason.
pub const MAX_PUBLIC_KEYS: usize = 5;

pub(super) fn conflict(message: impl Into<String>) -> AdminError {
    AdminError::Conflict {
        message: message.into(),
        flows: vec![],
    }
}

/// Whether `text` can be an RFC 8705 thumbprint (base64url SHA-256), so that
/// no other text is ever turned into a store key.
pub(super) fn is_thumbprint(text: &str) -> bool {
    text.len() == 43
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether `kid` is an acceptable key id: 1-128 visible ASCII characters.
fn is_key_id(kid: &str) -> bool {
    !kid.is_empty() && kid.len() <= 128 && kid.bytes().all(|b| b.is_ascii_graphic())
}

/// The string field `name`, which must hold more than white space.
fn required(f: &Fields, name: &str, message: &str) -> Result<String, AdminError> {
    f.string(name)?
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| field(name, message))
}

/// The `key_id` and `public_key` fields (PEM or JWK) as a stored key, parsed
/// as on creation.
pub(super) fn public_key_material(f: &Fields, now: u64) -> Result<StoredPublicKey, AdminError> {
    let kid = required(f, "key_id", "required for private_key_jwt")?;
    if !is_key_id(&kid) {
        return Err(field("key_id", "1-128 visible ASCII characters"));
    }
    let key = required(
        f,
        "public_key",
        "required for private_key_jwt: PEM or JWK (Ed25519, P-256, RSA)",
    )?;
    crate::assertion::parse_public_key(&key, &kid, now)
        .map_err(|e| field("public_key", e.to_string()))
}

impl Admin<'_> {
    /// The record of account `id`, refused with `400` naming
    /// `credential_type` unless the account is of type `wanted`, the only
    /// type that holds `what`.
    fn rotated_record(
        &self,
        id: &str,
        wanted: CredentialType,
        what: &str,
    ) -> Result<Record, AdminError> {
        let record = self.record(id)?;
        let actual = record.account.credential_type;
        if actual != wanted {
            return Err(field(
                "credential_type",
                format!(
                    "{what} belong to `{}` accounts; this account is `{}`",
                    wanted.as_str(),
                    actual.as_str()
                ),
            ));
        }
        Ok(record)
    }

    /// The `certificate` field (PEM) as a stored certificate: parsed, its
    /// validity checked at the current time, and refused with `409` if an
    /// account other than `owner` holds it ([`Admin::other_holder`]).
    pub(super) fn certificate_material(
        &self,
        f: &Fields,
        owner: Option<&str>,
    ) -> Result<StoredCertificate, AdminError> {
        let pem = required(
            f,
            "certificate",
            "required for mtls: the client certificate in PEM",
        )?;
        let cert = crate::certificate::inspect_pem(&pem, self.clock.now())
            .map_err(|e| field("certificate", e.to_string()))?;
        if self.other_holder(&cert.thumbprint, owner)?.is_some() {
            return Err(conflict(
                "this certificate is already registered to an account",
            ));
        }
        Ok(cert)
    }

    /// The existing account other than `owner` that the `cert/` index names
    /// for `thumbprint`, if any. An index entry naming an account that no
    /// longer exists is left over from an interrupted delete and does not
    /// count; one naming `owner` is left to the caller, who knows whether
    /// `owner`'s record holds the certificate.
    pub(super) fn other_holder(
        &self,
        thumbprint: &str,
        owner: Option<&str>,
    ) -> Result<Option<String>, AdminError> {
        let Some(holder) = self.store.get(&certificate_key(thumbprint))? else {
            return Ok(None);
        };
        let holder = String::from_utf8_lossy(&holder).into_owned();
        if owner == Some(holder.as_str()) {
            return Ok(None);
        }
        match self.account(&holder) {
            Ok(_) => Ok(Some(holder)),
            Err(AdminError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `POST /admin/v1/accounts/{id}/certificates` with `certificate`: adds
    /// a certificate to an `mtls` account. Returns the account and the new
    /// thumbprint.
    pub fn add_certificate(
        &self,
        id: &str,
        body: &[u8],
    ) -> Result<(AccountView, String), AdminError> {
        let f = Fields::parse(body, &["certificate"])?;
        let mut record = self.rotated_record(id, CredentialType::Mtls, "certificates")?;
        let cert = self.certificate_material(&f, Some(id))?;
        let certificates = &record.account.certificates;
        if certificates.iter().any(|c| c.thumbprint == cert.thumbprint) {
            return Err(conflict(
                "this certificate is already registered to this account",
            ));
        }
        if certificates.len() >= MAX_CERTIFICATES {
            return Err(conflict(format!(
                "an account holds at most {MAX_CERTIFICATES} certificates; remove one first"
            )));
        }
        let thumbprint = cert.thumbprint.clone();
        // The index first: on its own it lets nobody in, as the edge also
        // wants the thumbprint in the record written next.
        self.store
            .set(&certificate_key(&thumbprint), id.as_bytes())?;
        record.account.certificates.push(cert);
        record.account.updated_at = self.clock.now();
        self.write(&record)?;
        Ok((AccountView::from(&record), thumbprint))
    }

    /// `DELETE /admin/v1/accounts/{id}/certificates/{thumbprint}`. The last
    /// certificate cannot be removed: disabling or deleting the account is
    /// the way to stop it.
    pub fn remove_certificate(&self, id: &str, thumbprint: &str) -> Result<(), AdminError> {
        let mut record = self.rotated_record(id, CredentialType::Mtls, "certificates")?;
        if !is_thumbprint(thumbprint) {
            return Err(not_found("certificate", thumbprint));
        }
        let index = certificate_key(thumbprint);
        let before = record.account.certificates.len();
        record
            .account
            .certificates
            .retain(|c| c.thumbprint != thumbprint);
        if record.account.certificates.len() == before {
            // Not in the record. If the index still names this account, an
            // earlier removal stopped between the two writes: finish it.
            if self.store.get(&index)?.as_deref() == Some(id.as_bytes()) {
                self.store.delete(&index)?;
                return Ok(());
            }
            return Err(not_found("certificate", thumbprint));
        }
        if record.account.certificates.is_empty() {
            return Err(conflict(
                "this is the account's last certificate; add its successor first, or disable or delete the account instead",
            ));
        }
        record.account.updated_at = self.clock.now();
        // The record first: from then on the certificate is refused, whatever
        // happens to the index.
        self.write(&record)?;
        if self.store.get(&index)?.as_deref() == Some(id.as_bytes()) {
            self.store.delete(&index)?;
        }
        Ok(())
    }

    /// `POST /admin/v1/accounts/{id}/keys` with `public_key` and `key_id`:
    /// adds a public key to a `private_key_jwt` account. Returns the account
    /// and the new key's id.
    pub fn add_public_key(
        &self,
        id: &str,
        body: &[u8],
    ) -> Result<(AccountView, String), AdminError> {
        let f = Fields::parse(body, &["public_key", "key_id"])?;
        let mut record = self.rotated_record(id, CredentialType::PrivateKeyJwt, "public keys")?;
        let now = self.clock.now();
        let key = public_key_material(&f, now)?;
        let keys = &record.account.public_keys;
        if keys.iter().any(|k| k.kid == key.kid) {
            return Err(conflict(format!(
                "the account already has a key with key_id `{}`",
                key.kid
            )));
        }
        if let Some(same) = keys.iter().find(|k| k.spki == key.spki) {
            return Err(conflict(format!(
                "this public key is already registered to the account as `{}`",
                same.kid
            )));
        }
        if keys.len() >= MAX_PUBLIC_KEYS {
            return Err(conflict(format!(
                "an account holds at most {MAX_PUBLIC_KEYS} public keys; remove one first"
            )));
        }
        let kid = key.kid.clone();
        record.account.public_keys.push(key);
        record.account.updated_at = now;
        self.write(&record)?;
        Ok((AccountView::from(&record), kid))
    }

    /// `DELETE /admin/v1/accounts/{id}/keys/{kid}`. The last key cannot be
    /// removed.
    pub fn remove_public_key(&self, id: &str, kid: &str) -> Result<(), AdminError> {
        let mut record = self.rotated_record(id, CredentialType::PrivateKeyJwt, "public keys")?;
        let before = record.account.public_keys.len();
        record.account.public_keys.retain(|k| k.kid != kid);
        if record.account.public_keys.len() == before {
            return Err(not_found("key", kid));
        }
        if record.account.public_keys.is_empty() {
            return Err(conflict(
                "this is the account's last public key; add its successor first, or disable or delete the account instead",
            ));
        }
        record.account.updated_at = self.clock.now();
        self.write(&record)
    }
}
