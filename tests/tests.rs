//! leakgate's integration tests: one test binary (`autotests = false` in Cargo.toml) over one
//! harness, `common` (an isolated git environment, repositories, a bare remote with the server hook
//! installed, a command runner, secrets built at run time, snapshot normalising and the output
//! schemas). Each module below tests one area end to end with the built binaries and real git.

mod common;

mod audit;
mod cli;
mod contracts;
mod git_hooks;
mod hook_managers;
mod install_script;
mod loose_objects;
mod pack;
mod pre_commit_framework;
mod prefilter;
mod server_push;
