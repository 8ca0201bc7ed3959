//! A private D-Bus session bus, optionally with a real GNOME Keyring (`gnome-keyring-daemon`, secrets
//! component, its login keyring created and unlocked with a test password), for the tests of secrets.
//!
//! Each [`KeyringBus`] has its own `dbus-daemon` (see [`super::dbus`]), its own HOME and XDG directories
//! in a temporary directory, and its own keyring daemon, so tests in parallel never share secrets. The test
//! process's environment is never touched: give [`KeyringBus::env`] to the `tidings` child processes.
//! [`KeyringBus::items`] looks at what the keyring holds for Tidings, through the Secret Service API.
//! Needs `dbus-daemon` (package `dbus`) and `gnome-keyring-daemon` (package `gnome-keyring`).

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{self, Write};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use zbus::{OwnedObjectPath, OwnedVariant};

use super::dbus::{bus_config, read_address, read_log, stop_daemon};

const START_DEADLINE: Duration = Duration::from_secs(20);
const SECRETS_NAME: &str = "org.freedesktop.secrets";
const SECRETS_PATH: &str = "/org/freedesktop/secrets";

/// A private session bus, with a Secret Service on it or without.
pub struct KeyringBus {
    address: String,
    bus: Child,
    keyring: Option<Child>,
    dir: tempfile::TempDir,
}

impl KeyringBus {
    /// A bus with GNOME Keyring on it, unlocked, ready to store secrets.
    pub fn with_keyring() -> KeyringBus {
        KeyringBus::start(true)
    }

    /// A bus where no Secret Service runs (nothing can be started on it either).
    pub fn without_keyring() -> KeyringBus {
        KeyringBus::start(false)
    }

    fn start(keyring: bool) -> KeyringBus {
        let deadline = Instant::now() + START_DEADLINE;
        let dir = tempfile::Builder::new()
            .prefix("tidings-keyring-")
            .tempdir()
            .expect("KeyringBus: cannot create a temporary directory");
        for sub in ["home", "data", "config", "runtime"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("KeyringBus: cannot create a directory");
        }
        let config = dir.path().join("bus.conf");
        std::fs::write(&config, bus_config(dir.path())).expect("KeyringBus: cannot write the bus configuration");
        let log = std::fs::File::create(dir.path().join("dbus-daemon.log")).expect("KeyringBus: daemon log");
        let mut bus = match Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address=1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
        {
            Ok(child) => child,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                panic!("KeyringBus: `dbus-daemon` is missing; install the dbus package (scripts/setup does)")
            }
            Err(e) => panic!("KeyringBus: cannot start dbus-daemon: {e}"),
        };
        let address = match read_address(&mut bus, deadline) {
            Ok(address) => address,
            Err(why) => {
                stop_daemon(&mut bus);
                panic!("KeyringBus: dbus-daemon did not start: {why}");
            }
        };
        let mut this = KeyringBus {
            address,
            bus,
            keyring: None,
            dir,
        };
        if keyring {
            this.start_keyring(deadline);
        }
        this
    }

    fn start_keyring(&mut self, deadline: Instant) {
        let log = std::fs::File::create(self.dir.path().join("gnome-keyring.log")).expect("keyring log");
        let mut command = Command::new("gnome-keyring-daemon");
        command
            .args(["--unlock", "--components=secrets", "--foreground"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(log);
        for (name, value) in self.env() {
            command.env(name, value);
        }
        let mut daemon = match command.spawn() {
            Ok(child) => child,
            Err(e) if e.kind() == io::ErrorKind::NotFound => panic!(
                "KeyringBus: `gnome-keyring-daemon` is missing; install the gnome-keyring package (scripts/setup does)"
            ),
            Err(e) => panic!("KeyringBus: cannot start gnome-keyring-daemon: {e}"),
        };
        // `--unlock` reads the login keyring's password from stdin, creating the keyring with it.
        let mut stdin = daemon.stdin.take().expect("stdin is piped");
        stdin
            .write_all(b"test-password")
            .expect("KeyringBus: cannot give the keyring its password");
        drop(stdin);
        self.keyring = Some(daemon);
        let connection = self.connect();
        loop {
            if default_collection(&connection).is_some() {
                return;
            }
            if let Some(Ok(Some(status))) = self.keyring.as_mut().map(Child::try_wait) {
                panic!(
                    "KeyringBus: gnome-keyring-daemon exited ({status}): {}",
                    self.log("gnome-keyring.log")
                );
            }
            if Instant::now() >= deadline {
                panic!(
                    "KeyringBus: the keyring was not ready within {START_DEADLINE:?}: {}",
                    self.log("gnome-keyring.log")
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// The environment a child process needs to use this bus (and nothing of the user's session).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let dir = |sub: &str| self.dir.path().join(sub).display().to_string();
        vec![
            ("DBUS_SESSION_BUS_ADDRESS", self.address.clone()),
            ("HOME", dir("home")),
            ("XDG_DATA_HOME", dir("data")),
            ("XDG_CONFIG_HOME", dir("config")),
            ("XDG_RUNTIME_DIR", dir("runtime")),
        ]
    }

    /// The keyring items Tidings made (attribute `service = tidings`): label and `username` (the id).
    pub fn items(&self) -> Vec<(String, String)> {
        let connection = self.connect();
        let mut items = Vec::new();
        for path in self.item_paths(&connection) {
            let get = |property: &str| -> zbus::Message {
                zbus::block_on(connection.call_method(
                    Some(SECRETS_NAME),
                    path.as_str(),
                    Some("org.freedesktop.DBus.Properties"),
                    "Get",
                    &("org.freedesktop.Secret.Item", property),
                ))
                .expect("KeyringBus: cannot read an item's property")
            };
            let label: String = get("Label")
                .body()
                .deserialize::<OwnedVariant>()
                .ok()
                .and_then(|value| String::try_from(value).ok())
                .unwrap_or_default();
            let attributes: HashMap<String, String> = get("Attributes")
                .body()
                .deserialize::<OwnedVariant>()
                .ok()
                .and_then(|value| HashMap::try_from(value).ok())
                .unwrap_or_default();
            items.push((label, attributes.get("username").cloned().unwrap_or_default()));
        }
        items
    }

    /// Lock the keyring, as a screen lock or an idle timeout would: its items stay, but no secret can be read
    /// until it is unlocked.
    pub fn lock(&self) {
        let connection = self.connect();
        let default = default_collection(&connection).expect("KeyringBus: no default collection");
        let reply = zbus::block_on(connection.call_method(
            Some(SECRETS_NAME),
            SECRETS_PATH,
            Some("org.freedesktop.Secret.Service"),
            "Lock",
            &(vec![default.clone()],),
        ))
        .expect("KeyringBus: Lock failed");
        let (locked, _prompt): (Vec<OwnedObjectPath>, OwnedObjectPath) =
            reply.body().deserialize().expect("KeyringBus: Lock answered oddly");
        assert_eq!(
            locked,
            [default],
            "KeyringBus: the keyring did not lock without a prompt"
        );
    }

    /// Unlock the keyring again with its password, as the user would at the prompt (through GNOME Keyring's
    /// own interface for that, since a prompt needs a desktop).
    pub fn unlock(&self) {
        let connection = self.connect();
        let reply = zbus::block_on(connection.call_method(
            Some(SECRETS_NAME),
            SECRETS_PATH,
            Some("org.freedesktop.Secret.Service"),
            "OpenSession",
            &("plain", zbus::Variant::from("")),
        ))
        .expect("KeyringBus: OpenSession failed");
        let (_, session): (OwnedVariant, OwnedObjectPath) = reply
            .body()
            .deserialize()
            .expect("KeyringBus: OpenSession answered oddly");
        let default = default_collection(&connection).expect("KeyringBus: no default collection");
        let master = (session, Vec::<u8>::new(), b"test-password".to_vec(), "text/plain");
        zbus::block_on(connection.call_method(
            Some(SECRETS_NAME),
            SECRETS_PATH,
            Some("org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface"),
            "UnlockWithMasterPassword",
            &(default, master),
        ))
        .expect("KeyringBus: UnlockWithMasterPassword failed");
    }

    /// Delete every item Tidings made, behind its back (a keyring that was reset).
    pub fn delete_items(&self) {
        let connection = self.connect();
        for path in self.item_paths(&connection) {
            zbus::block_on(connection.call_method(
                Some(SECRETS_NAME),
                path.as_str(),
                Some("org.freedesktop.Secret.Item"),
                "Delete",
                &(),
            ))
            .expect("KeyringBus: cannot delete an item");
        }
    }

    fn item_paths(&self, connection: &zbus::Connection) -> Vec<OwnedObjectPath> {
        let attributes: HashMap<&str, &str> = [("service", "tidings")].into();
        let reply = zbus::block_on(connection.call_method(
            Some(SECRETS_NAME),
            SECRETS_PATH,
            Some("org.freedesktop.Secret.Service"),
            "SearchItems",
            &(attributes,),
        ))
        .expect("KeyringBus: SearchItems failed");
        let (unlocked, locked): (Vec<OwnedObjectPath>, Vec<OwnedObjectPath>) = reply
            .body()
            .deserialize()
            .expect("KeyringBus: SearchItems answered oddly");
        assert!(locked.is_empty(), "KeyringBus: the test keyring got locked");
        unlocked
    }

    /// A connection whose I/O zbus drives on a thread of its own, so it works from any test.
    fn connect(&self) -> zbus::Connection {
        let address = self.address.clone();
        zbus::block_on(async move { zbus::connection::Builder::address(address.as_str()).build().await })
            .expect("KeyringBus: cannot connect to the bus")
    }

    fn log(&self, name: &str) -> String {
        read_log(&self.dir.path().join(name))
    }
}

impl Drop for KeyringBus {
    fn drop(&mut self) {
        if let Some(keyring) = self.keyring.as_mut() {
            stop_daemon(keyring);
        }
        stop_daemon(&mut self.bus);
    }
}

/// The keyring's default collection (the login keyring), once the Secret Service has one.
fn default_collection(connection: &zbus::Connection) -> Option<OwnedObjectPath> {
    zbus::block_on(connection.call_method(
        Some(SECRETS_NAME),
        SECRETS_PATH,
        Some("org.freedesktop.Secret.Service"),
        "ReadAlias",
        &("default",),
    ))
    .ok()
    .and_then(|reply| reply.body().deserialize::<OwnedObjectPath>().ok())
    .filter(|path| path.as_str() != "/")
}
