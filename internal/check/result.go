package check

import (
	"fmt"
	"io"
	"strings"
)

// Status is the outcome of one check.
type Status int

// The statuses, from best to worst.
const (
	OK Status = iota
	Warn
	Fail
)

// String returns the label printed at the start of a line, padded to a
// common width so that names line up.
func (s Status) String() string {
	switch s {
	case OK:
		return "OK  "
	case Warn:
		return "WARN"
	case Fail:
		return "FAIL"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Result is one checked fact. Fix is empty for OK results.
type Result struct {
	Status Status
	Name   string
	Detail string
	Fix    string
}

// Line formats r as "OK   name: detail" or "WARN name: detail — fix".
func (r Result) Line() string {
	line := r.Status.String() + " " + r.Name + ": " + r.Detail
	if r.Fix != "" && r.Status != OK {
		line += " — " + r.Fix
	}
	return line
}

func ok(name, format string, args ...any) Result {
	return Result{Status: OK, Name: name, Detail: fmt.Sprintf(format, args...)}
}

func warn(name, detail, fix string) Result {
	return Result{Status: Warn, Name: name, Detail: detail, Fix: fix}
}

func fail(name, detail, fix string) Result {
	return Result{Status: Fail, Name: name, Detail: detail, Fix: fix}
}

// Print writes one line per result and a summary, and returns the exit
// status: 0 when no result failed, 1 otherwise.
func Print(w io.Writer, results []Result) int {
	counts := map[Status]int{}
	for _, r := range results {
		counts[r.Status]++
		fmt.Fprintln(w, r.Line())
	}

	summary := fmt.Sprintf("%d checks: %d OK, %d WARN, %d FAIL", len(results), counts[OK], counts[Warn], counts[Fail])
	if counts[Fail] > 0 {
		fmt.Fprintln(w, summary+": fix each FAIL, then run check again")
		return 1
	}
	if counts[Warn] > 0 {
		fmt.Fprintln(w, summary+": it works, but read each WARN")
		return 0
	}
	fmt.Fprintln(w, summary)
	return 0
}

// oneLine collapses the white space of text that is printed inside a
// result line, such as an error message quoting a file.
func oneLine(text string) string {
	return strings.Join(strings.Fields(text), " ")
}

// containsFold reports whether s contains substr, ignoring case.
func containsFold(s, substr string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(substr))
}
