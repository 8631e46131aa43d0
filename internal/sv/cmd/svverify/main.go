// Command svverify runs suricata-verify tests against polder's sensor and
// prints a table, a per-category breakdown and "N passed, N failed, N
// skipped". Test failures are the report, not an error: the exit status is
// 0 unless the harness itself fails (1) or the command line is wrong (2).
//
//	go run ./internal/sv/cmd/svverify -tests ../shared/corpus/suricata-verify -out /tmp/sv
//
// (make sv-verify TESTS=DIR OUT=DIR does the same.)
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"github.com/polder-nsm/polder/internal/sv"
)

func main() {
	os.Exit(run())
}

func run() int {
	fs := flag.NewFlagSet("svverify", flag.ContinueOnError)
	tests := fs.String("tests", "", "suricata-verify tests `dir` (with dev-tests.tsv, or test directories)")
	out := fs.String("out", "", "output `dir`: each test's EVE goes to OUT/<test>/eve.json")
	only := fs.String("run", "", "run only tests whose name contains this `substring`")
	width := fs.Int("width", 160, "clip reasons to this many characters")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	if *tests == "" || *out == "" || fs.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: svverify -tests DIR -out DIR [-run SUBSTRING]")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	env := sv.Env{Version: sv.DefaultVersion, Features: sv.DefaultFeatures, Environ: map[string]string{}}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		env.Environ[k] = v
	}
	opts := sv.Options{Root: *tests, Out: *out, Env: env}
	if *only != "" {
		all, err := sv.ListTests(*tests)
		if err != nil {
			fmt.Fprintln(os.Stderr, "svverify:", err)
			return 1
		}
		for _, e := range all {
			if strings.Contains(e.Name, *only) {
				opts.Tests = append(opts.Tests, e)
			}
		}
	}
	opts.Progress = func(r sv.Result) {
		fmt.Fprintf(os.Stderr, "===> %s: %s (%s)\n", r.Name, r.Status, r.Elapsed.Round(1e6))
	}
	rep, err := sv.Run(ctx, opts)
	if rep != nil {
		if werr := rep.WriteTable(os.Stdout, *width); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "svverify:", err)
		return 1
	}
	return 0
}
