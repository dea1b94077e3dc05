package scenarios

import (
	"fmt"
	"strings"
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
		b.WriteString(e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}
