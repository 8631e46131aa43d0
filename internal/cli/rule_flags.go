package cli

import (
	"log/slog"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/polder-nsm/polder/sensor/pipeline"
)

// ruleFileFlag is Suricata's -S: run exactly these rule files, ignoring
// the config's; extraRuleFileFlag is -s: add them to the config's.
var (
	ruleFileFlag = &ucli.StringSliceFlag{Name: "rules", Aliases: []string{"S"},
		Usage: "run the rules in `FILE` instead of the config's rule-files (repeatable)"}
	extraRuleFileFlag = &ucli.StringSliceFlag{Name: "add-rules", Aliases: []string{"s"},
		Usage: "run the rules in `FILE` in addition to the config's rule-files (repeatable)"}
)

func applyRuleFlags(c *ucli.Context, cfg *pipeline.Config) {
	if f := c.StringSlice("rules"); len(f) > 0 {
		cfg.Rules.Files = append([]string(nil), f...)
	}
	cfg.Rules.Files = append(cfg.Rules.Files, c.StringSlice("add-rules")...)
}

func reloadRules(live *pipeline.Live, log *slog.Logger) {
	start := time.Now()
	res, err := live.ReloadRules()
	if err != nil {
		log.Error("rule reload failed", "err", err)
		return
	}
	st := res.Engine.Stats() // ReloadRules logged the refusals and warnings
	log.Info("rules reloaded", "loaded", st.Loaded, "refused", st.Refused, "inactive", st.Inactive,
		"took", time.Since(start).Round(time.Millisecond))
}
