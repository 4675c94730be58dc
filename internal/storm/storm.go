package storm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/state"
)

// FileName is the state file's name in the state directory.
const FileName = "telegram.json"

// DefaultLockTimeout bounds the wait for another run's lock. Runs hold it
// while they send, so the wait is up to one run's budget in the worst case.
const DefaultLockTimeout = 3 * time.Second

// version is written into the file. A file with another version is
// replaced by a fresh state, with a warning.
const version = 1

// maxRecent bounds the dedupe keys kept per chat. When more alerts than
// this are distinct within one dedupe window, the oldest keys are forgotten
// and their repeats are sent again.
const maxRecent = 10000

// ErrUnavailable marks an Update that could not read the state (lock
// timeout, unwritable directory), so its function never ran.
var ErrUnavailable = errors.New("telegram state unavailable")

// Limits are the storm settings from the [telegram] config table.
type Limits struct {
	RatePerMinute int           // tokens added per minute
	Burst         int           // bucket capacity, and the tokens of a new chat
	DedupeWindow  time.Duration // 0 turns deduplication off
	MaxPending    int           // messages kept for later runs; 0 keeps none
}

// Store is the state file.
type Store struct {
	Path        string
	LockTimeout time.Duration
	Log         *slog.Logger
}

// NewStore returns the store for dir/telegram.json.
func NewStore(dir string, log *slog.Logger) *Store {
	return &Store{Path: filepath.Join(dir, FileName), LockTimeout: DefaultLockTimeout, Log: log}
}

// Update runs fn on the state while holding the file lock, then writes the
// state back atomically unless fn returns an error. A missing file is a
// fresh state. A corrupt file or one of another version is logged at Warn
// and replaced, with any messages queued in it, because sending without
// history beats not sending. When the lock or the file cannot be had, fn
// does not run and the error wraps ErrUnavailable.
func (s *Store) Update(ctx context.Context, fn func(*State) error) error {
	ran := false
	err := state.Update(ctx, s.Path, s.LockTimeout, func(old []byte) ([]byte, error) {
		st := s.decode(old)
		ran = true
		if err := fn(st); err != nil {
			return nil, err
		}
		data, err := json.Marshal(st)
		if err != nil {
			return nil, fmt.Errorf("encode telegram state: %w", err)
		}
		return data, nil
	})
	if err != nil && !ran {
		// err names the file or the lock file already.
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

func (s *Store) decode(data []byte) *State {
	st := &State{Version: version, Chats: map[string]*Chat{}}
	if len(data) == 0 {
		return st
	}
	var loaded State
	if err := json.Unmarshal(data, &loaded); err != nil {
		s.warn("telegram state file is corrupt, starting fresh: queued messages in it, if any, are lost (count unknown)", "error", err)
		return st
	}
	if loaded.Version != version {
		s.warn("telegram state file has an unknown version, starting fresh: queued messages in it, if any, are lost (count unknown)", "version", loaded.Version, "want", version)
		return st
	}
	if loaded.Chats != nil {
		st.Chats = loaded.Chats
	}
	return st
}

func (s *Store) warn(msg string, args ...any) {
	if s.Log != nil {
		s.Log.Warn(msg, append(args, "path", s.Path)...)
	}
}

// Key returns the dedupe key for parts (rule id, indicator, agent id): a
// hash, so that alert values are not copied into the state file.
func Key(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// State is the whole file: one Chat per configured chat id.
type State struct {
	Version int              `json:"version"`
	Chats   map[string]*Chat `json:"chats"`
}

// Chat returns the state of chat id, creating it when missing.
func (s *State) Chat(id string) *Chat {
	if s.Chats == nil {
		s.Chats = map[string]*Chat{}
	}
	c, ok := s.Chats[id]
	if !ok || c == nil {
		c = &Chat{}
		s.Chats[id] = c
	}
	return c
}
