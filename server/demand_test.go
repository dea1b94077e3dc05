package server

import (
	"testing"

	"github.com/redirlab/redirlab/model"
)

func TestParseDemand(t *testing.T) {
	tests := []struct {
		query, path string
		page        bool
		want        model.Demand
	}{
		// A page with an id: part 0.
		{"redirlab_req=42", "/page", true, model.Demand{ID: 42, OK: true}},
		// Redirected: the hop counter beside it does not matter.
		{"redirlab_hop=1&redirlab_req=7", "/page", true, model.Demand{ID: 7, OK: true}},
		// Object k is part k+1.
		{"redirlab_req=42", "/object/3", false, model.Demand{ID: 42, Part: 4, OK: true}},
		// No id: no demand, the server draws afresh.
		{"q=1", "/page", true, model.Demand{}},
		// A malformed id is no demand, not an error.
		{"redirlab_req=-5", "/page", true, model.Demand{}},
		// An object whose index is not a number draws afresh.
		{"redirlab_req=42", "/object/logo.png", false, model.Demand{}},
		// The first id counts.
		{"redirlab_req=1&redirlab_req=2", "/page", true, model.Demand{ID: 1, OK: true}},
	}
	for _, tc := range tests {
		if got := ParseDemand(tc.query, tc.path, tc.page); got != tc.want {
			t.Errorf("ParseDemand(%q, %q) = %+v, want %+v", tc.query, tc.path, got, tc.want)
		}
	}
}
