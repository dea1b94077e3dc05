package results

import (
	"reflect"
	"testing"
	"time"
)

// TestRequestResetClearsEveryField fills every field of a record, resets
// it, and compares with a fresh record: a field added to Request that
// Reset forgets would carry one request's data into the next.
func TestRequestResetClearsEveryField(t *testing.T) {
	var r Request
	v := reflect.ValueOf(&r).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.Int, reflect.Int64:
			f.SetInt(int64(7 + i))
		case reflect.Uint64, reflect.Uint8:
			f.SetUint(uint64(3 + i))
		case reflect.Array:
			for j := range f.Len() {
				f.Index(j).Set(reflect.ValueOf(Hop{Server: 1, Status: 302, At: time.Second}))
			}
		default:
			t.Fatalf("field %s of kind %s: teach this test to fill it", v.Type().Field(i).Name, f.Kind())
		}
	}
	hops := r.Hops
	r.Reset(42, 5*time.Millisecond)
	want := Request{ID: 42, Scheduled: 5 * time.Millisecond, Sent: 5 * time.Millisecond, First: -1, Final: -1}
	want.Hops = hops // beyond NHops (0): not read, and not cleared
	if r != want {
		t.Fatalf("after Reset:\n got %+v\nwant %+v", r, want)
	}
	r.AddHop(Hop{Server: 2, Status: 200, At: 6 * time.Millisecond})
	if r.NHops != 1 || r.Hops[0] != (Hop{Server: 2, Status: 200, At: 6 * time.Millisecond}) {
		t.Fatalf("first hop after Reset: %+v", r)
	}
}
