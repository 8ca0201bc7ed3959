//! Memory of a process and everything it started (WebKit's web and network processes): PSS, RSS and USS
//! summed from `/proc/PID/smaps_rollup` over the process tree.

use std::fs;

/// One process's share.
pub struct Process {
    pub pid: u32,
    pub name: String,
    pub pss_kib: u64,
}

/// The tree's memory, summed.
pub struct Usage {
    pub pss_kib: u64,
    pub rss_kib: u64,
    /// Private (clean + dirty) pages: what would be freed if the tree exited.
    pub uss_kib: u64,
    pub processes: Vec<Process>,
}

impl Usage {
    pub fn pss_mib(&self) -> f64 {
        self.pss_kib as f64 / 1024.0
    }

    /// `name pid: N MiB` for each process, for the notes.
    pub fn breakdown(&self) -> String {
        self.processes
            .iter()
            .map(|p| format!("{} {}: {:.1} MiB", p.name, p.pid, p.pss_kib as f64 / 1024.0))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// `root` and its descendants, found through every process's parent in `/proc/PID/stat`.
pub fn tree(root: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| Some((pid, parent(pid)?)))
        .collect();
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let pid = found[i];
        found.extend(parents.iter().filter(|(_, ppid)| *ppid == pid).map(|(child, _)| *child));
        i += 1;
    }
    found
}

/// The memory of `root` and its descendants now.
pub fn measure(root: u32) -> Usage {
    measure_trees(&[root])
}

/// The memory of each of `roots` and their descendants now, each process counted once.
pub fn measure_trees(roots: &[u32]) -> Usage {
    let mut pids: Vec<u32> = roots.iter().flat_map(|root| tree(*root)).collect();
    pids.sort_unstable();
    pids.dedup();
    let mut usage = Usage {
        pss_kib: 0,
        rss_kib: 0,
        uss_kib: 0,
        processes: Vec::new(),
    };
    for pid in pids {
        let Ok(rollup) = fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) else {
            continue; // exited meanwhile
        };
        let field = |name: &str| -> u64 {
            rollup
                .lines()
                .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
                .and_then(|value| value.split_whitespace().next()?.parse().ok())
                .unwrap_or(0)
        };
        let pss = field("Pss");
        usage.pss_kib += pss;
        usage.rss_kib += field("Rss");
        usage.uss_kib += field("Private_Clean") + field("Private_Dirty");
        usage.processes.push(Process {
            pid,
            name: name(pid),
            pss_kib: pss,
        });
    }
    usage
}

/// The processes under `root` (not itself) whose name contains `part`.
pub fn children_named(root: u32, part: &str) -> Vec<u32> {
    tree(root)
        .into_iter()
        .skip(1)
        .filter(|pid| name(*pid).contains(part))
        .collect()
}

/// Whether `pid` is a live process (not gone, not a zombie waiting to be reaped).
pub fn is_running(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| stat.get(stat.rfind(')')? + 2..)?.chars().next())
        .is_some_and(|state| state != 'Z')
}

fn parent(pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid ...`; comm may hold spaces and parentheses.
    let after = &stat[stat.rfind(')')? + 2..];
    after.split(' ').nth(1)?.parse().ok()
}

fn name(pid: u32) -> String {
    fs::read_to_string(format!("/proc/{pid}/comm")).map_or_else(|_| "?".into(), |comm| comm.trim().to_string())
}

/// The `n` mappings of `pid` with the most PSS, as `path: N KiB` (where the memory of one process goes).
pub fn top_mappings(pid: u32, n: usize) -> String {
    let smaps = fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap_or_default();
    let mut by_path: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    let mut path = String::new();
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let first = fields.next().unwrap_or_default();
        if first.contains('-') && !first.ends_with(':') {
            path = fields.nth(4).unwrap_or("[anon]").to_string();
        } else if first == "Pss:" {
            *by_path.entry(path.clone()).or_default() += fields.next().and_then(|v| v.parse().ok()).unwrap_or(0);
        }
    }
    let mut top: Vec<(String, u64)> = by_path.into_iter().collect();
    top.sort_by_key(|(_, kib)| std::cmp::Reverse(*kib));
    top.iter()
        .take(n)
        .map(|(path, kib)| format!("{path}: {kib} KiB"))
        .collect::<Vec<_>>()
        .join("; ")
}
