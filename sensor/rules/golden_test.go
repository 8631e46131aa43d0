package rules

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the parser's output")

// TestGolden parses testdata/*.rules and compares a dump of every rule and
// error with testdata/*.golden. Run with -update to accept new output.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.rules")
	if len(files) == 0 {
		t.Fatal("no testdata/*.rules")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			set, errs := LoadFile(f, DefaultVars())
			var b strings.Builder
			fmt.Fprintf(&b, "loaded %d, refused %d, commented %d\n", len(set.Rules), len(errs), set.Commented)
			for _, r := range set.Rules {
				dumpRule(&b, r)
			}
			for _, e := range errs {
				fmt.Fprintf(&b, "\nerror %s\n", strings.TrimPrefix(e.Error(), filepath.Dir(f)+"/"))
			}
			checkGolden(t, strings.TrimSuffix(f, ".rules")+".golden", b.String(), "TestGolden", "the parser")
		})
	}
}

func dumpRule(b *strings.Builder, r *Rule) {
	fmt.Fprintf(b, "\nrule %s gid %d sid %d rev %d\n", r.Pos, r.GID, r.SID, r.Rev)
	fmt.Fprintf(b, "  text %s\n", r)
	fmt.Fprintf(b, "  header %v %s %v %v %v %v %v\n", r.Action, r.Protocol, r.Src, r.SrcPort, r.Dir, r.Dst, r.DstPort)
	fmt.Fprintf(b, "  msg %q classtype %q priority %d target %q noalert %v bypass %v\n", r.Msg, r.Classtype, r.Priority, r.Target, r.Noalert, r.Bypass)
	for _, x := range r.References {
		fmt.Fprintf(b, "  reference %s %s\n", x.System, x.ID)
	}
	for _, x := range r.Metadata {
		fmt.Fprintf(b, "  metadata %s = %q\n", x.Key, x.Value)
	}
	if r.Flow != nil {
		fmt.Fprintf(b, "  flow %s\n", fieldsOf(r.Flow))
	}
	for _, x := range r.Bits {
		fmt.Fprintf(b, "  %s\n", fieldsOf(x))
	}
	for _, x := range r.Flowints {
		fmt.Fprintf(b, "  flowint %s\n", fieldsOf(x))
	}
	for _, x := range []*Threshold{r.Threshold, r.DetectionFilter} {
		if x != nil {
			fmt.Fprintf(b, "  threshold %s\n", fieldsOf(x))
		}
	}
	if r.Tag != nil {
		fmt.Fprintf(b, "  tag %s\n", fieldsOf(r.Tag))
	}
	for _, buf := range r.Buffers {
		fmt.Fprintf(b, "  buffer %s implicit=%v at %s\n", buf.Name, buf.Implicit, buf.Pos)
		for _, t := range buf.Transforms {
			fmt.Fprintf(b, "    transform %s %q\n", t.Name, t.Value)
		}
		for _, m := range buf.Matches {
			fmt.Fprintf(b, "    %s\n", fieldsOf(m))
		}
	}
	for _, m := range r.Packet {
		fmt.Fprintf(b, "  packet %s\n", fieldsOf(m))
	}
}

// fieldsOf prints a struct's non-zero fields as "Type{A:1 B:"x"}".
func fieldsOf(x any) string {
	v := reflect.ValueOf(x)
	for v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	var parts []string
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if f.IsZero() {
			continue
		}
		name := v.Type().Field(i).Name
		switch val := f.Interface().(type) {
		case []byte:
			parts = append(parts, fmt.Sprintf("%s:%q", name, val))
		case string:
			parts = append(parts, fmt.Sprintf("%s:%q", name, val))
		case Num:
			parts = append(parts, fmt.Sprintf("%s:%s", name, val))
		default:
			parts = append(parts, fmt.Sprintf("%s:%v", name, val))
		}
	}
	return v.Type().Name() + "{" + strings.Join(parts, " ") + "}"
}

// checkGolden compares got with the golden file, or rewrites the file with
// -update; test and what name the test to rerun and the output's source.
func checkGolden(t *testing.T, golden, got, test, what string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update)", err, test)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s's output (rerun with -update and review the diff):\n%s", golden, what, got)
	}
}
