package cli

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	ucli "github.com/urfave/cli/v2"

	"github.com/polder-nsm/polder/sensor/bypass/kernel"
	"github.com/polder-nsm/polder/sensor/config"
	"github.com/polder-nsm/polder/sensor/pipeline"
)

func sensorRunCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "run",
		Usage: "capture live from network interfaces (AF_PACKET) and write EVE JSON",
		Description: `Captures on the interfaces of the config (or -i, repeatable) with a TPACKET_V3 ring
per worker, both directions of a flow on one worker (PACKET_FANOUT by flow hash).
SIGHUP reopens eve.json (for logrotate) and reloads the rules; SIGUSR2 reloads the
rules only (Suricata's signal for it). A reload compiles the new ruleset beside the
running one and swaps it in between two packets; if it cannot be loaded, the running
ruleset stays and the log says why. SIGINT/SIGTERM flush flows and stop.
The control socket (LOGDIR/polder.socket, mode 0600) answers Suricata's unix-socket
commands: 'polder sensor reload-rules' and 'polder sensor ctl' talk to it.
Needs root or CAP_NET_RAW and CAP_NET_ADMIN.`,
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "sensor config `FILE` (YAML)"},
			&ucli.StringSliceFlag{Name: "interface", Aliases: []string{"i"}, Usage: "capture on `IFACE` (repeatable; overrides the config's interfaces)"},
			&ucli.IntFlag{Name: "workers", Usage: "workers (fanout sockets) per interface given with -i", Value: 1},
			&ucli.StringFlag{Name: "log-dir", Aliases: []string{"l"}, Usage: "write eve.json into `DIR`", Value: "."},
			&ucli.StringFlag{Name: "control-socket", Usage: "answer control commands on the unix socket `PATH` (default LOGDIR/" + controlSocketName + "; \"none\" for no socket)"},
			ruleFileFlag, extraRuleFileFlag,
		},
		Action: func(c *ucli.Context) error {
			cfg, err := loadSensorConfig(c.String("config"))
			if err != nil {
				return err
			}
			applyRuleFlags(c, cfg)
			if ifs := c.StringSlice("interface"); len(ifs) > 0 {
				cfg.SetInterfaces(ifs, c.Int("workers"))
			}
			dir := c.String("log-dir")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("create log dir: %w", err)
			}
			log := logger(c, stderr)
			// The control socket first: a second sensor with the same log
			// directory stops here, before it joins the first one's fanout
			// group and takes a share of its packets.
			var ctl *pipeline.ControlServer
			if sock := c.String("control-socket"); sock != "none" {
				if sock == "" {
					sock = filepath.Join(dir, controlSocketName)
				}
				var err error
				if ctl, err = pipeline.ListenControl(pipeline.ControlOptions{Path: sock, Version: Version, Logger: log}); err != nil {
					return err
				}
				defer ctl.Close()
			}
			// Capture bypass in the kernel (capture.bypass.mode); nil when
			// the mode is local or off, or the kernel refused (logged).
			bt, err := kernel.Open(config.Bypass{Mode: cfg.Bypass.Mode, TableSize: cfg.Bypass.TableSize}, cfg.InterfaceNames(), log)
			if err != nil {
				return err
			}
			if bt != nil {
				defer bt.Close() // after Run closed the capture sockets
			}
			live, err := pipeline.OpenLive(pipeline.Options{Config: cfg, LogDir: dir, Logger: log, Bypass: bt})
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
			defer stop()
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP, syscall.SIGUSR2)
			defer signal.Stop(hup)
			go func() {
				for {
					select {
					case <-ctx.Done():
						return
					case sig := <-hup:
						if sig == syscall.SIGHUP {
							if err := live.Reopen(); err != nil {
								log.Error("reopen eve output", "err", err)
							} else {
								log.Info("reopened eve output")
							}
						}
						if len(cfg.Rules.Files) > 0 {
							reloadRules(live, log)
						}
					}
				}
			}()
			log.Info("capturing", "interfaces", cfg.InterfaceNames(), "eve", dir)
			if ctl == nil {
				return live.Run(ctx)
			}
			ctlDone := make(chan error, 1)
			go func() { ctlDone <- ctl.Serve(ctx, live) }()
			err = live.Run(ctx)
			stop() // a failed capture stops the control server too
			return errors.Join(err, <-ctlDone)
		},
	}
}
