package server

import (
	"bytes"
	"fmt"
)

// pageBody is the body of a page served by instance name: a small HTML
// page whose title and heading name the instance (so a browser, or a test,
// can see who served it), padded with an HTML comment to exactly size
// bytes. A size too small for the page gets the instance name alone,
// cut to size.
func pageBody(name string, size int) []byte {
	head := fmt.Sprintf("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>redirlab %s</title></head>\n"+
		"<body><h1>redirlab %s</h1><p>Page served by %s.</p>\n", name, name, name)
	const tail = "</body></html>\n"
	const open, close = "<!--", "-->\n"
	pad := size - len(head) - len(tail)
	if pad < 0 {
		b := []byte("redirlab " + name + "\n")
		if size < len(b) {
			return b[:max(size, 0)]
		}
		return append(b, bytes.Repeat([]byte{' '}, size-len(b))...)
	}
	var buf bytes.Buffer
	buf.Grow(size)
	buf.WriteString(head)
	if pad >= len(open)+len(close) {
		buf.WriteString(open)
		buf.Write(bytes.Repeat([]byte{'.'}, pad-len(open)-len(close)))
		buf.WriteString(close)
	} else {
		buf.Write(bytes.Repeat([]byte{'\n'}, pad))
	}
	buf.WriteString(tail)
	return buf.Bytes()
}

// objectBody is the body of an embedded object of instance name, exactly
// size bytes.
func objectBody(name string, size int) []byte {
	b := []byte("redirlab object from " + name + "\n")
	if size <= len(b) {
		return b[:max(size, 0)]
	}
	return append(b, bytes.Repeat([]byte{'.'}, size-len(b))...)
}
