//! boxauth-test-support's own tests: that each helper does what it says, against the real
//! thing. One test binary, a module per helper.

mod postgres_replication;
mod postgres_server;
