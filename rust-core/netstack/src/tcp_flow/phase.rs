//! Where an open TCP flow is in its life, and every way it moves on.
//!
//! Each side ends its own direction (a half-close), so the two ends move independently:
//! the client's FIN may come before, during or after the server's EOF. What the stack
//! must remember is how far each end has got, and whether the stack or the shell reset
//! the flow. The combinations that matter have names below ([`Phase::is_draining`],
//! [`Phase::close_reason`]).

use phonehome_model::CloseReason;

/// How far one direction of a flow has got toward its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// Bytes may still come.
    Open,
    /// The sender finished, but its last bytes still wait in the stack: the client's in
    /// `tail` for upstream credit, the server's in `down` for room in the send buffer.
    Ending,
    /// The other side was told: `TcpEof` went to the shell after the client's last byte,
    /// or our FIN to the client after the server's.
    Ended,
}

/// The phase of a TCP flow once its socket exists (before, it is `TcpFlow::Connecting`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// The connection's own life, from established (both ends `Open`) to both FINs
    /// exchanged and handed on (both `Ended`).
    Open { client: End, server: End },
    /// The stack or the shell reset the flow: its socket was aborted and the flow is
    /// reported with `reason` at its next poll. Until then the client's end still counts,
    /// since bytes already taken out of smoltcp may still be handed to the shell.
    Aborted { reason: CloseReason, client: End },
}

impl Phase {
    pub(crate) const ESTABLISHED: Phase = Phase::Open {
        client: End::Open,
        server: End::Open,
    };

    pub(crate) fn client(self) -> End {
        match self {
            Phase::Open { client, .. } | Phase::Aborted { client, .. } => client,
        }
    }

    /// The server's end; none once the flow is reset, as nothing goes to the client then.
    pub(crate) fn server(self) -> Option<End> {
        match self {
            Phase::Open { server, .. } => Some(server),
            Phase::Aborted { .. } => None,
        }
    }

    fn client_mut(&mut self) -> &mut End {
        match self {
            Phase::Open { client, .. } | Phase::Aborted { client, .. } => client,
        }
    }

    /// smoltcp has the client's FIN; its bytes may still wait for credit.
    pub(crate) fn client_fin(&mut self) {
        let client = self.client_mut();
        if *client == End::Open {
            *client = End::Ending;
        }
    }

    /// `TcpEof` was reported, after the client's last byte.
    pub(crate) fn client_eof_reported(&mut self) {
        *self.client_mut() = End::Ended;
    }

    /// The shell reported the server's EOF; our FIN follows the bytes in `down`.
    pub(crate) fn server_eof(&mut self) {
        if let Phase::Open {
            server: server @ End::Open,
            ..
        } = self
        {
            *server = End::Ending;
        }
    }

    /// Our FIN was queued in smoltcp.
    pub(crate) fn fin_queued(&mut self) {
        if let Phase::Open { server, .. } = self {
            *server = End::Ended;
        }
    }

    /// The stack or the shell resets the flow; a later reason replaces an earlier one.
    pub(crate) fn abort(&mut self, reason: CloseReason) {
        *self = Phase::Aborted {
            reason,
            client: self.client(),
        };
    }

    /// Server bytes are still wanted: the server has not finished and nobody reset.
    pub(crate) fn takes_server_data(self) -> bool {
        self.server() == Some(End::Open)
    }

    /// Both FINs were exchanged but the client's last bytes still wait for credit: the
    /// flow lives on whatever smoltcp's state, which may already be CLOSED.
    pub(crate) fn is_draining(self) -> bool {
        matches!(
            self,
            Phase::Open {
                client: End::Ending,
                server: End::Ended
            }
        )
    }

    /// Why the flow ended, once its socket is done: clean only if both ends were
    /// handed on, a client reset otherwise.
    pub(crate) fn close_reason(self) -> CloseReason {
        match self {
            Phase::Aborted { reason, .. } => reason,
            Phase::Open {
                client: End::Ended,
                server: End::Ended,
            } => CloseReason::Closed,
            Phase::Open { .. } => CloseReason::ClientReset,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_ends_handed_on_in_either_order_is_a_clean_close() {
        let mut client_first = Phase::ESTABLISHED;
        client_first.client_fin();
        client_first.client_eof_reported();
        client_first.server_eof();
        client_first.fin_queued();
        let mut server_first = Phase::ESTABLISHED;
        server_first.server_eof();
        server_first.fin_queued();
        server_first.client_fin();
        assert!(server_first.is_draining(), "the client's bytes still wait");
        assert_eq!(server_first.close_reason(), CloseReason::ClientReset);
        server_first.client_eof_reported();
        for phase in [client_first, server_first] {
            assert!(!phase.is_draining());
            assert_eq!(phase.close_reason(), CloseReason::Closed);
        }
    }

    #[test]
    fn a_reset_keeps_the_clients_end_and_the_latest_reason() {
        let mut phase = Phase::ESTABLISHED;
        phase.server_eof();
        phase.fin_queued();
        phase.client_fin();
        phase.abort(CloseReason::ServerReset);
        phase.abort(CloseReason::Idle);
        assert_eq!(phase.client(), End::Ending);
        assert!(
            !phase.is_draining(),
            "a reset flow does not wait for credit"
        );
        assert!(!phase.takes_server_data());
        assert_eq!(phase.close_reason(), CloseReason::Idle);
    }

    #[test]
    fn server_bytes_stop_at_the_servers_eof() {
        let mut phase = Phase::ESTABLISHED;
        assert!(phase.takes_server_data());
        phase.server_eof();
        assert!(!phase.takes_server_data());
        assert_eq!(phase.server(), Some(End::Ending));
    }
}
