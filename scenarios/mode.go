package scenarios

import "fmt"

// Mode is how a scenario is run: simulated or on real servers. It is
// summary.json's mode, written "sim" or "real". The zero Mode is none.
type Mode uint8

const (
	// Sim is the discrete-event simulation, in virtual time.
	Sim Mode = iota + 1
	// Real is real HTTP servers on 127.0.0.1 driven by real browsers.
	Real
)

// String is "sim" or "real" ("" for the zero Mode, which is no mode).
func (m Mode) String() string {
	switch m {
	case Sim:
		return "sim"
	case Real:
		return "real"
	case 0:
		return ""
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// ParseMode is the inverse of String for Sim and Real.
func ParseMode(s string) (Mode, error) {
	switch s {
	case "sim":
		return Sim, nil
	case "real":
		return Real, nil
	}
	return 0, fmt.Errorf("mode %q: want sim or real", s)
}

// Valid reports whether m is Sim or Real.
func (m Mode) Valid() bool { return m == Sim || m == Real }

// MarshalText writes "sim" or "real"; the zero Mode is written "", so
// that a Summary built in code without a mode still marshals.
func (m Mode) MarshalText() ([]byte, error) {
	if m != 0 && !m.Valid() {
		return nil, fmt.Errorf("cannot write mode %v", m)
	}
	return []byte(m.String()), nil
}

// UnmarshalText reads "sim" or "real"; "" is the zero Mode.
func (m *Mode) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*m = 0
		return nil
	}
	v, err := ParseMode(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}
