// Command polder is the polder network security monitoring appliance: the
// sensor, and (as later commands land) the store, web UI and orchestrator.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/polder-nsm/polder/internal/cli"
)

func main() {
	err := cli.New().Run(os.Args)
	os.Exit(exitCode(err))
}

// exitCode maps errors to the exit statuses scripts rely on: 0 success,
// 1 runtime failure (including input that was only partly readable), 2 usage
// or configuration errors.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	fmt.Fprintf(os.Stderr, "polder: %v\n", err)
	var ue *cli.UsageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}
