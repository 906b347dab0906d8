//! Allocator settings, for both binaries: each keeps the memory it frees for reuse.
//!
//! The server hook, `leakgate-server`, a short-lived process that many pushes may run at once,
//! runs on glibc's malloc, told to keep freed memory ([`tune_for_short_lived_process`]). The
//! `leakgate` binary runs on mimalloc instead, set in its `main.rs`: an audit is throughput-bound,
//! and glibc spent about a tenth of its CPU in its own bookkeeping. The server keeps glibc:
//! mimalloc's reserved arenas raised its peak memory on a push of a 20 MB file from 39 MB to
//! 56 MB, past its bound of twice the largest blob. mimalloc is told not to purge
//! ([`keep_freed_memory_in_mimalloc`]).
//!
//! A history walk allocates and frees buffers the size of the blobs it reads, commit after
//! commit. glibc's malloc hands memory above its trim threshold back to the kernel and serves big
//! requests with fresh mappings, so a push editing a 1 MB file in 200 commits spent more time in
//! page faults (about 540,000) than in scanning: 1.39 s of which 0.96 s in the kernel, against
//! 0.42 s with these settings. A hook lives for one push, so it keeps freed memory for reuse
//! instead. Peak memory grows a little, since freed blocks stay mapped (30 MB to 42 MB in that
//! push); requests over [`MMAP_THRESHOLD_BYTES`] (a big blob) still get their own mapping and are
//! returned when freed.

/// Requests at least this big are mapped on their own (glibc's upper limit for the setting).
pub const MMAP_THRESHOLD_BYTES: i32 = 32 * 1024 * 1024;
/// Free memory kept at the top of the heap before any is given back.
pub const TRIM_THRESHOLD_BYTES: i32 = 256 * 1024 * 1024;

/// mimalloc's option `purge_delay`: its place in mimalloc 2's `mi_option_e` (`mimalloc.h`).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Tells mimalloc never to hand freed memory back to the kernel. By default it purges memory left
/// free for 10 ms, and the audit's pack walk, which allocates and frees a buffer the size of every
/// blob it decodes, then faulted the same memory in again and again: on rust-lang/cargo's
/// history, with transparent huge pages on, 53,000 page faults each zeroing up to 2 MB, and the
/// kernel's `clear_page` at a sixth of the audit's CPU. Never purging: 7,700 faults, CPU
/// 7.16 s → 6.50 s and wall 3.99 s → 3.55 s (medians of 5 interleaved runs), peak memory
/// 733 → 771 MB (what the process holds at its peak, reused after). Call once, first thing in
/// `main` of a binary whose global allocator is mimalloc.
pub fn keep_freed_memory_in_mimalloc() {
    // SAFETY: `mi_option_set` stores an integer in mimalloc's option table; it holds no pointers.
    // It is called before any other thread exists (mimalloc's options are not thread-safe).
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
}

/// Applies the settings (glibc only; elsewhere nothing to do). Call once, first thing in `main`.
pub fn tune_for_short_lived_process() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    glibc::tune();
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod glibc {
    use std::os::raw::c_int;

    // From glibc's <malloc.h>.
    const M_TRIM_THRESHOLD: c_int = -1;
    const M_MMAP_THRESHOLD: c_int = -3;

    extern "C" {
        /// glibc's `mallopt(3)`: returns 1 on success, 0 on error.
        fn mallopt(param: c_int, value: c_int) -> c_int;
    }

    pub(super) fn tune() {
        // SAFETY: `mallopt` only changes malloc's tunables; it takes two integers, holds no
        // pointers, and is called before any other thread exists. A refused setting (return 0)
        // leaves glibc's defaults, which are correct, only slower.
        unsafe {
            mallopt(M_MMAP_THRESHOLD, super::MMAP_THRESHOLD_BYTES);
            mallopt(M_TRIM_THRESHOLD, super::TRIM_THRESHOLD_BYTES);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The option number is mimalloc's `purge_delay`: its default is 10 (ms), unlike its
    /// neighbours' (`eager_commit_delay` 1, `use_numa_nodes` 0), and it takes the setting.
    #[test]
    fn the_purge_delay_option_is_mimallocs_and_is_set_to_never() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            // SAFETY: reads an integer from mimalloc's option table.
            assert_eq!(
                unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) },
                10
            );
        }
        keep_freed_memory_in_mimalloc();
        // SAFETY: as above.
        assert_eq!(
            unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) },
            -1
        );
    }
}
