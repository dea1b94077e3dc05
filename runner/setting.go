package runner

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/redirlab/redirlab/scenarios"
)

// Setting reads the value of key, a dotted path as --set takes it
// ("policy.threshold", "servers[1].workers"), from sc as it runs: from
// its canonical YAML (Scenario.YAML, the scenario.yaml of its results),
// defaults filled and variant settings applied. A mapping or list comes
// back in YAML flow style. A field the canonical form leaves out holds
// its zero value, which is returned ("0", "0s", "" for a string).
func Setting(sc *scenarios.Scenario, key string) (string, error) {
	data, err := sc.YAML()
	if err != nil {
		return "", err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return "", err
	}
	if len(doc.Content) == 0 {
		return "", fmt.Errorf("%s: empty scenario", key)
	}
	n := doc.Content[0]
	t := reflect.TypeFor[scenarios.Scenario]()
	for _, step := range keyPath(key) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if ix, ok := strings.CutPrefix(step, "["); ok {
			i, err := strconv.Atoi(strings.TrimSuffix(ix, "]"))
			if err != nil || t.Kind() != reflect.Slice {
				return "", fmt.Errorf("%s: no field %s", key, step)
			}
			t = t.Elem()
			if n != nil {
				if n.Kind != yaml.SequenceNode || i >= len(n.Content) {
					return "", fmt.Errorf("%s: index %d out of range", key, i)
				}
				n = n.Content[i]
			}
			continue
		}
		f, ok := yamlField(t, step)
		if !ok {
			return "", fmt.Errorf("%s: no field %s", key, step)
		}
		t = f.Type
		if n != nil {
			var next *yaml.Node
			for i := 0; n.Kind == yaml.MappingNode && i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == step {
					next = n.Content[i+1]
				}
			}
			n = next // nil: left out, so its zero value
		}
	}
	if n == nil {
		return zeroSetting(t), nil
	}
	if n.Kind == yaml.ScalarNode {
		return n.Value, nil
	}
	flow(n)
	b, err := yaml.Marshal(n)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// yamlField finds the field of struct type t written as name in YAML.
func yamlField(t reflect.Type, name string) (reflect.StructField, bool) {
	if t.Kind() != reflect.Struct {
		return reflect.StructField{}, false
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); f.IsExported() && tag == name && tag != "-" {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// zeroSetting is the zero value of a field of type t, as written in a
// scenario file.
func zeroSetting(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeFor[time.Duration]() {
		return "0s"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Uint64, reflect.Float64:
		return "0"
	case reflect.Bool:
		return "false"
	}
	return ""
}

// flow writes n and everything under it in YAML flow style.
func flow(n *yaml.Node) {
	n.Style = yaml.FlowStyle
	for _, c := range n.Content {
		flow(c)
	}
}
