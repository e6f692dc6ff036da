//! Any bytes as the server's side of an HTTP/1.1 connection whose requests asked for a
//! WebSocket upgrade, a CONNECT and a plain GET (the first byte picks their order and the
//! split); never panics. The headers of the 101 also go to the permessage-deflate reader.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phonehome_inspect::upgrade::{Answer, Ask, ResponseParser};
use phonehome_inspect::websocket::Deflate;

fuzz_target!(|data: &[u8]| {
    let Some((&knobs, rest)) = data.split_first() else {
        return;
    };
    let mut asks = [
        Ask::Plain { head: knobs & 1 != 0 },
        Ask::Upgrade {
            protocols: vec!["websocket".into()],
        },
        Ask::Connect {
            authority: "a.example:443".into(),
        },
    ];
    asks.rotate_left(usize::from(knobs >> 1) % 3);
    let mut parser = ResponseParser::default();
    for ask in asks {
        parser.expect(ask);
    }
    let cut = usize::from(knobs >> 3).min(rest.len());
    for piece in [&rest[..cut], &rest[cut..]] {
        let _ = parser.push(piece);
        while let Some(answer) = parser.next_answer() {
            if let Answer::Switched { head, .. } = answer {
                let _ = Deflate::from_response(&head.values("sec-websocket-extensions"));
            }
        }
        let _ = parser.take_rest();
    }
});
