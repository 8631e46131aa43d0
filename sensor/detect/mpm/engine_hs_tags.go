//go:build hyperscan && cgo && !hyperscan_v52 && !hyperscan_v54

package mpm

// The Hyperscan engine compiles patterns with gohs's pure-literal API,
// which gohs builds only with its own version tag: build with
// -tags hyperscan,hyperscan_v54 (Debian's libhyperscan-dev is 5.4).
var _ = build_with_tags_hyperscan_and_hyperscan_v54

const hyperscanCompiled = false

type hsScratch struct{}

func buildHyperscan(*table) (Matcher, error) { return nil, ErrNotSupported }
