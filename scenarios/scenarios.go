package scenarios

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// The embedded example scenarios; files they name are embedded beside them.
//
//go:embed *.yaml data
var embedded embed.FS

// Info describes an embedded scenario.
type Info struct {
	// Name is what Load accepts ("default").
	Name string
	// Description says what question the scenario answers.
	Description string
}

// source is everything needed to decode a scenario again: Expand
// re-decodes the file with each variant's settings applied.
type source struct {
	file string
	data []byte
	open func(string) ([]byte, error)
	sets []string
	// lines is where the base scenario's fields were written.
	lines map[string]int
}

// Load reads a scenario file, or an embedded scenario by name ("" means
// "default"), applies the --set overrides ("dotted.path=value") and
// validates it. Every default is filled. A scenario with variants is
// returned as written (Variant "base") after every variant has been
// checked too; Expand splits it.
func Load(name string, sets ...string) (*Scenario, error) {
	if name == "" {
		name = "default"
	}
	if isEmbedded(name) {
		if st, err := os.Stat(name); err != nil || !st.Mode().IsRegular() {
			return loadEmbedded(name, sets)
		}
	}
	data, err := readRegular(name)
	if err != nil {
		msg := err.Error()
		var pe *fs.PathError
		if errors.As(err, &pe) {
			msg = pe.Err.Error()
		}
		if errors.Is(err, fs.ErrNotExist) {
			msg += " (embedded scenarios: " + strings.Join(embeddedNames(), ", ") + ")"
		}
		return nil, &Error{File: name, Msg: msg}
	}
	return Parse(name, data, sets...)
}

// Parse decodes and validates a scenario held in memory. file names it
// in errors; files the scenario refers to (empirical service times,
// traces) are read relative to file's directory.
func Parse(file string, data []byte, sets ...string) (*Scenario, error) {
	dir := filepath.Dir(file)
	open := func(name string) ([]byte, error) {
		if !filepath.IsAbs(name) {
			name = filepath.Join(dir, name)
		}
		return readRegular(name)
	}
	return parse(&source{file: label(file), data: data, open: open, sets: sets})
}

func label(file string) string {
	if file == "" {
		return "<scenario>"
	}
	return file
}

func loadEmbedded(name string, sets []string) (*Scenario, error) {
	data, err := embedded.ReadFile(name + ".yaml")
	if err != nil {
		return nil, &Error{File: "embedded:" + name, Msg: err.Error()}
	}
	open := func(f string) ([]byte, error) {
		// Embedded scenarios may name only embedded files.
		return embedded.ReadFile(path.Clean(f))
	}
	return parse(&source{file: "embedded:" + name, data: data, open: open, sets: sets})
}

func isEmbedded(name string) bool {
	if strings.ContainsAny(name, `/\`) || strings.Contains(name, ".") {
		return false
	}
	_, err := fs.Stat(embedded, name+".yaml")
	return err == nil
}

func embeddedNames() []string {
	entries, _ := fs.Glob(embedded, "*.yaml")
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = strings.TrimSuffix(e, ".yaml")
	}
	sort.Strings(names)
	return names
}

// Embedded lists the embedded scenarios, by name.
func Embedded() []Info {
	var out []Info
	for _, name := range embeddedNames() {
		data, _ := embedded.ReadFile(name + ".yaml")
		var head struct {
			Description string `yaml:"description"`
		}
		_ = yaml.Unmarshal(data, &head)
		out = append(out, Info{Name: name, Description: strings.TrimSpace(head.Description)})
	}
	return out
}

// parse decodes the source as written (variants kept) and checks that
// every variant expands to a valid scenario.
func parse(src *source) (*Scenario, error) {
	s, r, err := decodeSource(src, -1, nil)
	if err != nil {
		return nil, err
	}
	src.lines = r.lines
	s.src = src
	if len(s.Variants) > 0 {
		s.Variant = "base"
		if _, err := s.Expand(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// looksLikeScenario reports whether arg names an embedded scenario or a
// YAML file, as a scenario argument swallowed by a --set without a
// value does.
func looksLikeScenario(arg string) bool {
	return slices.Contains(embeddedNames(), arg) || strings.HasSuffix(arg, ".yaml") || strings.HasSuffix(arg, ".yml")
}

// decodeSource decodes the YAML, applies the --set overrides and then,
// when variant is given, drops the variants list and applies the
// variant's settings (index is its place in the list; -1 with a nil
// variant keeps the variants; -1 with the empty variant is the base).
func decodeSource(src *source, index int, variant *Variant) (*Scenario, *reader, error) {
	root, err := parseYAML(src.file, src.data)
	if err != nil {
		return nil, nil, err
	}
	marks := map[*yaml.Node]*override{}
	st := &setter{file: src.file, marks: marks}
	type givenSet struct {
		segs       []segment
		key, value string
	}
	var given []givenSet
	for _, arg := range src.sets {
		key, value, ok := splitSet(arg)
		if !ok {
			msg := "must be key=value, such as policy.threshold=4"
			if looksLikeScenario(arg) {
				msg += fmt.Sprintf("; %s names a scenario, which --set took as its value because --set was given none", arg)
			}
			return nil, nil, &Error{File: src.file, Field: "--set " + arg, Msg: msg}
		}
		// An earlier --set of this field, or of a field within it, would
		// have no effect.
		if segs, msg := parseSetPath(key); msg == "" {
			for _, g := range given {
				switch {
				case slices.Equal(g.segs, segs):
					return nil, nil, &Error{File: src.file, Field: "--set " + key, Msg: fmt.Sprintf("given twice (%s, then %s): the first would have no effect; give it once", g.value, value)}
				case len(segs) < len(g.segs) && slices.Equal(g.segs[:len(segs)], segs):
					return nil, nil, &Error{File: src.file, Field: "--set " + key, Msg: fmt.Sprintf("replaces all of %s after --set %s, which would have no effect; set the whole first, then the part", key, g.key)}
				}
			}
			given = append(given, givenSet{segs, key, value})
		}
		if err := st.apply(&root, key, value, &override{label: "--set " + key}); err != nil {
			return nil, nil, err
		}
	}
	if variant != nil {
		removeKey(root, "variants")
		for _, key := range sortedKeys(variant.Set) {
			lp := joinPath(indexPath("variants", index), "set") + "." + key
			ov := &override{label: lp, line: src.lines[lp]}
			if err := st.apply(&root, key, variant.Set[key], ov); err != nil {
				return nil, nil, err
			}
		}
	}
	r := newReader(src.file, src.open, marks)
	r.lines[""] = root.Line
	r.present[""] = true
	s := &Scenario{}
	if err := r.decode(root, reflectValue(s), ""); err != nil {
		return nil, nil, err
	}
	s.File = src.file
	if variant != nil && len(variant.Thresholds) > 0 {
		merged := maps.Clone(s.Thresholds)
		if merged == nil {
			merged = map[string]string{}
		}
		maps.Copy(merged, variant.Thresholds)
		s.Thresholds = merged
	}
	if err := s.validate(r); err != nil {
		return nil, nil, err
	}
	return s, r, nil
}

// yamlLine finds the line yaml.v3 names in its error messages.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML reads one YAML document whose top level is a mapping.
func parseYAML(file string, data []byte) (root *yaml.Node, err error) {
	defer func() {
		// A panic in the YAML library is still bad input, not a crash.
		if p := recover(); p != nil {
			root, err = nil, &Error{File: file, Msg: fmt.Sprintf("YAML parser failed: %v", p)}
		}
	}()
	yerr := func(e error) error {
		msg := e.Error()
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			// yaml.v3 names the line where the construct at fault
			// starts, which may be a little before the fault itself.
			return &Error{File: file, Line: line, Msg: "bad YAML: " + m[2]}
		}
		return &Error{File: file, Msg: "bad YAML: " + strings.TrimPrefix(msg, "yaml: ")}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, &Error{File: file, Msg: "empty scenario: it needs at least duration, servers and workload"}
		}
		return nil, yerr(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		if err != nil {
			return nil, yerr(err)
		}
		return nil, &Error{File: file, Line: extra.Line, Msg: "more than one YAML document; a scenario file holds one"}
	}
	if len(doc.Content) == 0 {
		return nil, &Error{File: file, Msg: "empty scenario: it needs at least duration, servers and workload"}
	}
	root = doc.Content[0]
	if root.Kind == yaml.AliasNode && root.Alias != nil {
		root = root.Alias
	}
	if root.Kind != yaml.MappingNode {
		if isNull(root) {
			return nil, &Error{File: file, Line: root.Line, Msg: "empty scenario: it needs at least duration, servers and workload"}
		}
		return nil, &Error{File: file, Line: root.Line, Msg: "a scenario is a mapping of keys such as name, duration, servers; got " + describe(root)}
	}
	return root, nil
}

// removeKey deletes key from mapping n.
func removeKey(n *yaml.Node, key string) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Kind == yaml.ScalarNode && n.Content[i].Value == key {
			n.Content = append(n.Content[:i:i], n.Content[i+2:]...)
			return
		}
	}
}

// Expand returns the base scenario and one scenario per variant, in file
// order, each decoded and validated on its own with the variant's
// settings applied (sorted by key) after any --set overrides. They share
// the seed and the workload. The base is named "base". A scenario
// without variants is returned alone, as it is.
//
// Expand works from the file and the --set overrides the scenario was
// loaded with, so that defaults derived from other fields (view_ttl from
// report_interval, say) follow a variant's settings; changes made to s
// in code after loading are not carried over. A scenario built in code
// expands from its canonical YAML.
func (s *Scenario) Expand() ([]*Scenario, error) {
	if len(s.Variants) == 0 {
		return []*Scenario{s}, nil
	}
	src := s.src
	if src == nil {
		// Built in code: decode its canonical form.
		data, err := s.YAML()
		if err != nil {
			return nil, err
		}
		dir := filepath.Dir(s.File)
		src = &source{file: label(s.File), data: data, open: func(name string) ([]byte, error) {
			if !filepath.IsAbs(name) {
				name = filepath.Join(dir, name)
			}
			return readRegular(name)
		}}
	}
	base, _, err := decodeSource(src, -1, &Variant{})
	if err != nil {
		return nil, err
	}
	base.Variant = "base"
	base.src = src
	all := []string{"base"}
	for _, v := range s.Variants {
		all = append(all, v.Name)
	}
	base.from = &variantOf{index: -1, all: all}
	out := []*Scenario{base}
	for i := range s.Variants {
		v, _, err := decodeSource(src, i, &s.Variants[i])
		if err != nil {
			return nil, err
		}
		v.Variant = s.Variants[i].Name
		v.src = src
		v.from = &variantOf{index: i, set: s.Variants[i].Set, all: all}
		out = append(out, v)
	}
	return out, nil
}

// Instances lists the servers, groups expanded, in file order.
func (s *Scenario) Instances() []Instance {
	var out []Instance
	for gi := range s.Servers {
		g := &s.Servers[gi]
		for i := 1; i <= g.Count; i++ {
			out = append(out, Instance{Index: len(out), Name: fmt.Sprintf("%s-%d", g.Name, i), Group: g})
		}
	}
	return out
}

// Lookup finds a server's index by instance name ("web-2"), or by the
// bare group name of a group of one ("slow").
func (s *Scenario) Lookup(name string) (int, bool) {
	index := 0
	for _, g := range s.Servers {
		if g.Count == 1 && name == g.Name {
			return index, true
		}
		if rest, ok := strings.CutPrefix(name, g.Name+"-"); ok {
			if i, err := strconv.Atoi(rest); err == nil && i >= 1 && i <= g.Count && rest == strconv.Itoa(i) {
				return index + i - 1, true
			}
		}
		index += g.Count
	}
	return -1, false
}

// Interval is the report interval after defaults; 0 means an exact view.
func (s *Scenario) Interval() time.Duration {
	if s.Manager.ReportInterval == nil {
		return 100 * time.Millisecond
	}
	return *s.Manager.ReportInterval
}

func reflectValue(s *Scenario) reflect.Value { return reflect.ValueOf(s).Elem() }
