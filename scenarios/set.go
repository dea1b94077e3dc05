package scenarios

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// override is one "dotted.path=value" setting, from --set or from a
// variant's set, applied to the YAML tree before decoding so that it is
// decoded and validated exactly like the file.
type override struct {
	// label names the override in errors: "--set policy.threshold" or
	// "variants[1].set.policy.threshold".
	label string
	// path is the field path it sets, normalised ("servers[1].workers").
	path string
	// line is where the override was written (0 for --set).
	line int
}

// setter applies overrides to one YAML tree and marks the nodes it puts
// in, so that errors about them name the override.
type setter struct {
	file  string
	marks map[*yaml.Node]*override
}

func (s *setter) fail(ov *override, format string, args ...any) *Error {
	return &Error{File: s.file, Line: ov.line, Field: ov.label, Msg: fmt.Sprintf(format, args...)}
}

// segment is one step of a dotted path: a key, or an index when index >= 0.
type segment struct {
	key   string
	index int
}

// parseSetPath splits "servers[1].workers" or "servers.1.workers".
func parseSetPath(p string) ([]segment, string) {
	if p == "" {
		return nil, "empty path"
	}
	var segs []segment
	for _, part := range strings.Split(p, ".") {
		key := part
		var idx []int
		if i := strings.IndexByte(part, '['); i >= 0 {
			key = part[:i]
			rest := part[i:]
			for rest != "" {
				end := strings.IndexByte(rest, ']')
				if rest[0] != '[' || end < 0 {
					return nil, fmt.Sprintf("malformed index in %q", part)
				}
				n, err := strconv.Atoi(rest[1:end])
				if err != nil || n < 0 {
					return nil, fmt.Sprintf("index must be a whole number >= 0 in %q", part)
				}
				idx = append(idx, n)
				rest = rest[end+1:]
			}
		}
		switch {
		case key == "" && len(idx) == 0:
			return nil, fmt.Sprintf("empty element in path %q", p)
		case key != "" && isDigits(key):
			n, err := strconv.Atoi(key)
			if err != nil {
				return nil, fmt.Sprintf("index too large in %q", p)
			}
			segs = append(segs, segment{index: n})
		case key != "":
			segs = append(segs, segment{key: key, index: -1})
		}
		for _, n := range idx {
			segs = append(segs, segment{index: n})
		}
	}
	return segs, ""
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// isLeaf reports whether values of type t are written as one scalar.
func isLeaf(t reflect.Type) bool {
	switch t {
	case durationType, rateType, thresholdType:
		return true
	}
	k := t.Kind()
	return k != reflect.Struct && k != reflect.Slice && k != reflect.Map
}

// apply sets the field at rawPath in the tree rooted at *root (a
// mapping) to value. The path is checked against the schema, so an
// unknown path is an error even where the file leaves the field out.
func (s *setter) apply(root **yaml.Node, rawPath, value string, ov *override) error {
	segs, msg := parseSetPath(rawPath)
	if msg != "" {
		return s.fail(ov, "%s", msg)
	}
	t := reflect.TypeFor[Scenario]()
	slot := root
	norm := ""
	for _, sg := range segs {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		n := *slot
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			// Copy the anchored value so that the override changes this
			// place only, not every alias of the anchor.
			n = copyNode(n.Alias)
			*slot = n
		}
		switch {
		case isLeaf(t):
			return s.fail(ov, "%s is a single value; it has no field %s", norm, describeSeg(sg))
		case t.Kind() == reflect.Map:
			return s.fail(ov, "%s cannot be overridden", norm)
		case t.Kind() == reflect.Struct:
			if sg.index >= 0 {
				return s.fail(ov, "%s is a mapping; name a field, not an index [%d]", orRoot(norm), sg.index)
			}
			f, ok := lookupField(t, sg.key)
			if !ok {
				return s.fail(ov, "%s: %s", joinPath(norm, sg.key), unknownKey(sg.key, fieldNames(t)))
			}
			if norm == "" && f.name == "variants" {
				return s.fail(ov, "variants cannot be overridden")
			}
			if isNull(n) {
				*n = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column}
			} else if n.Kind != yaml.MappingNode {
				return s.fail(ov, "%s is %s in the file, not a mapping", orRoot(norm), describe(n))
			}
			j := -1
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Kind == yaml.ScalarNode && n.Content[i].Value == f.name {
					j = i
				}
			}
			if j < 0 {
				k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: f.name}
				v := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
				s.marks[k], s.marks[v] = ov, ov
				n.Content = append(n.Content, k, v)
				j = len(n.Content) - 2
			}
			slot = &n.Content[j+1]
			t = t.Field(f.index).Type
			norm = joinPath(norm, f.name)
		case t.Kind() == reflect.Slice:
			if sg.index < 0 {
				return s.fail(ov, "%s is a list; give an index such as %s[0]", norm, norm)
			}
			count := 0
			if n.Kind == yaml.SequenceNode {
				count = len(n.Content)
			} else if !isNull(n) {
				return s.fail(ov, "%s is %s in the file, not a list", norm, describe(n))
			}
			if sg.index >= count {
				return s.fail(ov, "%s has %d entries; index %d is out of range", norm, count, sg.index)
			}
			slot = &n.Content[sg.index]
			t = t.Elem()
			norm = indexPath(norm, sg.index)
		}
	}
	v, err := valueNode(value)
	if err != nil {
		return s.fail(ov, "%v", err)
	}
	markAll(v, ov, s.marks)
	*slot = v
	ov.path = norm
	return nil
}

func orRoot(path string) string {
	if path == "" {
		return "the scenario"
	}
	return path
}

func describeSeg(sg segment) string {
	if sg.index >= 0 {
		return fmt.Sprintf("[%d]", sg.index)
	}
	return sg.key
}

// valueNode turns an override's value into a node: a flow mapping or
// list when it starts with { or [, a plain value otherwise (empty, ~ or
// null mean "absent": the field takes its default).
func valueNode(value string) (*yaml.Node, error) {
	v := strings.TrimSpace(value)
	if strings.HasPrefix(v, "{") || strings.HasPrefix(v, "[") {
		var doc yaml.Node
		if err := safeUnmarshal([]byte(v), &doc); err != nil {
			return nil, fmt.Errorf("bad value %q: %v", value, err)
		}
		if len(doc.Content) == 0 {
			return nil, fmt.Errorf("bad value %q", value)
		}
		return doc.Content[0], nil
	}
	switch v {
	case "", "~", "null":
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: v}, nil
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}, nil
}

// safeUnmarshal is yaml.Unmarshal that turns a panic inside the YAML
// library into an error: bad input must never crash the caller.
func safeUnmarshal(data []byte, n *yaml.Node) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("YAML parser failed: %v", p)
		}
	}()
	return yaml.Unmarshal(data, n)
}

func markAll(n *yaml.Node, ov *override, marks map[*yaml.Node]*override) {
	if n == nil || marks[n] != nil {
		return
	}
	marks[n] = ov
	for _, c := range n.Content {
		markAll(c, ov, marks)
	}
}

// copyNode copies a tree, expanding aliases, so that changing the copy
// leaves the original alone.
func copyNode(n *yaml.Node) *yaml.Node {
	budget := maxNodes
	return copyBounded(n, &budget)
}

func copyBounded(n *yaml.Node, budget *int) *yaml.Node {
	if n == nil || *budget <= 0 {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
	}
	*budget--
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return copyBounded(n.Alias, budget)
	}
	c := *n
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, ch := range n.Content {
		c.Content[i] = copyBounded(ch, budget)
	}
	return &c
}

// splitSet splits a --set argument "key=value".
func splitSet(arg string) (key, value string, ok bool) {
	key, value, ok = strings.Cut(arg, "=")
	return strings.TrimSpace(key), value, ok && strings.TrimSpace(key) != ""
}
