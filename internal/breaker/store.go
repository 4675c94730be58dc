package breaker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/state"
)

// formatVersion is the "version" of breaker.json. A file with another
// version is treated as corrupt and replaced.
const formatVersion = 1

// document is the content of breaker.json.
type document struct {
	Version int `json:"version"`
	// Entries maps a gobreaker key ("gobreaker:state:" + name) to the JSON
	// of its gobreaker.SharedState.
	Entries map[string]json.RawMessage `json:"entries"`
	// Breakers maps a breaker name to what this package keeps beside
	// gobreaker's state.
	Breakers map[string]*metadata `json:"breakers,omitempty"`
}

// metadata is the per-breaker state that gobreaker does not keep.
type metadata struct {
	// Cause is the failure kind of the latest counted failure.
	Cause string `json:"cause,omitempty"`
	// NotifiedGeneration is the gobreaker generation of the open period
	// for which a Report last carried Notify.
	NotifiedGeneration uint64 `json:"notified_generation,omitempty"`
}

func newDocument() *document {
	return &document{
		Version:  formatVersion,
		Entries:  map[string]json.RawMessage{},
		Breakers: map[string]*metadata{},
	}
}

// fileStore implements gobreaker.SharedDataStore on one JSON file guarded by
// a flock on path+".lock". Lock nests: only the outermost Lock takes the
// flock and reads the file, and only the outermost Unlock writes the file
// (when its content changed) and releases the flock. That lets a Breaker
// hold the lock around a whole gobreaker call, so the state gobreaker reads
// before its own Lock is already the current one.
//
// Lock ignores its name argument because one flock covers the whole file.
// Nesting is not tracked per goroutine, so all calls must come from one
// goroutine at a time, which the Breaker's mutex ensures.
type fileStore struct {
	path        string
	lockTimeout time.Duration
	log         *slog.Logger

	mu     sync.Mutex // guards the fields below
	lock   *state.Lock
	depth  int
	doc    *document                        // the file's content while locked
	states map[string]gobreaker.SharedState // doc.Entries decoded
	onDisk []byte                           // the bytes read by the outermost Lock
}

var _ gobreaker.SharedDataStore = (*fileStore)(nil)

func newFileStore(path string, lockTimeout time.Duration, log *slog.Logger) *fileStore {
	return &fileStore{path: path, lockTimeout: lockTimeout, log: log}
}

// Lock takes the file lock, waiting up to the lock timeout, and reads the
// file. gobreaker v2.4.0 retries a failed Lock only every 500 ms, so
// waiting here in 2 ms steps keeps a contended call fast.
func (s *fileStore) Lock(string) error {
	s.mu.Lock()
	defer s.mu.Unlock()

	if s.depth > 0 {
		s.depth++
		return nil
	}
	lock, err := state.AcquireLock(context.Background(), s.path+".lock", s.lockTimeout)
	if err != nil {
		return err
	}
	s.lock = lock
	s.depth = 1
	s.doc, s.states, s.onDisk = s.read()
	return nil
}

// Unlock writes the file if its content changed and releases the lock.
func (s *fileStore) Unlock(string) error {
	s.mu.Lock()
	defer s.mu.Unlock()

	if s.depth == 0 {
		return errors.New("unlock breaker state that is not locked")
	}
	s.depth--
	if s.depth > 0 {
		return nil
	}

	err := s.save()
	releaseErr := s.lock.Release()
	s.lock = nil
	s.doc = nil
	s.states = nil
	s.onDisk = nil
	return errors.Join(err, releaseErr)
}

// GetData returns the stored data for key, or nil when there is none.
// Without the lock it reads the file afresh.
func (s *fileStore) GetData(key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	doc := s.doc
	if s.depth == 0 {
		doc, _, _ = s.read()
	}
	data, ok := doc.Entries[key]
	if !ok {
		return nil, nil
	}
	return bytes.Clone(data), nil
}

// SetData stages data for key. The outermost Unlock writes it.
func (s *fileStore) SetData(key string, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()

	if s.depth == 0 {
		return fmt.Errorf("set breaker state %q without holding its lock", key)
	}
	updated, err := decodeEntry(data)
	if err != nil {
		return fmt.Errorf("set breaker state %q: %w", key, err)
	}
	if old, ok := s.states[key]; ok && sameClosedState(old, updated) {
		return nil
	}
	s.doc.Entries[key] = bytes.Clone(data)
	s.states[key] = updated
	return nil
}

// entry returns the decoded state stored for key while the store is locked.
func (s *fileStore) entry(key string) (gobreaker.SharedState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()

	shared, ok := s.states[key]
	return shared, ok
}

// metadata returns the metadata of breaker name while the store is locked,
// creating it when missing. Changes to it are written by the outermost
// Unlock.
func (s *fileStore) metadata(name string) *metadata {
	s.mu.Lock()
	defer s.mu.Unlock()

	m := s.doc.Breakers[name]
	if m == nil {
		m = &metadata{}
		s.doc.Breakers[name] = m
	}
	return m
}

// read returns the decoded file, its decoded entries and its bytes. A
// missing file gives an empty document. An unreadable or corrupt file gives
// an empty document and a Warn, and the next save replaces it.
func (s *fileStore) read() (*document, map[string]gobreaker.SharedState, []byte) {
	data, err := state.ReadFile(s.path)
	if err != nil {
		s.log.Warn("breaker state file is unreadable, so the breaker starts closed",
			"path", s.path, "error", err)
		return newDocument(), map[string]gobreaker.SharedState{}, nil
	}
	if data == nil {
		return newDocument(), map[string]gobreaker.SharedState{}, nil
	}

	doc, states, dropped, err := decodeDocument(data)
	if err != nil {
		s.log.Warn("breaker state file is corrupt, so the breaker starts closed",
			"path", s.path, "error", err)
		return newDocument(), map[string]gobreaker.SharedState{}, data
	}
	for key, err := range dropped {
		s.log.Warn("dropped an invalid entry from the breaker state file",
			"path", s.path, "key", key, "error", err)
	}
	return doc, states, data
}

// save writes the document unless it matches what the file already holds.
func (s *fileStore) save() error {
	data, err := json.Marshal(s.doc)
	if err != nil {
		return fmt.Errorf("encode breaker state: %w", err)
	}
	if bytes.Equal(data, s.onDisk) {
		return nil
	}
	if err := state.WriteAtomic(s.path, data); err != nil {
		return fmt.Errorf("save breaker state: %w", err)
	}
	return nil
}

// decodeDocument parses breaker.json and decodes its entries. It fails on
// anything but a version 1 object, and it removes entries that are not a
// valid gobreaker state, returning why each was removed.
func decodeDocument(data []byte) (*document, map[string]gobreaker.SharedState, map[string]error, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil, nil, errors.New("file is empty")
	}
	var doc document
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, nil, nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if doc.Version != formatVersion {
		return nil, nil, nil, fmt.Errorf("unsupported version %d, want %d", doc.Version, formatVersion)
	}

	if doc.Entries == nil {
		doc.Entries = map[string]json.RawMessage{}
	}
	if doc.Breakers == nil {
		doc.Breakers = map[string]*metadata{}
	}
	states := make(map[string]gobreaker.SharedState, len(doc.Entries))
	var dropped map[string]error
	for key, data := range doc.Entries {
		shared, err := decodeEntry(data)
		if err != nil {
			if dropped == nil {
				dropped = map[string]error{}
			}
			dropped[key] = err
			delete(doc.Entries, key)
			continue
		}
		states[key] = shared
	}
	for name, m := range doc.Breakers {
		if m == nil {
			delete(doc.Breakers, name)
		}
	}
	return &doc, states, dropped, nil
}

// decodeEntry decodes data as a gobreaker state that gobreaker can act on.
func decodeEntry(data []byte) (gobreaker.SharedState, error) {
	var shared gobreaker.SharedState
	if err := json.Unmarshal(data, &shared); err != nil {
		return shared, fmt.Errorf("invalid gobreaker state: %w", err)
	}
	switch shared.State {
	case gobreaker.StateClosed, gobreaker.StateHalfOpen, gobreaker.StateOpen:
		return shared, nil
	default:
		return shared, fmt.Errorf("invalid gobreaker state %d", shared.State)
	}
}

// sameClosedState reports whether both states are closed in the same
// generation with the same run of consecutive failures. The Breaker's
// ReadyToTrip looks only at that run, so the other counters cannot open it.
// Skipping such updates keeps a run of successful lookups from writing the
// file each time, at the cost of request and success totals that lag.
func sameClosedState(old, updated gobreaker.SharedState) bool {
	return old.State == gobreaker.StateClosed &&
		updated.State == gobreaker.StateClosed &&
		old.Generation == updated.Generation &&
		old.Age == updated.Age &&
		old.Start.Equal(updated.Start) &&
		old.Expiry.Equal(updated.Expiry) &&
		old.Counts.ConsecutiveFailures == updated.Counts.ConsecutiveFailures
}
