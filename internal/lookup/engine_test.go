package lookup

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/alert"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/cache"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/indicator"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/misp"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/spool"
)

// fakeSearcher returns its scripted results in order, then the last one.
type fakeSearcher struct {
	results []fakeResult
	calls   int
}

type fakeResult struct {
	attributes []misp.Attribute
	err        error
}

func (f *fakeSearcher) Search(ctx context.Context, inds []indicator.Indicator) ([]misp.Attribute, error) {
	result := f.results[min(f.calls, len(f.results)-1)]
	f.calls++
	return result.attributes, result.err
}

func sampleAlert(t *testing.T) *alert.Alert {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "standin", "samples", "win_sysmon3_public_ip.json"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := alert.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

var matchingAttribute = misp.Attribute{
	ID: "90002", EventID: "1202", Category: "Network activity", Type: "ip-dst|port",
	UUID: "d3a0a770-0000-4000-8000-000000000002", Value: "1.1.123.23|443",
	Event: misp.EventInfo{ID: "1202", Info: "Demo"},
}

func newEngine(searcher Searcher) *Engine {
	return &Engine{
		Searcher:       searcher,
		Log:            slog.New(slog.NewTextHandler(io.Discard, nil)),
		RequestTimeout: time.Second,
		Retries:        2,
		Now:            time.Now,
	}
}

func errorKind(t *testing.T, events []Event) string {
	t.Helper()
	for _, e := range events {
		var payload struct {
			MISP struct {
				Error *struct {
					Kind string `json:"kind"`
				} `json:"error"`
			} `json:"misp"`
		}
		if err := json.Unmarshal(e.Payload, &payload); err != nil {
			t.Fatal(err)
		}
		if payload.MISP.Error != nil {
			return payload.MISP.Error.Kind
		}
	}
	return ""
}

func TestProcessRetriesServerError(t *testing.T) {
	searcher := &fakeSearcher{results: []fakeResult{
		{err: &misp.Error{Kind: misp.KindServer, Status: 502, Message: "bad gateway"}},
		{attributes: []misp.Attribute{matchingAttribute}},
	}}
	engine := newEngine(searcher)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	result := engine.Process(ctx, sampleAlert(t))

	if searcher.calls != 2 {
		t.Errorf("searches = %d, want 2", searcher.calls)
	}
	if result.Matches != 1 || result.Failure != "" {
		t.Errorf("matches = %d, failure = %q; want 1 match and no failure", result.Matches, result.Failure)
	}
}

func TestProcessNoRetryForAuth(t *testing.T) {
	searcher := &fakeSearcher{results: []fakeResult{{err: &misp.Error{Kind: misp.KindAuth, Status: 403, Message: "forbidden"}}}}
	engine := newEngine(searcher)

	result := engine.Process(context.Background(), sampleAlert(t))

	if searcher.calls != 1 {
		t.Errorf("searches = %d, want 1: a 403 does not get better by asking again", searcher.calls)
	}
	if got := errorKind(t, result.Events); got != "auth" {
		t.Errorf("error event kind = %q, want auth", got)
	}
}

func TestProcessRetryStaysInBudget(t *testing.T) {
	searcher := &fakeSearcher{results: []fakeResult{{err: &misp.Error{Kind: misp.KindServer, Status: 500, Message: "down"}}}}
	engine := newEngine(searcher)
	engine.Retries = 5
	engine.RequestTimeout = 200 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 250*time.Millisecond)
	defer cancel()

	start := time.Now()
	result := engine.Process(ctx, sampleAlert(t))

	if elapsed := time.Since(start); elapsed > 300*time.Millisecond {
		t.Errorf("Process took %s with a 250ms budget", elapsed)
	}
	if searcher.calls > 2 {
		t.Errorf("searches = %d; a retry must leave room for its request inside the budget", searcher.calls)
	}
	if result.Failure != "server" {
		t.Errorf("failure = %q, want server", result.Failure)
	}
}

func TestProcessCachesMisses(t *testing.T) {
	searcher := &fakeSearcher{results: []fakeResult{{attributes: nil}}}
	engine := newEngine(searcher)
	engine.Cache = cache.New(t.TempDir(), cache.Settings{HitTTL: time.Hour, MissTTL: time.Hour, MaxEntries: 100}, time.Now)

	first := engine.Process(context.Background(), sampleAlert(t))
	second := engine.Process(context.Background(), sampleAlert(t))

	if searcher.calls != 1 {
		t.Errorf("searches = %d, want 1: the miss should be cached", searcher.calls)
	}
	if first.Matches != 0 || second.CacheHits != 1 {
		t.Errorf("first matches %d, second cache hits %d; want 0 and 1", first.Matches, second.CacheHits)
	}
}

func TestProcessSpoolsAndReplays(t *testing.T) {
	searcher := &fakeSearcher{results: []fakeResult{
		{err: &misp.Error{Kind: misp.KindTimeout, Message: "timed out"}},
		{attributes: []misp.Attribute{matchingAttribute}},
	}}
	engine := newEngine(searcher)
	engine.Retries = 0
	engine.Spool = spool.New(t.TempDir(), spool.Settings{MaxRecords: 10, MaxAge: time.Hour}, time.Now, engine.Log)
	failed := sampleAlert(t)

	first := engine.Process(context.Background(), failed)
	later := sampleAlert(t)
	later.ID = "later"
	later.Raw["data"].(map[string]any)["win"].(map[string]any)["eventdata"].(map[string]any)["destinationIp"] = "89.160.20.129"
	second := engine.Process(context.Background(), later)

	if first.Spooled != 1 {
		t.Fatalf("spooled = %d, want 1", first.Spooled)
	}
	if second.Replayed != 1 {
		t.Fatalf("replayed = %d, want 1", second.Replayed)
	}
	var delayed []string
	for _, e := range second.Events {
		if strings.Contains(string(e.Payload), `"delayed":true`) {
			delayed = append(delayed, string(e.Payload))
		}
	}
	if len(delayed) != 1 {
		t.Fatalf("delayed events = %d, want 1", len(delayed))
	}
	if !strings.Contains(delayed[0], `"alert_id":"`+failed.ID+`"`) {
		t.Errorf("the delayed match lacks the original alert id %s: %s", failed.ID, delayed[0])
	}
}

func TestProcessCapsMatchEvents(t *testing.T) {
	var attributes []misp.Attribute
	for i := 0; i < MaxMatchEvents+20; i++ {
		attribute := matchingAttribute
		attribute.UUID = fmt.Sprintf("uuid-%d", i)
		attributes = append(attributes, attribute)
	}
	engine := newEngine(&fakeSearcher{results: []fakeResult{{attributes: attributes}}})

	result := engine.Process(context.Background(), sampleAlert(t))

	if result.Matches != MaxMatchEvents || len(result.Events) != MaxMatchEvents {
		t.Errorf("matches = %d, events = %d; want both capped at %d", result.Matches, len(result.Events), MaxMatchEvents)
	}
}
