//! Where feed secrets live: the OS keyring (the Secret Service on Linux: GNOME Keyring, KeePassXC, KWallet),
//! never the database. The feed's configuration holds only a reference, `keyring:<id>`, in place of the value.
//!
//! [`Keyring`] stores, reads, relabels and deletes secrets; it caches what it read, so a feed that reconnects
//! does not ask the keyring again. Each secret is an item with the attributes `service = tidings` and
//! `username = <id>` (a random id that never changes, so a renamed feed keeps its references) and a label
//! naming the feed and the header or field, for keyring UIs such as Seahorse.
//!
//! [`feed`] decides which values of a feed are secret, moves them into the keyring when a feed is saved
//! ([`feed::seal`]) and puts them back in memory when it connects ([`feed::resolve`]).

pub mod feed;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use keyring_core::Entry;
use keyring_core::api::CredentialStoreApi;
use zbus_secret_service_keyring_store::Store;
use zbus_secret_service_keyring_store::cred::Specifier;

/// What stands in the database for a secret kept in the keyring.
pub const REFERENCE_PREFIX: &str = "keyring:";
/// The `service` attribute of every item Tidings keeps in the keyring.
pub const SERVICE: &str = "tidings";
/// Hex digits in a reference's id (128 random bits).
const ID_LEN: usize = 32;

/// Why the keyring could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyringError {
    /// No Secret Service answers, or it is locked or refused access; says which, for a person.
    Unavailable(String),
    /// The keyring answers but holds no such secret (deleted, or the keyring was reset).
    Missing,
}

/// The id in `value` when it is a reference to a keyring item (`keyring:` and 32 hex digits).
pub fn reference_id(value: &str) -> Option<&str> {
    let id = value.strip_prefix(REFERENCE_PREFIX)?;
    (id.len() == ID_LEN && id.bytes().all(|b| b.is_ascii_hexdigit())).then_some(id)
}

/// A header value that refers to the keyring: `keyring:<id>`, or `<scheme> keyring:<id>` where an
/// Authorization header keeps its scheme readable (`Bearer keyring:…`). Returns the scheme with its space
/// (or "") and the reference.
pub fn split_reference(value: &str) -> Option<(&str, &str)> {
    let at = value.rfind(' ').map_or(0, |space| space + 1);
    let (prefix, reference) = value.split_at(at);
    (reference_id(reference).is_some() && !prefix.trim_end().contains(' ')).then_some((prefix, reference))
}

/// The OS keyring, connected on first use (and again after a failure: a Secret Service started later is
/// found), with the secrets read so far.
#[derive(Default)]
pub struct Keyring {
    store: Mutex<Option<Arc<Store>>>,
    cache: Mutex<HashMap<String, String>>,
}

impl Keyring {
    pub fn new() -> Keyring {
        Keyring::default()
    }

    /// Keep `secret` in the keyring under a new id; returns its reference (`keyring:<id>`).
    /// Blocks: the keyring may ask the user to unlock it.
    pub fn save(&self, label: &str, secret: &str) -> Result<String, KeyringError> {
        let id = new_id();
        let entry = self.entry(&id, Some(label))?;
        self.checked(entry.set_password(secret))?;
        lock(&self.cache).insert(id.clone(), secret.to_string());
        Ok(format!("{REFERENCE_PREFIX}{id}"))
    }

    /// The secret a reference stands for, from memory when it was read or saved before.
    pub fn read(&self, reference: &str) -> Result<String, KeyringError> {
        let id = reference_id(reference).ok_or(KeyringError::Missing)?;
        if let Some(secret) = lock(&self.cache).get(id) {
            return Ok(secret.clone());
        }
        let entry = self.entry(id, None)?;
        let secret = self.checked(entry.get_password())?;
        lock(&self.cache).insert(id.to_string(), secret.clone());
        Ok(secret)
    }

    /// Remove a secret; one that is gone already is fine.
    pub fn delete(&self, reference: &str) -> Result<(), KeyringError> {
        let Some(id) = reference_id(reference) else {
            return Ok(());
        };
        lock(&self.cache).remove(id);
        let entry = self.entry(id, None)?;
        match self.checked(entry.delete_credential()) {
            Ok(()) | Err(KeyringError::Missing) => Ok(()),
            Err(other) => Err(other),
        }
    }

    /// Give a secret the label a keyring UI shows (after its feed was renamed).
    pub fn relabel(&self, reference: &str, label: &str) -> Result<(), KeyringError> {
        let Some(id) = reference_id(reference) else {
            return Ok(());
        };
        let entry = self.entry(id, None)?;
        match entry.as_any().downcast_ref::<Specifier>() {
            Some(item) => self.checked(item.set_label(label)),
            None => Ok(()),
        }
    }

    fn entry(&self, id: &str, label: Option<&str>) -> Result<Entry, KeyringError> {
        let store = self.store()?;
        let modifiers: HashMap<&str, &str> = label.map(|label| ("label", label)).into_iter().collect();
        let entry = store.build(SERVICE, id, Some(&modifiers));
        self.checked(entry)
    }

    fn store(&self) -> Result<Arc<Store>, KeyringError> {
        let mut store = lock(&self.store);
        if let Some(store) = store.as_ref() {
            return Ok(store.clone());
        }
        let connected = Store::new().map_err(|e| KeyringError::Unavailable(unavailable(&e)))?;
        *store = Some(connected.clone());
        Ok(connected)
    }

    /// Map the keyring's answer; after a failure the next call connects afresh.
    fn checked<T>(&self, result: keyring_core::Result<T>) -> Result<T, KeyringError> {
        result.map_err(|error| match error {
            keyring_core::Error::NoEntry => KeyringError::Missing,
            other => {
                *lock(&self.store) = None;
                KeyringError::Unavailable(unavailable(&other))
            }
        })
    }
}

/// A person's reading of why the keyring cannot be used.
fn unavailable(error: &keyring_core::Error) -> String {
    let detail = match error {
        keyring_core::Error::PlatformFailure(inner) | keyring_core::Error::NoStorageAccess(inner) => inner.to_string(),
        other => other.to_string(),
    };
    let no_service = [
        "ServiceUnknown",
        "org.freedesktop.secrets",
        "No such file",
        "DBUS_SESSION_BUS_ADDRESS",
    ];
    if matches!(error, keyring_core::Error::NoStorageAccess(_)) {
        format!("the keyring is locked or refused access ({detail})")
    } else if no_service.iter().any(|sign| detail.contains(sign)) {
        format!("no Secret Service is running on the session bus ({detail})")
    } else {
        format!("the keyring failed ({detail})")
    }
}

fn new_id() -> String {
    (0..ID_LEN / 16)
        .map(|_| format!("{:016x}", fastrand::u64(..)))
        .collect()
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_keyring_and_32_hex_digits_is_a_reference() {
        let id = new_id();
        assert_eq!(id.len(), ID_LEN);
        assert_eq!(reference_id(&format!("keyring:{id}")), Some(id.as_str()));
        assert_eq!(reference_id("keyring:abc"), None);
        assert_eq!(reference_id(&format!("Bearer keyring:{id}")), None);
        assert_eq!(reference_id(&id), None);
        let bearer = format!("Bearer keyring:{id}");
        assert_eq!(split_reference(&bearer), Some(("Bearer ", &bearer[7..])));
        assert_eq!(split_reference(&bearer[7..]), Some(("", &bearer[7..])));
        assert_eq!(split_reference(&format!("a b keyring:{id}")), None);
        assert_eq!(split_reference("Bearer abc"), None);
    }
}
