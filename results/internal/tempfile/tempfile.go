// Package tempfile creates the temporary files that results are written
// to before they are renamed into place.
package tempfile

import (
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Create is os.CreateTemp(dir, pattern) with the mode of an ordinary new
// file, 0666 less the umask, instead of CreateTemp's private 0600: the
// file keeps that mode once renamed into place, and results are for
// sharing like any file the user makes. The last "*" in pattern is
// replaced by a random string (appended when there is none); the name is
// claimed with O_EXCL, so it is never a file that exists already.
func Create(dir, pattern string) (*os.File, error) {
	prefix, suffix := pattern, ""
	if i := strings.LastIndex(pattern, "*"); i >= 0 {
		prefix, suffix = pattern[:i], pattern[i+1:]
	}
	var err error
	for range 10000 {
		name := filepath.Join(dir, prefix+strconv.FormatUint(rand.Uint64(), 36)+suffix)
		var f *os.File
		f, err = os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
	return nil, err
}
