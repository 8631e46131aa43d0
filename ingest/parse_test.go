package ingest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/polder-nsm/polder/store"
)

func TestParse(t *testing.T) {
	ts := time.Date(2017, 4, 5, 20, 15, 44, 654818000, time.UTC)
	tests := []struct {
		name string
		line string
		want store.Event
		bad  BadLine
	}{
		{"alert", `{"timestamp":"2017-04-05T20:15:44.654818+0000","flow_id":22,"event_type":"alert","src_ip":"10.2.2.101","src_port":58856,"dest_ip":"10.2.2.104","dest_port":80,"proto":"TCP","app_proto":"http","alert":{"signature_id":2001,"signature":"ET X","severity":2},"http":{"hostname":"h.example"}}`,
			store.Event{Time: ts, EventType: "alert", SrcIP: "10.2.2.101", SrcPort: 58856, DestIP: "10.2.2.104", DestPort: 80, Proto: "TCP", FlowID: 22, AppProto: "http", SigID: 2001, Signature: "ET X", Severity: 2, Host: "h.example"}, BadNone},
		{"tls sni", `{"timestamp":"2017-04-05T20:15:44.654818+0000","event_type":"tls","tls":{"sni":"s.example"}}`,
			store.Event{Time: ts, EventType: "tls", Host: "s.example"}, BadNone},
		{"dns v2", `{"timestamp":"2017-04-05T20:15:44.654818+0000","event_type":"dns","dns":{"rrname":"d.example"}}`,
			store.Event{Time: ts, EventType: "dns", Host: "d.example"}, BadNone},
		{"dns v3", `{"timestamp":"2017-04-05T20:15:44.654818+0000","event_type":"dns","dns":{"queries":[{"rrname":"q.example"}]}}`,
			store.Event{Time: ts, EventType: "dns", Host: "q.example"}, BadNone},
		{"rfc3339", `{"timestamp":"2017-04-05T22:15:44.654818+02:00","event_type":"flow"}`,
			store.Event{Time: ts, EventType: "flow"}, BadNone},
		{"odd field type kept", `{"timestamp":"2017-04-05T20:15:44.654818+0000","event_type":"flow","flow_id":"x","src_ip":"1.2.3.4"}`,
			store.Event{Time: ts, EventType: "flow", SrcIP: "1.2.3.4"}, BadNone},
		{"surrounding space", " \t{\"timestamp\":\"2017-04-05T20:15:44.654818+0000\",\"event_type\":\"flow\"}\r",
			store.Event{Time: ts, EventType: "flow"}, BadNone},
		{"empty", ``, store.Event{}, BadJSON},
		{"not json", `hello`, store.Event{}, BadJSON},
		{"array", `[1,2]`, store.Event{}, BadJSON},
		{"truncated", `{"timestamp":"2017-04-05T20:15:44.654818+0000","event_type":"fl`, store.Event{}, BadJSON},
		{"no timestamp", `{"event_type":"flow"}`, store.Event{}, BadNoTimestamp},
		{"timestamp not string", `{"timestamp":1,"event_type":"flow"}`, store.Event{}, BadNoTimestamp},
		{"bad timestamp", `{"timestamp":"yesterday","event_type":"flow"}`, store.Event{}, BadTimestamp},
		{"no event_type", `{"timestamp":"2017-04-05T20:15:44.654818+0000"}`, store.Event{}, BadNoEventType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, bad := Parse([]byte(tt.line))
			if bad != tt.bad {
				t.Fatalf("Parse(%q) reason = %v, want %v", tt.line, bad, tt.bad)
			}
			if bad != BadNone {
				return
			}
			got.Time = got.Time.UTC()
			got.Raw = nil
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse(%q) (-want +got):\n%s", tt.line, diff)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"timestamp":"2017-04-05T20:15:44.654818+0000","flow_id":22,"event_type":"alert","alert":{"signature_id":1},"dns":{"queries":[{"rrname":"x"}]}}`))
	f.Add([]byte(`{"timestamp":"2017-04-05T20:15:44+00:00","event_type":"tls","tls":{"sni":"a"}}`))
	f.Add([]byte(`{"timestamp":1}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, line []byte) {
		e, bad := Parse(line)
		if bad >= numBadLineReasons {
			t.Fatalf("reason %d out of range", bad)
		}
		if bad == BadNone && (e.EventType == "" || e.Time.IsZero() && len(e.Raw) == 0) {
			t.Fatalf("accepted %q without event_type or raw", line)
		}
		_ = bad.String()
	})
}
