package sv

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// CommandArgs reads a test's command: as the Suricata invocation it
// usually is and returns Suricata's arguments, the program left out. run.py
// hands the command to sh with TEST_DIR, OUTPUT_DIR, SRCDIR and the test's
// env: in the environment; here vars expands $VAR and ${VAR} the same way
// and the words are split as sh splits them (single and double quotes,
// backslash escapes, backslash-newline continuations).
//
// It refuses, with the reason as the error, what is not one plain Suricata
// run: a program other than suricata (a script, suricatasc, a Python
// helper), several commands, pipes, redirections, substitutions and
// background jobs.
func CommandArgs(command string, vars map[string]string) ([]string, error) {
	words, err := shellWords(command, vars)
	if err != nil {
		return nil, err
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("empty command")
	}
	if filepath.Base(words[0]) != "suricata" {
		return nil, fmt.Errorf("runs %s, not suricata", filepath.Base(words[0]))
	}
	return words[1:], nil
}

// shellWords splits s into words as sh does for one simple command, after
// expanding variables from vars (unset ones expand to ""). Operators it
// does not model are errors.
func shellWords(s string, vars map[string]string) ([]string, error) {
	var (
		words  []string
		cur    strings.Builder
		inWord bool
	)
	end := func() {
		if inWord {
			words = append(words, cur.String())
			cur.Reset()
			inWord = false
		}
	}
	// put adds an expansion's value: inside double quotes as is, outside
	// split into fields at blanks, as sh does with the default IFS.
	put := func(v string, quoted bool) {
		if quoted {
			cur.WriteString(v)
			return
		}
		for k := 0; k < len(v); k++ {
			if c := v[k]; c == ' ' || c == '\t' || c == '\n' {
				end()
			} else {
				cur.WriteByte(c)
				inWord = true
			}
		}
	}
	expand := func(i int, quoted bool) (int, error) { // s[i] == '$'
		if i+1 < len(s) && s[i+1] == '{' {
			j := strings.IndexByte(s[i:], '}')
			if j < 0 {
				return 0, fmt.Errorf("unterminated ${ in command")
			}
			name := s[i+2 : i+j]
			if !isVarName(name) {
				return 0, fmt.Errorf("parameter expansion ${%s} is not supported", name)
			}
			put(vars[name], quoted)
			return i + j + 1, nil
		}
		j := i + 1
		for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || j > i+1 && s[j] >= '0' && s[j] <= '9') {
			j++
		}
		if j == i+1 {
			if j < len(s) && s[j] == '(' {
				return 0, fmt.Errorf("command substitution $( ) is not supported")
			}
			put("$", true)
			inWord = true
			return j, nil
		}
		put(vars[s[i+1:j]], quoted)
		return j, nil
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && s[i+1] == '\n':
			i += 2 // continuation
		case c == '\\' && i+1 < len(s):
			cur.WriteByte(s[i+1])
			inWord = true
			i += 2
		case c == ' ' || c == '\t':
			end()
			i++
		case c == '\n':
			end()
			if strings.TrimSpace(s[i:]) != "" {
				return nil, fmt.Errorf("several commands")
			}
			i = len(s)
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated ' in command")
			}
			cur.WriteString(s[i+1 : i+1+j])
			inWord = true
			i += j + 2
		case c == '"':
			inWord = true
			i++
			for {
				if i >= len(s) {
					return nil, fmt.Errorf("unterminated \" in command")
				}
				d := s[i]
				if d == '"' {
					i++
					break
				}
				switch {
				case d == '\\' && i+1 < len(s) && strings.IndexByte("$`\"\\\n", s[i+1]) >= 0:
					if s[i+1] != '\n' {
						cur.WriteByte(s[i+1])
					}
					i += 2
				case d == '$':
					var err error
					if i, err = expand(i, true); err != nil {
						return nil, err
					}
				case d == '`':
					return nil, fmt.Errorf("command substitution ` ` is not supported")
				default:
					cur.WriteByte(d)
					i++
				}
			}
		case c == '$':
			var err error
			if i, err = expand(i, false); err != nil {
				return nil, err
			}
		case strings.IndexByte("|&;<>()`", c) >= 0:
			return nil, fmt.Errorf("shell operator %q is not supported", c)
		case c == '#' && !inWord:
			i = len(s) // a comment
		default:
			cur.WriteByte(c)
			inWord = true
			i++
		}
	}
	end()
	return words, nil
}

func isVarName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

// captureFiles lists the pcap and pcapng files directly in dir, sorted by
// name, as Suricata's -r reads a directory (other files are skipped here;
// Suricata logs them as unreadable).
func captureFiles(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		if !e.IsDir() && (strings.HasSuffix(n, ".pcap") || strings.HasSuffix(n, ".pcapng")) {
			out = append(out, filepath.Join(dir, n))
		}
	}
	return out, nil
}
