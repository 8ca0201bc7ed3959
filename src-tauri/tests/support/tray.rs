//! The tray icon as a desktop's panel sees it: `tidings-tray`'s StatusNotifierItem and its menu
//! (com.canonical.dbusmenu) on the test's private session bus, read and clicked over D-Bus. Through zbus 5,
//! as `tidings-tray` itself speaks it (the tests' zbus 6 serves the notification recorder).

use std::collections::HashMap;

use zbus::Connection;
use zbus::zvariant::{OwnedValue, Value};
use zbus_5 as zbus;

/// A StatusNotifierItem's tooltip: icon name, icon pixmaps (width, height, ARGB32), title, text.
type ToolTip = (String, Vec<(i32, i32, Vec<u8>)>, String, String);

/// The tray item of the process `pid`.
pub struct TrayItem {
    runtime: tokio::runtime::Runtime,
    bus: Connection,
    name: String,
}

impl TrayItem {
    /// The item `tidings-tray` (process `pid`) shows on the bus at `address`.
    pub fn of(address: &str, pid: u32) -> Result<TrayItem, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let name = format!("org.kde.StatusNotifierItem-{pid}-1");
        let bus = runtime.block_on(async {
            let bus = zbus::connection::Builder::address(address)?.build().await?;
            let owned = zbus::fdo::DBusProxy::new(&bus)
                .await?
                .name_has_owner(name.as_str().try_into()?)
                .await?;
            Ok::<_, zbus::Error>((bus, owned))
        });
        match bus {
            Ok((bus, true)) => Ok(TrayItem { runtime, bus, name }),
            Ok((_, false)) => Err(format!("no tray item {name} on the bus")),
            Err(e) => Err(format!("cannot ask the test's session bus for {name}: {e}")),
        }
    }

    /// The tooltip's title (the unread count).
    pub fn tooltip(&self) -> String {
        let reply = self.call(
            "/StatusNotifierItem",
            "org.freedesktop.DBus.Properties",
            "Get",
            &("org.kde.StatusNotifierItem", "ToolTip"),
        );
        let value: OwnedValue = reply.body().deserialize().expect("a variant");
        let (_icon, _pixmaps, title, _text): ToolTip = Value::from(value).try_into().expect("a tooltip");
        title
    }

    /// A left click on the icon.
    pub fn activate(&self) {
        self.call(
            "/StatusNotifierItem",
            "org.kde.StatusNotifierItem",
            "Activate",
            &(0i32, 0i32),
        );
    }

    /// The menu's items: label and, for a checkmark, whether it is checked.
    pub fn menu(&self) -> Vec<(i32, String, Option<bool>)> {
        let reply = self.call(
            "/MenuBar",
            "com.canonical.dbusmenu",
            "GetLayout",
            &(0i32, -1i32, Vec::<String>::new()),
        );
        type Layout = (i32, HashMap<String, OwnedValue>, Vec<OwnedValue>);
        let (_revision, (_root, _properties, children)): (u32, Layout) =
            reply.body().deserialize().expect("a menu layout");
        children.iter().filter_map(|child| menu_item(child)).collect()
    }

    /// Click the menu item labelled `label`.
    pub fn click(&self, label: &str) {
        let menu = self.menu();
        let (id, ..) = menu
            .iter()
            .find(|(_, text, _)| text == label)
            .unwrap_or_else(|| panic!("no menu item {label:?} in {menu:?}"));
        self.call(
            "/MenuBar",
            "com.canonical.dbusmenu",
            "Event",
            &(*id, "clicked", Value::from(0i32), 0u32),
        );
    }

    fn call<B>(&self, path: &str, interface: &str, method: &str, body: &B) -> zbus::message::Message
    where
        B: serde::Serialize + zbus::zvariant::DynamicType,
    {
        self.runtime
            .block_on(
                self.bus
                    .call_method(Some(self.name.as_str()), path, Some(interface), method, body),
            )
            .unwrap_or_else(|e| panic!("{interface}.{method} on the tray: {e}"))
    }
}

/// One `(ia{sv}av)` menu entry; separators have no label and are left out.
fn menu_item(child: &Value<'_>) -> Option<(i32, String, Option<bool>)> {
    let Value::Structure(item) = child else { return None };
    let (Value::I32(id), Value::Dict(properties)) = (&item.fields()[0], &item.fields()[1]) else {
        return None;
    };
    let properties: HashMap<String, OwnedValue> = properties.try_clone().ok()?.try_into().ok()?;
    let label = String::try_from(properties.get("label")?.try_clone().ok()?).ok()?;
    let checked = properties
        .get("toggle-state")
        .and_then(|state| i32::try_from(state.try_clone().ok()?).ok())
        .map(|state| state == 1);
    Some((*id, label, checked))
}
