//! TLS interception on the command line: `watch --intercept` and `phonehome ca export`.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use phonehome_intercept::{Ca, InterceptError, Interceptor, Settings};

#[derive(Debug, Args, Clone)]
pub struct InterceptArgs {
    /// Decrypt CMD's TLS to port 443 (off by default): CMD must trust the CA that
    /// `phonehome ca export` writes. Servers are still verified against the system's
    /// roots; a client that refuses the CA passes through for that host afterwards.
    #[arg(long)]
    pub intercept: bool,

    #[command(flatten)]
    pub ca: CaDirArg,

    /// Trust this PEM file's CAs for servers too, besides the system's roots (a private
    /// CA; tests).
    #[arg(long, value_name = "FILE", requires = "intercept")]
    pub upstream_ca: Option<PathBuf>,

    /// Also append the intercepted sessions' keys to FILE in the SSLKEYLOGFILE format
    /// (created mode 0600; anyone holding it can decrypt those sessions). The capture
    /// carries them anyway; this is for tools that take a key file.
    #[arg(long, value_name = "FILE", requires = "intercept")]
    pub keylog: Option<PathBuf>,
}

#[derive(Debug, Args, Clone)]
pub struct CaDirArg {
    /// Where the interception CA lives (made on first use; its key is owner-only)
    /// [default: $XDG_DATA_HOME/phonehome/ca, or ~/.local/share/phonehome/ca].
    #[arg(long, value_name = "DIR")]
    pub ca_dir: Option<PathBuf>,
}

impl CaDirArg {
    fn dir(&self) -> Result<PathBuf, InterceptError> {
        if let Some(dir) = &self.ca_dir {
            return Ok(dir.clone());
        }
        let data = std::env::var_os("XDG_DATA_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".local/share")))
            .unwrap_or_else(|| PathBuf::from("."));
        Ok(data.join("phonehome").join("ca"))
    }
}

#[derive(Debug, Args)]
pub struct CaArgs {
    #[command(subcommand)]
    pub command: CaCommand,
}

#[derive(Debug, Subcommand)]
pub enum CaCommand {
    /// Write the interception CA's certificate (never its key) as PEM and DER, to
    /// install where the watched program or device looks for trusted CAs.
    Export {
        /// Where to write phonehome-ca.pem and phonehome-ca.der.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        #[command(flatten)]
        ca: CaDirArg,
    },
}

/// `phonehome ca ...`.
pub fn run(args: CaArgs) -> Result<u8, InterceptError> {
    match args.command {
        CaCommand::Export { dir, ca } => {
            let ca = Ca::open_or_create(&ca.dir()?)?;
            for path in ca.export(&dir)? {
                println!("{}", path.display());
            }
            Ok(0)
        }
    }
}

/// The interceptor `watch` relays through, when `--intercept` asks for one.
pub fn interceptor(
    args: &InterceptArgs,
    app: Option<String>,
) -> Result<Option<Interceptor>, InterceptError> {
    if !args.intercept {
        return Ok(None);
    }
    let dir = args.ca.dir()?;
    Interceptor::new(Settings {
        ca_dir: &dir,
        extra_roots: args.upstream_ca.as_deref(),
        system_roots: phonehome_intercept::SystemRoots::Native,
        app,
        keylog: args.keylog.as_deref(),
        choose: None,
    })
    .map(Some)
}
