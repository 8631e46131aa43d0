package cli

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	ucli "github.com/urfave/cli/v2"

	"github.com/polder-nsm/polder/sensor/pipeline"
)

func sensorReadCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "read",
		Usage:     "analyse a pcap or pcapng file and write EVE JSON (like suricata -r)",
		ArgsUsage: "FILE.pcap",
		Description: `Reads every packet of FILE with packet time driving all timeouts, and writes
EVE JSON (alert, flow, http, dns, tls, anomaly, stats) to OUTDIR/eve.json, as Suricata does.
Rules come from the config's rule-files, or -S FILE (repeatable, replaces them) and
-s FILE (adds to them); globs are allowed: -S 'rules/*.rules'. Rules the engine refuses
are logged as Suricata logs them (the reason, then "error parsing signature "RULE" from
file F at line N"), rules that can never match with a warning; the others run.
'polder rules check' gives every refusal with its column and keyword.
--simulate-ips acts as an inline IPS would (the config's ips.simulate): drop and
reject rules drop packets and flows, and drop events and stats.ips are written.
A truncated or damaged file is processed up to the damage; the exit status is then 1.`,
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "sensor config `FILE` (YAML); defaults apply without one"},
			&ucli.StringFlag{Name: "log-dir", Aliases: []string{"l"}, Usage: "write eve.json into `DIR`", Value: "."},
			ruleFileFlag, extraRuleFileFlag,
			&ucli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress output"},
			&ucli.BoolFlag{Name: "simulate-ips", Usage: "drop packets and flows on drop and reject rules, as an inline IPS (ips.simulate)"},
		},
		Action: func(c *ucli.Context) error {
			if c.NArg() > 1 && strings.HasPrefix(c.Args().Get(1), "-") {
				return usagef("sensor read: flags go before the capture file: polder sensor read %s %s", strings.Join(c.Args().Slice()[1:], " "), c.Args().First())
			}
			if c.NArg() != 1 {
				return usagef("sensor read: want exactly one capture file, got %d arguments", c.NArg())
			}
			cfg, err := loadSensorConfig(c.String("config"))
			if err != nil {
				return err
			}
			applyRuleFlags(c, cfg)
			if c.Bool("simulate-ips") {
				cfg.Rules.IPS = true
			}
			dir := c.String("log-dir")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("create log dir: %w", err)
			}
			log := logger(c, stderr)
			path := c.Args().First()
			opts := pipeline.Options{Config: cfg, LogDir: dir, Logger: log}
			var bar *progress
			if !c.Bool("quiet") {
				bar = newProgress(stderr, filepath.Base(path))
				opts.Progress = bar.update
			}
			ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
			defer stop()
			sum, err := pipeline.ReadFile(ctx, path, opts)
			if bar != nil {
				bar.done()
			}
			if sum != nil {
				log.Info("read done", "file", path, "packets", sum.Packets, "bytes", sum.Bytes,
					"invalid", sum.Invalid, "flows", sum.Flows, "events", sum.Events,
					"elapsed", sum.Elapsed.Round(1e6), "eve", filepath.Join(dir, cfg.EVE.Filename))
			}
			return err
		},
	}
}
