package scenarios

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// YAML is the scenario in canonical form, defaults filled: what a report
// shows as "the scenario as run". Decoding it again gives the same
// scenario. Files it names (empirical, trace) stay relative to the
// original scenario file.
func (s *Scenario) YAML() ([]byte, error) {
	n := encodeValue(reflect.ValueOf(*s))
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// canonicalThreshold writes a threshold as a count or a duration always
// is (8 for 08 or +8, 40ms for 0.04s), as durations and rates are, so
// that two ways of writing one threshold read back the same. What is
// neither stays as written (validation has refused it where it counts).
func canonicalThreshold(raw string) string {
	if n, err := strconv.Atoi(raw); err == nil {
		return strconv.Itoa(n)
	}
	if d, msg := parseDuration(raw); msg == "" {
		return fmtDuration(d)
	}
	return raw
}

func scalarNode(tag, value string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value}
}

// encodeValue turns v into a node, or nil when v is a zero value that the
// canonical form leaves out.
func encodeValue(v reflect.Value) *yaml.Node {
	t := v.Type()
	switch t {
	case durationType:
		if v.Int() == 0 {
			return nil
		}
		return scalarNode("", fmtDuration(timeDuration(v.Int())))
	case rateType:
		if v.Float() == 0 {
			return nil
		}
		return scalarNode("", fmtRate(Rate(v.Float())))
	case thresholdType:
		raw := strings.TrimSpace(v.Interface().(Threshold).Raw)
		if raw == "" {
			return nil
		}
		return scalarNode("", canonicalThreshold(raw))
	}
	switch t.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		n := encodeValue(v.Elem())
		if n == nil {
			// A pointer says the zero was written on purpose (report
			// interval 0 = exact view).
			return zeroNode(v.Elem().Type())
		}
		return n
	case reflect.Struct:
		m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		flat := true
		defaultInterval := false
		if s, ok := v.Interface().(Scenario); ok {
			defaultInterval = s.SampleIntervalDefault
		}
		front := false
		if g, ok := v.Interface().(ServerGroup); ok {
			front = g.Upstream != ""
		}
		for _, f := range fieldsOf(t) {
			if defaultInterval && f.name == "sample_interval" {
				continue
			}
			if front && slices.Contains(frontFields, f.name) {
				continue // a front's are placeholders, refused when written
			}
			fn := encodeValue(v.Field(f.index))
			if fn == nil {
				if !keepZero(v, f.name) {
					continue
				}
				fn = zeroNode(v.Field(f.index).Type())
			}
			flat = flat && fn.Kind == yaml.ScalarNode
			m.Content = append(m.Content, scalarNode("!!str", f.name), fn)
		}
		if len(m.Content) == 0 {
			return nil
		}
		if flat && len(m.Content) <= 12 && t != reflect.TypeFor[Scenario]() {
			m.Style = yaml.FlowStyle
		}
		return m
	case reflect.Slice:
		if v.Len() == 0 {
			return nil
		}
		seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for i := 0; i < v.Len(); i++ {
			e := encodeValue(v.Index(i))
			if e == nil {
				e = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Style: yaml.FlowStyle}
			}
			seq.Content = append(seq.Content, e)
		}
		return seq
	case reflect.Map:
		if v.Len() == 0 {
			return nil
		}
		m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Style: yaml.FlowStyle}
		keys := make([]string, 0, v.Len())
		for _, k := range v.MapKeys() {
			keys = append(keys, k.String())
		}
		sortStrings(keys)
		for _, k := range keys {
			val := v.MapIndex(reflect.ValueOf(k)).String()
			m.Content = append(m.Content, scalarNode("!!str", k), scalarNode("", val))
		}
		return m
	case reflect.String:
		if v.String() == "" {
			return nil
		}
		return scalarNode("!!str", v.String())
	case reflect.Int:
		if v.Int() == 0 {
			return nil
		}
		return scalarNode("!!int", strconv.FormatInt(v.Int(), 10))
	case reflect.Uint64:
		if v.Uint() == 0 {
			return nil
		}
		return scalarNode("!!int", strconv.FormatUint(v.Uint(), 10))
	case reflect.Float64:
		if v.Float() == 0 {
			return nil
		}
		return scalarNode("", strconv.FormatFloat(v.Float(), 'g', -1, 64))
	}
	return nil
}

// keepZero reports whether a zero field of struct v must be written
// because leaving it out would mean something else: a non-zero default,
// or a required value.
func keepZero(v reflect.Value, name string) bool {
	switch x := v.Interface().(type) {
	case Scenario:
		return name == "seed"
	case Network:
		return name == "rtt"
	case ServerGroup:
		return name == "page_bytes" || name == "object_bytes" || name == "weight"
	case Workload:
		return name == "max_redirects"
	case Service:
		return name == "cv" && x.Dist == "lognormal"
	case Step, MMPPState:
		return name == "rate"
	case Arrival:
		return (name == "from" || name == "to") && x.Process == "ramp"
	case Fault:
		return name == "at"
	}
	return false
}

// zeroNode writes the zero of type t.
func zeroNode(t reflect.Type) *yaml.Node {
	switch t {
	case durationType:
		return scalarNode("", "0s")
	case rateType:
		return scalarNode("", "0")
	}
	return scalarNode("!!"+zeroTag(t.Kind()), "0")
}

func zeroTag(k reflect.Kind) string {
	if k == reflect.Float64 {
		return "float"
	}
	return "int"
}

// fmtRate writes a rate per second as scenario files do (900/s).
func fmtRate(r Rate) string {
	return strconv.FormatFloat(float64(r), 'g', -1, 64) + "/s"
}

func timeDuration(ns int64) time.Duration { return time.Duration(ns) }

func sortStrings(s []string) { sort.Strings(s) }

// SharedDigest is a short hash of the settings that the parts of a run
// started apart (serve, manager, loadgen) must agree on: each group's
// name, count and workers, the policy, and the manager's settings. The
// manager refuses reports from a server whose scenario gives another
// digest: started with other --set values, its redirects and the
// manager's view would follow other rules without a word.
func (s *Scenario) SharedDigest() (string, error) {
	shared := Scenario{Policy: s.Policy, Manager: s.Manager}
	for _, g := range s.Servers {
		shared.Servers = append(shared.Servers, ServerGroup{Name: g.Name, Count: g.Count, Workers: g.Workers})
	}
	data, err := shared.YAML()
	if err != nil {
		return "", fmt.Errorf("%s: encoding the shared settings: %w", s.File, err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8]), nil
}
