package flow

import "github.com/polder-nsm/polder/sensor/decode"

// acks reports whether ack acknowledges a FIN sent with sequence number fin
// (the FIN occupies one sequence number), in modulo-2^32 arithmetic.
func acks(ack, fin uint32) bool { return int32(ack-(fin+1)) >= 0 }

// updateTCP advances f's TCP state machine for a packet travelling in dir.
// It follows Suricata's stream engine closely enough to reproduce its EVE
// tcp.state and flow.state, without window or sequence validation (the
// stream package owns sequence tracking):
//
//   - no SYN seen: no session (state none, flags not recorded), unless
//     midstream is set, which starts the session established as Suricata's
//     stream.midstream does (syn_recv when the first packet is a SYN/ACK);
//   - a first packet with RST, or FIN without midstream, starts no session;
//   - the handshake ACK must acknowledge the SYN/ACK; an RST in syn_sent
//     must acknowledge the SYN, later ones must sit at the sender's next
//     sequence number (Suricata's RST check for its default host OS
//     policy, "windows"), otherwise they are ignored;
//   - close states are named from the server's side: client FIN →
//     close_wait → server FIN → last_ack → ACK → closed; server FIN →
//     fin_wait1 → ACK → fin_wait2 → client FIN → time_wait → ACK → closed.
func (f *Flow) updateTCP(dir Direction, p *decode.Packet, midstream bool) {
	fl := p.TCPFlags
	syn, ack, fin, rst := fl&decode.TCPSyn != 0, fl&decode.TCPAck != 0, fl&decode.TCPFin != 0, fl&decode.TCPRst != 0
	peer := dir.Reverse()
	s := f.TCPState
	// seqEnd: the sequence number after this segment.
	end := p.TCPSeq + uint32(len(p.Payload))
	if syn {
		end++
	}
	if fin {
		end++
	}
	// An RST counts only if it is where the sender's next byte is
	// (Suricata's check for its default "windows" host OS policy).
	validRst := rst && p.TCPSeq == f.seqEnd[dir]
	switch s {
	case TCPNone:
		// Like Suricata, a first packet with RST or FIN starts no session.
		switch {
		case rst:
		case fin && !midstream:
		case syn && ack:
			// The SYN was missed: Suricata starts a session only with
			// stream.midstream.
			if midstream {
				s = TCPSynRecv
				f.Flags |= FlagMidstream
				f.finSeq[dir] = p.TCPSeq
			}
		case syn:
			s = TCPSynSent
			f.finSeq[dir] = p.TCPSeq
		case midstream:
			s = TCPEstablished
			f.Flags |= FlagMidstream
		}
	case TCPSynSent:
		switch {
		case rst:
			// Valid when it acknowledges the SYN: the port is closed.
			if dir == ToClient && ack && p.TCPAck == f.finSeq[ToServer]+1 {
				s = TCPClosed
			}
		case syn && dir == ToClient:
			s = TCPSynRecv
			f.finSeq[dir] = p.TCPSeq
		}
	case TCPSynRecv:
		switch {
		case rst:
			if validRst {
				s = TCPClosed
			}
		case ack && !syn && dir == ToServer && p.TCPAck == f.finSeq[ToClient]+1:
			s = TCPEstablished
		}
	case TCPClosed:
	default:
		if rst {
			if validRst {
				s = TCPClosed
			}
			break
		}
		if fin {
			f.finSeq[dir] = p.TCPSeq + uint32(len(p.Payload))
		}
		switch s {
		case TCPEstablished:
			if fin {
				if dir == ToServer {
					s = TCPCloseWait
				} else {
					s = TCPFinWait1
				}
			}
		case TCPFinWait1: // server sent FIN
			if dir == ToServer {
				switch {
				case fin && ack && acks(p.TCPAck, f.finSeq[peer]):
					s = TCPTimeWait
				case fin:
					s = TCPClosing
				case ack && acks(p.TCPAck, f.finSeq[peer]):
					s = TCPFinWait2
				}
			}
		case TCPFinWait2:
			if dir == ToServer && fin {
				s = TCPTimeWait
			}
		case TCPClosing:
			if ack && acks(p.TCPAck, f.finSeq[peer]) {
				s = TCPTimeWait
			}
		case TCPCloseWait: // client sent FIN
			if dir == ToClient && fin {
				s = TCPLastAck
			}
		case TCPLastAck:
			if dir == ToServer && ack && acks(p.TCPAck, f.finSeq[peer]) {
				s = TCPClosed
			}
		case TCPTimeWait:
			if ack && acks(p.TCPAck, f.finSeq[peer]) {
				s = TCPClosed
			}
		}
	}
	if f.TCPFlags[dir] == 0 || int32(end-f.seqEnd[dir]) > 0 {
		f.seqEnd[dir] = end
	}
	f.TCPState = s
	if s != TCPNone {
		f.TCPFlags[dir] |= fl
	}
	switch s {
	case TCPEstablished, TCPFinWait1, TCPFinWait2, TCPClosing, TCPCloseWait:
		f.State = StateEstablished
	case TCPLastAck, TCPTimeWait, TCPClosed:
		f.State = StateClosed
	}
}
