package rules

import "strings"

// String prints r as one line of rule text: the header from the parsed
// address and port expressions, then every option as written. Parsing the
// result gives a Rule equal to r except for positions.
func (r *Rule) String() string {
	var b strings.Builder
	b.Grow(256)
	b.WriteString(r.Action.String())
	if r.Protocol != "" {
		b.WriteByte(' ')
		b.WriteString(r.Protocol)
		b.WriteByte(' ')
		r.Src.write(&b)
		b.WriteByte(' ')
		r.SrcPort.write(&b)
		b.WriteByte(' ')
		b.WriteString(r.Dir.String())
		b.WriteByte(' ')
		r.Dst.write(&b)
		b.WriteByte(' ')
		r.DstPort.write(&b)
	}
	b.WriteString(" (")
	for i, o := range r.Options {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(o.Name)
		if o.Value != "" {
			b.WriteByte(':')
			b.WriteString(o.Value)
		}
		b.WriteByte(';')
	}
	b.WriteByte(')')
	return b.String()
}
