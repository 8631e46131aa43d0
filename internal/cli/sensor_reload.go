package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/polder-nsm/polder/sensor/pipeline"
)

// controlSocketName is the control socket's file name in the log
// directory, where `sensor run` makes it unless told otherwise.
const controlSocketName = "polder.socket"

// controlClientFlags find a running sensor's control socket.
func controlClientFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringFlag{Name: "socket", Usage: "the sensor's control socket `PATH` (default LOGDIR/" + controlSocketName + ")"},
		&ucli.StringFlag{Name: "log-dir", Aliases: []string{"l"}, Usage: "the --log-dir `DIR` the sensor runs with, to find its socket", Value: "."},
		&ucli.DurationFlag{Name: "timeout", Usage: "give up after `DURATION` (a reload of a large ruleset takes a while)", Value: 5 * time.Minute},
	}
}

func controlSocketFlag(c *ucli.Context) string {
	if p := c.String("socket"); p != "" {
		return p
	}
	return filepath.Join(c.String("log-dir"), controlSocketName)
}

// sendControl sends one command and turns a NOK reply into an error
// (exit status 1) carrying the sensor's message; the reply comes back
// with it.
func sendControl(c *ucli.Context, command string) (*pipeline.ControlReply, error) {
	ctx, cancel := context.WithTimeout(c.Context, c.Duration("timeout"))
	defer cancel()
	rep, err := pipeline.Control(ctx, controlSocketFlag(c), command)
	if err != nil {
		return nil, err
	}
	if !rep.OK() {
		return rep, fmt.Errorf("%s: %s", command, rep.Text())
	}
	return rep, nil
}

func sensorReloadRulesCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "reload-rules",
		Usage: "make a running sensor load its rules again (through its control socket)",
		Description: `Sends reload-rules to the control socket of a running 'polder sensor run' and waits
until the new ruleset is in use: every packet after the reply is inspected by it.
Prints the counts of the new ruleset and the first rules it refused. If the rules
cannot be loaded at all (a rule file is missing), the sensor keeps running the old
ruleset, the reason is printed and the exit status is 1.`,
		Flags: controlClientFlags(),
		Action: func(c *ucli.Context) error {
			if c.NArg() > 0 {
				return usagef("reload-rules takes no arguments (got %q)", c.Args().First())
			}
			rep, err := sendControl(c, "reload-rules")
			if err != nil {
				return err
			}
			var r pipeline.ControlReload
			if err := json.Unmarshal(rep.Message, &r); err != nil {
				return fmt.Errorf("read reload-rules reply: %w", err)
			}
			w := c.App.Writer
			fmt.Fprintf(w, "rules reloaded in %d ms: %d loaded, %d refused, %d inactive\n", r.TookMS, r.Loaded, r.Refused, r.Inactive)
			for _, e := range r.Errors {
				fmt.Fprintln(w, "  "+e)
			}
			if more := r.ErrorCount - len(r.Errors); more > 0 {
				fmt.Fprintf(w, "  and %d more (polder sensor ctl ruleset-failed-rules lists them all)\n", more)
			}
			return nil
		},
	}
}

func sensorCtlCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "ctl",
		Usage:     "send a command to a running sensor's control socket",
		ArgsUsage: "COMMAND",
		Description: `Sends COMMAND to the control socket of a running 'polder sensor run' and prints the
reply's message; exit status 1 if the sensor answers NOK. The protocol is Suricata's
unix-socket protocol: {"command": NAME} answered {"return": "OK"|"NOK", "message": ...}.
Commands:
   reload-rules            load the rules again; reply once they are in use
   ruleset-reload-nonblocking
                           start a reload and reply at once
   ruleset-stats           loaded, refused and inactive rules of the running ruleset
   ruleset-failed-rules    the errors of the load of the running ruleset
   reopen-log-files        reopen eve.json (after logrotate moved it)
   uptime                  seconds since the sensor started
   version                 the sensor's version
   command-list            the commands the sensor answers`,
		Flags: append(controlClientFlags(),
			&ucli.BoolFlag{Name: "json", Usage: "print the whole reply as JSON"}),
		Action: func(c *ucli.Context) error {
			if c.NArg() != 1 {
				return usagef("ctl wants exactly one COMMAND (polder sensor ctl command-list lists them)")
			}
			rep, err := sendControl(c, c.Args().First())
			if rep != nil && c.Bool("json") {
				b, merr := json.Marshal(rep)
				if merr != nil {
					return merr
				}
				fmt.Fprintln(c.App.Writer, string(b))
			} else if err == nil {
				fmt.Fprintln(c.App.Writer, rep.Text())
			}
			return err
		},
	}
}
