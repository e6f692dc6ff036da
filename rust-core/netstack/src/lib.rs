//! Sans-IO netstack (in progress).

/// Tunables of the stack.
#[derive(Debug, Clone)]
pub struct Config {
    pub mtu: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self { mtu: 1500 }
    }
}
