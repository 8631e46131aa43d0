// Package eveschema validates EVE JSON lines against Suricata's published
// EVE JSON schema (etc/schema.json in the Suricata tree; copies for each
// version polder follows are in the shared corpus under schema/).
package eveschema

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Validator checks EVE lines against one compiled schema. It is safe for
// concurrent use once loaded.
type Validator struct {
	schema *jsonschema.Schema
	path   string
}

// Load compiles the schema at path (draft 2020-12, Suricata's
// "suricata" annotations ignored).
func Load(path string) (*Validator, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("load eve schema %s: %w", path, err)
	}
	f, err := os.Open(abs)
	if err != nil {
		return nil, fmt.Errorf("load eve schema: %w", err)
	}
	doc, err := jsonschema.UnmarshalJSON(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("load eve schema %s: %w", path, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	url := "file://" + filepath.ToSlash(abs)
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("load eve schema %s: %w", path, err)
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("compile eve schema %s: %w", path, err)
	}
	return &Validator{schema: s, path: path}, nil
}

// Validate checks one EVE line (a JSON object; a trailing newline is
// allowed). The error names every offending field as a JSON pointer and
// says why, e.g. "eve line invalid: at /dns/version: got string, want
// integer; at /http: additional properties 'cookie' not allowed".
func (v *Validator) Validate(line []byte) error {
	line = bytes.TrimRight(line, "\r\n")
	if len(line) == 0 {
		return errors.New("eve line invalid: empty")
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(line))
	if err != nil {
		return fmt.Errorf("eve line invalid: not JSON: %w", err)
	}
	err = v.schema.Validate(doc)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return fmt.Errorf("eve line invalid: %w", err)
	}
	var msgs []string
	leaves(ve, &msgs)
	sort.Strings(msgs)
	msgs = compact(msgs)
	return &Error{Msgs: msgs}
}

// Error is a schema violation: one message per offending field.
type Error struct {
	Msgs []string // "at /pointer: reason", sorted
}

func (e *Error) Error() string {
	return "eve line invalid: " + strings.Join(e.Msgs, "; ")
}

var printer = message.NewPrinter(language.English)

func leaves(ve *jsonschema.ValidationError, out *[]string) {
	if len(ve.Causes) == 0 {
		ptr := "/" + strings.Join(ve.InstanceLocation, "/")
		*out = append(*out, "at "+ptr+": "+ve.ErrorKind.LocalizedString(printer))
		return
	}
	for _, c := range ve.Causes {
		leaves(c, out)
	}
}

func compact(s []string) []string {
	out := s[:0]
	for i, m := range s {
		if i == 0 || m != s[i-1] {
			out = append(out, m)
		}
	}
	return out
}
