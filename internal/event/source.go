package event

import (
	"github.com/soc-integrations/wazuh-misp-telegram/internal/alert"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/indicator"
)

// Agent is the Wazuh agent whose alert led to the event.
type Agent struct {
	ID, Name, IP string
}

// Source points from an event back to the alert it came from.
type Source struct {
	AlertID         string
	AlertTimestamp  string
	RuleID          string
	RuleLevel       int
	RuleDescription string
	Agent           Agent
	// Field is the dotted alert path the indicator came from, and Query the
	// DNS query name for indicators taken from a DNS event. Both are empty
	// in error events, which are about a whole alert.
	Field, Query string
}

// SourceOf returns the source for an alert, with Field and Query empty. A
// nil alert gives the zero Source.
func SourceOf(a *alert.Alert) Source {
	if a == nil {
		return Source{}
	}
	return Source{
		AlertID:         a.ID,
		AlertTimestamp:  a.Timestamp,
		RuleID:          a.Rule.ID,
		RuleLevel:       a.Rule.Level,
		RuleDescription: a.Rule.Description,
		Agent:           Agent{ID: a.Agent.ID, Name: a.Agent.Name, IP: a.Agent.IP},
	}
}

// For returns a copy of s with Field and Query taken from ind.
func (s Source) For(ind indicator.Indicator) Source {
	s.Field = ind.Field
	s.Query = ind.Query
	return s
}
