//! Flows in, findings and named flows out: the part of the monitor that looks at bytes.
//!
//! The relay (live) and `phonehome analyze` (captures) feed the same [`Analyzer`] with
//! flow starts, in-order stream bytes per direction, and flow ends. It names each
//! destination (DNS answers and their CNAME chains, TLS/QUIC SNI, HTTP Host), names the
//! company behind it from the catalog and whether it is the app's own (first party),
//! runs the identifier detector over what it can read, and reports encrypted flows to
//! catalog hosts, which is all a monitor without TLS interception can say about them.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::SystemTime;

use phonehome_catalog::{party, registrable_domain, Catalog};
use phonehome_detect::{Detector, Hit};
use phonehome_inspect::http2::PREFACE;
use phonehome_model::{
    Category, Confidence, Destination, DigestForm, Direction, Discovered, Encoding, Finding,
    FlowRecord, HostSource, Kind, Layer, Proto, TlsMode, Where,
};
use phonehome_unwrap::{Budget, Limits};

use crate::cursor::Cursor;
use crate::discovery::{Discovering, SharedDiscovery};
use crate::h2::H2Flow;
use crate::layered;
use crate::protocols::{self, Piece, QuicSni};
use crate::switch::{Event, HttpFlow, Reading};

/// Limits that keep the cost of looking bounded.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Bytes scanned per flow and direction (each HTTP request on a kept-alive
    /// connection gets this much again).
    pub scan_limit: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            scan_limit: 64 * 1024,
        }
    }
}

/// Addresses remembered from DNS answers, at most.
const MAX_NAMES: usize = 100_000;

/// CONNECT tunnels followed inside one another in one flow, at most; deeper ones are not
/// read (each level is a fresh stream, parsed on the stack).
const MAX_TUNNELS: u8 = 4;

/// Server bytes held, at most, while the client's first bytes do not yet tell what the
/// connection speaks (an HTTP/2 server sends its SETTINGS without waiting).
const MAX_HELD_IN: usize = 64 * 1024;

/// Bytes of one response parsed past its scan limit, in multiples of the scan limit, at
/// most: a chunked body in small chunks reaches the analyzer almost whole (only the rest
/// of each chunk is stepped over), so a long one would cost a download 1.5 times the CPU
/// (docs/benchmarks.md, section 10); past this, later responses are given up instead.
const MAX_CHASED: u64 = 32;

/// What the first bytes of a flow's outgoing stream turned out to be.
#[derive(Debug)]
enum Stream {
    /// Too few bytes to tell.
    Unknown(Vec<u8>),
    /// HTTP/1, followed across a switch to WebSocket or into a CONNECT tunnel.
    Http(Box<HttpFlow>),
    /// HTTP/2 from its connection preface on, both directions.
    Http2(Box<H2Flow>),
    /// TLS: the ClientHello (possibly across segments) is gathered here.
    Tls(Vec<u8>),
    /// Encrypted and named (or hopeless): nothing more to read.
    Opaque,
    /// Anything else: scanned as a plain payload.
    Raw,
}

#[derive(Debug)]
struct FlowState {
    id: u64,
    proto: Proto,
    src: SocketAddr,
    dst: SocketAddr,
    app: Option<String>,
    destination: Destination,
    /// The names a DNS answer gave for `dst`: the queried name, then its CNAME targets.
    dns_chain: Vec<String>,
    encrypted: bool,
    out: Stream,
    /// What the server sent while `out` is `Unknown` (`None`: too much, scanned as it
    /// came, and the start of the server's stream is lost to a parser).
    held_in: Option<Vec<u8>>,
    scanned_out: usize,
    scanned_in: usize,
    quic: Option<QuicSni>,
    reported: HashSet<Reported>,
    /// Bytes the flow may still have decoded out of wrapped payloads.
    unwrap_budget: Budget,
    /// CONNECT tunnels entered so far.
    tunnels: u8,
    /// Where each TCP direction is, (out, in), and from where its bytes are wanted.
    cursors: (Cursor, Cursor),
    /// Body bytes of the current response read past what was kept of it (small chunks
    /// cannot be stepped over): past `MAX_CHASED`, the direction is let go.
    chased_in: u64,
}

impl FlowState {
    fn cursor(&mut self, dir: Direction) -> &mut Cursor {
        match dir {
            Direction::Out => &mut self.cursors.0,
            Direction::In => &mut self.cursors.1,
        }
    }
}

/// Which bytes of one direction of a flow the analyzer will read: what the tap needs to
/// copy (see [`Analyzer::want`]). The default: the first bytes, from the start.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Want {
    /// All the direction's bytes may be read, not just its first ones.
    pub follow: bool,
    /// The stream offset of the first byte wanted: those before it will not be read.
    /// `u64::MAX`: none any more.
    pub from: u64,
}

impl Want {
    /// Nothing more of this direction will be read.
    pub const NONE: Want = Want {
        follow: false,
        from: u64::MAX,
    };
}

/// Each kind in each form, wrapping, place and direction is reported once per flow.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Reported {
    kind: Kind,
    encoding: Encoding,
    digest_form: Option<DigestForm>,
    truncated: bool,
    place: Where,
    direction: Direction,
    layers: Vec<Layer>,
}

/// See the module documentation.
pub struct Analyzer {
    detector: Detector,
    catalog: Catalog,
    settings: Settings,
    /// How deep and wide wrapped payloads are opened, from the scan limit.
    limits: Limits,
    flows: HashMap<u64, FlowState>,
    /// Addresses to names from DNS answers, per app (None: not attributed): the queried
    /// name first, then the CNAME targets that led to the address.
    names: HashMap<(Option<String>, IpAddr), Vec<String>>,
    findings: VecDeque<Finding>,
    records: VecDeque<FlowRecord>,
    /// Identifiers nobody configured, when discovery is on.
    discovery: Option<Discovering>,
    /// The organisation that signed each app, where the platform said (see `app_signer`).
    signers: HashMap<String, String>,
    /// Configured token values (see [`crate::discovery::configured_tokens`]): never discovered.
    configured: std::collections::HashSet<String>,
}

/// Apps whose signer is kept: more than a phone holds, so only a flood is cut.
const MAX_SIGNERS: usize = 4096;

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer")
            .field("flows", &self.flows.len())
            .field("names", &self.names.len())
            .finish_non_exhaustive()
    }
}

/// TLS record header of a handshake: content type 22, major version 3.
fn looks_like_tls(b: &[u8]) -> bool {
    b.len() >= 2 && b[0] == 0x16 && b[1] == 0x03
}

const HTTP_METHODS: [&[u8]; 9] = [
    b"GET ",
    b"POST ",
    b"PUT ",
    b"HEAD ",
    b"DELETE ",
    b"OPTIONS ",
    b"PATCH ",
    b"CONNECT ",
    b"TRACE ",
];

/// `None` while too short to decide.
fn looks_like_http(b: &[u8]) -> Option<bool> {
    for m in HTTP_METHODS {
        let n = m.len().min(b.len());
        if b[..n] == m[..n] {
            return if b.len() >= m.len() { Some(true) } else { None };
        }
    }
    Some(false)
}

impl Analyzer {
    pub fn new(detector: Detector, catalog: Catalog, settings: Settings) -> Self {
        Self {
            detector,
            catalog,
            limits: Limits::for_scan_limit(settings.scan_limit),
            settings,
            flows: HashMap::new(),
            names: HashMap::new(),
            signers: HashMap::new(),
            findings: VecDeque::new(),
            records: VecDeque::new(),
            discovery: None,
            configured: Default::default(),
        }
    }

    /// Values the identifiers already name, which discovery leaves to the detector: once
    /// the user adds a discovered id to the identifiers its findings are exact, not discovered.
    pub fn with_configured(mut self, ids: &phonehome_detect::Identifiers) -> Self {
        self.configured = crate::discovery::configured_tokens(ids)
            .into_iter()
            .collect();
        self
    }

    /// Turns discovery on, with a state the caller keeps (see [`crate::discovery`]).
    pub fn with_discovery(mut self, discovery: SharedDiscovery) -> Self {
        self.discovery = Some(Discovering::new(discovery));
        self
    }

    /// The organisation in `app`'s signing certificate (Android: PackageManager's signing
    /// info, subject O=): hosts of that company are the app's own (first party).
    pub fn app_signer(&mut self, app: &str, organisation: &str) {
        if self.signers.len() >= MAX_SIGNERS && !self.signers.contains_key(app) {
            return;
        }
        self.signers
            .insert(app.to_string(), organisation.to_string());
    }

    /// A new flow. Its destination is named at once if a DNS answer named the address.
    pub fn flow_start(
        &mut self,
        id: u64,
        proto: Proto,
        src: SocketAddr,
        dst: SocketAddr,
        app: Option<String>,
    ) {
        let mut destination = Destination::default();
        let dns_chain = self
            .names
            .get(&(app.clone(), dst.ip()))
            .or_else(|| self.names.get(&(None, dst.ip())))
            .cloned()
            .unwrap_or_default();
        if let Some(name) = dns_chain.first() {
            self.name(
                &mut destination,
                name.clone(),
                HostSource::Dns,
                app.as_deref(),
                &dns_chain,
            );
        }
        self.flows.insert(
            id,
            FlowState {
                id,
                proto,
                src,
                dst,
                app,
                destination,
                dns_chain,
                encrypted: false,
                out: Stream::Unknown(Vec::new()),
                held_in: Some(Vec::new()),
                scanned_out: 0,
                scanned_in: 0,
                quic: None,
                reported: HashSet::new(),
                unwrap_budget: Budget::for_scan_limit(self.settings.scan_limit),
                tunnels: 0,
                cursors: Default::default(),
                chased_in: 0,
            },
        );
    }

    /// Names the destination `host` and the company behind it. `dns_chain` is what a
    /// DNS answer said about the flow's address; when it starts with `host` (the SNI or
    /// Host the app sent is the name it looked up) its CNAME targets are looked up too,
    /// so a tracker behind an alias under the app's own domain is named.
    fn name(
        &self,
        destination: &mut Destination,
        host: String,
        source: HostSource,
        app: Option<&str>,
        dns_chain: &[String],
    ) {
        let own = [host.clone()];
        let chain = match dns_chain.first() {
            Some(first) if first.eq_ignore_ascii_case(&host) => dns_chain,
            _ => &own[..],
        };
        let found = self.catalog.lookup_chain(chain);
        let named_by = found.map_or(host.as_str(), |(i, _)| chain[i].as_str());
        let entry = found.map(|(_, e)| e);
        destination.company = entry.map(|e| e.company.clone());
        destination.parent = entry.and_then(|e| e.parent.clone());
        destination.category = entry.map(|e| e.category);
        destination.service = entry.map(|e| e.service.clone());
        let signer = app.and_then(|a| self.signers.get(a)).map(String::as_str);
        destination.party = Some(party(&self.catalog, app, signer, &host, named_by, entry));
        // The alias that named the company: a CNAME target in the DNS answer, or, for a
        // name the catalog knows to be cloaked, the tracker's host it points at.
        destination.cname = match found {
            Some((i, _)) if i > 0 => Some(named_by.to_string()),
            _ => entry.and_then(|e| e.alias_of.clone()),
        };
        destination.domain = Some(registrable_domain(&host).to_ascii_lowercase());
        destination.host = Some(host);
        destination.host_source = Some(source);
    }

    fn hello(&self, flow: &mut FlowState, hello: protocols::Hello, source: HostSource) {
        if let Some(sni) = hello.sni {
            self.name(
                &mut flow.destination,
                sni,
                source,
                flow.app.as_deref(),
                &flow.dns_chain,
            );
        }
        let destination = &mut flow.destination;
        destination.alpn = hello.alpn;
        destination.ech = hello.ech;
    }

    /// In-order bytes of flow `id` (for UDP: one datagram), none left out: the bytes of
    /// a TCP stream the analyzer does not want are dropped here.
    pub fn data(&mut self, id: u64, direction: Direction, bytes: &[u8], ts: SystemTime) {
        let Some(offset) = self.flows.get_mut(&id).map(|f| f.cursor(direction).at()) else {
            return;
        };
        self.data_at(id, direction, offset, bytes, ts);
    }

    /// Bytes of flow `id` that start at stream offset `offset` of a TCP direction (for
    /// UDP: one datagram, the offset ignored). Bytes left out before `offset` must be
    /// ones [`Self::want`] said were not wanted; anything else is a hole, handled as a
    /// [`Self::gap`].
    pub fn data_at(
        &mut self,
        id: u64,
        direction: Direction,
        offset: u64,
        bytes: &[u8],
        ts: SystemTime,
    ) {
        let Some(mut flow) = self.flows.remove(&id) else {
            return;
        };
        let bytes = match flow.proto {
            Proto::Tcp => match flow.cursor(direction).accept(offset, bytes) {
                Some(wanted) => wanted,
                None => {
                    self.flows.insert(id, flow);
                    self.gap(id, direction);
                    return;
                }
            },
            _ => bytes,
        };
        if bytes.is_empty() {
            self.flows.insert(id, flow);
            return;
        }
        match (flow.proto, direction) {
            (Proto::Udp, Direction::In) if flow.dst.port() == 53 => {
                // A long run sees many answers; forget them all rather than grow forever
                // (names come back with the next lookup).
                if self.names.len() > MAX_NAMES {
                    self.names.clear();
                }
                for (ip, chain) in protocols::dns_names(bytes) {
                    self.names.insert((flow.app.clone(), ip), chain.clone());
                    self.names.insert((None, ip), chain);
                }
            }
            (Proto::Udp, Direction::Out) if flow.dst.port() == 53 => {}
            (Proto::Udp, Direction::Out) if protocols::is_quic_initial(bytes) => {
                flow.encrypted = true;
                if flow.destination.alpn.is_empty() {
                    let quic = flow.quic.get_or_insert_with(QuicSni::default);
                    if let Some(hello) = quic.push(bytes) {
                        self.hello(&mut flow, hello, HostSource::Quic);
                    }
                }
            }
            (Proto::Udp, _) if flow.encrypted => {}
            (Proto::Tcp, Direction::Out) => self.outgoing_stream(&mut flow, bytes, ts),
            (Proto::Tcp, Direction::In) => self.incoming_stream(&mut flow, bytes, ts),
            (_, dir) => {
                let room = self.room(&flow, dir);
                let take = &bytes[..bytes.len().min(room)];
                self.account(&mut flow, dir, take.len());
                self.scan(&mut flow, take, Where::Payload, dir, ts);
                if dir == Direction::Out {
                    self.discover(&mut flow, &[(Where::Payload, take)], ts);
                }
            }
        }
        self.flows.insert(id, flow);
    }

    fn room(&self, flow: &FlowState, dir: Direction) -> usize {
        let used = match dir {
            Direction::Out => flow.scanned_out,
            Direction::In => flow.scanned_in,
        };
        self.settings.scan_limit.saturating_sub(used)
    }

    fn account(&self, flow: &mut FlowState, dir: Direction, n: usize) {
        match dir {
            Direction::Out => flow.scanned_out += n,
            Direction::In => flow.scanned_in += n,
        }
    }

    fn outgoing_stream(&mut self, flow: &mut FlowState, bytes: &[u8], ts: SystemTime) {
        if let Stream::Unknown(head) = &mut flow.out {
            head.extend_from_slice(bytes);
            let preface = head.len().min(PREFACE.len());
            let next = if head[..preface] == PREFACE[..preface] {
                if preface < PREFACE.len() {
                    return;
                }
                let mut h2 = H2Flow::new(self.settings.scan_limit);
                if flow.held_in.is_none() {
                    h2.cut_in();
                }
                Stream::Http2(Box::new(h2))
            } else if looks_like_tls(head) {
                flow.encrypted = true;
                Stream::Tls(Vec::new())
            } else {
                match looks_like_http(head) {
                    None => return,
                    Some(true) => Stream::Http(Box::new(HttpFlow::new(self.settings.scan_limit))),
                    Some(false) => Stream::Raw,
                }
            };
            // Replay what was held back, now that the stream has a type.
            let head = std::mem::take(head);
            flow.out = next;
            self.outgoing_stream(flow, &head, ts);
            let held = flow.held_in.replace(Vec::new()).unwrap_or_default();
            if !held.is_empty() {
                self.incoming_stream(flow, &held, ts);
            }
            return;
        }
        match &mut flow.out {
            Stream::Tls(hello) => {
                hello.extend_from_slice(bytes);
                match protocols::client_hello_sni(hello) {
                    protocols::Sni::Found(hello) => {
                        self.hello(flow, hello, HostSource::Sni);
                        flow.out = Stream::Opaque;
                    }
                    protocols::Sni::None => flow.out = Stream::Opaque,
                    protocols::Sni::NeedMore if hello.len() > 64 * 1024 => {
                        flow.out = Stream::Opaque;
                    }
                    protocols::Sni::NeedMore => {}
                }
            }
            Stream::Http(http) => {
                let mut events = Vec::new();
                http.push_out(bytes, &mut events);
                self.events(flow, events, ts);
            }
            Stream::Http2(h2) => {
                let mut events = Vec::new();
                h2.push_out(bytes, &mut events);
                self.events(flow, events, ts);
            }
            Stream::Raw => {
                let room = self.room(flow, Direction::Out);
                let take = &bytes[..bytes.len().min(room)];
                self.account(flow, Direction::Out, take.len());
                self.scan(flow, take, Where::Payload, Direction::Out, ts);
                self.discover(flow, &[(Where::Payload, take)], ts);
            }
            Stream::Opaque | Stream::Unknown(_) => {}
        }
    }

    /// Bytes from the server of a TCP flow: read as WebSocket messages after a switch,
    /// else scanned as they are (within the scan limit).
    fn incoming_stream(&mut self, flow: &mut FlowState, bytes: &[u8], ts: SystemTime) {
        if let (Stream::Unknown(_), Some(held)) = (&flow.out, &mut flow.held_in) {
            if held.len() + bytes.len() <= MAX_HELD_IN {
                held.extend_from_slice(bytes);
                return;
            }
            let held = flow.held_in.take().unwrap_or_default();
            self.scan_payload(flow, &held, Direction::In, ts);
        }
        if let Stream::Http2(h2) = &mut flow.out {
            let mut events = Vec::new();
            h2.push_in(bytes, &mut events);
            // Past a stream's limit its DATA is stepped over: the tap need not copy it.
            let n = h2.skippable_in();
            if n > 0 {
                h2.skip_in(n, &mut events);
                flow.cursors.1.skip(n);
            }
            self.events(flow, events, ts);
            return;
        }
        if let Stream::Http(http) = &mut flow.out {
            let mut events = Vec::new();
            let http_len = http.push_in(bytes, &mut events).min(bytes.len());
            flow.chased_in = http.passed_in();
            if http.reading_in() == Reading::Raw {
                self.scan_payload(flow, &bytes[..http_len], Direction::In, ts);
            }
            // Responses come out whole (each body decoded, up to the scan limit).
            self.events(flow, events, ts);
            self.step_over_in(flow);
            return;
        }
        self.scan_payload(flow, bytes, Direction::In, ts);
    }

    /// Past what will be read of the current response or WebSocket message, its rest is
    /// stepped over: the tap is asked not to copy it.
    fn step_over_in(&self, flow: &mut FlowState) {
        let Stream::Http(http) = &mut flow.out else {
            return;
        };
        let n = http.skippable_in();
        if n > 0 {
            http.skip_in(n);
            flow.cursors.1.skip(n);
        }
    }

    fn scan_payload(&mut self, flow: &mut FlowState, bytes: &[u8], dir: Direction, ts: SystemTime) {
        let room = self.room(flow, dir);
        let take = &bytes[..bytes.len().min(room)];
        self.account(flow, dir, take.len());
        self.scan(flow, take, Where::Payload, dir, ts);
    }

    /// What following an HTTP connection turned up.
    fn events(&mut self, flow: &mut FlowState, events: Vec<Event>, ts: SystemTime) {
        // What the device sent, for discovery: a request's parts go together, so that a
        // digest of its body sent beside it is known for what it is.
        let mut sent: Vec<(Where, Vec<u8>)> = Vec::new();
        for event in events {
            match event {
                Event::Piece(Piece::Ask(_)) => {}
                Event::Piece(Piece::Host(host)) => {
                    if flow.destination.host_source != Some(HostSource::Http) {
                        self.name(
                            &mut flow.destination,
                            host,
                            HostSource::Http,
                            flow.app.as_deref(),
                            &flow.dns_chain,
                        );
                    }
                }
                Event::Piece(Piece::Text(place, text)) => {
                    self.scan(flow, &text, place, Direction::Out, ts);
                    sent.push((place, text));
                }
                Event::Message(dir, data) => {
                    self.scan(flow, &data, Where::Websocket, dir, ts);
                    if dir == Direction::Out {
                        sent.push((Where::Websocket, data));
                    }
                }
                Event::Received(place, data) => {
                    self.scan(flow, &data, place, Direction::In, ts);
                }
                Event::Tunnel { out, inbound } => {
                    // Inside the tunnel a new stream starts: TLS, HTTP, or anything.
                    flow.tunnels += 1;
                    flow.out = match out {
                        Some(_) if flow.tunnels <= MAX_TUNNELS => Stream::Unknown(Vec::new()),
                        _ => Stream::Opaque,
                    };
                    flow.held_in = Some(Vec::new());
                    if let Some(out) = out {
                        self.outgoing_stream(flow, &out, ts);
                    }
                    self.incoming_stream(flow, &inbound, ts);
                }
            }
        }
        let sent: Vec<(Where, &[u8])> = sent.iter().map(|(p, t)| (*p, t.as_slice())).collect();
        self.discover(flow, &sent, ts);
    }

    fn scan(
        &mut self,
        flow: &mut FlowState,
        bytes: &[u8],
        place: Where,
        dir: Direction,
        ts: SystemTime,
    ) {
        if bytes.is_empty() {
            return;
        }
        let hits = layered::scan(
            &self.detector,
            bytes,
            place,
            &self.limits,
            &mut flow.unwrap_budget,
        );
        for found in hits {
            self.report(flow, &found.hit, found.layers, dir, ts);
        }
    }

    /// Hands what the device sent to discovery; a discovered identifier in it is a
    /// finding like any other, with confidence `discovered`.
    fn discover(&mut self, flow: &mut FlowState, parts: &[(Where, &[u8])], ts: SystemTime) {
        let Some(discovery) = &mut self.discovery else {
            return;
        };
        if parts.iter().all(|(_, t)| t.is_empty()) {
            return;
        }
        let host = match &flow.destination.host {
            Some(host) => host.clone(),
            None => flow.dst.ip().to_string(),
        };
        let sighted = discovery.observe(
            flow.app.as_deref(),
            &host,
            flow.id,
            ts,
            parts,
            &self.configured,
        );
        for s in sighted {
            let hit = Hit {
                kind: Kind::DeviceId,
                encoding: Encoding::Plain,
                digest_form: None,
                inner: None,
                truncated: false,
                confidence: Confidence::Discovered,
                where_: s.place,
                offset: 0,
                len: 0,
                evidence: s.evidence,
            };
            self.report(flow, &hit, Vec::new(), Direction::Out, ts);
        }
    }

    fn report(
        &mut self,
        flow: &mut FlowState,
        hit: &Hit,
        layers: Vec<Layer>,
        direction: Direction,
        ts: SystemTime,
    ) {
        let key = Reported {
            kind: hit.kind,
            encoding: hit.encoding,
            digest_form: hit.digest_form,
            truncated: hit.truncated,
            place: hit.where_,
            direction,
            layers: layers.clone(),
        };
        if !flow.reported.insert(key) {
            return;
        }
        self.findings.push_back(Finding {
            ts,
            flow: flow.id,
            app: flow.app.clone(),
            proto: flow.proto,
            src: flow.src,
            dst: flow.dst,
            destination: flow.destination.clone(),
            kind: hit.kind,
            encoding: hit.encoding,
            digest_form: hit.digest_form,
            truncated: hit.truncated,
            place: hit.where_,
            direction,
            confidence: hit.confidence,
            evidence: hit.evidence.clone(),
            layers,
            bytes_out: None,
            bytes_in: None,
            start: None,
            end: None,
        });
    }

    /// The flow ended: its record comes back named and tagged, and an encrypted flow to
    /// a catalog host becomes a finding of its own.
    pub fn flow_end(&mut self, mut record: FlowRecord) {
        let Some(mut flow) = self.flows.remove(&record.flow) else {
            self.records.push_back(record);
            return;
        };
        // What is still unread: server bytes held for a client that never spoke, and
        // HTTP/2 streams cut off by the close.
        let held = flow.held_in.take().unwrap_or_default();
        self.scan_payload(&mut flow, &held, Direction::In, record.end);
        let mut events = Vec::new();
        match &mut flow.out {
            Stream::Http2(h2) => h2.finish(&mut events),
            Stream::Http(http) => http.finish_in(&mut events),
            _ => {}
        }
        self.events(&mut flow, events, record.end);
        // The catch-all `vendor` category covers whole company domains (most of apple.com)
        // and CDNs carry anyone's bytes: only trackers, messaging and account hosts make
        // an encrypted flow notable.
        let notable = flow.destination.category.is_some_and(|c| {
            c.is_tracker()
                || matches!(
                    c,
                    Category::CloudMessaging | Category::Messaging | Category::Account
                )
        });
        if flow.encrypted && notable {
            self.findings.push_back(Finding {
                ts: record.end,
                flow: record.flow,
                app: flow.app.clone(),
                proto: flow.proto,
                src: flow.src,
                dst: flow.dst,
                destination: flow.destination.clone(),
                kind: Kind::EncryptedFlow,
                encoding: if flow.proto == Proto::Udp {
                    Encoding::Quic
                } else {
                    Encoding::Tls
                },
                digest_form: None,
                truncated: false,
                place: Where::Payload,
                direction: Direction::Out,
                confidence: Confidence::Exact,
                evidence: format!(
                    "{} bytes out, {} bytes in, encrypted",
                    record.bytes_out, record.bytes_in
                ),
                layers: Vec::new(),
                bytes_out: Some(record.bytes_out),
                bytes_in: Some(record.bytes_in),
                start: Some(record.start),
                end: Some(record.end),
            });
        }
        record.app = flow.app;
        record.destination = flow.destination;
        self.records.push_back(record);
    }

    /// TLS interception says what became of flow `id`. Once it is intercepted, the
    /// flow's later bytes are its plaintext: the outgoing stream is typed afresh (HTTP/1
    /// is parsed as on port 80), and the scan budget spent on ciphertext is given back.
    pub fn tls_mode(&mut self, id: u64, mode: TlsMode) {
        let Some(flow) = self.flows.get_mut(&id) else {
            return;
        };
        flow.destination.tls = Some(mode);
        if mode == TlsMode::Intercepted {
            flow.encrypted = false;
            flow.out = Stream::Unknown(Vec::new());
            flow.held_in = Some(Vec::new());
            flow.scanned_out = 0;
            flow.scanned_in = 0;
            // The tap counts the plaintext's bytes from 0 again.
            flow.cursors = Default::default();
        }
    }

    /// The catalog destinations are named from.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Whether flow `id` should get all its outgoing bytes, not just the first ones:
    /// true for HTTP, where each request on a kept-alive connection is read.
    pub fn follows(&self, id: u64) -> bool {
        self.want(id, Direction::Out).follow
    }

    /// Which bytes of `direction` of flow `id` will be read from here on. HTTP/1 and
    /// HTTP/2 are followed both ways (every request, every response and WebSocket
    /// message), each response's body only up to its scan limit; a raw stream whose scan
    /// limit is spent wants nothing more. Anything else (TLS among them, whose bytes turn
    /// into plaintext if it is intercepted) keeps the default.
    pub fn want(&self, id: u64, direction: Direction) -> Want {
        let Some(flow) = self.flows.get(&id) else {
            return Want::NONE;
        };
        if flow.proto != Proto::Tcp {
            return Want::default();
        }
        let cursor = match direction {
            Direction::Out => flow.cursors.0,
            Direction::In => flow.cursors.1,
        };
        let spent = self.room(flow, direction) == 0;
        let from = cursor.needed();
        match (&flow.out, direction) {
            (Stream::Http(http), Direction::In) => match http.reading_in() {
                Reading::Nothing => Want::NONE,
                _ if flow.chased_in > MAX_CHASED * self.settings.scan_limit as u64 => Want::NONE,
                Reading::Raw if spent => Want::NONE,
                _ => Want { follow: true, from },
            },
            (Stream::Http2(h2), Direction::In) if !h2.reads_in() => Want::NONE,
            (Stream::Http(_) | Stream::Http2(_), _) => Want { follow: true, from },
            (Stream::Raw, _) if spent => Want::NONE,
            // From the start: an offset the tap must not skip to when it starts counting
            // an intercepted flow's plaintext from 0 again.
            _ => Want::default(),
        }
    }

    /// Whether [`Self::want`] of `direction` is a decision, made on what the stream is,
    /// rather than the default kept while that is unknown: the client's first bytes not
    /// yet told apart (the server's are held meanwhile), or a ClientHello still being
    /// gathered (the flow may yet be intercepted, and its plaintext start afresh). The
    /// tap caps an undecided direction later, so that what comes before the decision is
    /// not cut where the analyzer turns out to follow it.
    pub fn decided(&self, id: u64, direction: Direction) -> bool {
        let Some(flow) = self.flows.get(&id) else {
            return true;
        };
        if flow.proto != Proto::Tcp {
            return true;
        }
        match (&flow.out, direction) {
            (Stream::Unknown(_), Direction::In) => flow.held_in.is_none(),
            (Stream::Unknown(_) | Stream::Tls(_), _) => false,
            (Stream::Http(_) | Stream::Http2(_) | Stream::Opaque | Stream::Raw, _) => true,
        }
    }

    /// Some bytes of flow `id` in `direction` were lost: a TCP stream is not parsed
    /// across the hole.
    pub fn gap(&mut self, id: u64, direction: Direction) {
        if let Some(flow) = self.flows.get_mut(&id) {
            match (&mut flow.out, direction) {
                (_, Direction::Out) if flow.proto == Proto::Tcp => flow.out = Stream::Opaque,
                (Stream::Http(http), Direction::In) => http.cut_in(),
                // Responses cut short are scanned when the flow ends.
                (Stream::Http2(h2), Direction::In) => h2.cut_in(),
                _ => {}
            }
        }
    }

    /// What is known so far about an open flow's destination.
    pub fn destination(&self, id: u64) -> Option<&Destination> {
        self.flows.get(&id).map(|f| &f.destination)
    }

    /// Findings so far; each carries its flow id.
    pub fn pop_finding(&mut self) -> Option<Finding> {
        self.findings.pop_front()
    }

    /// Finished flows, named and tagged.
    pub fn pop_record(&mut self) -> Option<FlowRecord> {
        self.records.pop_front()
    }

    /// Identifiers discovered (or first seen in this session), and after [`Self::finish`]
    /// the session's sums.
    pub fn pop_discovered(&mut self) -> Option<Discovered> {
        self.discovery.as_mut()?.records.pop_front()
    }

    /// The session ends: what discovery found in it comes out of [`Self::pop_discovered`].
    pub fn finish(&mut self) {
        if let Some(discovery) = &mut self.discovery {
            discovery.finish(&self.configured);
        }
    }
}

#[cfg(test)]
mod decided;
#[cfg(test)]
mod domain;
#[cfg(test)]
mod following;
#[cfg(test)]
mod received;

#[cfg(test)]
mod tests {
    use super::*;
    use phonehome_detect::{Identifiers, Options};
    use phonehome_model::{CloseReason, Party};
    use std::time::{Duration, UNIX_EPOCH};

    pub(super) fn analyzer() -> Analyzer {
        let ids = Identifiers::from_toml(
            "region = \"CN\"\nimei = [\"861234567890123\"]\nphone = [\"+8613800138000\"]\n",
        )
        .unwrap();
        Analyzer::new(
            Detector::new(&ids, &Options::default()),
            Catalog::builtin(),
            Settings::default(),
        )
    }

    pub(super) fn record(id: u64, proto: Proto, src: &str, dst: &str) -> FlowRecord {
        let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        FlowRecord {
            flow: id,
            proto,
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            bytes_out: 500,
            bytes_in: 900,
            start: t,
            end: t + Duration::from_secs(2),
            close: CloseReason::Closed,
            app: None,
            destination: Destination::default(),
        }
    }

    pub(super) fn t() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_001)
    }

    /// Starts flow 1, a client's plain HTTP connection.
    pub(super) fn start_http(a: &mut Analyzer) {
        a.flow_start(
            1,
            Proto::Tcp,
            "10.111.0.2:40000".parse().unwrap(),
            "10.201.0.2:80".parse().unwrap(),
            None,
        );
    }

    #[test]
    fn an_http_request_with_the_imei_is_a_finding_at_the_named_vendor_host() {
        let mut a = analyzer();
        a.flow_start(
            1,
            Proto::Tcp,
            "10.111.0.2:40000".parse().unwrap(),
            "10.201.0.2:80".parse().unwrap(),
            None,
        );
        // Split mid-request: the stream is typed from its first bytes and reassembled.
        a.data(1, Direction::Out, b"GET /dev?imei=8612345", t());
        a.data(
            1,
            Direction::Out,
            b"67890123 HTTP/1.1\r\nHost: api.account.xiaomi.com\r\n\r\n",
            t(),
        );
        a.flow_end(record(1, Proto::Tcp, "10.111.0.2:40000", "10.201.0.2:80"));
        let f = a.pop_finding().expect("a finding");
        assert_eq!(
            (f.kind.as_str(), f.encoding.as_str(), f.place.as_str()),
            ("imei", "plain", "url")
        );
        assert_eq!(
            f.destination.host.as_deref(),
            Some("api.account.xiaomi.com")
        );
        assert_eq!(f.destination.host_source, Some(HostSource::Http));
        assert_eq!(f.destination.company.as_deref(), Some("Xiaomi"));
        assert!(!f.evidence.contains("861234567890123"));
        assert!(a.pop_finding().is_none(), "each form once per flow");
        let r = a.pop_record().unwrap();
        assert_eq!(
            r.destination.category.map(Category::as_str),
            Some("cloud-messaging")
        );
    }

    #[test]
    fn a_dns_answer_names_later_flows_and_tls_to_a_catalog_host_is_an_encrypted_flow() {
        let mut a = analyzer();
        a.flow_start(
            1,
            Proto::Udp,
            "10.111.0.2:5000".parse().unwrap(),
            "10.111.0.1:53".parse().unwrap(),
            None,
        );
        let mut answer = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
        for label in ["api", "account", "xiaomi", "com"] {
            answer.push(label.len() as u8);
            answer.extend_from_slice(label.as_bytes());
        }
        answer.extend_from_slice(&[
            0, 0, 1, 0, 1, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 201, 0, 2,
        ]);
        a.data(1, Direction::In, &answer, t());
        a.flow_start(
            2,
            Proto::Tcp,
            "10.111.0.2:40001".parse().unwrap(),
            "10.201.0.2:443".parse().unwrap(),
            None,
        );
        assert_eq!(
            a.destination(2).unwrap().host.as_deref(),
            Some("api.account.xiaomi.com")
        );
        // TLS that never shows a readable ClientHello still counts as encrypted.
        a.data(2, Direction::Out, &[22, 3, 1, 0, 5, 2, 0, 0, 1, 0], t());
        a.flow_end(record(2, Proto::Tcp, "10.111.0.2:40001", "10.201.0.2:443"));
        let f = a.pop_finding().expect("an encrypted-flow finding");
        assert_eq!(f.kind.as_str(), "encrypted-flow");
        assert_eq!(f.destination.host_source, Some(HostSource::Dns));
        assert_eq!((f.bytes_out, f.bytes_in), (Some(500), Some(900)));
    }

    /// A DNS response for `query` (type A): each name of `aliases` is a CNAME of the one
    /// before it, and the last name has address `ip`. Names are written out, no pointers.
    fn dns_answer(query: &str, aliases: &[&str], ip: [u8; 4]) -> Vec<u8> {
        fn name(n: &str) -> Vec<u8> {
            let mut out = Vec::new();
            for label in n.split('.') {
                out.push(label.len() as u8);
                out.extend_from_slice(label.as_bytes());
            }
            out.push(0);
            out
        }
        let count = aliases.len() as u8 + 1;
        let mut m = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, count, 0, 0, 0, 0];
        m.extend(name(query));
        m.extend_from_slice(&[0, 1, 0, 1]);
        let mut owner = query;
        for alias in aliases {
            let target = name(alias);
            m.extend(name(owner));
            m.extend_from_slice(&[0, 5, 0, 1, 0, 0, 0, 60, 0, target.len() as u8]);
            m.extend(target);
            owner = alias;
        }
        m.extend(name(owner));
        m.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
        m.extend_from_slice(&ip);
        m
    }

    /// Flow 1 carries `answer` back to `app`; flow 2 then goes to 192.0.2.7:443.
    fn lookup_then_connect(a: &mut Analyzer, app: &str, answer: &[u8]) {
        a.flow_start(
            1,
            Proto::Udp,
            "10.111.0.2:5000".parse().unwrap(),
            "10.111.0.1:53".parse().unwrap(),
            Some(app.into()),
        );
        a.data(1, Direction::In, answer, t());
        a.flow_start(
            2,
            Proto::Tcp,
            "10.111.0.2:40001".parse().unwrap(),
            "192.0.2.7:443".parse().unwrap(),
            Some(app.into()),
        );
    }

    #[test]
    fn a_tracker_behind_a_cname_under_the_apps_own_domain_is_named_and_third_party() {
        let mut a = analyzer();
        let answer = dns_answer(
            "metrics.example.com",
            &["example.onelink.me", "d3.cloudfront.net"],
            [192, 0, 2, 7],
        );
        lookup_then_connect(&mut a, "com.example.weather", &answer);
        let d = a.destination(2).unwrap().clone();
        assert_eq!(d.host.as_deref(), Some("metrics.example.com"));
        assert_eq!(d.company.as_deref(), Some("AppsFlyer"));
        assert_eq!(d.category, Some(Category::Attribution));
        assert_eq!(d.cname.as_deref(), Some("example.onelink.me"));
        assert_eq!(d.party, Some(Party::Third));
    }

    #[test]
    fn a_cloaked_name_the_catalog_knows_is_third_party_when_dns_shows_no_cname() {
        // A resolver that flattens CNAMEs answers metrics.gap.com with an address only;
        // the catalog (AdGuard's cname-trackers) knows it is Adobe's 2o7.net behind Gap's name.
        let mut a = analyzer();
        let answer = dns_answer("metrics.gap.com", &[], [192, 0, 2, 7]);
        lookup_then_connect(&mut a, "com.gap.mobile", &answer);
        let d = a.destination(2).unwrap();
        assert_eq!(d.company.as_deref(), Some("Adobe"));
        assert_eq!(d.category, Some(Category::Analytics));
        assert_eq!(d.cname.as_deref(), Some("gap.com.112.2o7.net"));
        assert_eq!(d.party, Some(Party::Third));
    }

    #[test]
    fn an_app_signed_by_the_trackers_company_sends_to_its_own_host() {
        // The package name (com.example.weather) says nothing of AppsFlyer; a certificate
        // whose subject is O=AppsFlyer Ltd does: AppsFlyer's own app.
        for (signer, want) in [(None, Party::Third), (Some("AppsFlyer Ltd"), Party::First)] {
            let mut a = analyzer();
            if let Some(org) = signer {
                a.app_signer("com.example.weather", org);
            }
            let answer = dns_answer(
                "metrics.example.com",
                &["example.onelink.me"],
                [192, 0, 2, 7],
            );
            lookup_then_connect(&mut a, "com.example.weather", &answer);
            let d = a.destination(2).unwrap();
            assert_eq!(d.company.as_deref(), Some("AppsFlyer"));
            assert_eq!(d.party, Some(want), "signer {signer:?}");
        }
    }

    #[test]
    fn the_sni_of_the_looked_up_name_keeps_the_cname_chain() {
        let mut a = analyzer();
        let answer = dns_answer(
            "metrics.example.com",
            &["example.onelink.me"],
            [192, 0, 2, 7],
        );
        lookup_then_connect(&mut a, "com.example.weather", &answer);
        let hello = protocols::Hello {
            sni: Some("metrics.example.com".into()),
            ..Default::default()
        };
        let mut flow = a.flows.remove(&2).unwrap();
        a.hello(&mut flow, hello, HostSource::Sni);
        assert_eq!(flow.destination.host_source, Some(HostSource::Sni));
        assert_eq!(flow.destination.company.as_deref(), Some("AppsFlyer"));
        assert_eq!(flow.destination.party, Some(Party::Third));
        // Another name in the SNI is judged on its own.
        let hello = protocols::Hello {
            sni: Some("api.example.com".into()),
            ..Default::default()
        };
        a.hello(&mut flow, hello, HostSource::Sni);
        assert_eq!(flow.destination.company, None);
        assert_eq!(flow.destination.cname, None);
        assert_eq!(flow.destination.party, Some(Party::First));
    }

    #[test]
    fn the_apps_own_host_is_first_party_with_no_company() {
        let mut a = analyzer();
        let answer = dns_answer("api.example.com", &[], [192, 0, 2, 7]);
        lookup_then_connect(&mut a, "com.example.weather", &answer);
        let d = a.destination(2).unwrap();
        assert_eq!((d.company.as_deref(), d.party), (None, Some(Party::First)));
        assert_eq!(d.cname, None);
    }

    #[test]
    fn an_encrypted_flow_to_an_attribution_host_is_a_finding_and_to_a_cdn_is_not() {
        for (query, finding) in [("t.appsflyer.com", true), ("d1.cloudfront.net", false)] {
            let mut a = analyzer();
            lookup_then_connect(
                &mut a,
                "com.example.weather",
                &dns_answer(query, &[], [192, 0, 2, 7]),
            );
            a.data(2, Direction::Out, &[22, 3, 1, 0, 5, 2, 0, 0, 1, 0], t());
            a.flow_end(record(2, Proto::Tcp, "10.111.0.2:40001", "192.0.2.7:443"));
            assert_eq!(a.pop_finding().is_some(), finding, "{query}");
        }
    }

    fn hex_vector(text: &str) -> Vec<u8> {
        let digits: Vec<u8> = text
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .flat_map(|l| l.bytes())
            .filter(u8::is_ascii_hexdigit)
            .collect();
        digits
            .chunks(2)
            .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
            .collect()
    }

    #[test]
    fn a_quic_initial_names_the_flow_with_its_sni_and_alpn() {
        // RFC 9001 Appendix A.2: the client's protected Initial packet (via the inspect
        // crate's copy of the vector).
        let packet = hex_vector(include_str!(
            "../../inspect/tests/vectors/rfc9001_client_initial.hex"
        ));
        let mut a = analyzer();
        a.flow_start(
            1,
            Proto::Udp,
            "10.111.0.2:5000".parse().unwrap(),
            "192.0.2.1:443".parse().unwrap(),
            None,
        );
        a.data(1, Direction::Out, &packet, t());
        let d = a.destination(1).unwrap();
        assert_eq!(d.host.as_deref(), Some("example.com"));
        assert_eq!(d.host_source, Some(HostSource::Quic));
        assert!(!d.alpn.is_empty());
        assert!(!d.ech);
    }

    #[test]
    fn every_request_on_a_kept_alive_connection_is_read_past_the_scan_limit() {
        let mut a = analyzer();
        a.flow_start(
            1,
            Proto::Tcp,
            "10.111.0.2:40000".parse().unwrap(),
            "10.201.0.2:80".parse().unwrap(),
            None,
        );
        let big = vec![b'x'; 300 * 1024];
        let head = format!(
            "POST /upload HTTP/1.1\r\nHost: a.example\r\nContent-Length: {}\r\n\r\n",
            big.len()
        );
        a.data(1, Direction::Out, head.as_bytes(), t());
        assert!(a.follows(1), "an HTTP flow asks for all its bytes");
        for chunk in big.chunks(64 * 1024) {
            a.data(1, Direction::Out, chunk, t());
        }
        a.data(
            1,
            Direction::Out,
            b"GET /ping?imei=861234567890123 HTTP/1.1\r\nHost: a.example\r\n\r\n",
            t(),
        );
        let f = a.pop_finding().expect("the second request is read");
        assert_eq!((f.kind.as_str(), f.place.as_str()), ("imei", "url"));
    }

    /// A ClientHello for `name` offering http/1.1 (TLS 1.2 record, no other extension).
    pub(super) fn client_hello(name: &str) -> Vec<u8> {
        let mut sni = vec![0u8; 5];
        sni[2] = 0; // host_name
        sni[3..5].copy_from_slice(&(name.len() as u16).to_be_bytes());
        sni.extend_from_slice(name.as_bytes());
        let list = (sni.len() - 2) as u16;
        sni[0..2].copy_from_slice(&list.to_be_bytes());
        let mut ext = vec![0, 0];
        ext.extend_from_slice(&(sni.len() as u16).to_be_bytes());
        ext.extend_from_slice(&sni);
        let mut body = vec![3, 3];
        body.extend_from_slice(&[0; 32]); // random
        body.push(0); // session id
        body.extend_from_slice(&[0, 2, 0x13, 0x01]); // one cipher suite
        body.extend_from_slice(&[1, 0]); // null compression
        body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        body.extend_from_slice(&ext);
        let mut hs = vec![1, 0];
        hs.extend_from_slice(&(body.len() as u16).to_be_bytes());
        hs.extend_from_slice(&body);
        let mut record = vec![22, 3, 1];
        record.extend_from_slice(&(hs.len() as u16).to_be_bytes());
        record.extend_from_slice(&hs);
        record
    }

    #[test]
    fn an_intercepted_flows_plaintext_is_read_as_http_and_its_findings_say_so() {
        let mut a = analyzer();
        a.flow_start(
            1,
            Proto::Tcp,
            "10.111.0.2:40000".parse().unwrap(),
            "10.201.0.2:443".parse().unwrap(),
            None,
        );
        a.data(
            1,
            Direction::Out,
            &client_hello("api.account.xiaomi.com"),
            t(),
        );
        assert_eq!(a.destination(1).unwrap().host_source, Some(HostSource::Sni));
        a.tls_mode(1, TlsMode::Intercepted);
        a.data(
            1,
            Direction::Out,
            b"GET /dev?imei=861234567890123 HTTP/1.1\r\nHost: api.account.xiaomi.com\r\n\r\n",
            t(),
        );
        a.flow_end(record(1, Proto::Tcp, "10.111.0.2:40000", "10.201.0.2:443"));
        let f = a.pop_finding().expect("the IMEI in the decrypted request");
        assert_eq!((f.kind.as_str(), f.place.as_str()), ("imei", "url"));
        assert_eq!(f.destination.tls, Some(TlsMode::Intercepted));
        assert_eq!(
            a.pop_finding(),
            None,
            "no encrypted-flow finding: it was read"
        );
        let r = a.pop_record().unwrap();
        assert_eq!(r.destination.tls, Some(TlsMode::Intercepted));
    }

    #[test]
    fn a_flow_that_passed_through_stays_an_encrypted_flow_marked_so() {
        let mut a = analyzer();
        a.flow_start(
            1,
            Proto::Tcp,
            "10.111.0.2:40000".parse().unwrap(),
            "10.201.0.2:443".parse().unwrap(),
            None,
        );
        a.data(
            1,
            Direction::Out,
            &client_hello("api.account.xiaomi.com"),
            t(),
        );
        a.tls_mode(1, TlsMode::Pinned);
        a.flow_end(record(1, Proto::Tcp, "10.111.0.2:40000", "10.201.0.2:443"));
        let f = a.pop_finding().expect("an encrypted-flow finding");
        assert_eq!(f.kind, Kind::EncryptedFlow);
        assert_eq!(f.destination.tls, Some(TlsMode::Pinned));
    }

    #[test]
    fn a_gzip_body_sent_without_content_encoding_is_a_finding_that_names_its_layer() {
        use std::io::Write;
        let mut a = analyzer();
        a.flow_start(
            1,
            Proto::Tcp,
            "10.111.0.2:40000".parse().unwrap(),
            "10.201.0.2:80".parse().unwrap(),
            None,
        );
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"{\"imei\":\"861234567890123\"}").unwrap();
        let body = gz.finish().unwrap();
        let head = format!(
            "POST /log HTTP/1.1\r\nHost: a.example\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        a.data(1, Direction::Out, &[head.as_bytes(), &body].concat(), t());
        let f = a.pop_finding().expect("the IMEI inside the gzip body");
        assert_eq!((f.kind, f.place), (Kind::Imei, Where::Body));
        assert_eq!(f.layers, [Layer::Gzip]);
        assert!(!f.evidence.contains("861234567890123"));
        assert_eq!(a.pop_finding(), None);
    }

    #[test]
    fn a_hole_in_the_stream_stops_parsing_it() {
        let mut a = analyzer();
        a.flow_start(
            1,
            Proto::Tcp,
            "10.111.0.2:40000".parse().unwrap(),
            "10.201.0.2:80".parse().unwrap(),
            None,
        );
        a.data(
            1,
            Direction::Out,
            b"POST /x HTTP/1.1\r\nHost: a.example\r\nContent-Length: 100\r\n\r\n",
            t(),
        );
        a.gap(1, Direction::Out);
        assert!(!a.follows(1));
        a.data(
            1,
            Direction::Out,
            b"GET /ping?imei=861234567890123 HTTP/1.1\r\n\r\n",
            t(),
        );
        assert_eq!(a.pop_finding(), None);
    }

    #[test]
    fn random_bytes_and_other_numbers_are_not_findings() {
        let mut a = analyzer();
        a.flow_start(
            1,
            Proto::Tcp,
            "10.111.0.2:40000".parse().unwrap(),
            "10.201.0.2:80".parse().unwrap(),
            None,
        );
        let body = "POST /order HTTP/1.1\r\nHost: shop.example\r\nContent-Length: 60\r\n\r\n\
                    {\"price\":\"1999.00\",\"order\":\"861234567890124\",\"ts\":1700000000}";
        a.data(1, Direction::Out, body.as_bytes(), t());
        let mut x: u32 = 7;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (x >> 24) as u8
            })
            .collect();
        a.flow_start(
            2,
            Proto::Udp,
            "10.111.0.2:5000".parse().unwrap(),
            "10.201.0.2:9999".parse().unwrap(),
            None,
        );
        a.data(2, Direction::Out, &noise, t());
        assert_eq!(a.pop_finding(), None);
    }
}
#[cfg(test)]
mod streaming;
