//! Files written by dumpcap/editcap (see data/README.md) read as tshark reads them.

use std::time::{Duration, SystemTime};

use phonehome_capture::{ip_payload, read_all, LinkType, Packet};

fn read(name: &str) -> Vec<Packet> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let file = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let (packets, err) = read_all(&file[..]);
    assert!(err.is_none(), "{name}: {err:?}");
    packets
}

fn at(secs: u64, nanos: u32) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::new(secs, nanos)
}

/// Every packet is loopback IPv4 ICMP: source and destination 127.0.0.1, protocol 1.
fn assert_loopback_icmp(name: &str, packets: &[Packet]) {
    for p in packets {
        let ip = ip_payload(p).unwrap_or_else(|| panic!("{name}: no IP in {p:?}"));
        assert_eq!(ip[0] >> 4, 4, "{name}");
        assert_eq!(ip[9], 1, "{name}: ICMP");
        assert_eq!(&ip[12..20], &[127, 0, 0, 1, 127, 0, 0, 1], "{name}");
    }
}

#[test]
fn dumpcap_ethernet_pcapng() {
    let p = read("lo-ethernet-dumpcap.pcapng");
    assert_eq!(p.len(), 4);
    assert!(p.iter().all(|p| p.linktype == LinkType::ETHERNET));
    assert_eq!(p[0].ts, at(1_795_465_129, 285_974_113));
    assert_eq!(p[3].ts, at(1_795_465_130, 292_202_865));
    assert_eq!((p[0].data.len(), p[0].orig_len), (98, 98));
    assert_loopback_icmp("lo pcapng", &p);
}

#[test]
fn editcap_ethernet_pcap_microseconds() {
    let p = read("lo-ethernet-editcap.pcap");
    assert_eq!(p.len(), 4);
    assert_eq!(p[0].ts, at(1_795_465_129, 285_974_000));
    assert_loopback_icmp("lo pcap", &p);
    let ng = read("lo-ethernet-dumpcap.pcapng");
    for (a, b) in p.iter().zip(&ng) {
        assert_eq!(a.data, b.data);
    }
}

#[test]
fn linux_cooked_captures() {
    for name in ["any-sll-dumpcap.pcapng", "any-sll-editcap.pcap"] {
        let p = read(name);
        assert_eq!(p.len(), 2, "{name}");
        assert!(
            p.iter().all(|p| p.linktype == LinkType::LINUX_SLL),
            "{name}"
        );
        assert_loopback_icmp(name, &p);
    }
}

#[test]
fn our_file_rewritten_by_editcap() {
    let ng = read("phonehome-editcap.pcapng");
    let comments: Vec<_> = ng.iter().map(|p| p.comment.as_deref()).collect();
    assert_eq!(
        comments,
        [
            Some("flow=12 app=com.example uid=10123"),
            None,
            Some("flow=13 app=com.xiaomi.xmsf uid=1000 ✓"),
        ]
    );
    assert_eq!(ng[0].ts, at(1_408_000_000, 123_456_789));
    let pcap = read("phonehome-editcap-nsec.pcap");
    assert_eq!(pcap.len(), 3);
    for (a, b) in pcap.iter().zip(&ng) {
        assert_eq!((a.ts, &a.data, a.linktype), (b.ts, &b.data, LinkType::RAW));
        assert!(ip_payload(a).is_some());
    }
}
