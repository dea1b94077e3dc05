package scenarios

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// maxNodes bounds the YAML nodes one scenario may expand to, aliases
// included, so that a short file of nested aliases cannot make decoding
// explode.
const maxNodes = 200000

var (
	durationType  = reflect.TypeFor[time.Duration]()
	rateType      = reflect.TypeFor[Rate]()
	thresholdType = reflect.TypeFor[Threshold]()
)

// reader decodes one YAML tree into a Scenario and validates it. It
// remembers where every field was written so that any error, from
// decoding or from validation, can name the line.
type reader struct {
	file string
	// lines maps every key written in the tree (by path) to its line.
	lines map[string]int
	// present holds the paths with a non-null value: absent and null
	// fields take their defaults.
	present map[string]bool
	// origin maps paths whose value came from an override to it.
	origin map[string]*override
	// overrides marks the nodes that overrides put into the tree.
	overrides map[*yaml.Node]*override
	// open reads a file named in the scenario (relative to it).
	open  func(name string) ([]byte, error)
	nodes int
}

func newReader(file string, open func(string) ([]byte, error), overrides map[*yaml.Node]*override) *reader {
	return &reader{
		file:      file,
		lines:     map[string]int{},
		present:   map[string]bool{},
		origin:    map[string]*override{},
		overrides: overrides,
		open:      open,
	}
}

// has reports whether the field at path was given a value.
func (r *reader) has(path string) bool { return r.present[path] }

// parentPath strips the last ".key" or "[i]" from path.
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func indexPath(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// errf makes the error for the field at path: its line is that of the
// field, or of the nearest parent written in the file when the field is
// absent. A field that came from an override is blamed on the override.
func (r *reader) errf(path, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	p := path
	for p != "" {
		if _, ok := r.lines[p]; ok {
			break
		}
		p = parentPath(p)
	}
	if ov := r.origin[p]; ov != nil {
		if path != ov.path {
			msg = path + ": " + msg
		}
		return &Error{File: r.file, Line: ov.line, Field: ov.label, Msg: msg}
	}
	return &Error{File: r.file, Line: r.lines[p], Field: path, Msg: msg}
}

// field is one YAML key of a struct type.
type field struct {
	name  string
	index int
}

// fieldsOf lists the YAML keys of struct type t, in declaration order.
func fieldsOf(t reflect.Type) []field {
	var fs []field
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		if tag == "" || tag == "-" || !f.IsExported() {
			continue
		}
		fs = append(fs, field{name: strings.Split(tag, ",")[0], index: i})
	}
	return fs
}

func lookupField(t reflect.Type, name string) (field, bool) {
	for _, f := range fieldsOf(t) {
		if f.name == name {
			return f, true
		}
	}
	return field{}, false
}

func fieldNames(t reflect.Type) []string {
	var names []string
	for _, f := range fieldsOf(t) {
		names = append(names, f.name)
	}
	return names
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names what a node is, for "must be X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return strconv.Quote(n.Value)
	}
	return "something else"
}

// decode stores node n into v, which has the type of the field at path.
func (r *reader) decode(n *yaml.Node, v reflect.Value, path string) error {
	r.nodes++
	if r.nodes > maxNodes {
		return r.errf(path, "scenario too large: more than %d YAML nodes with aliases expanded", maxNodes)
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return r.errf(path, "alias to an unknown anchor")
		}
		return r.decode(n.Alias, v, path)
	}
	if n.Kind == yaml.DocumentNode {
		return r.errf(path, "nested document")
	}
	if isNull(n) {
		return nil
	}
	t := v.Type()
	switch t {
	case durationType:
		s, err := r.scalar(n, path)
		if err != nil {
			return err
		}
		d, msg := parseDuration(s)
		if msg != "" {
			return r.errf(path, "%s", msg)
		}
		v.SetInt(int64(d))
		return nil
	case rateType:
		s, err := r.scalar(n, path)
		if err != nil {
			return err
		}
		rate, msg := parseRate(s)
		if msg != "" {
			return r.errf(path, "%s", msg)
		}
		v.SetFloat(float64(rate))
		return nil
	case thresholdType:
		s, err := r.scalar(n, path)
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(Threshold{Raw: s}))
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		e := reflect.New(t.Elem())
		if err := r.decode(n, e.Elem(), path); err != nil {
			return err
		}
		v.Set(e)
		return nil
	case reflect.Struct:
		return r.decodeStruct(n, v, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return r.errf(path, "must be a list, got %s", describe(n))
		}
		s := reflect.MakeSlice(t, len(n.Content), len(n.Content))
		for i, item := range n.Content {
			ip := indexPath(path, i)
			r.lines[ip] = item.Line
			r.present[ip] = true
			if ov := r.overrides[item]; ov != nil {
				r.origin[ip] = ov
			}
			if err := r.decode(item, s.Index(i), ip); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case reflect.Map:
		return r.decodeMap(n, v, path)
	case reflect.String:
		s, err := r.scalar(n, path)
		if err != nil {
			return err
		}
		v.SetString(s)
		return nil
	case reflect.Int:
		s, err := r.scalar(n, path)
		if err != nil {
			return err
		}
		i, perr := strconv.ParseInt(s, 10, 64)
		if perr != nil || i != int64(int(i)) {
			return r.errf(path, "must be a whole number, got %q", s)
		}
		v.SetInt(i)
		return nil
	case reflect.Uint64:
		s, err := r.scalar(n, path)
		if err != nil {
			return err
		}
		u, perr := strconv.ParseUint(s, 10, 64)
		if perr != nil {
			return r.errf(path, "must be a whole number from 0 to %d, got %q", uint64(math.MaxUint64), s)
		}
		v.SetUint(u)
		return nil
	case reflect.Float64:
		s, err := r.scalar(n, path)
		if err != nil {
			return err
		}
		f, perr := strconv.ParseFloat(s, 64)
		if perr != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return r.errf(path, "must be a finite number, got %q", s)
		}
		v.SetFloat(f)
		return nil
	}
	return r.errf(path, "cannot decode into %s", t)
}

// scalar returns the text of a scalar node, or an error for a list or a
// mapping where one value was expected.
func (r *reader) scalar(n *yaml.Node, path string) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", r.errf(path, "must be a single value, got %s", describe(n))
	}
	return n.Value, nil
}

// mapEntries checks that n is a mapping with plain, unique keys and
// records where each key was written.
func (r *reader) mapEntries(n *yaml.Node, path string, each func(key string, k, val *yaml.Node, kp string) error) error {
	if n.Kind != yaml.MappingNode {
		return r.errf(path, "must be a mapping of key: value pairs, got %s", describe(n))
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || isNull(k) {
			return &Error{File: r.file, Line: k.Line, Field: path, Msg: "keys must be plain names, got " + describe(k)}
		}
		kp := joinPath(path, k.Value)
		if k.Value == "<<" {
			r.lines[kp] = k.Line
			return r.errf(kp, "merge keys (<<) are not supported; repeat the fields or use --set")
		}
		if first, dup := seen[k.Value]; dup {
			r.lines[kp] = k.Line
			return r.errf(kp, "duplicate key (first written on line %d)", first)
		}
		seen[k.Value] = k.Line
		r.lines[kp] = k.Line
		if !isNull(val) {
			r.present[kp] = true
		}
		ov := r.overrides[val]
		if ov == nil {
			ov = r.overrides[k]
		}
		if ov != nil {
			r.origin[kp] = ov
		}
		if err := each(k.Value, k, val, kp); err != nil {
			return err
		}
	}
	return nil
}

func (r *reader) decodeStruct(n *yaml.Node, v reflect.Value, path string) error {
	t := v.Type()
	return r.mapEntries(n, path, func(key string, _, val *yaml.Node, kp string) error {
		f, ok := lookupField(t, key)
		if !ok {
			return r.errf(kp, "%s", unknownKey(key, fieldNames(t)))
		}
		return r.decode(val, v.Field(f.index), kp)
	})
}

func (r *reader) decodeMap(n *yaml.Node, v reflect.Value, path string) error {
	t := v.Type()
	m := reflect.MakeMap(t)
	err := r.mapEntries(n, path, func(key string, _, val *yaml.Node, kp string) error {
		e := reflect.New(t.Elem()).Elem()
		if err := r.decode(val, e, kp); err != nil {
			return err
		}
		m.SetMapIndex(reflect.ValueOf(key), e)
		return nil
	})
	if err != nil {
		return err
	}
	v.Set(m)
	return nil
}

// unknownKey says a key is unknown, suggests the closest known one and
// lists them all.
func unknownKey(key string, known []string) string {
	best, dist := "", 3
	for _, k := range known {
		if d := editDistance(key, k); d < dist {
			best, dist = k, d
		}
	}
	msg := "unknown key"
	if best != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", best)
	}
	return msg + "; valid keys here: " + strings.Join(known, ", ")
}

// editDistance is the Levenshtein distance, for "did you mean".
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// parseDuration reads a Go duration such as 10ms, 1.5s or 200us. A bare
// number other than 0 is refused: "10" could mean seconds or
// milliseconds. The second result is an error message, "" when ok.
func parseDuration(s string) (time.Duration, string) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return 0, ""
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return 0, fmt.Sprintf("a duration needs a unit, such as %sms or %ss (got %s)", s, s, s)
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Sprintf("not a duration (such as 10ms, 1.5s or 200us): %q", s)
	}
	if d < 0 {
		return 0, fmt.Sprintf("must not be negative, got %s", s)
	}
	return d, ""
}

// rateUnits are the time units a rate may be given per, in seconds.
var rateUnits = map[string]float64{"ms": 0.001, "s": 1, "sec": 1, "min": 60, "h": 3600}

// parseRate reads a rate such as 900/s, 54000/min or 1.5k/s into
// requests per second. The second result is an error message.
func parseRate(s string) (Rate, string) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return 0, ""
	}
	num, unit, ok := strings.Cut(s, "/")
	num, unit = strings.TrimSpace(num), strings.TrimSpace(unit)
	if !ok {
		if _, err := strconv.ParseFloat(s, 64); err == nil {
			return 0, fmt.Sprintf("a rate needs a unit: write %s/s (or per min, per h)", s)
		}
		return 0, fmt.Sprintf("not a rate (such as 900/s, 54000/min or 1.5k/s): %q", s)
	}
	per, ok := rateUnits[unit]
	if !ok {
		return 0, fmt.Sprintf("unknown rate unit %q in %q (want /ms, /s, /min or /h)", unit, s)
	}
	scale := 1.0
	switch {
	case strings.HasSuffix(num, "k"):
		scale, num = 1e3, strings.TrimSuffix(num, "k")
	case strings.HasSuffix(num, "M"):
		scale, num = 1e6, strings.TrimSuffix(num, "M")
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Sprintf("not a rate (such as 900/s, 54000/min or 1.5k/s): %q", s)
	}
	if f < 0 {
		return 0, fmt.Sprintf("must not be negative, got %s", s)
	}
	r := f * scale / per
	if math.IsInf(r, 0) || r > 1e12 {
		return 0, fmt.Sprintf("rate %s is beyond any workload (at most 1e12/s)", s)
	}
	return Rate(r), ""
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
