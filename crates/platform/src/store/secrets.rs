//! Secrets: encrypted string values kept apart from the key-value entries (never listed by
//! queries), plus master-key rotation and pruning.

use std::collections::HashSet;
use std::path::Path;

use secrecy::{ExposeSecret, SecretString};

use super::Store;
use super::backend::SecretRow;
use super::crypto::{DecryptError, Keyring};
use super::error::{Result, StoreError};
use super::keyfile;
use super::keys;
use super::kv::Kv;
use super::types::{AppNs, RotationReport, SecretLocation, SiteId};

const ROTATION_PAGE: u32 = 100;
/// Attempts to re-encrypt one secret that other writers keep changing.
const SWAP_ATTEMPTS: usize = 3;

impl Kv {
    /// Stores a secret string at `key` (encrypted under the keyring's current key).
    #[tracing::instrument(skip_all, fields(site = %self.site, app = %self.app, key = %key))]
    pub async fn set_secret(&self, key: &str, value: &SecretString) -> Result<()> {
        keys::validate_key(key)?;
        let size = value.expose_secret().len();
        if size > keys::MAX_VALUE_BYTES {
            return Err(StoreError::SecretTooLarge {
                key: key.to_string(),
                size,
                max: keys::MAX_VALUE_BYTES,
            });
        }
        let (key_id, blob) = self.store.keyring().encrypt(
            self.site.as_str(),
            self.app.as_str(),
            key,
            value.expose_secret().as_bytes(),
        )?;
        self.store.count("set_secret");
        self.store
            .backend()
            .put_secret(
                &self.site,
                &self.app,
                key,
                &key_id,
                &blob,
                self.store.now_ms(),
            )
            .await
    }

    /// The secret at `key`. A ciphertext that was not written for this site, app and key
    /// (or is damaged) is an error, never a wrong value.
    #[tracing::instrument(skip_all, fields(site = %self.site, app = %self.app, key = %key))]
    pub async fn get_secret(&self, key: &str) -> Result<Option<SecretString>> {
        keys::validate_key(key)?;
        self.store.count("get_secret");
        let Some(row) = self
            .store
            .backend()
            .get_secret(&self.site, &self.app, key)
            .await?
        else {
            return Ok(None);
        };
        let plain = decrypt_row(self.store.keyring(), &row)?;
        let text = std::str::from_utf8(plain.expose_secret()).map_err(|_| {
            StoreError::SecretUndecryptable {
                key: key.to_string(),
            }
        })?;
        Ok(Some(SecretString::from(text.to_string())))
    }

    /// Deletes the secret at `key`; returns whether there was one.
    #[tracing::instrument(skip_all, fields(site = %self.site, app = %self.app, key = %key))]
    pub async fn delete_secret(&self, key: &str) -> Result<bool> {
        keys::validate_key(key)?;
        self.store.count("delete_secret");
        self.store
            .backend()
            .delete_secret(&self.site, &self.app, key)
            .await
    }
}

fn decrypt_row(keyring: &Keyring, row: &SecretRow) -> Result<secrecy::SecretBox<Vec<u8>>> {
    keyring
        .decrypt(&row.site, &row.app, &row.key, &row.ciphertext)
        .map_err(|e| match e {
            DecryptError::Failed => StoreError::SecretUndecryptable {
                key: row.key.clone(),
            },
            DecryptError::UnknownKey(key_id) => StoreError::SecretKeyUnknown {
                key: row.key.clone(),
                key_id,
            },
        })
}

fn location(row: &SecretRow) -> SecretLocation {
    SecretLocation {
        site: row.site.clone(),
        app: row.app.clone(),
        key: row.key.clone(),
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

impl Store {
    /// The store's keyring must follow `key_file`, or rotation would write keys it cannot use.
    fn require_key_file(&self, key_file: &Path) -> Result<()> {
        match self.keyring().key_file() {
            Some(ours) if same_file(ours, key_file) => Ok(()),
            _ => Err(StoreError::RotationKeyFileMismatch {
                path: key_file.display().to_string(),
                actual: self.keyring().origin(),
            }),
        }
    }

    /// Appends a fresh key to `key_file` (atomically, mode 0600) and re-encrypts every
    /// secret not under it, row by row with compare-and-swap so a concurrent writer is never
    /// overwritten. Old keys stay in the file; other instances pick the new key up by
    /// themselves. See [`Store::prune_keys`] to drop keys nothing uses any more.
    #[tracing::instrument(skip_all, fields(backend = self.backend_name()))]
    pub async fn rotate_key(&self, key_file: &Path) -> Result<RotationReport> {
        self.require_key_file(key_file)?;
        self.count("rotate_key");
        let new_key_id = keyfile::append_key(key_file)?;
        self.keyring().reload()?;
        tracing::info!(key_id = %new_key_id, "new secrets key appended; re-encrypting");
        let mut report = RotationReport {
            new_key_id: new_key_id.clone(),
            ..RotationReport::default()
        };
        let mut after: Option<SecretRow> = None;
        loop {
            let rows = self
                .backend()
                .secrets_not_under(&new_key_id, after.as_ref(), ROTATION_PAGE)
                .await?;
            let Some(last) = rows.last().cloned() else {
                break;
            };
            for row in rows {
                self.re_encrypt(row, &new_key_id, &mut report).await?;
            }
            after = Some(last);
        }
        tracing::info!(
            re_encrypted = report.re_encrypted,
            changed_concurrently = report.changed_concurrently,
            undecryptable = report.undecryptable.len(),
            "secrets key rotation finished"
        );
        Ok(report)
    }

    async fn re_encrypt(
        &self,
        mut row: SecretRow,
        new_key_id: &str,
        report: &mut RotationReport,
    ) -> Result<()> {
        for _ in 0..SWAP_ATTEMPTS {
            let Ok(plain) = decrypt_row(self.keyring(), &row) else {
                report.undecryptable.push(location(&row));
                return Ok(());
            };
            let blob = self.keyring().encrypt_with(
                new_key_id,
                &row.site,
                &row.app,
                &row.key,
                plain.expose_secret(),
            )?;
            if self
                .backend()
                .swap_secret(&row, new_key_id, &blob, self.now_ms())
                .await?
            {
                report.re_encrypted += 1;
                return Ok(());
            }
            // Someone wrote this secret meanwhile: look at what they stored.
            let (Ok(site), Ok(app)) = (SiteId::new(row.site.clone()), AppNs::new(row.app.clone()))
            else {
                break;
            };
            match self.backend().get_secret(&site, &app, &row.key).await? {
                Some(now) if now.key_id != new_key_id => row = now,
                _ => break,
            }
        }
        report.changed_concurrently += 1;
        Ok(())
    }

    /// Removes from `key_file` every key that no stored secret uses (never the current
    /// one); returns the removed key ids.
    #[tracing::instrument(skip_all, fields(backend = self.backend_name()))]
    pub async fn prune_keys(&self, key_file: &Path) -> Result<Vec<String>> {
        self.require_key_file(key_file)?;
        self.count("prune_keys");
        let used: HashSet<String> = self.backend().secret_key_ids().await?.into_iter().collect();
        let removed = keyfile::remove_keys(key_file, &used)?;
        self.keyring().reload()?;
        tracing::info!(removed = ?removed, "unused secrets keys pruned");
        Ok(removed)
    }
}
