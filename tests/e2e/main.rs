//! End-to-end tests against the lab fleet (real systemd + OpenSSH hosts in network namespaces).
//! `tests/run.sh` brings the lab up and sets `HOIST_LAB_INVENTORY`; without it these tests fail
//! with a message saying so (they never pass silently).

mod auth;
mod compat;
mod connect;
mod differential;
mod hostkeys;
mod lab;
mod mux;
mod playbook;
mod playbook_flow;
mod plugins;
mod support;
mod transport;
