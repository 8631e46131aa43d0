// Package inspect is the exact payload matcher of the rule engine: it
// compiles one rules.Buffer (its transforms and ordered match list) into
// a Program and decides whether some bytes satisfy it, with Suricata 7/8
// semantics (docs.suricata.io, "Payload keywords", "Transformations",
// "Base64 keywords").
//
// The detection engine prefilters with a multi-pattern matcher and calls
// Program.Match for the candidates. Match walks the list keeping the
// relative position (the end of the previous content, pcre or byte_jump
// match, Suricata's buffer_offset) and backtracks as Suricata's content
// inspection does: when a match after a content or pcre fails, and that
// match is relative to it, the content (pcre) is searched again from its
// previous occurrence + 1 and the following matches re-checked. A failed
// absolute content or isdataat ends the whole inspection at once (no
// earlier position can change it), and a per-call step budget
// (Options.RecursionLimit, Suricata's detect.inspection-recursion-limit,
// 3000) bounds pathological rules; hitting it is no match, and counted.
//
// Concurrency and ownership: a Program is immutable after Compile and is
// shared by every worker. A Scratch and a Vars belong to one goroutine.
// Match and Transform never allocate in steady state (the Scratch grows
// its buffers to the largest input seen), never panic on any input (every
// read is bounds-checked; see FuzzMatch), and keep no reference to data
// after they return, except the Scratch buffers documented on Transform
// and Scratch.Base64Data.
package inspect
