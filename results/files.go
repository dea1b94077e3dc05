package results

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/redirlab/redirlab/results/internal/tempfile"
)

// Files appear in a results directory only when complete: whole files are
// written to a temporary file in the same directory, synced and renamed;
// streamed CSVs grow as NAME.tmp and are renamed by Close. A crash leaves
// .tmp files and no summary.json, never a truncated file under its final
// name.

// writeFileAtomic replaces dir/name with data.
func writeFileAtomic(dir, name string, data []byte) (err error) {
	f, err := tempfile.Create(dir, "."+name+".*.tmp")
	if err != nil {
		return fmt.Errorf("results: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("results: writing %s: %w", name, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("results: syncing %s: %w", name, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("results: closing %s: %w", name, err)
	}
	if err = os.Rename(f.Name(), filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	return nil
}

// syncDir makes the renames in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("results: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("results: syncing %s: %w", dir, err)
	}
	return nil
}

// stream is a CSV file written row by row as NAME.tmp.
type stream struct {
	name string // final path
	f    *os.File
	w    *bufio.Writer
	err  error // first write error; later writes are skipped
}

// streamBuffer is large enough that the writer rarely reaches the
// kernel: requests.csv rows are about 100 bytes.
const streamBuffer = 1 << 20

func createStream(dir, name string, header []string) (*stream, error) {
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path+".tmp", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o666)
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	s := &stream{name: path, f: f, w: bufio.NewWriterSize(f, streamBuffer)}
	s.write(appendHeader(nil, header))
	return s, nil
}

func (s *stream) write(line []byte) {
	if s.err != nil {
		return
	}
	if _, err := s.w.Write(line); err != nil {
		s.err = fmt.Errorf("results: writing %s: %w", filepath.Base(s.name), err)
	}
}

// finish flushes, syncs and renames the stream to its final name. After
// a write error the partial file stays NAME.tmp.
func (s *stream) finish() error {
	if s.err != nil {
		s.f.Close()
		return s.err
	}
	err := s.w.Flush()
	if err == nil {
		err = s.f.Sync()
	}
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(s.f.Name(), s.name)
	}
	if err != nil {
		return fmt.Errorf("results: finishing %s: %w", filepath.Base(s.name), err)
	}
	return nil
}

// discard closes and removes an unfinished stream (NewRecorder failed).
func (s *stream) discard() {
	s.f.Close()
	os.Remove(s.f.Name())
}
