package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/redirlab/redirlab/dispatch"
	"github.com/redirlab/redirlab/policy"
)

// The tests here keep docs/scenario.md true to the schema. Its
// conventions (stated at its top):
//
//   - every schema field has a row in a field table whose first cell is
//     its dotted path in backticks, list elements written with []:
//     | `servers[].workers` | ...
//   - every arrival process, service distribution and fault action has a
//     section whose heading names it in backticks, with a yaml example
//     that uses it;
//   - every ```yaml block is an example: merged into the first one (the
//     minimal scenario; the example's top-level keys replace its keys),
//     it must validate. A ```text block whose first line is
//     "# file: NAME" is a data file the examples may name.

const scenarioDoc = "../docs/scenario.md"

// docBlock is one fenced code block of a Markdown file.
type docBlock struct {
	line int    // 1-based line of the opening fence
	lang string // info string of the fence
	body string
}

type docFile struct {
	lines  []string // every line of the file
	fenced []bool   // lines inside (or opening/closing) a code block
	blocks []docBlock
}

func readDocFile(t *testing.T, path string) *docFile {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the documentation: %v", err)
	}
	d := &docFile{lines: strings.Split(string(data), "\n")}
	d.fenced = make([]bool, len(d.lines))
	for i := 0; i < len(d.lines); i++ {
		l := d.lines[i]
		if !strings.HasPrefix(l, "```") {
			continue
		}
		b := docBlock{line: i + 1, lang: strings.TrimSpace(strings.TrimPrefix(l, "```"))}
		d.fenced[i] = true
		var body []string
		for i++; i < len(d.lines) && !strings.HasPrefix(d.lines[i], "```"); i++ {
			d.fenced[i] = true
			body = append(body, d.lines[i])
		}
		if i < len(d.lines) {
			d.fenced[i] = true
		}
		b.body = strings.Join(body, "\n") + "\n"
		d.blocks = append(d.blocks, b)
	}
	return d
}

// docRowKey matches a table row whose first cell is one name in backticks.
var docRowKey = regexp.MustCompile("^\\|\\s*`([^`]+)`\\s*\\|")

// rows returns the first cells of table rows that are one name in
// backticks, with their lines.
func (d *docFile) rows() map[string]int {
	out := map[string]int{}
	for i, l := range d.lines {
		if d.fenced[i] {
			continue
		}
		if m := docRowKey.FindStringSubmatch(l); m != nil {
			if _, dup := out[m[1]]; !dup {
				out[m[1]] = i + 1
			}
		}
	}
	return out
}

// docSection is a heading and the lines under it, up to the next heading of
// the same or a higher level.
type docSection struct {
	heading    string
	start, end int // line indices [start, end)
}

func (d *docFile) sections() []docSection {
	type head struct {
		level, i int
	}
	var heads []head
	for i, l := range d.lines {
		if d.fenced[i] || !strings.HasPrefix(l, "#") {
			continue
		}
		level := len(l) - len(strings.TrimLeft(l, "#"))
		if level < len(l) && l[level] == ' ' {
			heads = append(heads, head{level, i})
		}
	}
	var out []docSection
	for k, h := range heads {
		end := len(d.lines)
		for _, n := range heads[k+1:] {
			if n.level <= h.level {
				end = n.i
				break
			}
		}
		out = append(out, docSection{heading: d.lines[h.i], start: h.i, end: end})
	}
	return out
}

// blocksIn returns the code blocks of lang that open inside s.
func (d *docFile) blocksIn(s docSection, lang string) []docBlock {
	var out []docBlock
	for _, b := range d.blocks {
		if b.lang == lang && b.line-1 > s.start && b.line-1 < s.end {
			out = append(out, b)
		}
	}
	return out
}

// docLeafType reports whether a schema type is written as one value (or
// as a mapping the schema does not describe field by field).
func docLeafType(t reflect.Type) bool {
	switch t {
	case reflect.TypeFor[time.Duration](), reflect.TypeFor[Rate](), reflect.TypeFor[Threshold]():
		return true
	}
	return t.Kind() != reflect.Struct
}

// docSchemaPaths lists the dotted path of every field of t reachable from
// the top of a scenario file: yaml tags, recursing into structs and list
// elements (written []), skipping yaml:"-" and untagged fields.
func docSchemaPaths(t reflect.Type, prefix string) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		if tag == "" || tag == "-" || !f.IsExported() {
			continue
		}
		name := strings.Split(tag, ",")[0]
		p := name
		if prefix != "" {
			p = prefix + "." + name
		}
		out = append(out, p)
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Slice {
			ft, p = ft.Elem(), p+"[]"
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
		}
		if !docLeafType(ft) {
			out = append(out, docSchemaPaths(ft, p)...)
		}
	}
	return out
}

func TestDocsScenarioFields(t *testing.T) {
	doc := readDocFile(t, scenarioDoc)
	rows := doc.rows()
	paths := docSchemaPaths(reflect.TypeFor[Scenario](), "")
	if len(paths) < 20 {
		t.Fatalf("the schema walk found only %d fields: %v", len(paths), paths)
	}
	for _, p := range paths {
		if _, ok := rows[p]; !ok {
			t.Errorf("%s: schema field %s has no row: add a table row starting | `%s` | with its type, default and meaning", scenarioDoc, p, p)
		}
	}
	// And the other way: a row naming a field the schema no longer has
	// is stale. Rows name fields, or settings with an index ([i], [0]).
	index := regexp.MustCompile(`\[[^\]]*\]`)
	for key, line := range rows {
		if !strings.Contains(key, ".") && !slices.Contains(paths, key) {
			// Top-level rows must be fields; a dotless first cell that is
			// not one (a value kind, say) is written without backticks.
			t.Errorf("%s:%d: row `%s` names no schema field", scenarioDoc, line, key)
			continue
		}
		if norm := index.ReplaceAllString(key, "[]"); !slices.Contains(paths, norm) {
			t.Errorf("%s:%d: row `%s` names no schema field: renamed or removed?", scenarioDoc, line, key)
		}
	}
}

// docLoadExamples writes the data files of the document into a temporary
// directory and returns every yaml example merged into the minimal
// scenario, loaded, by its line.
func docLoadExamples(t *testing.T, doc *docFile) map[int]*Scenario {
	t.Helper()
	dir := t.TempDir()
	for _, b := range doc.blocks {
		first, _, _ := strings.Cut(b.body, "\n")
		if name, ok := strings.CutPrefix(first, "# file: "); ok && b.lang == "text" {
			name = strings.TrimSpace(name)
			if name == "" || strings.ContainsAny(name, `/\`) {
				t.Fatalf("%s:%d: data file name %q: want a plain file name", scenarioDoc, b.line, name)
			}
			if err := os.WriteFile(filepath.Join(dir, name), []byte(b.body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	var examples []docBlock
	for _, b := range doc.blocks {
		if b.lang == "yaml" {
			examples = append(examples, b)
		}
	}
	if len(examples) == 0 {
		t.Fatalf("%s: no yaml examples", scenarioDoc)
	}
	base := examples[0]
	out := map[int]*Scenario{}
	for _, ex := range examples {
		data, err := docMergeExample(base.body, ex.body)
		if err != nil {
			t.Errorf("%s:%d: example: %v", scenarioDoc, ex.line, err)
			continue
		}
		file := filepath.Join(dir, "example.yaml")
		sc, err := Parse(file, data)
		if err != nil {
			t.Errorf("%s:%d: example does not validate (merged into the minimal scenario of line %d): %v\n%s", scenarioDoc, ex.line, base.line, err, data)
			continue
		}
		out[ex.line] = sc
	}
	return out
}

// docMergeExample puts the top-level keys of example into base, replacing
// base's own.
func docMergeExample(base, example string) ([]byte, error) {
	var b, e yaml.Node
	if err := yaml.Unmarshal([]byte(base), &b); err != nil {
		return nil, err
	}
	if err := yaml.Unmarshal([]byte(example), &e); err != nil {
		return nil, err
	}
	if len(b.Content) == 0 || len(e.Content) == 0 || b.Content[0].Kind != yaml.MappingNode || e.Content[0].Kind != yaml.MappingNode {
		return nil, errDocNotMapping
	}
	bm, em := b.Content[0], e.Content[0]
	for i := 0; i+1 < len(em.Content); i += 2 {
		k, v := em.Content[i], em.Content[i+1]
		replaced := false
		for j := 0; j+1 < len(bm.Content); j += 2 {
			if bm.Content[j].Value == k.Value {
				bm.Content[j+1], replaced = v, true
			}
		}
		if !replaced {
			bm.Content = append(bm.Content, k, v)
		}
	}
	return yaml.Marshal(&b)
}

var errDocNotMapping = errors.New("an example is a mapping of top-level scenario keys")

func TestDocsScenarioExamples(t *testing.T) {
	doc := readDocFile(t, scenarioDoc)
	loaded := docLoadExamples(t, doc)
	if t.Failed() {
		return
	}
	// Every process, distribution and fault action has a section whose
	// heading names it, with an example that uses it.
	uses := map[string]func(*Scenario, string) bool{
		"process": func(s *Scenario, n string) bool { return s.Workload.Arrival.Process == n },
		"dist": func(s *Scenario, n string) bool {
			for _, g := range s.Servers {
				if g.Service.Dist == n || g.ObjectService.Dist == n {
					return true
				}
			}
			return false
		},
		"action": func(s *Scenario, n string) bool {
			return slices.ContainsFunc(s.Faults, func(f Fault) bool { return f.Action == n })
		},
	}
	names := map[string][]string{"process": processNames, "dist": distNames, "action": actionNames}
	sections := doc.sections()
	for _, kind := range []string{"process", "dist", "action"} {
		for _, n := range names[kind] {
			found, example := false, false
			for _, s := range sections {
				if !strings.Contains(s.heading, "`"+n+"`") {
					continue
				}
				found = true
				for _, b := range doc.blocksIn(s, "yaml") {
					if sc := loaded[b.line]; sc != nil && uses[kind](sc, n) {
						example = true
					}
				}
			}
			switch {
			case !found:
				t.Errorf("%s: %s %s has no section: add a heading naming it in backticks (### `%s`) with an example", scenarioDoc, kind, n, n)
			case !example:
				t.Errorf("%s: the section of %s %s has no yaml example that uses it", scenarioDoc, kind, n)
			}
		}
	}
}

func TestDocsScenarioNames(t *testing.T) {
	data, err := os.ReadFile(scenarioDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	groups := map[string][]string{
		"process":             processNames,
		"dist":                append(slices.Clone(distNames), "bounded-pareto"),
		"fault action":        actionNames,
		"dispatch":            dispatch.Names(),
		"policy.condition":    policy.ConditionNames(),
		"policy.estimator":    policy.EstimatorNames(),
		"policy.target":       policy.TargetNames(),
		"manager.decision":    policy.PlacementNames(),
		"threshold metric":    Metrics,
		"server metric field": ServerMetrics,
	}
	for what, list := range groups {
		if len(list) == 0 {
			t.Errorf("no %s names to check", what)
		}
		for _, n := range list {
			if !strings.Contains(doc, "`"+n+"`") {
				t.Errorf("%s: %s %s is not documented (write it in backticks: `%s`)", scenarioDoc, what, n, n)
			}
		}
	}
}
