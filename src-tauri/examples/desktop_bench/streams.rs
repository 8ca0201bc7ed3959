//! How many streams a process has open to a port: its socket descriptors matched against the established
//! TCP connections in `/proc/net/tcp` (so the count never lags the way a server's own count does).

use std::collections::HashSet;
use std::fs;

/// Established TCP connections of `pid` to 127.0.0.1:`port`.
pub fn connected(pid: u32, port: u16) -> usize {
    let Ok(table) = fs::read_to_string("/proc/net/tcp") else {
        return 0;
    };
    let remote = format!("0100007F:{port:04X}");
    let inodes: HashSet<&str> = table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // sl local remote st ... uid timeout inode
            (fields.get(2) == Some(&remote.as_str()) && fields.get(3) == Some(&"01")).then(|| fields.get(9).copied())?
        })
        .collect();
    fs::read_dir(format!("/proc/{pid}/fd"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|fd| fs::read_link(fd.path()).ok())
        .filter(|target| {
            let target = target.to_string_lossy();
            target
                .strip_prefix("socket:[")
                .and_then(|rest| rest.strip_suffix(']'))
                .is_some_and(|inode| inodes.contains(inode))
        })
        .count()
}
