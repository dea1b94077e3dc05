package model

import (
	"time"

	"github.com/redirlab/redirlab/policy"
)

// NoView is the empty view: no peer known, so no redirect.
var NoView policy.View

// ViewHolder is the manager's view as one server last received it. A
// view older than the TTL is no view at all: a server that has lost its
// manager stops redirecting rather than trust stale news.
type ViewHolder struct {
	// TTL: a view older than this is ignored.
	TTL time.Duration

	view    policy.View
	at      time.Duration
	hasView bool
}

// Set installs a view received at now. urls are the peers' base URLs by
// server index, or nil when every peer can be named (the simulator); a
// peer without a URL is treated as down, so the policy never picks a
// server it cannot name. The view's slices are copied.
func (h *ViewHolder) Set(now time.Duration, v policy.View, urls []string) {
	h.view.Servers = append(h.view.Servers[:0], v.Servers...)
	if urls != nil {
		for i := range h.view.Servers {
			if i >= len(urls) || urls[i] == "" {
				h.view.Servers[i].Up = false
			}
		}
	}
	if v.Instructions != nil {
		h.view.Instructions = append(h.view.Instructions[:0], v.Instructions...)
	} else {
		h.view.Instructions = nil
	}
	h.view.At = v.At
	h.at, h.hasView = now, true
}

// Current is the view to decide with at now: the last one, or NoView
// when there is none or it is older than the TTL. It must not be
// modified.
func (h *ViewHolder) Current(now time.Duration) *policy.View {
	if !h.hasView || now-h.at > h.TTL {
		return &NoView
	}
	return &h.view
}

// ViewFor makes a ViewHolder a ViewSource for its own server.
func (h *ViewHolder) ViewFor(_ int, now time.Duration) *policy.View { return h.Current(now) }

// Age is how old the last view is at now, and false when there is none.
func (h *ViewHolder) Age(now time.Duration) (time.Duration, bool) {
	return now - h.at, h.hasView
}
