# Sourced by scripts/test and scripts/run after env.sh: keeps the build cache ($CARGO_TARGET_DIR) from filling the
# disk. Cargo never deletes an artifact it no longer uses, so the cache only grows: every change of dependencies,
# features or flags leaves another copy of each binary behind. A build that runs out of disk fails in the linker
# with a "Bus error" that names no cause, so check before building, and say what to do.
#
#   ensure_build_space NEED_GIB CAP_GIB
#
# Starts the cache afresh when it has grown past CAP_GIB, or when the disk has less than NEED_GIB free and the
# cache is what takes the room; then fails with a clear message if there is still less than NEED_GIB free.

gib_free_at() { df --output=avail -B1G "$1" | tail -1 | tr -d ' '; }
gib_used_by() { echo $(($(du -s -BM "$1" 2>/dev/null | cut -f1 | tr -d M) / 1024)); } # rounded down

ensure_build_space() {
  local need_gib="$1" cap_gib="$2" cache="$CARGO_TARGET_DIR"
  mkdir -p "$cache"
  local used free
  used="$(gib_used_by "$cache")"
  free="$(gib_free_at "$cache")"
  if ((used > cap_gib)); then
    echo "build cache: $cache holds ${used} GiB of builds, more than ${cap_gib} GiB; starting it afresh" >&2
    rm -rf "${cache:?}"/*
  elif ((free < need_gib && used > 0)); then
    echo "build cache: ${free} GiB free, a build needs ${need_gib}; starting $cache (${used} GiB) afresh" >&2
    rm -rf "${cache:?}"/*
  fi
  free="$(gib_free_at "$cache")"
  if ((free < need_gib)); then
    echo "not enough disk: the build needs about ${need_gib} GiB free where $cache lives, and there are ${free}." >&2
    echo "Free some space there, or point CARGO_TARGET_DIR at a disk with room, and run this again." >&2
    return 1
  fi
}
