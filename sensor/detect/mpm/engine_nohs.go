//go:build !hyperscan || !cgo

package mpm

import "fmt"

// hyperscanCompiled reports whether the Hyperscan engine is in this binary.
const hyperscanCompiled = false

type hsScratch struct{}

func buildHyperscan(*table) (Matcher, error) {
	return nil, fmt.Errorf("build mpm: engine %s: %w (build with cgo and -tags hyperscan,hyperscan_v54; needs libhyperscan-dev)", EngineHyperscan, ErrNotSupported)
}
