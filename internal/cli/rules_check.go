package cli

import (
	"encoding/json"
	"fmt"

	ucli "github.com/urfave/cli/v2"

	"github.com/polder-nsm/polder/sensor/config"
	"github.com/polder-nsm/polder/sensor/rules"
)

func rulesCommand() *ucli.Command {
	return &ucli.Command{
		Name:        "rules",
		Usage:       "work with Suricata rule files",
		Subcommands: []*ucli.Command{rulesCheckCommand()},
	}
}

func rulesCheckCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "check",
		Usage:     "check that rule files parse, like suricata -T",
		ArgsUsage: "FILE...",
		Description: `Parses every rule of every FILE with the rule variables of the sensor config
(--config, or the defaults of suricata.yaml) and reports each rule that would be
refused, with file, line, column, sid and keyword. With --classification, a
classtype missing from that classification.config refuses the rule. Duplicate gid:sid pairs are
checked across all FILEs. Rules that load but can never match (the content they need
is longer than their bsize, dsize or urilen allows) get a warning in Suricata's words,
"signature can't match as required content length 14 exceeds bsize value: 2";
Suricata refuses such rules, polder loads them. With --json, writes one JSON object
per rule: {"file","line","sid","valid","error","warnings"} ("error" only for invalid
rules; "warnings", a list of {"line","col","keyword","message"}, only when there are some).
The exit status is 1 when any rule is invalid (or, with --strict, has a warning),
2 for usage errors.`,
		Flags: []ucli.Flag{
			&ucli.BoolFlag{Name: "json", Usage: "one JSON object per rule on stdout"},
			&ucli.BoolFlag{Name: "strict", Usage: "fail (exit 1) on warnings too, as Suricata refuses those rules"},
			&ucli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "take rule variables from sensor config `FILE` (YAML)"},
			&ucli.StringFlag{Name: "classification", Usage: "refuse classtypes missing from classification.config `FILE`"},
		},
		Action: func(c *ucli.Context) error {
			if c.NArg() == 0 {
				return usagef("rules check: want at least one rule file")
			}
			cfg := config.Default()
			if p := c.String("config"); p != "" {
				var err error
				if cfg, err = config.Load(p); err != nil {
					return &UsageError{err}
				}
			}
			opts := rules.LoadOptions{Vars: rules.Vars{
				AddressGroups: cfg.Vars.AddressGroups,
				PortGroups:    cfg.Vars.PortGroups,
			}}
			if p := c.String("classification"); p != "" {
				classes, errs := rules.LoadClassifications(p)
				if len(errs) > 0 {
					return &UsageError{errs}
				}
				opts.Classifications = classes
			}
			set, results := rules.Check(c.Args().Slice(), opts)
			w := c.App.Writer
			invalid, warned := 0, 0
			enc := json.NewEncoder(w)
			for _, r := range results {
				if !r.Valid {
					invalid++
				}
				if len(r.Warnings) > 0 {
					warned++
				}
				if c.Bool("json") {
					line := checkLine{File: r.File, Line: r.Line, SID: r.SID, Valid: r.Valid}
					if r.Err != nil {
						line.Error = r.Err.Error()
					}
					for _, x := range r.Warnings {
						line.Warnings = append(line.Warnings, checkWarning{Line: x.Line, Col: x.Col, Keyword: x.Keyword, Message: x.Msg})
					}
					if err := enc.Encode(line); err != nil {
						return fmt.Errorf("write result: %w", err)
					}
					continue
				}
				if r.Err != nil {
					fmt.Fprintln(w, r.Err)
				}
				for _, x := range r.Warnings {
					fmt.Fprintln(w, "warning: "+x.String())
				}
			}
			if !c.Bool("json") {
				fmt.Fprintf(w, "%d rules loaded, %d invalid, %d commented out, %d with warnings\n", len(set.Rules), invalid, set.Commented, warned)
			}
			switch {
			case invalid > 0:
				return fmt.Errorf("rules check: %d invalid rules", invalid)
			case warned > 0 && c.Bool("strict"):
				return fmt.Errorf("rules check: %d rules can never match (--strict)", warned)
			}
			return nil
		},
	}
}

// checkLine is one line of "rules check --json".
type checkLine struct {
	File     string         `json:"file"`
	Line     int            `json:"line"`
	SID      uint32         `json:"sid"`
	Valid    bool           `json:"valid"`
	Error    string         `json:"error,omitempty"`
	Warnings []checkWarning `json:"warnings,omitempty"`
}

// checkWarning is one of a rule's warnings in "rules check --json".
type checkWarning struct {
	Line    int    `json:"line"`
	Col     int    `json:"col"`
	Keyword string `json:"keyword"`
	Message string `json:"message"`
}
