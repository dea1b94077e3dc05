package results

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redirlab/redirlab/scenarios"
)

// The tests here keep docs/results.md true to what package results
// writes. Its conventions (stated at its top): every file has a section
// whose heading names it in backticks; every CSV column has a table row
// in its file's section whose first cell is the column in backticks;
// every summary.json field has a row in the summary.json section whose
// first cell is its JSON path, list elements written [] (servers[].name).
// runner/docs_test.go checks the files of the layers above (comparisons,
// sweeps, figures, report.html).

const resultsDoc = "../docs/results.md"

// docSections reads a Markdown file into its sections: for each heading,
// the first cells of the table rows under it (up to the next heading of
// the same or a higher level) that are one name in backticks.
type docSection struct {
	heading string
	line    int            // 1-based
	rows    map[string]int // first cell -> line
}

var docRow = regexp.MustCompile("^\\|\\s*`([^`]+)`\\s*\\|")

func readDocSections(t *testing.T, path string) []docSection {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the documentation: %v", err)
	}
	lines := strings.Split(string(data), "\n")
	type head struct{ level, i int }
	var heads []head
	fenced := false
	inFence := make([]bool, len(lines))
	for i, l := range lines {
		if strings.HasPrefix(l, "```") {
			fenced = !fenced
			inFence[i] = true
			continue
		}
		inFence[i] = fenced
		if fenced || !strings.HasPrefix(l, "#") {
			continue
		}
		level := len(l) - len(strings.TrimLeft(l, "#"))
		if level < len(l) && l[level] == ' ' {
			heads = append(heads, head{level, i})
		}
	}
	var out []docSection
	for k, h := range heads {
		end := len(lines)
		for _, n := range heads[k+1:] {
			if n.level <= h.level {
				end = n.i
				break
			}
		}
		s := docSection{heading: lines[h.i], line: h.i + 1, rows: map[string]int{}}
		for i := h.i + 1; i < end; i++ {
			if inFence[i] {
				continue
			}
			if m := docRow.FindStringSubmatch(lines[i]); m != nil {
				if _, dup := s.rows[m[1]]; !dup {
					s.rows[m[1]] = i + 1
				}
			}
		}
		out = append(out, s)
	}
	return out
}

// docFileSection is the section whose heading names file in backticks.
func docFileSection(t *testing.T, secs []docSection, file string) (docSection, bool) {
	t.Helper()
	for _, s := range secs {
		if strings.HasPrefix(s.heading, "#") && strings.Contains(s.heading, "`"+file+"`") {
			return s, true
		}
	}
	t.Errorf("%s: %s has no section: add a heading naming it in backticks (## `%s`)", resultsDoc, file, file)
	return docSection{}, false
}

func docCheckColumns(t *testing.T, secs []docSection, file string, header []string) {
	t.Helper()
	s, ok := docFileSection(t, secs, file)
	if !ok {
		return
	}
	if len(header) == 0 {
		t.Errorf("%s: empty header", file)
	}
	for _, c := range header {
		if _, ok := s.rows[c]; !ok {
			t.Errorf("%s: column %s of %s has no row in its section (line %d): add | `%s` | unit | meaning |", resultsDoc, c, file, s.line, c)
		}
	}
}

func TestDocsResultsColumns(t *testing.T) {
	secs := readDocSections(t, resultsDoc)
	for _, f := range []string{SummaryFile, RequestsFile, ServersFile, TimeseriesFile, ScenarioFile, BackendFile} {
		docFileSection(t, secs, f)
	}
	docCheckColumns(t, secs, BackendFile, backendHeader)
	docCheckColumns(t, secs, RequestsFile, requestsHeader)
	docCheckColumns(t, secs, ServersFile, serversHeader)
	docCheckColumns(t, secs, TimeseriesFile, timeseriesHeader)
}

// TestDocsResultsRecorded records a small run and checks every file the
// Recorder wrote, and every column of every CSV among them, whatever the
// variables its headers come from.
func TestDocsResultsRecorded(t *testing.T) {
	secs := readDocSections(t, resultsDoc)
	sc, err := scenarios.Load("default", "duration=2s", "warmup=1s")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rec, err := NewRecorder(sc, Sim, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	q := Request{ID: 1, Scheduled: time.Second, Sent: time.Second, Done: time.Second + 5*time.Millisecond,
		Outcome: Completed, Status: 200, First: 0, Final: 0, Objects: 0}
	q.AddHop(Hop{Server: 0, Status: 200, At: q.Done})
	rec.Add(&q)
	rec.AddSample(&ServerSample{At: 1100 * time.Millisecond, Server: 0, QueueLength: 1, InService: 1, Served: 1, Up: true, BusyTime: 5 * time.Millisecond})
	if _, err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	var files []string
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		files = append(files, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 5 {
		t.Fatalf("the recorder wrote only %v", files)
	}
	for _, rel := range files {
		if strings.HasPrefix(rel, "data/") {
			continue // data files: documented with scenario.yaml
		}
		if !strings.HasSuffix(rel, ".csv") {
			docFileSection(t, secs, rel)
			continue
		}
		f, err := os.Open(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		line, _ := bufio.NewReader(f).ReadString('\n')
		f.Close()
		docCheckColumns(t, secs, rel, strings.Split(strings.TrimSpace(line), ","))
	}
}

// docJSONPaths lists the JSON path of every field of t, recursing into
// structs and list elements (written []), skipping json:"-".
func docJSONPaths(t reflect.Type, prefix string) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name := strings.Split(tag, ",")[0]
		if name == "" {
			name = f.Name
		}
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
		}
		if ft.Kind() == reflect.Struct && ft != reflect.TypeFor[time.Time]() {
			out = append(out, docJSONPaths(ft, p)...)
		}
	}
	return out
}

func TestDocsResultsSummaryFields(t *testing.T) {
	secs := readDocSections(t, resultsDoc)
	s, ok := docFileSection(t, secs, SummaryFile)
	if !ok {
		return
	}
	paths := docJSONPaths(reflect.TypeFor[Summary](), "")
	if len(paths) < 20 {
		t.Fatalf("the Summary walk found only %d fields: %v", len(paths), paths)
	}
	for _, p := range paths {
		if _, ok := s.rows[p]; !ok {
			t.Errorf("%s: summary.json field %s has no row in the %s section (line %d): add | `%s` | type, unit | meaning |", resultsDoc, p, SummaryFile, s.line, p)
		}
	}
	for key, line := range s.rows {
		if !slices.Contains(paths, key) {
			t.Errorf("%s:%d: row `%s` names no summary.json field: renamed or removed?", resultsDoc, line, key)
		}
	}
}
