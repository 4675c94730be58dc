package breaker

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sony/gobreaker/v2"
)

// FileName is the state file that Open keeps in its directory, beside the
// lock file FileName+".lock". A breaker that skipped calls in its current
// open period also has a file "breaker-<name>.skipped", whose size in bytes
// is the number of calls skipped.
const FileName = "breaker.json"

// Defaults for zero Settings fields.
const (
	DefaultName           = "misp"
	DefaultFailuresToOpen = 5
	DefaultOpenFor        = 60 * time.Second
	DefaultHalfOpenProbes = 1
	DefaultLockTimeout    = 2 * time.Second
)

// maxCauseLen bounds the error text kept as a cause when the caller set no
// failure kind.
const maxCauseLen = 200

// validName matches breaker names, which become part of a file name.
var validName = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$`)

// ErrOpen is returned, wrapped, when Execute did not run fn because the
// breaker is open or half-open with all its probes used.
var ErrOpen = errors.New("circuit breaker is open")

// Settings configures a Breaker. A zero field takes the default named
// after it.
type Settings struct {
	// Name identifies the breaker in the state file, so breakers with
	// different names share the file but not their state.
	Name string
	// FailuresToOpen is the number of consecutive counted failures that
	// opens the breaker.
	FailuresToOpen uint32
	// OpenFor is how long the breaker stays open before it lets a probe
	// through (half-open).
	OpenFor time.Duration
	// HalfOpenProbes is the number of calls allowed while half-open, and
	// the number of consecutive successes among them that closes it.
	HalfOpenProbes uint32
	// LockTimeout is how long a call waits for another process that holds
	// the state file lock before it fails.
	LockTimeout time.Duration
}

func (s Settings) withDefaults() Settings {
	if s.Name == "" {
		s.Name = DefaultName
	}
	if s.FailuresToOpen == 0 {
		s.FailuresToOpen = DefaultFailuresToOpen
	}
	if s.OpenFor <= 0 {
		s.OpenFor = DefaultOpenFor
	}
	if s.HalfOpenProbes == 0 {
		s.HalfOpenProbes = DefaultHalfOpenProbes
	}
	if s.LockTimeout <= 0 {
		s.LockTimeout = DefaultLockTimeout
	}
	return s
}

// Report describes the breaker after one Execute call.
//
// Notify means that the caller should send one breaker_open event. It is
// true on the call that opened the breaker (from closed, or again from
// half-open after a failed probe), and otherwise on the first call that
// finds an open period with no notification recorded, for example when the
// file's metadata was lost but its gobreaker state survived. Each opening
// starts a new period, so a breaker that re-opens notifies again.
// NOTE: the notification is recorded when the Report is built, so an event
// that the caller then fails to send is not asked for again.
//
// SkippedCount counts the calls skipped since the breaker last opened. On a
// call that re-opens the breaker or closes it again, it is the count of the
// period that just ended, and the count then starts again from zero. On a
// call that opens a closed breaker it is zero.
type Report struct {
	// State is "closed", "open" or "half-open" after the call.
	State string
	// Opened is true when this call opened the breaker.
	Opened bool
	// Recovered is true when this call closed a half-open breaker.
	Recovered bool
	// Skipped is true when fn did not run.
	Skipped bool
	// Notify is true when the caller should send a breaker_open event now.
	Notify bool
	// Cause is the failure kind (set with SetCause) or the error text of
	// the latest counted failure. It is empty while the breaker is closed,
	// except on the call that recovered it.
	Cause string
	// OpenUntil is when the current open period ends, zero unless State is
	// "open".
	OpenUntil time.Time
	// SkippedCount is described in the type comment.
	SkippedCount int
}

// Breaker is a circuit breaker whose state lives in a file, so a run of
// separate processes shares one breaker. Calls are serialised: within a
// process by a mutex, and across processes by the state file's lock. Execute
// holds both while fn runs, so a concurrent call waits for fn, and one from
// another process gives up after LockTimeout.
type Breaker struct {
	name     string
	stateKey string
	store    *fileStore
	skips    tally
	log      *slog.Logger

	mu          sync.Mutex // serialises calls. It guards the fields below.
	cb          *gobreaker.DistributedCircuitBreaker[struct{}]
	settings    gobreaker.Settings
	isFailure   func(error) bool
	transitions []transition

	causeMu      sync.Mutex // guards the fields below. SetCause takes it inside fn.
	executing    bool
	pendingCause string
}

// transition is one state change that gobreaker reported during a call.
type transition struct {
	from, to gobreaker.State
}

// Open returns the breaker kept in dir/breaker.json, creating the directory
// and a closed breaker when missing. A corrupt or unreadable state file is
// logged at Warn and replaced by a closed breaker. Open fails when the lock
// cannot be taken in time or the file cannot be written.
func Open(dir string, s Settings, log *slog.Logger) (*Breaker, error) {
	s = s.withDefaults()
	if !validName.MatchString(s.Name) {
		return nil, fmt.Errorf("invalid breaker name %q: use 1 to 64 letters, digits, '.', '-' or '_', not starting with '.'", s.Name)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}

	b := &Breaker{
		name:     s.Name,
		stateKey: "gobreaker:state:" + s.Name, // the key gobreaker v2.4.0 passes to GetData and SetData
		store:    newFileStore(filepath.Join(dir, FileName), s.LockTimeout, log),
		skips:    tally{path: filepath.Join(dir, "breaker-"+s.Name+".skipped")},
		log:      log,
	}
	failuresToOpen := s.FailuresToOpen
	b.settings = gobreaker.Settings{
		Name:        s.Name,
		MaxRequests: s.HalfOpenProbes,
		Timeout:     s.OpenFor,
		ReadyToTrip: func(counts gobreaker.Counts) bool {
			return counts.ConsecutiveFailures >= failuresToOpen
		},
		OnStateChange: b.recordTransition,
		IsExcluded:    b.isExcluded,
	}

	if err := b.lock(); err != nil {
		return nil, err
	}
	err := b.ensureShared()
	if unlockErr := b.store.Unlock(""); unlockErr != nil && err == nil {
		err = fmt.Errorf("create breaker state in %s (check that the directory is writable): %w", dir, unlockErr)
	}
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Execute runs fn unless the breaker is open, and records its outcome. A nil
// error is a success. A non-nil error counts as a failure when isFailure
// returns true for it (or isFailure is nil). Any other error, for example
// a rejected API key, is left out of the counts, so it never opens the
// breaker nor closes a half-open one.
//
// When fn did not run because the breaker is open, Execute returns an error
// wrapping ErrOpen. When fn ran, it returns fn's error unchanged. A failure
// to take the state lock in time returns an error wrapping
// state.ErrLockTimeout, and fn does not run. A failure to write the state
// after fn ran is logged at Warn, because the outcome of fn matters more.
func (b *Breaker) Execute(fn func() error, isFailure func(error) bool) (Report, error) {
	b.mu.Lock()
	defer b.mu.Unlock()

	if err := b.lock(); err != nil {
		return Report{}, err
	}
	locked := true
	defer func() {
		// Releases the lock on an early return and when fn panics.
		if locked {
			b.unlock()
		}
	}()
	if err := b.ensureShared(); err != nil {
		return Report{}, err
	}

	b.startCall(isFailure)
	ran, fnErr, err, cause := b.run(fn)

	var rep Report
	switch {
	case ran:
		if err != nil && !errors.Is(err, fnErr) {
			// fn ran but gobreaker could not stage the new state.
			b.log.Warn("failed to record the breaker outcome", "error", err)
		}
		if fnErr != nil && (isFailure == nil || isFailure(fnErr)) {
			b.store.metadata(b.name).Cause = failureCause(cause, fnErr)
		}
		rep = b.report(false)
		err = fnErr
	case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
		rep = b.report(true)
		err = b.openError(rep, err)
	default:
		locked = false
		b.unlock()
		return Report{}, fmt.Errorf("run breaker %s: %w", b.name, err)
	}

	locked = false
	b.unlock()
	return rep, err
}

// SetCause sets the failure kind (for example "timeout") kept as the cause
// of the failure being recorded. Called from fn, it applies to the failure
// that fn returns and is written with it. Called outside Execute, it
// replaces the stored cause of the latest failure, which is how a caller
// names the cause after Execute returns. Called from another goroutine
// while an Execute of this Breaker runs, it applies to that call. Errors
// are logged at Warn.
func (b *Breaker) SetCause(kind string) {
	b.causeMu.Lock()
	if b.executing {
		b.pendingCause = kind
		b.causeMu.Unlock()
		return
	}
	b.causeMu.Unlock()

	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.lock(); err != nil {
		b.log.Warn("failed to store the breaker failure cause", "error", err)
		return
	}
	b.store.metadata(b.name).Cause = truncate(kind)
	b.unlock()
}

// State returns "closed", "open" or "half-open". An open breaker whose open
// period has ended is moved to half-open and written back.
func (b *Breaker) State() (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()

	if err := b.lock(); err != nil {
		return "", err
	}
	err := b.ensureShared()
	var current gobreaker.State
	if err == nil {
		current, err = b.cb.State()
	}
	if unlockErr := b.store.Unlock(""); unlockErr != nil && err == nil {
		err = unlockErr
	}
	if err != nil {
		return "", fmt.Errorf("read breaker %s state: %w", b.name, err)
	}
	return current.String(), nil
}

// lock takes the state lock for the length of one call.
func (b *Breaker) lock() error {
	if err := b.store.Lock(""); err != nil {
		return fmt.Errorf("wait for breaker state lock: %w", err)
	}
	return nil
}

// unlock writes the state and releases the lock, logging a failure: the
// next call reads whatever the file holds and carries on from there.
func (b *Breaker) unlock() {
	if err := b.store.Unlock(""); err != nil {
		b.log.Warn("failed to save breaker state", "path", b.store.path, "error", err)
	}
}

// ensureShared creates the gobreaker state when the file has none for this
// breaker: on first use, or after the file was reset or deleted. It runs
// with the lock held, so gobreaker's nested Lock returns at once.
func (b *Breaker) ensureShared() error {
	_, exists := b.store.entry(b.stateKey)
	if exists && b.cb != nil {
		return nil
	}
	// With an existing entry, gobreaker only reads it.
	cb, err := gobreaker.NewDistributedCircuitBreaker[struct{}](b.store, b.settings)
	if err != nil {
		return fmt.Errorf("create breaker %s state: %w", b.name, err)
	}
	b.cb = cb
	b.store.metadata(b.name) // created now, so that a later success need not write
	if exists {
		return nil
	}
	if err := b.skips.reset(); err != nil {
		b.log.Warn("failed to update the count of skipped calls", "error", err)
	}
	return nil
}

func (b *Breaker) startCall(isFailure func(error) bool) {
	b.isFailure = isFailure
	b.transitions = b.transitions[:0]

	b.causeMu.Lock()
	b.executing = true
	b.pendingCause = ""
	b.causeMu.Unlock()
}

// run passes fn to gobreaker and reports whether fn ran, fn's error,
// gobreaker's error and the cause set during the call.
func (b *Breaker) run(fn func() error) (ran bool, fnErr, err error, cause string) {
	defer func() { cause = b.endCall() }() // also when fn panics

	_, err = b.cb.Execute(func() (struct{}, error) {
		ran = true
		fnErr = fn()
		return struct{}{}, fnErr
	})
	return ran, fnErr, err, ""
}

// endCall returns the cause set during the call.
func (b *Breaker) endCall() string {
	b.isFailure = nil

	b.causeMu.Lock()
	defer b.causeMu.Unlock()
	b.executing = false
	cause := b.pendingCause
	b.pendingCause = ""
	return cause
}

// recordTransition is gobreaker's OnStateChange hook. gobreaker calls it
// during Execute and State, on the goroutine that holds b.mu.
func (b *Breaker) recordTransition(_ string, from, to gobreaker.State) {
	b.transitions = append(b.transitions, transition{from: from, to: to})
}

// isExcluded is gobreaker's IsExcluded hook.
func (b *Breaker) isExcluded(err error) bool {
	return err != nil && b.isFailure != nil && !b.isFailure(err)
}

// report builds the Report of the call that just ended and updates the
// metadata that the next unlock writes.
func (b *Breaker) report(skipped bool) Report {
	shared, _ := b.store.entry(b.stateKey)
	rep := Report{State: shared.State.String(), Skipped: skipped}

	fromClosed := false
	for _, tr := range b.transitions {
		switch {
		case tr.to == gobreaker.StateOpen:
			rep.Opened = true
			fromClosed = tr.from == gobreaker.StateClosed
		case tr.from == gobreaker.StateHalfOpen && tr.to == gobreaker.StateClosed:
			rep.Recovered = true
		}
	}

	var err error
	switch {
	case rep.Opened || rep.Recovered:
		// A new period starts: report the count of the one that ended.
		if !fromClosed {
			rep.SkippedCount, err = b.skips.count()
		}
		err = errors.Join(err, b.skips.reset())
	case skipped:
		rep.SkippedCount, err = b.skips.add()
	case shared.State != gobreaker.StateClosed:
		rep.SkippedCount, err = b.skips.count()
	}
	if err != nil {
		b.log.Warn("failed to update the count of skipped calls", "error", err)
	}

	meta := b.store.metadata(b.name)
	if shared.State == gobreaker.StateOpen {
		rep.OpenUntil = shared.Expiry
		if meta.NotifiedGeneration != shared.Generation {
			rep.Notify = true
			meta.NotifiedGeneration = shared.Generation
		}
	}
	if shared.State != gobreaker.StateClosed || rep.Recovered {
		rep.Cause = meta.Cause
	}
	return rep
}

// openError wraps ErrOpen for a call that gobreaker rejected with err.
func (b *Breaker) openError(rep Report, err error) error {
	if errors.Is(err, gobreaker.ErrTooManyRequests) {
		return fmt.Errorf("breaker %s: %w (half-open, all probes in use)", b.name, ErrOpen)
	}
	return fmt.Errorf("breaker %s: %w until %s", b.name, ErrOpen, rep.OpenUntil.UTC().Format(time.RFC3339))
}

// failureCause returns the kind set by SetCause, or else the error text.
func failureCause(kind string, err error) string {
	if kind != "" {
		return truncate(kind)
	}
	return truncate(err.Error())
}

func truncate(s string) string {
	if len(s) <= maxCauseLen {
		return s
	}
	cut := maxCauseLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
