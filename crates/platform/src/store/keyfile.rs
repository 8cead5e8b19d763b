//! The key file: one `ID:BASE64KEY` per line, `#` comments, the last key current. It must
//! not be accessible by group or others; it is only ever replaced atomically (temp file with
//! mode 0600, fsync, rename, fsync of the folder).

use std::collections::HashSet;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use secrecy::{ExposeSecret, SecretBox, SecretString};

use super::crypto::KeyringError;

pub(crate) struct KeyEntry {
    pub(crate) id: String,
    pub(crate) key: SecretBox<[u8; 32]>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fingerprint {
    mtime: Option<SystemTime>,
    len: u64,
    ino: u64,
}

pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], KeyringError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| KeyringError::Random(e.to_string()))?;
    Ok(b)
}

pub(crate) fn valid_key_id(id: &str) -> bool {
    (1..=32).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

pub(crate) fn decode_key(b64: &str) -> Result<SecretBox<[u8; 32]>, String> {
    let decoded = STANDARD
        .decode(b64.trim())
        .or_else(|_| STANDARD_NO_PAD.decode(b64.trim()))
        .map_err(|_| "the key is not valid base64".to_string())?;
    let decoded: SecretBox<Vec<u8>> = SecretBox::new(Box::new(decoded));
    let raw = decoded.expose_secret();
    if raw.len() != 32 {
        return Err(format!(
            "the key decodes to {} bytes; a key is 32 bytes",
            raw.len()
        ));
    }
    let mut key = Box::new([0u8; 32]);
    key.copy_from_slice(raw);
    Ok(SecretBox::new(key))
}

fn fingerprint_of(md: &fs::Metadata) -> Fingerprint {
    #[cfg(unix)]
    let ino = std::os::unix::fs::MetadataExt::ino(md);
    #[cfg(not(unix))]
    let ino = 0;
    Fingerprint {
        mtime: md.modified().ok(),
        len: md.len(),
        ino,
    }
}

/// The file's identity now (size, mtime, inode), to tell whether it changed.
pub(crate) fn fingerprint(path: &Path) -> std::io::Result<Fingerprint> {
    Ok(fingerprint_of(&fs::metadata(path)?))
}

/// Reads a key file after checking its permissions; returns the text and the fingerprint of
/// the very file read (one open handle, so a concurrent replace cannot mix them up).
pub(crate) fn read_key_file(path: &Path) -> Result<(SecretString, Fingerprint), KeyringError> {
    let p = path.display().to_string();
    let read_err = |source| KeyringError::Read {
        path: p.clone(),
        source,
    };
    let mut file = fs::File::open(path).map_err(read_err)?;
    let md = file.metadata().map_err(read_err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = md.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyringError::Permissions { path: p, mode });
        }
    }
    let mut text = String::new();
    std::io::Read::read_to_string(&mut file, &mut text).map_err(read_err)?;
    Ok((SecretString::from(text), fingerprint_of(&md)))
}

/// Parses key file text; ids in file order, the last current.
pub(crate) fn parse_keys(path: &Path, text: &str) -> Result<Vec<KeyEntry>, KeyringError> {
    let p = path.display().to_string();
    let mut keys: Vec<KeyEntry> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parse = |reason: String| KeyringError::Parse {
            path: p.clone(),
            line: i + 1,
            reason,
        };
        let Some((id, b64)) = line.split_once(':') else {
            return Err(parse("expected ID:BASE64KEY".into()));
        };
        let id = id.trim();
        if !valid_key_id(id) {
            return Err(parse(
                "a key id is 1 to 32 characters of A-Z, a-z, 0-9, '_' and '-'".into(),
            ));
        }
        if keys.iter().any(|k| k.id == id) {
            return Err(parse(format!("key id \"{id}\" appears twice")));
        }
        let key = decode_key(b64).map_err(parse)?;
        keys.push(KeyEntry {
            id: id.to_string(),
            key,
        });
    }
    if keys.is_empty() {
        return Err(KeyringError::Empty { path: p });
    }
    Ok(keys)
}

/// Writes `contents` to `path` atomically: temp file (0600) + fsync + rename + fsync folder.
pub(crate) fn write_atomically(path: &Path, contents: &str) -> Result<(), KeyringError> {
    let p = path.display().to_string();
    let werr = |source| KeyringError::Write {
        path: p.clone(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", hex::encode(random_bytes::<6>()?)));
    let result = (|| -> std::io::Result<()> {
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(&tmp)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(fs::Permissions::from_mode(0o600))?;
        }
        f.write_all(contents.as_bytes())?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        fs::File::open(&dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(werr)
}

pub(crate) fn encode_key_line(id: &str, key: &[u8; 32]) -> String {
    format!("{id}:{}\n", STANDARD.encode(key))
}

pub(crate) fn new_key_id(existing: &[String]) -> Result<String, KeyringError> {
    loop {
        let secs = jiff::Timestamp::now().as_second();
        let id = format!("k{secs}-{}", hex::encode(random_bytes::<2>()?));
        if !existing.contains(&id) {
            return Ok(id);
        }
    }
}

/// Creates a new key file (mode 0600, folder created if missing) holding one fresh key.
pub(crate) fn create(path: &Path) -> Result<(), KeyringError> {
    let p = path.display().to_string();
    if path.exists() {
        return Err(KeyringError::Exists { path: p });
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|source| KeyringError::Write {
            path: p.clone(),
            source,
        })?;
    }
    let key = SecretBox::new(Box::new(random_bytes::<32>()?));
    let id = new_key_id(&[])?;
    let mut text = String::from(
        "# jsmkit secrets key file: one ID:BASE64KEY per line, the last one is current.\n\
         # Keep old keys until `prune` reports nothing uses them. Never share this file.\n",
    );
    text.push_str(&encode_key_line(&id, key.expose_secret()));
    let text = SecretString::from(text);
    write_atomically(path, text.expose_secret())?;
    Ok(())
}

/// An exclusive claim on changing a key file: `<file>.lock`, created with `O_EXCL` and
/// removed on drop, so two `jsmkit secrets` commands cannot lose each other's changes.
struct KeyFileLock(PathBuf);

impl KeyFileLock {
    fn acquire(path: &Path) -> Result<Self, KeyringError> {
        let mut lock = path.as_os_str().to_owned();
        lock.push(".lock");
        let lock = PathBuf::from(lock);
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&lock)
        {
            Ok(_) => Ok(KeyFileLock(lock)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(KeyringError::Locked {
                path: path.display().to_string(),
                lock: lock.display().to_string(),
            }),
            Err(source) => Err(KeyringError::Write {
                path: lock.display().to_string(),
                source,
            }),
        }
    }
}

impl Drop for KeyFileLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

/// Appends a fresh key to `path` atomically (it becomes current); returns its id.
pub(crate) fn append_key(path: &Path) -> Result<String, KeyringError> {
    let _lock = KeyFileLock::acquire(path)?;
    let (text, _) = read_key_file(path)?;
    let ids: Vec<String> = parse_keys(path, text.expose_secret())?
        .into_iter()
        .map(|k| k.id)
        .collect();
    let id = new_key_id(&ids)?;
    let key = SecretBox::new(Box::new(random_bytes::<32>()?));
    let mut out = text.expose_secret().to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&encode_key_line(&id, key.expose_secret()));
    let out = SecretString::from(out);
    write_atomically(path, out.expose_secret())?;
    Ok(id)
}

/// Removes from `path` every key not in `keep` except the current one; returns the
/// removed ids. Comments are kept.
pub(crate) fn remove_keys(
    path: &Path,
    keep: &HashSet<String>,
) -> Result<Vec<String>, KeyringError> {
    let _lock = KeyFileLock::acquire(path)?;
    let (text, _) = read_key_file(path)?;
    let keys = parse_keys(path, text.expose_secret())?;
    let current = keys.last().map(|k| k.id.clone()).unwrap_or_default();
    let mut removed = Vec::new();
    let mut out = String::new();
    for line in text.expose_secret().lines() {
        let t = line.trim();
        let id = (!t.is_empty() && !t.starts_with('#'))
            .then(|| t.split_once(':').map(|(id, _)| id.trim()))
            .flatten();
        match id {
            Some(id) if id != current && !keep.contains(id) => removed.push(id.to_string()),
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    let out = SecretString::from(out);
    if !removed.is_empty() {
        write_atomically(path, out.expose_secret())?;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::super::crypto::Keyring;
    use super::*;

    #[test]
    fn a_second_writer_is_refused_while_the_file_is_locked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        create(&path).unwrap();
        let held = KeyFileLock::acquire(&path).unwrap();
        let err = append_key(&path).unwrap_err();
        assert!(matches!(err, KeyringError::Locked { .. }), "{err}");
        assert!(err.to_string().contains("k.lock"), "{err}");
        assert!(remove_keys(&path, &HashSet::new()).is_err());
        drop(held);
        append_key(&path).unwrap();
        assert!(!dir.path().join("k.lock").exists());
    }

    #[test]
    fn key_file_generate_load_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/keys");
        let k = Keyring::generate_file(&path).unwrap();
        assert_eq!(k.key_ids().len(), 1);
        assert!(matches!(
            Keyring::generate_file(&path),
            Err(KeyringError::Exists { .. })
        ));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
            fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
            let e = Keyring::from_file(&path).unwrap_err();
            assert!(e.to_string().contains("mode 0640"), "{e}");
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        }
        let id2 = append_key(&path).unwrap();
        let k2 = Keyring::from_file(&path).unwrap();
        assert_eq!(k2.current_key_id(), id2);
        assert_eq!(k2.key_ids().len(), 2);
        let (_, blob) = k2.encrypt("s", "a", "k", b"v").unwrap();
        // the old instance learns the new key when it meets it
        assert_eq!(
            k.decrypt("s", "a", "k", &blob).unwrap().expose_secret(),
            b"v"
        );
        let removed = remove_keys(&path, &HashSet::new()).unwrap();
        assert_eq!(removed.len(), 1);
        assert_eq!(Keyring::from_file(&path).unwrap().key_ids(), vec![id2]);
    }

    #[test]
    fn parse_errors_name_line_without_material() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys");
        for (text, want) in [
            ("# only a comment\n", "holds no key"),
            ("a:!!notbase64!!\n", "line 1: the key is not valid base64"),
            ("\nnocolon\n", "line 2: expected ID:BASE64KEY"),
            ("a:AAAA\n", "3 bytes; a key is 32"),
        ] {
            write_atomically(&path, text).unwrap();
            let e = Keyring::from_file(&path).unwrap_err().to_string();
            assert!(e.contains(want), "{e}");
            assert!(!e.contains("notbase64"), "{e}");
        }
        let line = format!(
            "{}{}",
            encode_key_line("a", &[1; 32]),
            encode_key_line("a", &[2; 32])
        );
        write_atomically(&path, &line).unwrap();
        assert!(
            Keyring::from_file(&path)
                .unwrap_err()
                .to_string()
                .contains("appears twice")
        );
    }
}
