// Package pcre is the regex engine of the pcre rule keyword: it parses a
// Suricata pcre value (ParseSuricata), compiles the pattern with
// Suricata's semantics (Compile) and matches it against a byte buffer
// without allocating (Regexp.Match with a per-worker Scratch).
//
// Two engines implement it. With cgo (the default build; `make deps`
// installs libpcre2-dev) it is PCRE2 10.42 through a small in-house
// wrapper: compiled without PCRE2_UTF so matching is bytewise, JIT when
// available, Suricata's match and depth limits. Without cgo, or with the
// nopcre2 build tag, it is github.com/dlclark/regexp2 on bytes mapped 1:1
// to runes, behind a translator that renders PCRE syntax exactly or
// refuses the pattern, so a rule is rejected rather than misjudged.
//
// A Regexp is immutable and shared by all workers; a Scratch belongs to
// one worker. Limits (match limit, depth limit, timeout) surface as a
// Limit error from Match, which Suricata counts and treats as no match.
package pcre
