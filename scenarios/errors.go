package scenarios

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Error is a bad scenario: the file, the line and the field at fault.
// Line is the line of the field, or of its parent when the field is
// absent; it is 0 when no line applies (an override given with --set, an
// unreadable file). Field is a dotted, indexed path such as
// "servers[1].workers", or "--set policy.threshold" for an override.
type Error struct {
	File  string
	Line  int
	Field string
	Msg   string
}

// Error formats the error as "file:line: field: msg", leaving out the
// parts that are empty.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Field != "" {
		b.WriteString(": ")
		b.WriteString(elide(e.Field, 200))
	}
	b.WriteString(": ")
	b.WriteString(elide(e.Msg, 600))
	return b.String()
}

// elide shortens s to about n bytes by leaving out its middle, so that
// an error quoting a huge value (a --set of a megabyte) stays readable;
// the start says what is wrong and the end often closes a quote.
func elide(s string, n int) string {
	if len(s) <= n {
		return s
	}
	head, tail := n*2/3, n/6
	for head > 0 && !utf8.RuneStart(s[head]) {
		head--
	}
	cut := len(s) - tail
	for cut < len(s) && !utf8.RuneStart(s[cut]) {
		cut++
	}
	return fmt.Sprintf("%s…(%d bytes left out)…%s", s[:head], cut-head, s[cut:])
}
