// Reason table: one constant per Suricata 8 decoder event, in the order of
// decoder-events.rules (plus sctp/esp events from decode-events.c). Names
// are Suricata's and must not change: EVE anomaly events and stats use them.

package decode

// Reasons, one per Suricata decoder event (decoder-events.rules, decode-events.c).
const (
	ReasonIPv4PktTooSmall               Reason = iota + 1 // ipv4.pkt_too_small
	ReasonIPv4HlenTooSmall                                // ipv4.hlen_too_small
	ReasonIPv4IPLenSmallerThanHlen                        // ipv4.iplen_smaller_than_hlen
	ReasonIPv4TruncPkt                                    // ipv4.trunc_pkt
	ReasonIPv4OptInvalid                                  // ipv4.opt_invalid
	ReasonIPv4OptInvalidLen                               // ipv4.opt_invalid_len
	ReasonIPv4OptMalformed                                // ipv4.opt_malformed
	ReasonIPv4OptPadRequired                              // ipv4.opt_pad_required
	ReasonIPv4OptEOLRequired                              // ipv4.opt_eol_required
	ReasonIPv4OptDuplicate                                // ipv4.opt_duplicate
	ReasonIPv4OptUnknown                                  // ipv4.opt_unknown
	ReasonIPv4WrongIPVersion                              // ipv4.wrong_ip_version
	ReasonIPv4ICMPv6                                      // ipv4.icmpv6
	ReasonIPv4FragPktTooLarge                             // ipv4.frag_pkt_too_large
	ReasonIPv4FragOverlap                                 // ipv4.frag_overlap
	ReasonIPv6PktTooSmall                                 // ipv6.pkt_too_small
	ReasonIPv6TruncPkt                                    // ipv6.trunc_pkt
	ReasonIPv6TruncExthdr                                 // ipv6.trunc_exthdr
	ReasonIPv6ExthdrDuplFH                                // ipv6.exthdr_dupl_fh
	ReasonIPv6ExthdrUselessFH                             // ipv6.exthdr_useless_fh
	ReasonIPv6ExthdrDuplRH                                // ipv6.exthdr_dupl_rh
	ReasonIPv6ExthdrDuplHH                                // ipv6.exthdr_dupl_hh
	ReasonIPv6ExthdrDuplDH                                // ipv6.exthdr_dupl_dh
	ReasonIPv6ExthdrDuplAH                                // ipv6.exthdr_dupl_ah
	ReasonIPv6ExthdrDuplEH                                // ipv6.exthdr_dupl_eh
	ReasonIPv6ExthdrInvalidOptlen                         // ipv6.exthdr_invalid_optlen
	ReasonIPv6WrongIPVersion                              // ipv6.wrong_ip_version
	ReasonIPv6ExthdrAHResNotNull                          // ipv6.exthdr_ah_res_not_null
	ReasonIPv6HopoptsUnknownOpt                           // ipv6.hopopts_unknown_opt
	ReasonIPv6HopoptsOnlyPadding                          // ipv6.hopopts_only_padding
	ReasonIPv6DstoptsUnknownOpt                           // ipv6.dstopts_unknown_opt
	ReasonIPv6DstoptsOnlyPadding                          // ipv6.dstopts_only_padding
	ReasonIPv6RHType0                                     // ipv6.rh_type_0
	ReasonIPv6ZeroLenPadN                                 // ipv6.zero_len_padn
	ReasonIPv6FHNonZeroReservedField                      // ipv6.fh_non_zero_reserved_field
	ReasonIPv6DataAfterNoneHeader                         // ipv6.data_after_none_header
	ReasonIPv6UnknownNextHeader                           // ipv6.unknown_next_header
	ReasonIPv6ICMPv4                                      // ipv6.icmpv4
	ReasonIPv6FragPktTooLarge                             // ipv6.frag_pkt_too_large
	ReasonIPv6FragOverlap                                 // ipv6.frag_overlap
	ReasonIPv6FragInvalidLength                           // ipv6.frag_invalid_length
	ReasonIPv6IPv4InIPv6TooSmall                          // ipv6.ipv4_in_ipv6_too_small
	ReasonIPv6IPv4InIPv6WrongVersion                      // ipv6.ipv4_in_ipv6_wrong_version
	ReasonIPv6IPv6InIPv6TooSmall                          // ipv6.ipv6_in_ipv6_too_small
	ReasonIPv6IPv6InIPv6WrongVersion                      // ipv6.ipv6_in_ipv6_wrong_version
	ReasonICMPv4PktTooSmall                               // icmpv4.pkt_too_small
	ReasonICMPv4UnknownType                               // icmpv4.unknown_type
	ReasonICMPv4UnknownCode                               // icmpv4.unknown_code
	ReasonICMPv4IPv4TruncPkt                              // icmpv4.ipv4_trunc_pkt
	ReasonICMPv4IPv4UnknownVer                            // icmpv4.ipv4_unknown_ver
	ReasonICMPv6PktTooSmall                               // icmpv6.pkt_too_small
	ReasonICMPv6UnknownType                               // icmpv6.unknown_type
	ReasonICMPv6UnknownCode                               // icmpv6.unknown_code
	ReasonICMPv6IPv6TruncPkt                              // icmpv6.ipv6_trunc_pkt
	ReasonICMPv6IPv6UnknownVersion                        // icmpv6.ipv6_unknown_version
	ReasonICMPv6MLDMessageWithInvalidHL                   // icmpv6.mld_message_with_invalid_hl
	ReasonICMPv6UnassignedType                            // icmpv6.unassigned_type
	ReasonICMPv6ExperimentationType                       // icmpv6.experimentation_type
	ReasonTCPPktTooSmall                                  // tcp.pkt_too_small
	ReasonTCPHlenTooSmall                                 // tcp.hlen_too_small
	ReasonTCPInvalidOptlen                                // tcp.invalid_optlen
	ReasonTCPOptInvalidLen                                // tcp.opt_invalid_len
	ReasonTCPOptDuplicate                                 // tcp.opt_duplicate
	ReasonUDPPktTooSmall                                  // udp.pkt_too_small
	ReasonUDPHlenTooSmall                                 // udp.hlen_too_small
	ReasonUDPLenInvalid                                   // udp.len_invalid
	ReasonSCTPPktTooSmall                                 // sctp.pkt_too_small
	ReasonESPPktTooSmall                                  // esp.pkt_too_small
	ReasonSLLPktTooSmall                                  // sll.pkt_too_small
	ReasonEthernetPktTooSmall                             // ethernet.pkt_too_small
	ReasonEthernetUnknownEthertype                        // ethernet.unknown_ethertype
	ReasonPPPPktTooSmall                                  // ppp.pkt_too_small
	ReasonPPPIPv4PktTooSmall                              // ppp.ip4_pkt_too_small
	ReasonPPPIPv6PktTooSmall                              // ppp.ip6_pkt_too_small
	ReasonPPPWrongType                                    // ppp.wrong_type
	ReasonPPPUnsupProto                                   // ppp.unsup_proto
	ReasonPPPoEPktTooSmall                                // pppoe.pkt_too_small
	ReasonPPPoEWrongCode                                  // pppoe.wrong_code
	ReasonPPPoEMalformedTags                              // pppoe.malformed_tags
	ReasonGREPktTooSmall                                  // gre.pkt_too_small
	ReasonGREWrongVersion                                 // gre.wrong_version
	ReasonGREVersion0Recur                                // gre.version0_recur
	ReasonGREVersion0Flags                                // gre.version0_flags
	ReasonGREVersion0HdrTooBig                            // gre.version0_hdr_too_big
	ReasonGREVersion0MalformedSREHdr                      // gre.version0_malformed_sre_hdr
	ReasonGREVersion1Chksum                               // gre.version1_chksum
	ReasonGREVersion1Route                                // gre.version1_route
	ReasonGREVersion1SSR                                  // gre.version1_ssr
	ReasonGREVersion1Recur                                // gre.version1_recur
	ReasonGREVersion1Flags                                // gre.version1_flags
	ReasonGREVersion1NoKey                                // gre.version1_no_key
	ReasonGREVersion1WrongProtocol                        // gre.version1_wrong_protocol
	ReasonGREVersion1MalformedSREHdr                      // gre.version1_malformed_sre_hdr
	ReasonGREVersion1HdrTooBig                            // gre.version1_hdr_too_big
	ReasonVLANHeaderTooSmall                              // vlan.header_too_small
	ReasonVLANUnknownType                                 // vlan.unknown_type
	ReasonVLANTooManyLayers                               // vlan.too_many_layers
	ReasonIPRawInvalidIPVersion                           // ipraw.invalid_ip_version
	ReasonMPLSHeaderTooSmall                              // mpls.header_too_small
	ReasonMPLSPktTooSmall                                 // mpls.pkt_too_small
	ReasonMPLSBadLabelRouterAlert                         // mpls.bad_label_router_alert
	ReasonMPLSBadLabelImplicitNull                        // mpls.bad_label_implicit_null
	ReasonMPLSBadLabelReserved                            // mpls.bad_label_reserved
	ReasonMPLSUnknownPayloadType                          // mpls.unknown_payload_type
	ReasonLTNullPktTooSmall                               // ltnull.pkt_too_small
	ReasonLTNullUnsupportedType                           // ltnull.unsupported_type
	ReasonERSPANHeaderTooSmall                            // erspan.header_too_small
	ReasonERSPANUnsupportedVersion                        // erspan.unsupported_version
	ReasonERSPANTooManyVLANLayers                         // erspan.too_many_vlan_layers
	ReasonTooManyLayers                                   // too_many_layers

	numReasons // one past the last Reason
)

var reasonNames = [numReasons]string{
	ReasonNone:                          "none",
	ReasonIPv4PktTooSmall:               "ipv4.pkt_too_small",
	ReasonIPv4HlenTooSmall:              "ipv4.hlen_too_small",
	ReasonIPv4IPLenSmallerThanHlen:      "ipv4.iplen_smaller_than_hlen",
	ReasonIPv4TruncPkt:                  "ipv4.trunc_pkt",
	ReasonIPv4OptInvalid:                "ipv4.opt_invalid",
	ReasonIPv4OptInvalidLen:             "ipv4.opt_invalid_len",
	ReasonIPv4OptMalformed:              "ipv4.opt_malformed",
	ReasonIPv4OptPadRequired:            "ipv4.opt_pad_required",
	ReasonIPv4OptEOLRequired:            "ipv4.opt_eol_required",
	ReasonIPv4OptDuplicate:              "ipv4.opt_duplicate",
	ReasonIPv4OptUnknown:                "ipv4.opt_unknown",
	ReasonIPv4WrongIPVersion:            "ipv4.wrong_ip_version",
	ReasonIPv4ICMPv6:                    "ipv4.icmpv6",
	ReasonIPv4FragPktTooLarge:           "ipv4.frag_pkt_too_large",
	ReasonIPv4FragOverlap:               "ipv4.frag_overlap",
	ReasonIPv6PktTooSmall:               "ipv6.pkt_too_small",
	ReasonIPv6TruncPkt:                  "ipv6.trunc_pkt",
	ReasonIPv6TruncExthdr:               "ipv6.trunc_exthdr",
	ReasonIPv6ExthdrDuplFH:              "ipv6.exthdr_dupl_fh",
	ReasonIPv6ExthdrUselessFH:           "ipv6.exthdr_useless_fh",
	ReasonIPv6ExthdrDuplRH:              "ipv6.exthdr_dupl_rh",
	ReasonIPv6ExthdrDuplHH:              "ipv6.exthdr_dupl_hh",
	ReasonIPv6ExthdrDuplDH:              "ipv6.exthdr_dupl_dh",
	ReasonIPv6ExthdrDuplAH:              "ipv6.exthdr_dupl_ah",
	ReasonIPv6ExthdrDuplEH:              "ipv6.exthdr_dupl_eh",
	ReasonIPv6ExthdrInvalidOptlen:       "ipv6.exthdr_invalid_optlen",
	ReasonIPv6WrongIPVersion:            "ipv6.wrong_ip_version",
	ReasonIPv6ExthdrAHResNotNull:        "ipv6.exthdr_ah_res_not_null",
	ReasonIPv6HopoptsUnknownOpt:         "ipv6.hopopts_unknown_opt",
	ReasonIPv6HopoptsOnlyPadding:        "ipv6.hopopts_only_padding",
	ReasonIPv6DstoptsUnknownOpt:         "ipv6.dstopts_unknown_opt",
	ReasonIPv6DstoptsOnlyPadding:        "ipv6.dstopts_only_padding",
	ReasonIPv6RHType0:                   "ipv6.rh_type_0",
	ReasonIPv6ZeroLenPadN:               "ipv6.zero_len_padn",
	ReasonIPv6FHNonZeroReservedField:    "ipv6.fh_non_zero_reserved_field",
	ReasonIPv6DataAfterNoneHeader:       "ipv6.data_after_none_header",
	ReasonIPv6UnknownNextHeader:         "ipv6.unknown_next_header",
	ReasonIPv6ICMPv4:                    "ipv6.icmpv4",
	ReasonIPv6FragPktTooLarge:           "ipv6.frag_pkt_too_large",
	ReasonIPv6FragOverlap:               "ipv6.frag_overlap",
	ReasonIPv6FragInvalidLength:         "ipv6.frag_invalid_length",
	ReasonIPv6IPv4InIPv6TooSmall:        "ipv6.ipv4_in_ipv6_too_small",
	ReasonIPv6IPv4InIPv6WrongVersion:    "ipv6.ipv4_in_ipv6_wrong_version",
	ReasonIPv6IPv6InIPv6TooSmall:        "ipv6.ipv6_in_ipv6_too_small",
	ReasonIPv6IPv6InIPv6WrongVersion:    "ipv6.ipv6_in_ipv6_wrong_version",
	ReasonICMPv4PktTooSmall:             "icmpv4.pkt_too_small",
	ReasonICMPv4UnknownType:             "icmpv4.unknown_type",
	ReasonICMPv4UnknownCode:             "icmpv4.unknown_code",
	ReasonICMPv4IPv4TruncPkt:            "icmpv4.ipv4_trunc_pkt",
	ReasonICMPv4IPv4UnknownVer:          "icmpv4.ipv4_unknown_ver",
	ReasonICMPv6PktTooSmall:             "icmpv6.pkt_too_small",
	ReasonICMPv6UnknownType:             "icmpv6.unknown_type",
	ReasonICMPv6UnknownCode:             "icmpv6.unknown_code",
	ReasonICMPv6IPv6TruncPkt:            "icmpv6.ipv6_trunc_pkt",
	ReasonICMPv6IPv6UnknownVersion:      "icmpv6.ipv6_unknown_version",
	ReasonICMPv6MLDMessageWithInvalidHL: "icmpv6.mld_message_with_invalid_hl",
	ReasonICMPv6UnassignedType:          "icmpv6.unassigned_type",
	ReasonICMPv6ExperimentationType:     "icmpv6.experimentation_type",
	ReasonTCPPktTooSmall:                "tcp.pkt_too_small",
	ReasonTCPHlenTooSmall:               "tcp.hlen_too_small",
	ReasonTCPInvalidOptlen:              "tcp.invalid_optlen",
	ReasonTCPOptInvalidLen:              "tcp.opt_invalid_len",
	ReasonTCPOptDuplicate:               "tcp.opt_duplicate",
	ReasonUDPPktTooSmall:                "udp.pkt_too_small",
	ReasonUDPHlenTooSmall:               "udp.hlen_too_small",
	ReasonUDPLenInvalid:                 "udp.len_invalid",
	ReasonSCTPPktTooSmall:               "sctp.pkt_too_small",
	ReasonESPPktTooSmall:                "esp.pkt_too_small",
	ReasonSLLPktTooSmall:                "sll.pkt_too_small",
	ReasonEthernetPktTooSmall:           "ethernet.pkt_too_small",
	ReasonEthernetUnknownEthertype:      "ethernet.unknown_ethertype",
	ReasonPPPPktTooSmall:                "ppp.pkt_too_small",
	ReasonPPPIPv4PktTooSmall:            "ppp.ip4_pkt_too_small",
	ReasonPPPIPv6PktTooSmall:            "ppp.ip6_pkt_too_small",
	ReasonPPPWrongType:                  "ppp.wrong_type",
	ReasonPPPUnsupProto:                 "ppp.unsup_proto",
	ReasonPPPoEPktTooSmall:              "pppoe.pkt_too_small",
	ReasonPPPoEWrongCode:                "pppoe.wrong_code",
	ReasonPPPoEMalformedTags:            "pppoe.malformed_tags",
	ReasonGREPktTooSmall:                "gre.pkt_too_small",
	ReasonGREWrongVersion:               "gre.wrong_version",
	ReasonGREVersion0Recur:              "gre.version0_recur",
	ReasonGREVersion0Flags:              "gre.version0_flags",
	ReasonGREVersion0HdrTooBig:          "gre.version0_hdr_too_big",
	ReasonGREVersion0MalformedSREHdr:    "gre.version0_malformed_sre_hdr",
	ReasonGREVersion1Chksum:             "gre.version1_chksum",
	ReasonGREVersion1Route:              "gre.version1_route",
	ReasonGREVersion1SSR:                "gre.version1_ssr",
	ReasonGREVersion1Recur:              "gre.version1_recur",
	ReasonGREVersion1Flags:              "gre.version1_flags",
	ReasonGREVersion1NoKey:              "gre.version1_no_key",
	ReasonGREVersion1WrongProtocol:      "gre.version1_wrong_protocol",
	ReasonGREVersion1MalformedSREHdr:    "gre.version1_malformed_sre_hdr",
	ReasonGREVersion1HdrTooBig:          "gre.version1_hdr_too_big",
	ReasonVLANHeaderTooSmall:            "vlan.header_too_small",
	ReasonVLANUnknownType:               "vlan.unknown_type",
	ReasonVLANTooManyLayers:             "vlan.too_many_layers",
	ReasonIPRawInvalidIPVersion:         "ipraw.invalid_ip_version",
	ReasonMPLSHeaderTooSmall:            "mpls.header_too_small",
	ReasonMPLSPktTooSmall:               "mpls.pkt_too_small",
	ReasonMPLSBadLabelRouterAlert:       "mpls.bad_label_router_alert",
	ReasonMPLSBadLabelImplicitNull:      "mpls.bad_label_implicit_null",
	ReasonMPLSBadLabelReserved:          "mpls.bad_label_reserved",
	ReasonMPLSUnknownPayloadType:        "mpls.unknown_payload_type",
	ReasonLTNullPktTooSmall:             "ltnull.pkt_too_small",
	ReasonLTNullUnsupportedType:         "ltnull.unsupported_type",
	ReasonERSPANHeaderTooSmall:          "erspan.header_too_small",
	ReasonERSPANUnsupportedVersion:      "erspan.unsupported_version",
	ReasonERSPANTooManyVLANLayers:       "erspan.too_many_vlan_layers",
	ReasonTooManyLayers:                 "too_many_layers",
}
