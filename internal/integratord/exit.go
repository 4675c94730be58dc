package integratord

// Exit statuses. integratord itself distinguishes only 0, 127 and "other",
// and logs the last output line for "other". For 127 it logs the whole
// command line with the api_key and hook_url, so no status here is 127.
const (
	ExitOK       = 0 // done, including "nothing in this alert to look up"
	ExitInternal = 1 // a bug: a recovered panic or an unexpected error
	ExitUsage    = 2 // argv that no integratord version produces
	ExitConfig   = 3 // config file missing, unreadable or invalid
	ExitAlert    = 4 // alert file missing, not JSON, or in the legacy format
	ExitQueue    = 5 // events could not be written to the queue socket
	ExitDelivery = 6 // Telegram rejected the message for good, or it could be neither sent nor kept
)
