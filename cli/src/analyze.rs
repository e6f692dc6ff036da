//! `phonehome analyze`: the detector over an existing capture (pcap or pcapng).

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;

use clap::Args;
use phonehome_analyzer::offline::Offline;
use phonehome_capture::{ip_payload, CaptureReader};
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
}

/// Exit status when the capture was corrupt part-way (what came before is recorded).
const CORRUPT: u8 = 1;

pub fn run(args: AnalyzeArgs) -> Result<u8, AnalyzeError> {
    let analyzer = build_analyzer(&args.detection)?;
    let mut sink: Box<dyn Sink> = match &args.out {
        Some(dir) => Box::new(OutDir::create(dir).map_err(AnalyzeError::Records)?),
        None => Box::new(NullSink),
    };
    let file = File::open(&args.capture).map_err(|source| AnalyzeError::Open {
        path: args.capture.clone(),
        source,
    })?;
    let reader =
        CaptureReader::new(BufReader::new(file)).map_err(|source| AnalyzeError::Capture {
            path: args.capture.clone(),
            source,
        })?;
    let mut offline = Offline::new(analyzer);
    let mut failure = None;
    let (mut packets, mut findings, mut flows) = (0u64, 0u64, 0u64);
    for packet in reader {
        match packet {
            Ok(packet) => {
                packets += 1;
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
    drain(&mut offline, sink.as_mut(), &mut findings, &mut flows)?;
    sink.flush().map_err(AnalyzeError::Records)?;
    eprintln!(
        "phonehome: {packets} packets, {flows} flows, {findings} findings ({} packets not TCP/UDP over IP)",
        offline.skipped
    );
    match failure {
        None => Ok(0),
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
    Ok(())
}
