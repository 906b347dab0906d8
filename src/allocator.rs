//! Allocator settings for the server hook, `leakgate-server`, a short-lived process that many
//! pushes may run at once: glibc's malloc, told to keep freed memory. (The `leakgate` binary runs
//! on mimalloc instead, set in its `main.rs`: an audit is throughput-bound, and glibc spent about a
//! tenth of its CPU in its own bookkeeping. The server keeps glibc: mimalloc's reserved arenas
//! raised its peak memory on a push of a 20 MB file from 39 MB to 56 MB, past its bound of twice
//! the largest blob.)
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
