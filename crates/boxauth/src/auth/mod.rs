//! How boxauth authenticates to Box: the auth schemes and what they need.

/// JWT auth (server authentication with a key pair): key loading.
pub mod jwt;
