package runner

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/results/report"
)

// InputError is a request the caller must change, not a failure of the
// run: a results directory that is in use, a sweep key that a variant
// also sets. The command line exits 2 on it.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

func inputErrorf(format string, args ...any) error {
	return &InputError{fmt.Errorf(format, args...)}
}

// SafeName makes name, a scenario's name, usable as one element of a
// directory name: every character other than a letter, a digit, '-', '_'
// or '.' becomes '_', and leading dots go, so that no name can climb out
// of the directory it is joined to ("../../evil" gives "_.._evil").
// An empty result is "scenario".
func SafeName(name string) string {
	b := []byte(name)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		default:
			b[i] = '_'
		}
	}
	s := strings.TrimLeft(string(b), ".")
	if len(s) > 64 {
		s = s[:64]
	}
	if s == "" {
		return "scenario"
	}
	return s
}

// NewDir makes a new, empty directory for results: parent/base, or
// parent/base-2, parent/base-3, ... when that is taken. Each name is
// claimed with os.Mkdir, which fails when the directory exists, so two
// runs started in the same second never share a directory. It returns
// the directory made.
func NewDir(parent, base string) (string, error) {
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", err
	}
	for n := 1; n <= 10000; n++ {
		name := base
		if n > 1 {
			name = fmt.Sprintf("%s-%d", base, n)
		}
		dir := filepath.Join(parent, name)
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("%s: no free name %s-N up to 10000", parent, base)
}

// PrepareDir readies dir, a results directory named by the caller, to
// receive a run's results: a missing directory is created (with its
// parents), an empty one is used as it is. A directory that holds
// anything is refused, unless force is set and it looks like a redirlab
// results directory (see looksLikeResults), in which case it is removed
// whole and made again; a directory that does not look like one, the
// current directory or one of its parents is never removed. made
// reports whether dir was created (or re-created) here. Refusals are
// *InputError.
func PrepareDir(dir string, force bool) (made bool, err error) {
	st, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return false, inputErrorf("--out %s: cannot be made: %v", dir, err)
		}
		return true, nil
	}
	if err != nil {
		return false, inputErrorf("--out %s: %v", dir, err)
	}
	if st.Mode()&fs.ModeSymlink != 0 {
		// Used only when it leads to an empty directory: replacing it
		// would remove what it points to, or only the link.
		if t, err := os.Stat(dir); err == nil && t.IsDir() {
			if empty, err := isEmpty(dir); err == nil && empty {
				return false, nil
			}
		}
		return false, inputErrorf("--out %s is a symbolic link to something other than an empty directory; give the directory itself, or a new one", dir)
	}
	if !st.IsDir() {
		return false, inputErrorf("--out %s exists and is not a directory", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, err
	}
	if len(entries) == 0 {
		return false, nil
	}
	held := describeEntries(entries)
	if !force {
		if HasResults(dir) {
			return false, inputErrorf("--out %s already holds results (%s); give a new or empty directory, or --force to replace it", dir, held)
		}
		return false, inputErrorf("--out %s is not empty (%s); results go into a new or empty directory", dir, held)
	}
	if ok, why := looksLikeResults(dir); !ok {
		return false, inputErrorf("--out %s does not look like a redirlab results directory (%s), so even --force does not remove it; give a new or empty directory", dir, why)
	}
	abs, err := realPath(dir)
	if err != nil {
		return false, err
	}
	wd, err := os.Getwd()
	if err == nil {
		wd, err = realPath(wd)
	}
	if err != nil || within(wd, abs) {
		return false, inputErrorf("--out %s is the current directory or holds it; --force does not remove it", dir)
	}
	if err := os.RemoveAll(abs); err != nil {
		return false, fmt.Errorf("--force: removing %s: %w", dir, err)
	}
	return true, os.Mkdir(abs, 0o755)
}

// realPath is path made absolute, symbolic links resolved.
func realPath(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(abs)
}

// within reports whether path is dir or lies inside it (both absolute).
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func isEmpty(dir string) (bool, error) {
	f, err := os.Open(dir)
	if err != nil {
		return false, err
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	if errors.Is(err, fs.ErrNotExist) || len(names) == 0 {
		return true, nil
	}
	return false, nil
}

// describeEntries names the first few entries of a directory for a
// message.
func describeEntries(entries []fs.DirEntry) string {
	var names []string
	for i, e := range entries {
		if i == 3 {
			names = append(names, fmt.Sprintf("and %d more", len(entries)-3))
			break
		}
		n := e.Name()
		if e.IsDir() {
			n += "/"
		}
		names = append(names, n)
	}
	return strings.Join(names, ", ")
}

// Files redirlab writes into results directories, by name. Figures
// (.png, .svg) and unfinished files (.tmp) are recognised by extension.
var resultFiles = []string{
	results.SummaryFile, results.RequestsFile, results.ServersFile, results.TimeseriesFile,
	results.ScenarioFile, report.ReportFile, report.ComparisonFile, report.ReplicationsFile,
	report.SweepFile,
}

// markerFiles are the files only a results directory holds: one of them,
// at some depth, is what makes a tree of such files a results directory
// (a scenario.yaml or a figure alone does not).
var markerFiles = []string{
	results.SummaryFile, results.RequestsFile, results.ServersFile, results.TimeseriesFile,
	report.ComparisonFile, report.ReplicationsFile, report.SweepFile,
	results.RequestsFile + ".tmp", results.ServersFile + ".tmp",
}

// PrepareCompareDir makes sure dir may take compare's files: it is new
// or empty (made here), or it holds only files compare writes (a
// comparison redone). Anything else is refused: compare never writes
// over other files.
func PrepareCompareDir(dir string) error {
	st, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return inputErrorf("--out %s: cannot be made: %v", dir, err)
		}
		return nil
	}
	if err != nil {
		return inputErrorf("--out %s: %v", dir, err)
	}
	if !st.IsDir() {
		return inputErrorf("--out %s exists and is not a directory", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return inputErrorf("--out %s: %v", dir, err)
	}
	for _, e := range entries {
		n := e.Name()
		ok := e.Type().IsRegular() && (n == "comparison.csv" || n == "report.html" || strings.HasPrefix(n, "compare-") && (strings.HasSuffix(n, ".png") || strings.HasSuffix(n, ".svg")))
		if !ok {
			return inputErrorf("--out %s holds %s, which compare does not write: give a new or empty directory", dir, n)
		}
	}
	return nil
}

// HasResults reports whether dir holds results of a run, a comparison or
// a sweep, at any depth: one of the files only redirlab writes there
// (summary.json, the CSVs, sweep.csv, comparison.csv, and the unfinished
// CSVs of a run that failed).
func HasResults(dir string) bool {
	found := false
	budget := maxScan
	var walk func(string, int)
	walk = func(d string, depth int) {
		entries, err := os.ReadDir(d)
		if err != nil || depth > maxDepth {
			return
		}
		for _, e := range entries {
			budget--
			if found || budget < 0 {
				return
			}
			if e.Type().IsRegular() && slices.Contains(markerFiles, e.Name()) {
				found = true
				return
			}
			if e.IsDir() {
				walk(filepath.Join(d, e.Name()), depth+1)
			}
		}
	}
	walk(dir, 0)
	return found
}

// Bounds of the walks over a results directory: a sweep of sweeps of
// variants with replications and data files is 5 levels deep.
const (
	maxDepth = 8
	maxScan  = 200000
)

// looksLikeResults reports whether everything in dir is something
// redirlab writes into a results directory, and something in it is a
// result (see markerFiles): the files of resultFiles, figures, .tmp
// files, the data/ directory of a run's scenario.yaml, and
// sub-directories (variants, replications, sweep points) made of the
// same. Symbolic links and other files are not. why says what is not.
func looksLikeResults(dir string) (ok bool, why string) {
	budget := maxScan
	marker := false
	var walk func(d, rel string, depth int) string
	walk = func(d, rel string, depth int) string {
		if depth > maxDepth {
			return rel + " is nested deeper than a results directory"
		}
		entries, err := os.ReadDir(d)
		if err != nil {
			return err.Error()
		}
		for _, e := range entries {
			if budget--; budget < 0 {
				return "it holds more files than a results directory"
			}
			name, path := e.Name(), filepath.Join(rel, e.Name())
			switch {
			case e.Type()&fs.ModeSymlink != 0:
				return path + " is a symbolic link"
			case e.IsDir() && name == "data" && exists(filepath.Join(d, results.ScenarioFile)):
				// The data files of the scenario as run: plain files.
				files, err := os.ReadDir(filepath.Join(d, name))
				if err != nil {
					return err.Error()
				}
				for _, f := range files {
					if !f.Type().IsRegular() {
						return filepath.Join(path, f.Name()) + " is not a data file"
					}
				}
			case e.IsDir():
				if w := walk(filepath.Join(d, name), path, depth+1); w != "" {
					return w
				}
			case !e.Type().IsRegular():
				return path + " is not a regular file"
			case slices.Contains(resultFiles, name), strings.HasSuffix(name, ".tmp"),
				strings.HasSuffix(name, ".png"), strings.HasSuffix(name, ".svg"):
				marker = marker || slices.Contains(markerFiles, name)
			default:
				return path + " is not a file redirlab writes"
			}
		}
		return ""
	}
	if w := walk(dir, "", 0); w != "" {
		return false, w
	}
	if !marker {
		return false, "it holds no summary.json, results CSV, comparison or sweep"
	}
	return true, ""
}
