// Package threshold decides what becomes of a signature match once the
// detection engine has found it: alert, match silently, or not count at all.
// It implements Suricata 7/8 alert thresholding: the threshold and
// detection_filter rule keywords and the suppress, threshold, event_filter
// and rate_filter lines of threshold.config (docs.suricata.io, "Rule
// Thresholding" and "Global-Thresholds").
//
// # Verdicts
//
// Check returns one of three verdicts, following the notes of "Rule
// Thresholding":
//
//   - Alert: raise the alert and apply the rule's action (or the new action
//     a rate_filter returns with it).
//   - Suppressed: a silent match. Apply the rule's action (drop, reject,
//     pass) but raise no alert: suppress entries, limit past its count, both
//     past its count, backoff between its alerts.
//   - Ignore: the match does not take effect at all, neither alert nor
//     action, and tag is skipped: threshold and both before their count,
//     detection_filter up to its count, backoff's first match when count > 1.
//
// In every case the keywords that change state (flowbits, xbits, hostbits,
// flowint set/unset/toggle) have already run: they are not subject to
// thresholding.
//
// # Counting
//
// Every filter counts matches in a fixed window that opens at the first
// match it counts and lasts its seconds; the first match after the window
// closes opens a new one with a count of 1. With C the count and n the
// match's number in its window:
//
//	limit             n ≤ C: Alert; n > C: Suppressed
//	threshold         n = C: Alert and the count restarts at 0 (same window); else Ignore
//	both              n < C: Ignore; n = C: Alert; n > C: Suppressed
//	detection_filter  n ≤ C: Ignore; n > C: Alert
//	backoff           no window; Alert when n = C, C·M, C·M², ...; else
//	                  Suppressed, except n = 1 with C > 1: Ignore
//	rate_filter       always Alert; from n = C+1 on, the new action for
//	                  timeout seconds (matches are not counted meanwhile);
//	                  when the timeout has passed the match is counted again
//
// The suricata-verify tests threshold/threshold-rule-flow,
// threshold/detection_filter-rule-flow, threshold-config-byrule,
// threshold/threshold-config-threshold-limit-flow,
// threshold/threshold-config-suppress-by{src,dst}-ip and
// threshold/threshold-config-rate-filter-alert-hostsrc are encoded in
// table_test.go.
//
// # Tracking
//
// by_src and by_dst key on the packet's source or destination address,
// by_both on the unordered address pair (both directions between two hosts
// are one pair, as the Global-Thresholds page says), by_rule on the
// signature alone and by_flow on Event.FlowID. A filter whose key is missing
// (no flow for by_flow, an invalid address for the others) does not apply
// to that match: Suricata does not threshold what it cannot key.
//
// # Which filters apply
//
// For a signature gid:sid, first every suppress entry naming it (gid:sid,
// gid:0, or 0:0) is tried, in file order; one that matches the packet's
// addresses makes the match Suppressed without counting it anywhere. Then
// the signature's filters are evaluated in order; the first verdict other
// than Alert ends the evaluation:
//
//  1. the rule's own threshold and detection_filter, in rule order;
//  2. a threshold/event_filter entry for gid:sid replaces the rule's own
//     filter (the later of the two keywords when a rule has both) and is
//     evaluated after what remains; of several entries the last wins;
//  3. rate_filter entries for gid:sid, only when 1 and 2 left none: as in
//     Suricata, the rule's own thresholding takes precedence;
//  4. when 1 to 3 left none, the first wildcard entry (gid:0 or 0:0) of
//     kind threshold, event_filter or rate_filter in file order. Wildcards
//     never override a rule's own keywords (Suricata bug #425).
//
// An entry with sig_id > 0 and gen_id 0 is refused, as Suricata does.
//
// # Concurrency and memory
//
// A Table is shared by every worker: Check takes one mutex, which is cheap
// because it runs only on signature matches (a signature without any filter
// returns without locking when the table has no entries). Counting state is
// bounded by Options.MaxEntries: entries whose window has passed are dropped
// as they are met, and when the table is full the least recently used entry
// is evicted (its count restarts), counted in Stats.Evicted. Time is the
// packet time of each Event, so offline replays are deterministic.
package threshold
