//! The server side (`leakgate-server`, run as git's `pre-receive`): policy, quarantine access,
//! the receive decision, and the audit log.

pub mod audit;
pub mod decision;
pub mod policy;
mod policy_scanner;
pub mod quarantine;
pub mod receive;
