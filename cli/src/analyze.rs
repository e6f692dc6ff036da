//! `phonehome analyze`: the detector over an existing capture (pcap or pcapng).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;

use clap::Args;
use phonehome_analyzer::offline::Offline;
use phonehome_capture::{ip_payload, CaptureReader, LinkType};
use phonehome_model::{NullSink, Sink};
use phonehome_store::OutDir;

use crate::detection::{build_analyzer, DetectionArgs, DetectionError};

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Write records into DIR (created if missing): flows.jsonl, findings.jsonl and
    /// phonehome.sqlite.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    #[command(flatten)]
    pub detection: DetectionArgs,

    /// Keep what identifier discovery learned in DIR between captures (discovery.json,
    /// owner-only; the directory `watch --state` uses, too). Without it, each capture is
    /// one session of its own.
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,

    /// The capture (pcap or pcapng; raw IP, Ethernet, Linux cooked and loopback links).
    #[arg(value_name = "CAPTURE")]
    pub capture: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    #[error(transparent)]
    Detection(#[from] DetectionError),
    #[error("cannot open {}: {source}", path.display())]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    Capture {
        path: PathBuf,
        source: phonehome_capture::CaptureError,
    },
    #[error("cannot write records: {0}")]
    Records(std::io::Error),
    #[error("discovery state: {0}")]
    State(std::io::Error),
    #[error("{}: {} not supported: {SUPPORTED}", path.display(), list(linktypes))]
    UnsupportedLink {
        path: PathBuf,
        linktypes: Vec<LinkType>,
    },
}

const SUPPORTED: &str = "PhoneHome reads raw IP, Ethernet, Linux cooked and loopback captures";

/// `link type 105 (IEEE 802.11) is`, or several joined with `and ... are`.
fn list(linktypes: &[LinkType]) -> String {
    let names: Vec<String> = linktypes.iter().map(LinkType::to_string).collect();
    let verb = if names.len() == 1 { "is" } else { "are" };
    format!("{} {verb}", names.join(" and "))
}

/// Exit status when the capture was corrupt part-way (what came before is recorded).
const CORRUPT: u8 = 1;

pub fn run(args: AnalyzeArgs) -> Result<u8, AnalyzeError> {
    // One capture is one session: discovery continues from earlier captures with --state.
    let (kept, state) = match &args.state {
        Some(dir) => {
            let (kept, state) = crate::state::Kept::open(dir).map_err(AnalyzeError::State)?;
            (Some(kept), state)
        }
        None => (None, Default::default()),
    };
    let discovery = phonehome_analyzer::discovery::shared(state);
    let analyzer = build_analyzer(&args.detection)?.with_discovery(discovery.clone());
    let file = File::open(&args.capture).map_err(|source| AnalyzeError::Open {
        path: args.capture.clone(),
        source,
    })?;
    let reader =
        CaptureReader::new(BufReader::new(file)).map_err(|source| AnalyzeError::Capture {
            path: args.capture.clone(),
            source,
        })?;
    // A pcap file has one link type, known from its header: refuse it before reading on.
    // A pcapng file declares its interfaces as it goes, so it is judged by its packets.
    if let CaptureReader::Pcap(pcap) = &reader {
        if !pcap.linktype().is_supported() {
            return Err(AnalyzeError::UnsupportedLink {
                path: args.capture,
                linktypes: vec![pcap.linktype()],
            });
        }
    }
    let mut sink: Box<dyn Sink> = match &args.out {
        Some(dir) => Box::new(OutDir::create(dir).map_err(AnalyzeError::Records)?),
        None => Box::new(NullSink),
    };
    let mut offline = Offline::new(analyzer);
    let mut failure = None;
    let (mut packets, mut findings, mut flows) = (0u64, 0u64, 0u64);
    // Packets on link types PhoneHome cannot read (pcapng interfaces), per link type.
    let mut unsupported: BTreeMap<u16, u64> = BTreeMap::new();
    for packet in reader {
        match packet {
            Ok(packet) => {
                packets += 1;
                if !packet.linktype.is_supported() {
                    *unsupported.entry(packet.linktype.0).or_default() += 1;
                    continue;
                }
                match ip_payload(&packet) {
                    Some(ip) => offline.packet(packet.ts, ip),
                    None => offline.skipped += 1,
                }
            }
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
        drain(&mut offline, sink.as_mut(), &mut findings, &mut flows)?;
    }
    offline.finish();
    offline.analyzer.finish();
    drain(&mut offline, sink.as_mut(), &mut findings, &mut flows)?;
    sink.flush().map_err(AnalyzeError::Records)?;
    if let Some(kept) = &kept {
        let discovery = discovery.lock().unwrap_or_else(|e| e.into_inner());
        kept.save(discovery.state()).map_err(AnalyzeError::State)?;
    }
    let skipped_links: u64 = unsupported.values().sum();
    if skipped_links > 0 && skipped_links == packets {
        // Nothing was on a link PhoneHome reads: refuse it, as a pcap file would be.
        return Err(AnalyzeError::UnsupportedLink {
            path: args.capture,
            linktypes: unsupported.into_keys().map(LinkType).collect(),
        });
    }
    for (linktype, n) in &unsupported {
        let s = if *n == 1 { "" } else { "s" };
        eprintln!(
            "phonehome: warning: skipped {n} packet{s} on {}, which is not supported ({SUPPORTED})",
            LinkType(*linktype)
        );
    }
    eprintln!(
        "phonehome: {packets} packets, {flows} flows, {findings} findings ({} packets not TCP/UDP over IP)",
        offline.skipped
    );
    match failure {
        None => Ok(0),
        // A capture whose writer was killed ends in the middle of its last block.
        Some(source) if matches!(source.kind, phonehome_capture::ErrorKind::Truncated { .. }) => {
            eprintln!(
                "phonehome: warning: {} ends in an incomplete {} at byte offset {} (a capture cut short, by a killed monitor for example); skipped it",
                args.capture.display(),
                match source.kind {
                    phonehome_capture::ErrorKind::Truncated { what, .. } => what,
                    _ => "block",
                },
                source.offset
            );
            Ok(0)
        }
        Some(source) => {
            let err = AnalyzeError::Capture {
                path: args.capture,
                source,
            };
            eprintln!("phonehome: {err}; the records above cover the packets before it");
            Ok(CORRUPT)
        }
    }
}

fn drain(
    offline: &mut Offline,
    sink: &mut dyn Sink,
    findings: &mut u64,
    flows: &mut u64,
) -> Result<(), AnalyzeError> {
    while let Some(finding) = offline.analyzer.pop_finding() {
        *findings += 1;
        sink.finding(&finding).map_err(AnalyzeError::Records)?;
    }
    while let Some(record) = offline.analyzer.pop_record() {
        *flows += 1;
        sink.flow(&record).map_err(AnalyzeError::Records)?;
    }
    while let Some(record) = offline.analyzer.pop_discovered() {
        sink.discovered(&record).map_err(AnalyzeError::Records)?;
    }
    Ok(())
}
