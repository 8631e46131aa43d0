package pipeline

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/polder-nsm/polder/sensor/output/eve"
)

// Log writes what loading the ruleset found to log, as Suricata does at
// startup and in its words, which is what users search their logs for
// (and, through engine events, their EVE). Every record has module
// "detect":
//
//   - a rule the parser refused: its reason (level error), then `error
//     parsing signature "<rule>" from file <file> at line <n>` (error);
//   - a rule refused later, an unreadable file, a bad config line: the
//     positioned error, "file:line:col: sid N: keyword: msg" (error);
//   - a rule that loaded but can never match: the analyzer's positioned
//     warning, "file:line:col: sid N: bsize: signature can't match as
//     required content length 14 exceeds bsize value: 2" (warning);
//   - each rule that cannot match here (inactive), with why (debug);
//   - the totals: "N rule files processed. N rules successfully loaded, N
//     rules failed, ..." (info), or "N rule files specified, but no rules
//     were loaded!" (warning).
func (res *RuleLoad) Log(log *slog.Logger) {
	log = log.With("module", "detect")
	for _, e := range res.Errors {
		if e.Text == "" {
			log.Error(e.Error())
			continue
		}
		log.Error(e.Msg)
		log.Error(fmt.Sprintf(`error parsing signature "%s" from file %s at line %d`, e.Text, e.File, e.Line))
	}
	for _, w := range res.Warnings {
		log.Warn(w.String())
	}
	if res.Engine == nil {
		return
	}
	for _, s := range res.Engine.Inactive() {
		log.Debug(fmt.Sprintf("%s:%d: sid %d: rule inactive: %s", s.Rule.File, s.Rule.Pos.Line, s.Rule.SID, s.Inactive()))
	}
	st := res.Engine.Stats()
	if st.Loaded == 0 && len(res.Files) > 0 {
		log.Warn(fmt.Sprintf("%d rule files specified, but no rules were loaded!", len(res.Files)))
		return
	}
	log.Info(fmt.Sprintf("%d rule files processed. %d rules successfully loaded, %d rules failed, %d inactive, %d can't match (compiled in %v)",
		len(res.Files), st.Loaded, st.Refused, st.Inactive, len(res.Warnings), st.Compile.Round(time.Millisecond)))
}

// AnalyzeRules loads and compiles Config.Rules as the sensor does when it
// starts, logs the outcome (RuleLoad.Log) to Options.Logger and, when
// engine events are on, to EVE, and stops there: Suricata's
// --engine-analysis, or a run with no traffic. The RuleLoad says what was
// refused and what can never match; the error is for problems that leave
// nothing to analyze (see LoadRules) or an EVE output that cannot be
// opened.
func AnalyzeRules(opts Options) (*RuleLoad, error) {
	cfg := opts.config()
	log := opts.logger()
	var out *output
	if cfg.EVE.Engine {
		var err error
		if out, err = newOutput(cfg, opts, "wire/pcap"); err != nil {
			return nil, err
		}
		log = out.engineLog(log)
	}
	res, err := LoadRules(cfg.Rules)
	if err == nil {
		res.Log(log)
	} else {
		log.Error(err.Error(), "module", "detect")
	}
	if out != nil {
		if cerr := out.close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	return res, err
}

// engineLog returns base, plus engine events into o's EVE output when they
// are enabled: from then on the sensor's log messages are EVE events too.
func (o *output) engineLog(base *slog.Logger) *slog.Logger {
	if !o.cfg.EVE.Engine {
		return base
	}
	h := eve.NewEngineHandler(outputLines{o}, o.cfg.EVE.EngineLevel)
	return slog.New(slog.NewMultiHandler(base.Handler(), h))
}

// outputLines hands engine event lines to the output, which counts them
// and keeps the first write error for close.
type outputLines struct{ o *output }

func (l outputLines) Write(line []byte) error {
	l.o.write(line)
	return nil
}
