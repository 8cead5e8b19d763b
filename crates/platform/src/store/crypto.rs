//! Secrets at rest: XChaCha20-Poly1305 under 32-byte master keys held in a [`Keyring`].
//!
//! A stored secret is `format_version (1) ‖ key_id_len (1) ‖ key_id ‖ nonce (24) ‖ ciphertext`.
//! The associated data binds it to a domain tag, the site, the app, the key and the header, so
//! a ciphertext copied to another key or site does not decrypt.
//! Key files are handled in [`super::keyfile`].

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret, SecretBox, SecretString};

use super::keyfile::{
    self, Fingerprint, KeyEntry, decode_key, fingerprint, parse_keys, random_bytes, read_key_file,
};

/// The environment variable holding a single base64 master key (key id `env`).
pub const ENV_VAR: &str = "JSMKIT_SECRETS_KEY";
const FORMAT_VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const DOMAIN: &[u8] = b"jsmkit/store/secret/v1";
const REFRESH_EVERY: Duration = Duration::from_secs(1);

/// Why a keyring could not be loaded or written. Never carries key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyringError {
    #[error("cannot read key file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write key file {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "key file {path} is accessible by group or others (mode {mode:04o}); refusing to use it, run `chmod 600 {path}`"
    )]
    Permissions { path: String, mode: u32 },
    #[error("key file {path}, line {line}: {reason}")]
    Parse {
        path: String,
        line: usize,
        reason: String,
    },
    #[error("key file {path} holds no key; add a line ID:BASE64KEY")]
    Empty { path: String },
    #[error("key file {path} already exists; refusing to overwrite it")]
    Exists { path: String },
    #[error(
        "key file {path} is being changed by another `jsmkit secrets` command ({lock} exists; remove it if no such command is running)"
    )]
    Locked { path: String, lock: String },
    #[error("{origin} is not a valid key: {reason}")]
    InvalidKey { origin: String, reason: String },
    #[error("the system random number generator failed: {0}")]
    Random(String),
    #[error("encrypting a secret failed")]
    Encrypt,
}

/// Why a stored secret could not be decrypted (mapped to `StoreError` by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DecryptError {
    /// Wrong key/AAD, tampered or truncated.
    Failed,
    UnknownKey(String),
}

#[derive(Debug)]
enum Source {
    File(PathBuf),
    Env,
    Memory,
}

struct State {
    keys: Vec<KeyEntry>,
    fingerprint: Option<Fingerprint>,
}

struct Inner {
    source: Source,
    state: RwLock<State>,
    last_check: Mutex<Instant>,
}

/// Master keys by id, the last one current. Cheap to clone; clones share state, so a reload
/// seen by one is seen by all.
#[derive(Clone)]
pub struct Keyring {
    inner: Arc<Inner>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("source", &self.inner.source)
            .field("key_ids", &self.key_ids())
            .field("current", &self.current_key_id())
            .finish_non_exhaustive()
    }
}

/// The associated data for a secret: domain tag, site, app, key and the blob header.
pub(crate) fn secret_aad(site: &str, app: &str, key: &str, header: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(DOMAIN.len() + site.len() + app.len() + key.len() + 40);
    for part in [DOMAIN, site.as_bytes(), app.as_bytes(), key.as_bytes()] {
        aad.extend_from_slice(part);
        aad.push(0);
    }
    aad.extend_from_slice(header);
    aad
}

/// The parts of a stored secret.
struct Blob<'a> {
    /// Format version and key id: authenticated as part of the associated data.
    header: &'a [u8],
    key_id: &'a str,
    nonce: &'a [u8],
    ciphertext: &'a [u8],
}

fn split_blob(blob: &[u8]) -> Option<Blob<'_>> {
    let (&version, rest) = blob.split_first()?;
    let (&id_len, rest) = rest.split_first()?;
    let id_len = usize::from(id_len);
    if version != FORMAT_VERSION || rest.len() < id_len + NONCE_LEN + TAG_LEN {
        return None;
    }
    let (id, rest) = rest.split_at(id_len);
    let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
    Some(Blob {
        header: blob.get(..2 + id_len)?,
        key_id: std::str::from_utf8(id).ok()?,
        nonce,
        ciphertext,
    })
}

/// The key id a stored blob claims, if it is well formed.
#[cfg(test)]
fn blob_key_id(blob: &[u8]) -> Option<&str> {
    split_blob(blob).map(|b| b.key_id)
}

impl Keyring {
    fn with(source: Source, keys: Vec<KeyEntry>, fingerprint: Option<Fingerprint>) -> Self {
        Keyring {
            inner: Arc::new(Inner {
                source,
                state: RwLock::new(State { keys, fingerprint }),
                last_check: Mutex::new(Instant::now()),
            }),
        }
    }

    /// Loads a key file, refusing one that group or others can access.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, KeyringError> {
        let path = path.as_ref();
        let (text, fp) = read_key_file(path)?;
        let keys = parse_keys(path, text.expose_secret())?;
        Ok(Self::with(Source::File(path.to_path_buf()), keys, Some(fp)))
    }

    /// A keyring of one base64 key (id `env`), as given in [`ENV_VAR`].
    pub fn from_base64(key: &SecretString) -> Result<Self, KeyringError> {
        let key = decode_key(key.expose_secret()).map_err(|reason| KeyringError::InvalidKey {
            origin: ENV_VAR.into(),
            reason,
        })?;
        Ok(Self::with(
            Source::Env,
            vec![KeyEntry {
                id: "env".into(),
                key,
            }],
            None,
        ))
    }

    /// The keyring from [`ENV_VAR`], or `None` if it is not set.
    pub fn from_env() -> Result<Option<Self>, KeyringError> {
        match std::env::var(ENV_VAR) {
            Ok(v) => Self::from_base64(&SecretString::from(v)).map(Some),
            Err(_) => Ok(None),
        }
    }

    /// A keyring of one fresh random key that lives only in memory (tests, throwaway demos).
    pub fn ephemeral() -> Result<Self, KeyringError> {
        let key = SecretBox::new(Box::new(random_bytes::<32>()?));
        Ok(Self::with(
            Source::Memory,
            vec![KeyEntry {
                id: "ephemeral".into(),
                key,
            }],
            None,
        ))
    }

    /// Creates a new key file (mode 0600) holding one fresh key; refuses to overwrite.
    pub fn generate_file(path: impl AsRef<Path>) -> Result<Self, KeyringError> {
        let path = path.as_ref();
        keyfile::create(path)?;
        Self::from_file(path)
    }

    /// The key file this keyring follows, if it came from one.
    pub fn key_file(&self) -> Option<&Path> {
        match &self.inner.source {
            Source::File(p) => Some(p),
            _ => None,
        }
    }

    /// Where the keys came from, for messages.
    pub fn origin(&self) -> String {
        match &self.inner.source {
            Source::File(p) => format!("the key file {}", p.display()),
            Source::Env => format!("the environment variable {ENV_VAR}"),
            Source::Memory => "an in-memory key".into(),
        }
    }

    fn state(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.inner
            .state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub fn current_key_id(&self) -> String {
        self.state()
            .keys
            .last()
            .map(|k| k.id.clone())
            .unwrap_or_default()
    }

    pub fn key_ids(&self) -> Vec<String> {
        self.state().keys.iter().map(|k| k.id.clone()).collect()
    }

    /// Re-reads the key file (no-op for other sources). Keeps the old keys on error.
    pub fn reload(&self) -> Result<(), KeyringError> {
        let Source::File(path) = &self.inner.source else {
            return Ok(());
        };
        let (text, fp) = read_key_file(path)?;
        let keys = parse_keys(path, text.expose_secret())?;
        let mut state = self
            .inner
            .state
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        state.keys = keys;
        state.fingerprint = Some(fp);
        Ok(())
    }

    /// Reloads if the file changed since it was read (size, mtime or inode).
    fn reload_if_changed(&self) {
        let Source::File(path) = &self.inner.source else {
            return;
        };
        let changed = match fingerprint(path) {
            Ok(fp) => self.state().fingerprint.as_ref() != Some(&fp),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot check the key file");
                false
            }
        };
        if changed && let Err(e) = self.reload() {
            tracing::warn!(error = %e, "key file changed but cannot be loaded; keeping the old keys");
        }
    }

    /// Follows the file's current key, looking at the file at most once a second.
    fn refresh(&self) {
        if self.key_file().is_none() {
            return;
        }
        {
            let mut last = self
                .inner
                .last_check
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if last.elapsed() < REFRESH_EVERY {
                return;
            }
            *last = Instant::now();
        }
        self.reload_if_changed();
    }

    fn cipher(&self, id: &str) -> Option<XChaCha20Poly1305> {
        let state = self.state();
        let entry = state.keys.iter().find(|k| k.id == id)?;
        XChaCha20Poly1305::new_from_slice(entry.key.expose_secret()).ok()
    }

    /// Encrypts under the current key; returns the key id used and the blob.
    pub(crate) fn encrypt(
        &self,
        site: &str,
        app: &str,
        key: &str,
        plaintext: &[u8],
    ) -> Result<(String, Vec<u8>), KeyringError> {
        self.refresh();
        let id = self.current_key_id();
        let blob = self.encrypt_with(&id, site, app, key, plaintext)?;
        Ok((id, blob))
    }

    pub(crate) fn encrypt_with(
        &self,
        id: &str,
        site: &str,
        app: &str,
        key: &str,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, KeyringError> {
        let cipher = self.cipher(id).ok_or(KeyringError::Encrypt)?;
        let id_len = u8::try_from(id.len()).map_err(|_| KeyringError::Encrypt)?;
        let nonce = random_bytes::<NONCE_LEN>()?;
        let mut blob = Vec::with_capacity(2 + id.len() + NONCE_LEN + plaintext.len() + TAG_LEN);
        blob.push(FORMAT_VERSION);
        blob.push(id_len);
        blob.extend_from_slice(id.as_bytes());
        let aad = secret_aad(site, app, key, &blob);
        let ct = cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| KeyringError::Encrypt)?;
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&ct);
        Ok(blob)
    }

    /// Decrypts a blob written for (site, app, key). An unknown key id makes the keyring
    /// re-read its file once, so keys added by another instance are picked up.
    pub(crate) fn decrypt(
        &self,
        site: &str,
        app: &str,
        key: &str,
        blob: &[u8],
    ) -> Result<SecretBox<Vec<u8>>, DecryptError> {
        let Blob {
            header,
            key_id: id,
            nonce,
            ciphertext: ct,
        } = split_blob(blob).ok_or(DecryptError::Failed)?;
        let cipher = match self.cipher(id) {
            Some(c) => c,
            None => {
                self.reload_if_changed();
                self.cipher(id)
                    .ok_or_else(|| DecryptError::UnknownKey(id.to_string()))?
            }
        };
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| DecryptError::Failed)?;
        let aad = secret_aad(site, app, key, header);
        cipher
            .decrypt(&XNonce::from(nonce), Payload { msg: ct, aad: &aad })
            .map(|p| SecretBox::new(Box::new(p)))
            .map_err(|_| DecryptError::Failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use proptest::prelude::*;

    fn b64_key(byte: u8) -> SecretString {
        SecretString::from(STANDARD.encode([byte; 32]))
    }

    #[test]
    fn round_trip_and_aad_binding() {
        let k = Keyring::from_base64(&b64_key(7)).unwrap();
        let (id, blob) = k.encrypt("s", "a", "k", b"hello").unwrap();
        assert_eq!(id, "env");
        assert_eq!(blob_key_id(&blob), Some("env"));
        assert_eq!(
            k.decrypt("s", "a", "k", &blob).unwrap().expose_secret(),
            b"hello"
        );
        assert_eq!(
            k.decrypt("s", "a", "k2", &blob).unwrap_err(),
            DecryptError::Failed
        );
        assert_eq!(
            k.decrypt("s2", "a", "k", &blob).unwrap_err(),
            DecryptError::Failed
        );
        assert_eq!(
            k.decrypt("s", "b", "k", &blob).unwrap_err(),
            DecryptError::Failed
        );
        let mut tampered = blob.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(
            k.decrypt("s", "a", "k", &tampered).unwrap_err(),
            DecryptError::Failed
        );
        assert_eq!(
            k.decrypt("s", "a", "k", &blob[..10]).unwrap_err(),
            DecryptError::Failed
        );
        let other = Keyring::from_base64(&b64_key(8)).unwrap();
        assert_eq!(
            other.decrypt("s", "a", "k", &blob).unwrap_err(),
            DecryptError::Failed
        );
    }

    #[test]
    fn debug_and_errors_redact() {
        let k = Keyring::from_base64(&b64_key(9)).unwrap();
        let dbg = format!("{k:?}");
        assert!(!dbg.contains(&STANDARD.encode([9u8; 32])), "{dbg}");
        let e = Keyring::from_base64(&SecretString::from("c2hvcnQ=".to_string())).unwrap_err();
        assert!(e.to_string().contains("5 bytes; a key is 32 bytes"), "{e}");
        assert!(!e.to_string().contains("c2hvcnQ"));
    }

    proptest! {
        #[test]
        fn encrypt_decrypt_round_trip(
            plain in proptest::collection::vec(any::<u8>(), 0..2048),
            site in "[A-Za-z0-9-]{1,64}",
            key in "[A-Za-z0-9:._ #-]{1,80}",
            byte in any::<u8>(),
        ) {
            let k = Keyring::from_base64(&b64_key(byte)).unwrap();
            let (_, blob) = k.encrypt(&site, "app", &key, &plain).unwrap();
            let back = k.decrypt(&site, "app", &key, &blob).unwrap();
            prop_assert_eq!(back.expose_secret(), &plain);
            let other_key = format!("{key}x");
            prop_assert!(k.decrypt(&site, "app", &other_key, &blob).is_err());
        }

        #[test]
        fn decrypt_never_panics_on_garbage(blob in proptest::collection::vec(any::<u8>(), 0..200)) {
            let k = Keyring::from_base64(&b64_key(1)).unwrap();
            prop_assert!(k.decrypt("s", "a", "k", &blob).is_err());
        }
    }
}
