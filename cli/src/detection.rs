//! What `watch` and `analyze` look for: the identifiers file, the vendor catalog, and
//! the scan limit, turned into an [`Analyzer`].

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use clap::Args;
use phonehome_analyzer::{Analyzer, Settings};
use phonehome_catalog::Catalog;
use phonehome_detect::{check_file_size, Detector, Identifiers, Options, MAX_FILE_BYTES};

#[derive(Debug, Args, Clone)]
pub struct DetectionArgs {
    /// This device's identifiers (TOML, or JSON as the app writes it; see README).
    /// Without it only structurally probable identifiers are reported.
    #[arg(long, value_name = "FILE")]
    pub ids: Option<PathBuf>,

    /// An updated or extra catalog file (`suffix<TAB>company<TAB>category<TAB>service`
    /// lines, optionally `<TAB>source<TAB>parent`, and a `# version:` line); its entries
    /// win over the built-in catalog's.
    #[arg(long, value_name = "FILE")]
    pub catalog: Option<PathBuf>,

    /// Bytes scanned per flow and direction (and per HTTP request).
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024)]
    pub scan_limit: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum DetectionError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
}

fn read(path: &Path) -> Result<String, DetectionError> {
    fs::read_to_string(path).map_err(|source| DetectionError::Read {
        path: path.to_owned(),
        source,
    })
}

/// Reads the identifiers file: JSON when it looks like JSON, TOML otherwise. A file over
/// [`MAX_FILE_BYTES`] is refused before it is read.
pub fn load_identifiers(path: &Path) -> Result<Identifiers, DetectionError> {
    let read_error = |source| DetectionError::Read {
        path: path.to_owned(),
        source,
    };
    let file = fs::File::open(path).map_err(read_error)?;
    let len = file.metadata().map_err(read_error)?.len();
    check_file_size(len).map_err(|message| DetectionError::Invalid {
        path: path.to_owned(),
        message,
    })?;
    // A pipe has no length: read one byte more than allowed, for the parser to refuse.
    let mut text = String::new();
    file.take(MAX_FILE_BYTES as u64 + 1)
        .read_to_string(&mut text)
        .map_err(read_error)?;
    let parsed = if text.trim_start().starts_with('{') {
        Identifiers::from_json(&text)
    } else {
        Identifiers::from_toml(&text)
    };
    parsed.map_err(|e| DetectionError::Invalid {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

/// The catalog's version(s) and size, for the user to see which data named the companies.
pub fn catalog_label(catalog: &Catalog) -> String {
    format!(
        "{}, {} entries",
        catalog.version().unwrap_or_else(|| "unversioned".into()),
        catalog.len()
    )
}

pub fn build_analyzer(args: &DetectionArgs) -> Result<Analyzer, DetectionError> {
    let ids = match &args.ids {
        Some(path) => load_identifiers(path)?,
        None => Identifiers::default(),
    };
    let mut catalog = Catalog::builtin();
    if let Some(path) = &args.catalog {
        let extra = Catalog::parse(&read(path)?).map_err(|e| DetectionError::Invalid {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        catalog.extend(extra);
    }
    let detector = Detector::new(&ids, &Options::default());
    Ok(Analyzer::new(
        detector,
        catalog,
        Settings {
            scan_limit: args.scan_limit.max(1),
        },
    )
    .with_configured(&ids))
}
